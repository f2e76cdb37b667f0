/**
 * Why an item scores what it scores: the fold-in's exact decomposition over the history.
 *
 * Fold-in solves A x = Σ_h c_h y_h with A = YᵀY + λ_u I + Σ_h α w_h y_h y_hᵀ and c_h = 1 + α w_h
 * (models/cf/als.ts). A is symmetric, so for any item i
 *   y_i·x = y_iᵀ A⁻¹ Σ_h c_h y_h = Σ_h c_h · (y_h·u_i),   u_i = A⁻¹ y_i,
 * one term per history item, and the terms add up to the score exactly. One Cholesky
 * factorisation per request, then one f×f solve per explained item.
 */
import type { FoldInOptions } from '../cf/als';
import { itemGram, rowRegularization } from '../cf/als';
import { cholesky, choleskySolve } from '../cf/dense';

export interface Contribution {
  /** Row of the history item. */
  row: number;
  /** Its term of the score; the terms of all history items sum to y_i·x. */
  value: number;
}

export class FoldInExplainer {
  private readonly l: Float64Array;
  private readonly rows: number[] = [];
  private readonly confidence: number[] = [];

  /**
   * Same arguments as models/cf/als.ts `foldIn`, which this mirrors (a repeated item's weights add).
   * @param itemFactors shape [nItems, f], float32. @param items shape [h], int32. @param weights shape [h], float32.
   */
  constructor(
    private readonly itemFactors: Float32Array,
    private readonly f: number,
    items: Int32Array,
    weights: Float32Array,
    options: FoldInOptions,
  ) {
    const merged = new Map<number, number>();
    items.forEach((i, h) => merged.set(i, (merged.get(i) ?? 0) + weights[h]!));
    const a = Float64Array.from(options.gram ?? itemGram(itemFactors, f, options.regularization));
    const extra = rowRegularization(options.regularization, options.regularizationExponent ?? 0, merged.size) - options.regularization;
    if (extra !== 0) for (let p = 0; p < f; p++) a[p * f + p]! += extra;
    for (const [i, w] of merged) {
      const yo = i * f;
      const cm1 = options.alpha * w;
      for (let p = 0; p < f; p++) {
        const k = cm1 * itemFactors[yo + p]!;
        for (let q = 0; q <= p; q++) a[p * f + q]! += k * itemFactors[yo + q]!;
      }
      this.rows.push(i);
      this.confidence.push(1 + cm1);
    }
    cholesky(a, f);
    this.l = a;
  }

  /** Every history item's term of row `row`'s score, in history (first-seen) order. */
  contributions(row: number): Contribution[] {
    const f = this.f;
    const y = this.itemFactors;
    const u = new Float64Array(f);
    for (let p = 0; p < f; p++) u[p] = y[row * f + p]!;
    choleskySolve(this.l, f, u);
    return this.rows.map((h, n) => {
      let d = 0;
      for (let p = 0; p < f; p++) d += y[h * f + p]! * u[p]!;
      return { row: h, value: this.confidence[n]! * d };
    });
  }
}

/**
 * The explanation's "because" list from contributions: the positive terms, strongest first, each
 * as its share of all positive terms (so shares lie in (0, 1] and sum to 1 over the full list).
 * Negative terms (history the item is unlike) pull the score down and explain nothing.
 */
export function topContributors(contributions: Contribution[], limit: number): { row: number; share: number }[] {
  const positive = contributions.filter((c) => c.value > 0).sort((a, b) => b.value - a.value || a.row - b.row);
  const total = positive.reduce((s, c) => s + c.value, 0);
  return positive.slice(0, limit).map((c) => ({ row: c.row, share: c.value / total }));
}
