/**
 * EASE (Steck 2019, "Embarrassingly Shallow Autoencoders"): an item × item weight matrix
 * B = I − P·diag(1/diag(P)), P = (XᵀX + λI)⁻¹, with a zero diagonal. A strong baseline only: it
 * stores nItems² weights, which the device cannot hold for a full fashion catalog.
 */
import type { Scorer } from '../eval/protocols';
import { invertSpd } from './dense';
import type { Csr } from './sparse';

export interface EaseModel extends Scorer {
  nItems: number;
  /** Row-major item × item weights, shape [nItems, nItems], float32; B[j, i] = weight of history item j for item i. */
  weights: Float32Array;
}

/** XᵀX of a binary user × item matrix (any stored entry counts as 1), float64 [nItems, nItems]. */
export function gramMatrix(userItems: Csr): Float64Array {
  const n = userItems.nCols;
  const g = new Float64Array(n * n);
  for (let u = 0; u < userItems.nRows; u++) {
    const a = userItems.indptr[u]!;
    const b = userItems.indptr[u + 1]!;
    for (let p = a; p < b; p++) {
      const row = userItems.indices[p]! * n;
      for (let q = a; q < b; q++) g[row + userItems.indices[q]!]!++;
    }
  }
  return g;
}

/**
 * Fits EASE with L2 penalty λ (`regularization`, typically a few hundred on MovieLens-100k).
 * `gram` may be passed to reuse XᵀX across several λ.
 */
export function fitEase(userItems: Csr, regularization: number, gram?: Float64Array): EaseModel {
  const n = userItems.nCols;
  const p = Float64Array.from(gram ?? gramMatrix(userItems));
  for (let i = 0; i < n; i++) p[i * n + i]! += regularization;
  invertSpd(p, n);
  const weights = new Float32Array(n * n);
  // B[j, i] = −P[j, i] / P[i, i] off the diagonal.
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) weights[j * n + i] = i === j ? 0 : -p[j * n + i]! / p[i * n + i]!;
  }
  return {
    nItems: n,
    weights,
    scoreUser(u, out) {
      out.fill(0);
      for (let k = userItems.indptr[u]!; k < userItems.indptr[u + 1]!; k++) {
        const row = userItems.indices[k]! * n;
        for (let i = 0; i < n; i++) out[i]! += weights[row + i]!;
      }
    },
  };
}
