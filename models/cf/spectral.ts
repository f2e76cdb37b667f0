/**
 * A low-rank spectral filter on the normalised item co-occurrence graph (the "ideal low-pass" part
 * of GF-CF, Shen et al. 2021, which is PureSVD on a degree-normalised matrix):
 *
 *   R̃ = D_U^(−β_u) · R · D_I^(−β_i),  R̃ᵀR̃ ≈ V Σ² Vᵀ (top `rank` eigenvectors V),
 *   score(u, ·) = (r_u · D_I^(−β_i) · V) · (D_I^(β_i) · V)ᵀ.
 *
 * Servable like a factor model: the device keeps two item tables of `rank` columns, sums the
 * history's rows of the first to get the user vector, and scores by dot product with the second.
 * No item × item matrix is ever formed; the eigenvectors come from a block subspace iteration on
 * the sparse R̃ (cost 4·nnz·rank per step) and a Rayleigh–Ritz step.
 */
import { SeededRandom } from '../random';
import { axpyAt, cholesky, dotAt, symmetricEigen } from './dense';
import type { Csr } from './sparse';
import { transpose } from './sparse';

export interface SpectralOptions {
  /** Eigenvectors kept (default 32). */
  rank?: number;
  /** β_u of the user-degree normalisation (default 0.5). */
  userExponent?: number;
  /** β_i of the item-degree normalisation, also the de-normalisation of the scores (default 0.5). */
  itemExponent?: number;
  /** Subspace-iteration steps (default 4; MovieLens-100k validation is flat from 4 to 8). */
  iterations?: number;
  /** Extra columns carried through the iteration for accuracy of the kept ones (default 8; 16 scored the same on validation). */
  oversample?: number;
  /** Seed of the random start block. */
  seed?: number;
}

export interface SpectralModel {
  rank: number;
  nItems: number;
  /** Eigenvalues σ² of R̃ᵀR̃ for the kept vectors, shape [rank], descending, float64. */
  eigenvalues: Float64Array;
  /** D_I^(−β_i)·V: rows summed over a history, shape [nItems, rank], float32. */
  historyVectors: Float32Array;
  /** D_I^(β_i)·V: rows scored against the user vector, shape [nItems, rank], float32. */
  itemVectors: Float32Array;
}

/** Orthonormalises the columns of row-major q (shape [n, k]) in place: Cholesky-QR, twice for accuracy. */
function orthonormalise(q: Float64Array, n: number, k: number): void {
  const g = new Float64Array(k * k);
  for (let pass = 0; pass < 2; pass++) {
    g.fill(0);
    for (let r = 0; r < n; r++) {
      const o = r * k;
      for (let a = 0; a < k; a++) {
        const v = q[o + a]!;
        if (v === 0) continue;
        axpyAt(v, q, o + a, g, a * k + a, k - a);
      }
    }
    // A tiny ridge keeps a rank-deficient block (an empty catalog corner) factorisable.
    for (let a = 0; a < k; a++) {
      g[a * k + a]! += 1e-10;
      for (let b = 0; b < a; b++) g[a * k + b] = g[b * k + a]!;
    }
    cholesky(g, k);
    // Each row q_r ← q_r·L⁻ᵀ (forward substitution against L).
    for (let r = 0; r < n; r++) {
      const o = r * k;
      for (let a = 0; a < k; a++) {
        q[o + a] = (q[o + a]! - dotAt(q, o, g, a * k, a)) / g[a * k + a]!;
      }
    }
  }
}

/** R̃ᵀ(R̃·q) for q of shape [nCols, k]; `rt` is the transpose of `r`. */
function gramTimes(r: Csr, rt: Csr, q: Float64Array, k: number): Float64Array {
  const t = new Float64Array(r.nRows * k);
  for (let u = 0; u < r.nRows; u++) {
    const o = u * k;
    for (let j = r.indptr[u]!; j < r.indptr[u + 1]!; j++) {
      axpyAt(r.values[j]!, q, r.indices[j]! * k, t, o, k);
    }
  }
  const out = new Float64Array(r.nCols * k);
  for (let i = 0; i < rt.nRows; i++) {
    const o = i * k;
    for (let j = rt.indptr[i]!; j < rt.indptr[i + 1]!; j++) {
      axpyAt(rt.values[j]!, t, rt.indices[j]! * k, out, o, k);
    }
  }
  return out;
}

