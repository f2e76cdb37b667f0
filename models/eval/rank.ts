/**
 * Top-k selection over a full score vector for the offline evaluations, by the bounded min-heap of
 * `models/top-k-heap.ts` (the one the device's scorers use).
 */
import { drain, offer, topKHeap } from '../top-k-heap';

/**
 * The indices of the k highest scores, best first, skipping excluded items and NaN scores. Ties go
 * to the lower index, so results are deterministic.
 *
 * @param scores one score per item, shape [nItems], float32.
 * @param exclude items never returned: a Set of item indices, or a mask of shape [nItems], uint8
 *   (non-zero = excluded), or null.
 * @param k how many to return (fewer when fewer items are eligible).
 * @returns int32 item indices, length ≤ k, in descending score order.
 */
export function rankTopK(
  scores: Float32Array,
  exclude: Set<number> | Uint8Array | null,
  k: number,
): Int32Array {
  const heap = topKHeap(k);
  const isExcluded =
    exclude === null
      ? () => false
      : exclude instanceof Uint8Array
        ? (i: number) => exclude[i] !== 0
        : (i: number) => exclude.has(i);
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i]!;
    if (v !== v || isExcluded(i)) continue;
    offer(heap, v, i);
  }
  return drain(heap).indices;
}
