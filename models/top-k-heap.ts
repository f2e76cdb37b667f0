/**
 * The bounded min-heap behind every top-k in the project (the device's scorers, re-ranking, and the
 * offline evaluations): O(n log k) with no sort of the whole catalog. Entries are ordered by
 * (score, −index), so ties go to the lower index, like a stable descending sort.
 */

export interface TopKHeap {
  /** Scores of the kept entries, heap-ordered (the worst kept at 0). */
  scores: Float64Array;
  indices: Int32Array;
  size: number;
}

/** An empty heap that keeps at most `k` entries. */
export function topKHeap(k: number): TopKHeap {
  const cap = Math.max(0, k);
  return { scores: new Float64Array(cap), indices: new Int32Array(cap), size: 0 };
}

/** True when (s1, i1) ranks below (s2, i2): lower score, or equal score and higher index. */
function worse(s1: number, i1: number, s2: number, i2: number): boolean {
  return s1 < s2 || (s1 === s2 && i1 > i2);
}

function siftDown(hs: Float64Array, hi: Int32Array, size: number, s: number, i: number): void {
  let c = 0;
  for (;;) {
    const l = 2 * c + 1;
    if (l >= size) break;
    const r = l + 1;
    const m = r < size && worse(hs[r]!, hi[r]!, hs[l]!, hi[l]!) ? r : l;
    if (!worse(hs[m]!, hi[m]!, s, i)) break;
    hs[c] = hs[m]!;
    hi[c] = hi[m]!;
    c = m;
  }
  hs[c] = s;
  hi[c] = i;
}

/** Offers (score s, index i): kept while there is room, else it replaces the worst kept when it ranks above it. */
export function offer(heap: TopKHeap, s: number, i: number): void {
  const { scores: hs, indices: hi } = heap;
  if (heap.size < hs.length) {
    let c = heap.size++;
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (!worse(s, i, hs[p]!, hi[p]!)) break;
      hs[c] = hs[p]!;
      hi[c] = hi[p]!;
      c = p;
    }
    hs[c] = s;
    hi[c] = i;
  } else if (hs.length > 0 && worse(hs[0]!, hi[0]!, s, i)) {
    siftDown(hs, hi, heap.size, s, i);
  }
}

/** The kept entries, best first (empties the heap). */
export function drain(heap: TopKHeap): { indices: Int32Array; scores: Float32Array } {
  const { scores: hs, indices: hi } = heap;
  const indices = new Int32Array(heap.size);
  const scores = new Float32Array(heap.size);
  for (let n = heap.size - 1; n >= 0; n--) {
    indices[n] = hi[0]!;
    scores[n] = hs[0]!;
    if (n > 0) siftDown(hs, hi, n, hs[n]!, hi[n]!);
  }
  heap.size = 0;
  return { indices, scores };
}
