/**
 * The learned re-ranker at serving time: the linear model of ranker.json `rerank` (bias + w·features)
 * over the features of ./rerank-features.ts, the one definition the trainer fits the weights on.
 *
 * A pack whose `rerank` names a feature that definition does not know, or a statistic its itemStats
 * lacks, is refused when the engine is built, with the name; a pack without re-ranker weights keeps
 * the candidate order (the hybrid score), so something sensible is always shown.
 */
import type { RankerPackMeta } from './pack';
import { ITEM_STAT_COLUMNS, RERANK_FEATURE_NAMES, rerankFeatures } from './rerank-features';
import type { RerankContext } from './rerank-features';

/** The itemStats column each feature reads: its own name, or the sales the trending-by-segment ones scale. */
const STAT_OF: Record<string, string> = {
  ...Object.fromEntries(ITEM_STAT_COLUMNS.map((c) => [c, c])),
  typeTrending: 'recentSales',
  subCategoryTrending: 'recentSales',
  genderTrending: 'recentSales',
};

export class LinearReranker {
  /** False when the pack has no weights: {@link score} then returns the hybrid scores. */
  readonly active: boolean;

  private constructor(
    readonly features: readonly string[],
    private readonly weights: readonly number[],
    private readonly bias: number,
  ) {
    this.active = features.length > 0;
  }

  /** Checks ranker.json's `rerank` against what the engine can compute; errors name the feature. */
  static fromPack(meta: Pick<RankerPackMeta, 'rerank' | 'itemStats'>): LinearReranker {
    const r = meta.rerank as RankerPackMeta['rerank'] | undefined;
    if (r === undefined) return new LinearReranker([], [], 0);
    if (!Array.isArray(r.features) || !Array.isArray(r.weights)) throw new Error('ranker.json rerank: features and weights must be arrays');
    if (r.features.length !== r.weights.length) {
      throw new Error(`ranker.json rerank: ${r.features.length} features but ${r.weights.length} weights`);
    }
    r.weights.forEach((w, n) => {
      if (!Number.isFinite(w)) throw new Error(`ranker.json rerank.weights[${n}] (${r.features[n]}) is not a finite number`);
    });
    if (!Number.isFinite(r.bias ?? 0)) throw new Error('ranker.json rerank.bias is not a finite number');
    for (const name of r.features) {
      if (!(RERANK_FEATURE_NAMES as readonly string[]).includes(name)) {
        throw new Error(`ranker.json rerank names feature "${name}", which this engine cannot compute (known: ${RERANK_FEATURE_NAMES.join(', ')})`);
      }
      const column = STAT_OF[name];
      if (column !== undefined && !meta.itemStats.columns.includes(column)) {
        throw new Error(`ranker.json rerank uses "${name}", but itemStats has no "${column}" column (it has ${meta.itemStats.columns.join(', ') || 'none'})`);
      }
    }
    return new LinearReranker(r.features, r.weights, r.bias ?? 0);
  }

  /**
   * bias + Σ w_f · feature_f for every candidate.
   * @param candidates rows, shape [n], int32. @param hybrid their fold-in scores, shape [n] (used when inactive).
   * @returns shape [n].
   */
  score(ctx: RerankContext, candidates: Int32Array, hybrid: ArrayLike<number>): Float64Array {
    if (!this.active) return Float64Array.from(hybrid);
    const out = new Float64Array(candidates.length);
    const buf = new Float32Array(this.features.length);
    for (let c = 0; c < candidates.length; c++) {
      rerankFeatures(ctx, candidates[c]!, this.features, buf);
      let s = this.bias;
      for (let f = 0; f < buf.length; f++) s += this.weights[f]! * buf[f]!;
      out[c] = s;
    }
    return out;
  }
}
