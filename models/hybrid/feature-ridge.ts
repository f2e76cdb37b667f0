/**
 * A first hybrid for items with no interactions: a ridge regression from item features (for
 * MovieLens, the 19 genre flags of `u.item`, plus a constant) to the collaborative item vectors,
 * fitted on the items that have interactions. A cold item's vector is then features · W, served
 * exactly like a collaborative item vector (dot product with the user's fold-in vector).
 */
import { cholesky, choleskySolve } from '../cf/dense';

export interface FeatureRidge {
  /** Feature width d (including the constant appended last). */
  inputs: number;
  factors: number;
  /** Row-major weights, shape [d, f], float64. */
  weights: Float64Array;
}

/**
 * Fits W minimising Σ_i |y_i − [φ_i, 1]·W|² + λ|W|² over `rows` (the items with interactions).
 *
 * @param features row-major, shape [nItems, d0] (without the constant), float32.
 * @param itemFactors row-major, shape [nItems, f], float32.
 */
export function fitFeatureRidge(
  features: Float32Array,
  d0: number,
  itemFactors: Float32Array,
  f: number,
  rows: Int32Array,
  lambda: number,
): FeatureRidge {
  const d = d0 + 1;
  const a = new Float64Array(d * d);
  const b = new Float64Array(d * f);
  const phi = new Float64Array(d);
  for (const i of rows) {
    for (let p = 0; p < d0; p++) phi[p] = features[i * d0 + p]!;
    phi[d0] = 1;
    for (let p = 0; p < d; p++) {
      const v = phi[p]!;
      if (v === 0) continue;
      for (let q = 0; q < d; q++) a[p * d + q]! += v * phi[q]!;
      for (let c = 0; c < f; c++) b[p * f + c]! += v * itemFactors[i * f + c]!;
    }
  }
  for (let p = 0; p < d; p++) a[p * d + p]! += lambda;
  cholesky(a, d);
  const weights = new Float64Array(d * f);
  const col = new Float64Array(d);
  for (let c = 0; c < f; c++) {
    for (let p = 0; p < d; p++) col[p] = b[p * f + c]!;
    choleskySolve(a, d, col);
    for (let p = 0; p < d; p++) weights[p * f + c] = col[p]!;
  }
  return { inputs: d, factors: f, weights };
}

/** Item vectors [φ, 1]·W for every item, shape [nItems, f], float32. */
export function projectFeatures(model: FeatureRidge, features: Float32Array): Float32Array {
  const d0 = model.inputs - 1;
  const f = model.factors;
  const n = features.length / d0;
  const out = new Float32Array(n * f);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < f; c++) {
      let s = model.weights[d0 * f + c]!;
      for (let p = 0; p < d0; p++) s += features[i * d0 + p]! * model.weights[p * f + c]!;
      out[i * f + c] = s;
    }
  }
  return out;
}

/**
 * Genre flags from MovieLens `u.item` text (pipe-separated; the last 19 fields are the flags), for
 * the dense item indexing given by `itemIds` (original id of each dense index). Items missing from
 * the text get all-zero flags. Returns shape [itemIds.length, 19], float32.
 */
export function parseGenres(text: string, itemIds: Int32Array): Float32Array {
  const index = new Map<number, number>();
  itemIds.forEach((id, i) => index.set(id, i));
  const out = new Float32Array(itemIds.length * 19);
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '') continue;
    const fields = line.split('|');
    if (fields.length < 20) throw new Error(`u.item line ${n + 1}: expected ≥ 20 fields, got ${fields.length}`);
    const i = index.get(Number(fields[0]));
    if (i === undefined) continue;
    const flags = fields.slice(-19);
    for (let g = 0; g < 19; g++) out[i * 19 + g] = flags[g] === '1' ? 1 : 0;
  }
  return out;
}

/**
 * Mean per-user AUC over a candidate slice: for each user with at least one positive among
 * `candidates`, the fraction of (positive, negative) candidate pairs scored in the right order
 * (ties count one half). Users with no positive, or no negative, are skipped.
 */
export function meanAuc(
  score: (user: number, out: Float32Array) => void,
  nItems: number,
  candidates: Int32Array,
  positives: readonly (Set<number> | null)[],
): number {
  const scores = new Float32Array(nItems);
  let total = 0;
  let users = 0;
  for (let u = 0; u < positives.length; u++) {
    const pos = positives[u];
    if (!pos || pos.size === 0 || pos.size === candidates.length) continue;
    score(u, scores);
    const ps: number[] = [];
    const ns: number[] = [];
    for (const i of candidates) (pos.has(i) ? ps : ns).push(scores[i]!);
    ns.sort((a, b) => a - b);
    let good = 0;
    for (const s of ps) {
      // Negatives strictly below s, plus half the ties.
      let lo = 0;
      let hi = ns.length;
      while (lo < hi) {
        const m = (lo + hi) >> 1;
        if (ns[m]! < s) lo = m + 1;
        else hi = m;
      }
      let eq = lo;
      while (eq < ns.length && ns[eq] === s) eq++;
      good += lo + (eq - lo) / 2;
    }
    total += good / (ps.length * ns.length);
    users++;
  }
  return users ? total / users : 0;
}
