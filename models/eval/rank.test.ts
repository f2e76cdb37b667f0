import { describe, expect, it } from 'vitest';
import { rankTopK } from './rank';

describe('rankTopK', () => {
  const scores = Float32Array.of(0.1, 0.9, 0.5, 0.9, NaN, 0.7, -1);

  it('returns the k best in descending order, ties to the lower index', () => {
    expect(Array.from(rankTopK(scores, null, 3))).toEqual([1, 3, 5]);
  });

  it('excludes items given as a Set or a mask, and skips NaN', () => {
    expect(Array.from(rankTopK(scores, new Set([1, 5]), 3))).toEqual([3, 2, 0]);
    const mask = new Uint8Array(scores.length);
    mask[3] = 1;
    expect(Array.from(rankTopK(scores, mask, 10))).toEqual([1, 5, 2, 0, 6]);
  });

  it('agrees with a full sort on random scores', () => {
    let s = 1;
    const rand = () => ((s = (s * 16807) % 2147483647) / 2147483647);
    const big = Float32Array.from({ length: 2000 }, () => Math.round(rand() * 500) / 500);
    const excluded = new Set(Array.from({ length: 300 }, () => Math.floor(rand() * 2000)));
    const expected = Array.from(big.keys())
      .filter((i) => !excluded.has(i))
      .sort((a, b) => big[b]! - big[a]! || a - b)
      .slice(0, 25);
    expect(Array.from(rankTopK(big, excluded, 25))).toEqual(expected);
  });

  it('handles k = 0 and k beyond the eligible items', () => {
    expect(rankTopK(scores, null, 0).length).toBe(0);
    expect(rankTopK(Float32Array.of(1, 2), new Set([0]), 5)).toEqual(Int32Array.of(1));
  });
});
