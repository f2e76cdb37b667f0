import { describe, expect, it } from 'vitest';
import { diffRankings, rankBiasedOverlap } from './diff';
import { makePersonas } from './personas';
import { pca2d, sampleRows } from './projection';

describe('pca2d', () => {
  it('recovers the two directions of largest variance, in order, with their variance shares', () => {
    // Points spread 3:1 along two orthogonal directions in 4-D, nothing along the others.
    const u = [1, 1, 0, 0].map((v) => v / Math.SQRT2);
    const w = [0, 0, 1, -1].map((v) => v / Math.SQRT2);
    const rows = 200;
    const values = new Float32Array(rows * 4);
    for (let r = 0; r < rows; r++) {
      const a = 3 * Math.sin(r * 0.37);
      const b = Math.cos(r * 1.91);
      for (let c = 0; c < 4; c++) values[r * 4 + c] = 5 + a * u[c]! + b * w[c]!; // offset: centring must remove it
    }
    const { xy, explained, components } = pca2d(values, rows, 4, { normalise: false });
    const dot = (k: number, v: number[]) => v.reduce((s, x, c) => s + x * components[k * 4 + c]!, 0);
    // The sample's a and b are nearly (not exactly) uncorrelated, so the axes match to about 1e-4.
    expect(Math.abs(dot(0, u))).toBeCloseTo(1, 4);
    expect(Math.abs(dot(1, w))).toBeCloseTo(1, 4);
    expect(explained[0] + explained[1]).toBeCloseTo(1, 6);
    expect(explained[0]).toBeGreaterThan(explained[1]);
    // Coordinates are the centred points along each component: their variances are the eigenvalues.
    const variance = (k: number) => {
      let mean = 0;
      for (let r = 0; r < rows; r++) mean += xy[r * 2 + k]! / rows;
      let s = 0;
      for (let r = 0; r < rows; r++) s += (xy[r * 2 + k]! - mean) ** 2;
      return s / (rows - 1);
    };
    expect(variance(0) / variance(1)).toBeGreaterThan(5);
    expect(Math.abs(variance(0) / (variance(0) + variance(1)) - explained[0])).toBeLessThan(1e-4);
  });

  it('is deterministic, leaves zero rows at the origin and checks its input', () => {
    const values = new Float32Array([1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0]);
    const a = pca2d(values, 5, 3);
    const b = pca2d(values, 5, 3);
    expect(a.xy).toEqual(b.xy);
    expect([a.xy[2], a.xy[3]]).toEqual([0, 0]);
    expect(() => pca2d(values, 4, 3)).toThrow(/15 values is not 4×3/);
    expect(() => pca2d(new Float32Array(0), 0, 3)).toThrow(/bad shape 0×3/);
  });

  it('sampleRows spreads at most max rows evenly', () => {
    expect([...sampleRows(10, 4)]).toEqual([0, 2, 5, 7]);
    expect([...sampleRows(3, 10)]).toEqual([0, 1, 2]);
    expect(() => sampleRows(3, 0)).toThrow(/max must be a positive integer/);
  });
});

describe('diffRankings', () => {
  it('lists items only in A, only in B, and how shared items moved', () => {
    const d = diffRankings(['a', 'b', 'c', 'd'], ['c', 'a', 'e', 'f']);
    expect(d.onlyA).toEqual([{ itemId: 'b', rank: 2 }, { itemId: 'd', rank: 4 }]);
    expect(d.onlyB).toEqual([{ itemId: 'e', rank: 3 }, { itemId: 'f', rank: 4 }]);
    expect(d.shared).toEqual([
      { itemId: 'a', rankA: 1, rankB: 2, up: -1 },
      { itemId: 'c', rankA: 3, rankB: 1, up: 2 },
    ]);
    expect(d.jaccard).toBeCloseTo(2 / 6, 12);
    expect(d.unchanged).toBe(0);
  });

  it('identical lists: nothing differs and RBO is 1', () => {
    const d = diffRankings(['x', 'y', 'z'], ['x', 'y', 'z']);
    expect(d).toMatchObject({ onlyA: [], onlyB: [], jaccard: 1, unchanged: 3 });
    expect(d.rbo).toBeCloseTo(1, 12);
  });

  it('RBO matches a hand-computed case and weighs the top most', () => {
    // Depth 1: overlap 0 → 0; depth 2: {a,b} vs {b,a} → 2/2 = 1. Weights 1 and 0.9: 0.9 / 1.9.
    expect(rankBiasedOverlap(['a', 'b'], ['b', 'a'], 0.9)).toBeCloseTo(0.9 / 1.9, 12);
    expect(rankBiasedOverlap(['a', 'b', 'c'], ['a', 'b', 'x'])).toBeGreaterThan(rankBiasedOverlap(['x', 'b', 'c'], ['a', 'b', 'c']));
    expect(rankBiasedOverlap([], [])).toBe(1);
    expect(rankBiasedOverlap(['a'], ['b'])).toBe(0);
  });

  it('refuses a list that repeats an item, naming it', () => {
    expect(() => diffRankings(['a', 'b', 'a'], [])).toThrow(/list A repeats item "a" \(at ranks 1 and 3\)/);
  });
});

describe('makePersonas', () => {
  const items = [
    ...Array.from({ length: 6 }, (_, i) => ({ id: `w-top-blue-${i}`, gender: 'Women', articleType: 'Tops', colour: 'Blue' })),
    ...Array.from({ length: 5 }, (_, i) => ({ id: `w-top-red-${i}`, gender: 'Women', articleType: 'Tops', colour: 'Red' })),
    ...Array.from({ length: 4 }, (_, i) => ({ id: `m-shoe-black-${i}`, gender: 'Men', articleType: 'Shoes', colour: 'Black' })),
    { id: 'lonely', gender: 'Men', articleType: 'Ties', colour: 'Green' },
  ];

  it('one persona per gender and article type, mostly events on its own group, deterministic', () => {
    const now = 1_700_000_000_000;
    const personas = makePersonas(items, { count: 3, now, seed: 1 });
    expect(personas.map((p) => p.label)).toEqual(['Women · Tops · Blue (simulated)', 'Men · Shoes · Black (simulated)']);
    for (const p of personas) {
      const prefix = `${p.prefers.gender === 'Women' ? 'w-top' : 'm-shoe'}-${p.prefers.colour.toLowerCase()}`;
      const own = p.history.filter((e) => e.itemId.startsWith(prefix)).length;
      expect(own / p.history.length).toBeGreaterThanOrEqual(10 / 12);
      expect(p.history.at(-1)!.type).toBe('purchase');
      expect(p.history.every((e, i) => i === 0 || e.at > p.history[i - 1]!.at)).toBe(true);
      expect(p.history.at(-1)!.at).toBeLessThanOrEqual(now);
    }
    expect(makePersonas(items, { count: 3, now, seed: 1 })).toEqual(personas);
  });

  it('checks its options', () => {
    expect(() => makePersonas(items, { count: 0, now: 0 })).toThrow(/count must be a positive integer/);
    expect(() => makePersonas(items, { events: 1, now: 0 })).toThrow(/events must be an integer ≥ 2/);
  });
});
