import { describe, expect, it } from 'vitest';
import { SeededRandom } from './random';
import { drain, offer, topKHeap } from './top-k-heap';

describe('top-k heap', () => {
  it('keeps the k best, best first, ties to the lower index, as a stable sort would', () => {
    const rng = new SeededRandom(4);
    const scores = Array.from({ length: 500 }, () => rng.int(40)); // many ties
    for (const k of [1, 7, 64, 500, 600]) {
      const heap = topKHeap(k);
      scores.forEach((s, i) => offer(heap, s, i));
      const expected = scores.map((s, i) => ({ s, i })).sort((a, b) => b.s - a.s || a.i - b.i).slice(0, k);
      const got = drain(heap);
      expect(Array.from(got.indices)).toEqual(expected.map((e) => e.i));
      expect(Array.from(got.scores)).toEqual(expected.map((e) => e.s));
    }
  });

  it('holds nothing at k = 0, and drain empties it', () => {
    const none = topKHeap(0);
    offer(none, 1, 0);
    expect(drain(none).indices.length).toBe(0);
    const heap = topKHeap(2);
    offer(heap, 0.5, 3);
    expect(Array.from(drain(heap).indices)).toEqual([3]);
    expect(drain(heap).indices.length).toBe(0);
  });
});
