import { describe, expect, it } from 'vitest';
import { catalogCoverage, microsoftMetrics, novelty, recboleMetrics } from './metrics';

// Two users, k = 3 (worked by hand):
//   user 0: recs [1, 2, 3], relevant {2, 5} → one hit at rank 2
//   user 1: recs [4, 5, 6], relevant {4, 6} → hits at ranks 1 and 3
//   user 2: no relevant items → not evaluated
const recs = [Int32Array.of(1, 2, 3), Int32Array.of(4, 5, 6), Int32Array.of(7, 8, 9)];
const relevant = [new Set([2, 5]), new Set([4, 6]), null];
const l3 = Math.log2(3);
const l4 = Math.log2(4);
const ndcg0 = 1 / l3 / (1 + 1 / l3); // 0.386853
const ndcg1 = (1 + 1 / l4) / (1 + 1 / l3); // 0.919721

describe('Microsoft Recommenders metrics', () => {
  it('match the hand-computed values', () => {
    const m = microsoftMetrics(recs, relevant, 3);
    expect(m.users).toBe(2);
    // AP: user 0 (1/2)/2 = 0.25; user 1 (1/1 + 2/3)/2 = 0.8333
    expect(m.map).toBeCloseTo((0.25 + 5 / 6) / 2, 12);
    expect(m.ndcg).toBeCloseTo((ndcg0 + ndcg1) / 2, 12);
    expect(m.ndcg).toBeCloseTo(0.653287, 6);
    expect(m.precision).toBeCloseTo((1 / 3 + 2 / 3) / 2, 12);
    expect(m.recall).toBeCloseTo((1 / 2 + 1) / 2, 12);
  });

  it('normalise MAP by every relevant item, not min(n, k), and count users with no list as zeros', () => {
    // Relevant {1,2,3,4}, list [1,2] at k = 2: AP = (1 + 1) / 4, not / 2.
    const m = microsoftMetrics([Int32Array.of(1, 2), null], [new Set([1, 2, 3, 4]), new Set([9])], 2);
    expect(m.map).toBeCloseTo(0.5 / 2, 12);
    // NDCG ideal is min(4, 2) = 2 hits, so user 0 scores 1.
    expect(m.ndcg).toBeCloseTo(0.5, 12);
    expect(m.precision).toBeCloseTo(0.5, 12);
  });

  it('divide precision by k even when a list is shorter', () => {
    const m = microsoftMetrics([Int32Array.of(1)], [new Set([1])], 10);
    expect(m.precision).toBeCloseTo(0.1, 12);
    expect(m.recall).toBe(1);
  });
});

describe('RecBole metrics', () => {
  it('match the hand-computed values', () => {
    const m = recboleMetrics(recs, relevant, 3);
    expect(m.users).toBe(2);
    expect(m.mrr).toBeCloseTo((1 / 2 + 1) / 2, 12);
    expect(m.hit).toBe(1);
    expect(m.ndcg).toBeCloseTo((ndcg0 + ndcg1) / 2, 12);
    expect(m.recall).toBeCloseTo(0.75, 12);
    expect(m.precision).toBeCloseTo(0.5, 12);
  });

  it('count only the first k of a longer list', () => {
    const m = recboleMetrics([Int32Array.of(1, 2, 3)], [new Set([3])], 2);
    expect(m.hit).toBe(0);
    expect(m.mrr).toBe(0);
    expect(m.ndcg).toBe(0);
  });
});

describe('beyond accuracy', () => {
  it('coverage counts distinct recommended items over the catalog', () => {
    expect(catalogCoverage([Int32Array.of(0, 1), Int32Array.of(1, 2), null], 10)).toBeCloseTo(0.3, 12);
  });

  it('novelty is the mean −log2 training share, items unseen in training adding 0', () => {
    // Training counts: item 0 ×2, item 1 ×1, item 2 ×1 (4 interactions); item 3 never.
    const counts = [2, 1, 1, 0];
    const v = novelty([Int32Array.of(0, 1), Int32Array.of(3)], counts);
    expect(v).toBeCloseTo((1 + 2 + 0) / 3, 12);
  });
});