/**
 * Fits the filter on a user × item matrix; any stored entry counts once (binary), as in
 * {@link spectralFoldIn}.
 */
export function fitSpectral(userItems: Csr, options: SpectralOptions = {}): SpectralModel {
  const rank = options.rank ?? 32;
  const bu = options.userExponent ?? 0.5;
  const bi = options.itemExponent ?? 0.5;
  const iterations = options.iterations ?? 4;
  const n = userItems.nCols;
  const kk = Math.min(n, rank + (options.oversample ?? 8));
  if (!Number.isInteger(rank) || rank < 1 || rank > n) throw new Error(`fitSpectral: rank must be an integer in [1, ${n}], got ${rank}`);
  const itemDegree = new Float64Array(n);
  for (const i of userItems.indices) itemDegree[i]!++;
  const values = new Float32Array(userItems.values.length);
  for (let u = 0; u < userItems.nRows; u++) {
    const a = userItems.indptr[u]!;
    const b = userItems.indptr[u + 1]!;
    const du = Math.pow(Math.max(b - a, 1), -bu);
    for (let j = a; j < b; j++) values[j] = du * Math.pow(itemDegree[userItems.indices[j]!]!, -bi);
  }
  const r: Csr = { ...userItems, values };
  const rt = transpose(r);
  const rng = new SeededRandom(options.seed ?? 0);
  let q: Float64Array = Float64Array.from({ length: n * kk }, () => rng.next() - 0.5);
  orthonormalise(q, n, kk);
  for (let it = 0; it < iterations; it++) {
    q = gramTimes(r, rt, q, kk);
    orthonormalise(q, n, kk);
  }
  // Rayleigh–Ritz: the eigenvectors of QᵀGQ rotate Q onto the best approximations in its span.
  const gq = gramTimes(r, rt, q, kk);
  const t = new Float64Array(kk * kk);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < kk; a++) {
      axpyAt(q[i * kk + a]!, gq, i * kk, t, a * kk, kk);
    }
  }
  for (let a = 0; a < kk; a++) {
    for (let b = 0; b < a; b++) {
      const s = (t[a * kk + b]! + t[b * kk + a]!) / 2;
      t[a * kk + b] = s;
      t[b * kk + a] = s;
    }
  }
  const eig = symmetricEigen(t, kk);
  const historyVectors = new Float32Array(n * rank);
  const itemVectors = new Float32Array(n * rank);
  for (let i = 0; i < n; i++) {
    // An item nobody interacted with has no edge in the graph: both of its rows stay zero.
    if (itemDegree[i] === 0) continue;
    const left = Math.pow(itemDegree[i]!, -bi);
    const right = Math.pow(itemDegree[i]!, bi);
    for (let j = 0; j < rank; j++) {
      let s = 0;
      for (let a = 0; a < kk; a++) s += q[i * kk + a]! * eig.vectors[a * kk + j]!;
      historyVectors[i * rank + j] = s * left;
      itemVectors[i * rank + j] = s * right;
    }
  }
  return { rank, nItems: n, eigenvalues: eig.values.slice(0, rank), historyVectors, itemVectors };
}

/**
 * The spectral user vector: the sum of the history's rows of `historyVectors`, each distinct item
 * once (the filter was fitted on binary data).
 *
 * @param historyVectors shape [nItems, rank], float32. @param items history item indices, int32.
 * @param out written in place when given, shape [rank].
 */
export function spectralFoldIn(historyVectors: Float32Array, rank: number, items: Int32Array, out = new Float32Array(rank)): Float32Array {
  const acc = new Float64Array(rank);
  for (const i of new Set(items)) {
    const o = i * rank;
    for (let j = 0; j < rank; j++) acc[j]! += historyVectors[o + j]!;
  }
  out.set(acc);
  return out;
}
