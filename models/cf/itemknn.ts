/**
 * Item-based k-nearest-neighbours with cosine similarity on binary feedback (Sarwar et al. 2001;
 * Deshpande & Karypis 2004): a user's score for item i is the sum of i's similarities to the
 * user's items, keeping each item's `neighbours` most similar items only.
 */
import type { Scorer } from '../eval/protocols';
import { gramMatrix } from './ease';
import type { Csr } from './sparse';

export interface ItemKnnModel extends Scorer {
  nItems: number;
  /** Row-major pruned similarities, shape [nItems, nItems], float32 (row j: item j's neighbours). */
  similarity: Float32Array;
}

/**
 * @param userItems user × item matrix (binary use: any stored entry counts as 1).
 * @param neighbours similar items kept per item (default 100).
 * @param shrink added to the cosine denominator to damp similarities from few co-occurrences.
 */
export function fitItemKnn(userItems: Csr, neighbours = 100, shrink = 0, gram?: Float64Array): ItemKnnModel {
  const n = userItems.nCols;
  const g = gram ?? gramMatrix(userItems);
  const norm = new Float64Array(n);
  for (let i = 0; i < n; i++) norm[i] = Math.sqrt(g[i * n + i]!);
  const similarity = new Float32Array(n * n);
  const row = new Float64Array(n);
  const order = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const d = norm[i]! * norm[j]! + shrink;
      row[i] = i === j || d === 0 ? 0 : g[j * n + i]! / d;
      order[i] = i;
    }
    const kept = Array.from(order)
      .sort((a, b) => row[b]! - row[a]!)
      .slice(0, neighbours);
    for (const i of kept) similarity[j * n + i] = row[i]!;
  }
  return {
    nItems: n,
    similarity,
    scoreUser(u, out) {
      out.fill(0);
      for (let k = userItems.indptr[u]!; k < userItems.indptr[u + 1]!; k++) {
        const r = userItems.indices[k]! * n;
        for (let i = 0; i < n; i++) out[i]! += similarity[r + i]!;
      }
    },
  };
}
