/**
 * The learned re-ranker: a linear model (weights and bias from ranker.json `rerank`) over named
 * features of each candidate. The features are computed here, once, for the device and for the
 * Node trainer and evaluation, so training and serving cannot disagree about what a name means:
 *
 * - `hybrid`: the candidate's fold-in score y_i·x;
 * - `visualRecent`: its highest cosine, in image-embedding space, with the shopper's most recent
 *   distinct history items (0 without image embeddings or history);
 * - `contentRecent`: the same with the content vectors;
 * - any other name: the `itemStats` column of that name (e.g. `popularity`, `trending`, `freshness`).
 *
 * A pack whose `rerank` names a feature the engine cannot compute is refused when the engine is
 * built, with the name; a pack with no weights keeps the candidate order (the hybrid score).
 */
import type { RankerPackMeta } from './pack';

/** The features the engine computes itself; the rest come from itemStats columns. */
export const COMPUTED_FEATURES = ['hybrid', 'visualRecent', 'contentRecent'] as const;

/** How many of the most recent distinct history items the `*Recent` features compare with. */
export const RECENT_ITEMS = 5;

/** Row-major, L2-normalised rows (zero rows stay zero): dot products are cosines. */
export interface UnitMatrix {
  values: Float32Array;
  cols: number;
}

export interface FeatureInputs {
  /** Candidate rows, shape [n], int32. */
  candidates: Int32Array;
  /** Their fold-in scores, shape [n]. */
  hybrid: ArrayLike<number>;
  /** Rows of the most recent distinct history items, newest first. */
  recent: readonly number[];
  image?: UnitMatrix;
  content?: UnitMatrix;
  /** itemStats, row-major [items, columns.length]. */
  stats: Float32Array;
  statColumns: readonly string[];
}

/** Highest cosine of each candidate with any of the `recent` rows (0 when there are none). */
export function recentSimilarity(m: UnitMatrix | undefined, candidates: Int32Array, recent: readonly number[]): Float64Array {
  const out = new Float64Array(candidates.length);
  if (m === undefined || recent.length === 0) return out;
  const f = m.cols;
  const v = m.values;
  for (let c = 0; c < candidates.length; c++) {
    const o = candidates[c]! * f;
    let best = -Infinity;
    for (const r of recent) {
      const ro = r * f;
      let s = 0;
      for (let a = 0; a < f; a++) s += v[o + a]! * v[ro + a]!;
      if (s > best) best = s;
    }
    out[c] = best;
  }
  return out;
}

/** One feature's values for every candidate. */
export function featureValues(name: string, inputs: FeatureInputs): Float64Array {
  const n = inputs.candidates.length;
  switch (name) {
    case 'hybrid':
      return Float64Array.from(inputs.hybrid);
    case 'visualRecent':
      return recentSimilarity(inputs.image, inputs.candidates, inputs.recent);
    case 'contentRecent':
      return recentSimilarity(inputs.content, inputs.candidates, inputs.recent);
    default: {
      const col = inputs.statColumns.indexOf(name);
      if (col < 0) throw new Error(`re-rank feature "${name}" is neither computed (${COMPUTED_FEATURES.join(', ')}) nor an itemStats column`);
      const width = inputs.statColumns.length;
      const out = new Float64Array(n);
      for (let c = 0; c < n; c++) out[c] = inputs.stats[inputs.candidates[c]! * width + col]!;
      return out;
    }
  }
}

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

  /** Checks ranker.json's `rerank` against what this engine can compute; errors name the feature. */
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
    const columns = meta.itemStats.columns;
    for (const name of r.features) {
      if (!(COMPUTED_FEATURES as readonly string[]).includes(name) && !columns.includes(name)) {
        throw new Error(
          `ranker.json rerank names feature "${name}", which this engine cannot compute ` +
            `(computed: ${COMPUTED_FEATURES.join(', ')}; itemStats columns: ${columns.join(', ') || 'none'})`,
        );
      }
    }
    return new LinearReranker(r.features, r.weights, r.bias ?? 0);
  }

  /** bias + Σ w_f · feature_f for every candidate, shape [n]. */
  score(inputs: FeatureInputs): Float64Array {
    if (!this.active) return Float64Array.from(inputs.hybrid);
    const out = new Float64Array(inputs.candidates.length).fill(this.bias);
    this.features.forEach((name, n) => {
      const w = this.weights[n]!;
      if (w === 0) return;
      const values = featureValues(name, inputs);
      for (let c = 0; c < out.length; c++) out[c]! += w * values[c]!;
    });
    return out;
  }
}
