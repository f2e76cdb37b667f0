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

/** Words too common in film titles to say anything about taste. */
const TITLE_STOPWORDS = new Set(['the', 'a', 'an', 'of', 'and', 'in', 'to', 'on', 'for', 'la', 'le', 'les', 'de', 'el', 'il']);

export interface TitleFeatures {
  /** Row-major word and decade flags scaled by 1/√(flags in the row), shape [nItems, words.length], float32. */
  features: Float32Array;
  /** The vocabulary, in column order: title words, then `decade:1990s`-style tokens from the year in brackets. */
  words: string[];
}

/**
 * Bag-of-words title features from MovieLens `u.item` text (field 2, e.g. "Toy Story (1995)"):
 * lower-cased letter runs, minus stopwords, kept when they occur in at least `minCount` titles,
 * plus the decade of the bracketed year. Titles are catalog metadata, present for cold items too.
 * A title that cannot be read (fewer than 2 fields) throws with its line number.
 */
export function parseTitleWords(text: string, itemIds: Int32Array, minCount = 5): TitleFeatures {
  const index = new Map<number, number>();
  itemIds.forEach((id, i) => index.set(id, i));
  const tokens: string[][] = Array.from({ length: itemIds.length }, () => []);
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '') continue;
    const fields = line.split('|');
    if (fields.length < 2) throw new Error(`u.item line ${n + 1}: expected an id and a title, got "${line}"`);
    const i = index.get(Number(fields[0]));
    if (i === undefined) continue;
    const title = fields[1]!;
    const year = /\((\d{4})\)\s*$/.exec(title);
    const words = new Set((title.replace(/\(\d{4}\)\s*$/, '').toLowerCase().match(/[a-z]+/g) ?? []).filter((w) => w.length > 1 && !TITLE_STOPWORDS.has(w)));
    if (year) words.add(`decade:${Math.floor(Number(year[1]) / 10) * 10}s`);
    tokens[i] = [...words];
  }
  const df = new Map<string, number>();
  for (const t of tokens) for (const w of t) df.set(w, (df.get(w) ?? 0) + 1);
  const words = [...df].filter(([, c]) => c >= minCount).map(([w]) => w).sort();
  const column = new Map(words.map((w, c) => [w, c]));
  const d = words.length;
  const features = new Float32Array(itemIds.length * d);
  tokens.forEach((t, i) => {
    const cols = t.map((w) => column.get(w)).filter((c): c is number => c !== undefined);
    for (const c of cols) features[i * d + c] = 1 / Math.sqrt(cols.length);
  });
  return { features, words };
}

/** Side-by-side columns of two row-major feature matrices with the same rows, shape [rows, d1 + d2]. */
export function concatFeatures(a: Float32Array, d1: number, b: Float32Array, d2: number): Float32Array {
  const rows = a.length / d1;
  if (b.length !== rows * d2) throw new Error(`concatFeatures: ${rows} rows on the left but ${b.length / d2} on the right`);
  const out = new Float32Array(rows * (d1 + d2));
  for (let r = 0; r < rows; r++) {
    out.set(a.subarray(r * d1, (r + 1) * d1), r * (d1 + d2));
    out.set(b.subarray(r * d2, (r + 1) * d2), r * (d1 + d2) + d1);
  }
  return out;
}

/**
 * Picks λ from `grid` by holding out every `fold`-th of `rows` (in the order given) and measuring
 * how well features · W reconstructs those items' vectors (mean squared error): a choice made on
 * warm items alone, never on the cold items being evaluated.
 */
export function chooseRidgeLambda(features: Float32Array, d0: number, itemFactors: Float32Array, f: number, rows: Int32Array, grid: number[], fold = 10): number {
  const fitRows = rows.filter((_, k) => k % fold !== 0);
  const heldRows = rows.filter((_, k) => k % fold === 0);
  let best = grid[0]!;
  let bestErr = Infinity;
  for (const lambda of grid) {
    const model = fitFeatureRidge(features, d0, itemFactors, f, fitRows, lambda);
    const p = projectFeatures(model, features);
    let err = 0;
    for (const i of heldRows) for (let c = 0; c < f; c++) err += (p[i * f + c]! - itemFactors[i * f + c]!) ** 2;
    if (err < bestErr) {
      bestErr = err;
      best = lambda;
    }
  }
  return best;
}
