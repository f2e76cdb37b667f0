import { describe, expect, it } from 'vitest';
import { mmr } from './mmr';

// Candidates a, a′ (a near-copy of a), b, c: relevance 1, 0.9, 0.6, 0.
const RELEVANCE = [1, 0.9, 0.6, 0];
const SIM = [
  [1, 0.95, 0.1, 0],
  [0.95, 1, 0.1, 0],
  [0.1, 0.1, 1, 0.2],
  [0, 0, 0.2, 1],
];
const sim = (p: number, q: number): number => SIM[p]![q]!;

describe('mmr', () => {
  it('keeps the relevance order at diversity 0', () => {
    const r = mmr(RELEVANCE, sim, 4, 0);
    expect(r.order).toEqual([0, 1, 2, 3]);
    expect(r.values).toEqual([1, 0.9, 0.6, 0]);
  });

  it('picks the least similar item after the first at diversity 1', () => {
    // After a: a′ 0.95, b 0.1, c 0 → c; then a′ 0.95, b max(0.1, 0.2) = 0.2 → b; then a′.
    expect(mmr(RELEVANCE, sim, 4, 1).order).toEqual([0, 3, 2, 1]);
  });

  it('trades relevance for novelty in between, by the hand-computed values', () => {
    // λ = 0.5. Step 1: a 0.5. Step 2: a′ 0.45 − 0.475 = −0.025, b 0.3 − 0.05 = 0.25, c 0 → b.
    // Step 3: a′ −0.025, c 0 − 0.5·0.2 = −0.1 → a′.
    const r = mmr(RELEVANCE, sim, 3, 0.5);
    expect(r.order).toEqual([0, 2, 1]);
    expect(r.values.map((v) => Number(v.toFixed(12)))).toEqual([0.5, 0.25, -0.025]);
  });

  it('returns non-increasing values at any diversity', () => {
    for (const d of [0, 0.1, 0.3, 0.7, 1]) {
      const v = mmr(RELEVANCE, sim, 4, d).values;
      for (let n = 1; n < v.length; n++) expect(v[n]).toBeLessThanOrEqual(v[n - 1]!);
    }
  });

  it('refuses a diversity outside [0, 1]', () => {
    expect(() => mmr(RELEVANCE, sim, 2, 1.5)).toThrow(/diversity must be in \[0, 1\]/);
  });
});
