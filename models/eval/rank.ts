/**
 * Top-k selection over a full score vector, by a bounded min-heap: O(n log k) with no sort of the
 * whole catalog, which is what every full-ranking evaluation and the device's candidate stage do.
 */

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
  const n = scores.length;
  const heapIdx = new Int32Array(k);
  const heapVal = new Float64Array(k);
  let size = 0;
  // "a worse than b": lower score, or the same score and a higher index.
  const worse = (va: number, ia: number, vb: number, ib: number): boolean => va < vb || (va === vb && ia > ib);
  const isExcluded =
    exclude === null
      ? () => false
      : exclude instanceof Uint8Array
        ? (i: number) => exclude[i] !== 0
        : (i: number) => exclude.has(i);
  for (let i = 0; i < n; i++) {
    const v = scores[i]!;
    if (v !== v || isExcluded(i)) continue;
    if (size < k) {
      // Sift up.
      let c = size++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!worse(v, i, heapVal[p]!, heapIdx[p]!)) break;
        heapVal[c] = heapVal[p]!;
        heapIdx[c] = heapIdx[p]!;
        c = p;
      }
      heapVal[c] = v;
      heapIdx[c] = i;
    } else if (k > 0 && worse(heapVal[0]!, heapIdx[0]!, v, i)) {
      // Replace the root (the worst kept) and sift down.
      let c = 0;
      for (;;) {
        const l = 2 * c + 1;
        if (l >= size) break;
        const r = l + 1;
        const m = r < size && worse(heapVal[r]!, heapIdx[r]!, heapVal[l]!, heapIdx[l]!) ? r : l;
        if (!worse(heapVal[m]!, heapIdx[m]!, v, i)) break;
        heapVal[c] = heapVal[m]!;
        heapIdx[c] = heapIdx[m]!;
        c = m;
      }
      heapVal[c] = v;
      heapIdx[c] = i;
    }
  }
  const out = Array.from(heapIdx.subarray(0, size), (idx, j) => ({ idx, v: heapVal[j]! }));
  out.sort((a, b) => (b.v !== a.v ? b.v - a.v : a.idx - b.idx));
  return Int32Array.from(out, (e) => e.idx);
}
