import { describe, expect, it } from 'vitest';
import { chooseRidgeLambda, concatFeatures, fitFeatureRidge, meanAuc, parseGenres, parseTitleWords, projectFeatures } from './feature-ridge';

describe('feature ridge hybrid', () => {
  it('recovers an exact linear map from features to item vectors (λ → 0)', () => {
    // 4 items, 2 features; y_i = [φ0 + 2, 3·φ1 − φ0] (constant 2 on the first factor).
    const features = Float32Array.of(1, 0, 0, 1, 1, 1, 0, 0);
    const y = new Float32Array(8);
    for (let i = 0; i < 4; i++) {
      const a = features[i * 2]!;
      const b = features[i * 2 + 1]!;
      y[i * 2] = a + 2;
      y[i * 2 + 1] = 3 * b - a;
    }
    const model = fitFeatureRidge(features, 2, y, 2, Int32Array.of(0, 1, 2, 3), 1e-9);
    const p = projectFeatures(model, Float32Array.of(1, 1));
    expect(p[0]).toBeCloseTo(3, 5);
    expect(p[1]).toBeCloseTo(2, 5);
  });

  it('AUC over a candidate slice, ties counted one half', () => {
    const scores = [Float32Array.of(3, 2, 1, 0), Float32Array.of(1, 1, 1, 1)];
    const auc = meanAuc((u, out) => out.set(scores[u]!), 4, Int32Array.of(0, 1, 2, 3), [new Set([1]), new Set([0])]);
    // User 0: positive 1 beats 2 of 3 negatives → 2/3; user 1: all ties → 0.5.
    expect(auc).toBeCloseTo((2 / 3 + 0.5) / 2, 10);
  });

  it('parses u.item genre flags into the dense item order', () => {
    const text = '1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n2|GoldenEye (1995)|01-Jan-1995||http://x|0|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0|1|0|0\n';
    const g = parseGenres(text, Int32Array.of(2, 1));
    expect(Array.from(g.subarray(0, 19)).flatMap((v, k) => (v ? [k] : []))).toEqual([1, 2, 16]);
    expect(Array.from(g.subarray(19, 38)).flatMap((v, k) => (v ? [k] : []))).toEqual([3, 4, 5]);
  });
});

describe('title features', () => {
  const text = [
    '1|Toy Story (1995)|x',
    '2|Toy Soldiers (1991)|x',
    '3|The Story of Us (1999)|x',
    '4|Alien (1979)|x',
  ].join('\n');

  it('keeps words shared by enough titles, drops stopwords, adds the decade, scales rows to unit length', () => {
    const t = parseTitleWords(text, Int32Array.of(1, 2, 3, 4), 2);
    expect(t.words).toEqual(['decade:1990s', 'story', 'toy']);
    // Toy Story: decade, story, toy → each 1/√3.
    expect(Array.from(t.features.subarray(0, 3))).toEqual([1, 1, 1].map(() => expect.closeTo(1 / Math.sqrt(3), 6)));
    // Alien (1979): nothing kept, an all-zero row.
    expect(Array.from(t.features.subarray(9, 12))).toEqual([0, 0, 0]);
  });

  it('names the line of an unreadable title and joins feature blocks', () => {
    expect(() => parseTitleWords('1|Toy Story (1995)\n2\n', Int32Array.of(1, 2))).toThrow(/u.item line 2/);
    expect(Array.from(concatFeatures(Float32Array.of(1, 2), 1, Float32Array.of(3, 4, 5, 6), 2))).toEqual([1, 3, 4, 2, 5, 6]);
    expect(() => concatFeatures(Float32Array.of(1, 2), 1, Float32Array.of(3), 1)).toThrow(/2 rows on the left but 1 on the right/);
  });

  it('chooses the ridge λ that reconstructs held-out warm items best', () => {
    // y = 2·φ exactly: the smallest λ reconstructs best.
    const features = Float32Array.from({ length: 40 }, (_, k) => (k * 7) % 5);
    const y = features.map((v) => 2 * v);
    const rows = Int32Array.from({ length: 40 }, (_, i) => i);
    expect(chooseRidgeLambda(features, 1, y, 1, rows, [100, 1e-6, 10])).toBe(1e-6);
  });
});
