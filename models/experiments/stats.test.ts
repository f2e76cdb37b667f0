import { describe, expect, it } from 'vitest';
import { chiSquareGoodnessOfFit, chiSquareIndependence, chiSquareSf, differenceInterval, normalCdf, twoProportionZTest, wilsonInterval } from './stats';

describe('distribution tails', () => {
  it('match reference values (computed with SciPy 1.17)', () => {
    expect(normalCdf(1.2345)).toBeCloseTo(0.8914916766, 6);
    expect(normalCdf(-1.959963984540054)).toBeCloseTo(0.025, 7);
    expect(chiSquareSf(3.84, 1)).toBeCloseTo(0.0500435212, 6);
    expect(chiSquareSf(10, 3)).toBeCloseTo(0.0185661355, 8);
    expect(chiSquareSf(100, 80)).toBeCloseTo(0.0645703689, 8);
    expect(chiSquareSf(0.5, 2)).toBeCloseTo(0.7788007831, 8);
    expect(chiSquareSf(0, 4)).toBe(1);
  });
});

describe('proportions: a hand-computed case', () => {
  // Control 100 clicks of 1,000 exposures, challenger 130 of 1,000; z = 1.959964 (z² = 3.841459).
  it('Wilson interval: centre (p + z²/2n)/(1 + z²/n), half-width z/(1 + z²/n)·√(p(1−p)/n + z²/4n²)', () => {
    // centre = (0.1 + 0.0019207) / 1.0038415 = 0.1015309; half = 1.952464 × √(9.0e-5 + 9.6036e-7) = 0.0186213
    const w = wilsonInterval(100, 1000)!;
    expect(w.low).toBeCloseTo(0.0829094, 6);
    expect(w.high).toBeCloseTo(0.1201520, 6);
    const w2 = wilsonInterval(130, 1000)!;
    expect(w2.low).toBeCloseTo(0.1105638, 6);
    expect(w2.high).toBeCloseTo(0.1522680, 6);
  });

  it('Newcombe difference interval from the two Wilson intervals', () => {
    // 0.03 − √((0.13 − 0.1105638)² + (0.1201520 − 0.1)²) = 0.0020023; 0.03 + √((0.1522680 − 0.13)² + (0.1 − 0.0829094)²) = 0.0580705
    const d = differenceInterval(100, 1000, 130, 1000)!;
    expect(d.low).toBeCloseTo(0.0020023, 6);
    expect(d.high).toBeCloseTo(0.0580705, 6);
  });

  it('pooled two-proportion z-test', () => {
    // pooled 230/2000 = 0.115; se = √(0.115 × 0.885 × 2/1000) = 0.0142671; z = 0.03 / se = 2.102741; p = 2(1 − Φ(z)) = 0.035488
    const t = twoProportionZTest(100, 1000, 130, 1000)!;
    expect(t.z).toBeCloseTo(2.1027406, 6);
    expect(t.pValue).toBeCloseTo(0.0354885, 6);
  });

  it('edge cases: no trials, no variance, impossible counts', () => {
    expect(wilsonInterval(0, 0)).toBeNull();
    expect(wilsonInterval(0, 10)!.low).toBe(0);
    expect(twoProportionZTest(0, 10, 0, 10)).toBeNull();
    expect(() => wilsonInterval(11, 10)).toThrow(/11 successes out of 10 trials/);
    expect(() => wilsonInterval(-1, 10)).toThrow(/non-negative integers/);
  });
});

describe('chi-square tests', () => {
  it('goodness of fit against declared weights', () => {
    // (480 − 500)²/500 + (520 − 500)²/500 = 1.6 on 1 df
    const fit = chiSquareGoodnessOfFit([480, 520], [50, 50])!;
    expect(fit.chi2).toBeCloseTo(1.6, 12);
    expect(fit.pValue).toBeCloseTo(0.2059032107, 8);
    const three = chiSquareGoodnessOfFit([2950, 5100, 1950], [0.3, 0.5, 0.2])!;
    expect(three.chi2).toBeCloseTo(4.0833333, 6);
    expect(three.pValue).toBeCloseTo(0.1298121769, 8);
    expect(chiSquareGoodnessOfFit([0, 0], [1, 1])).toBeNull();
  });

  it('independence on a 2 × 2 table', () => {
    // Row sums 100 and 100, column sums 80 and 120: E = 40, 60 in each row; every cell is 10 off, χ² = 8.3333
    const t = chiSquareIndependence([
      [50, 50],
      [30, 70],
    ]);
    expect(t.df).toBe(1);
    expect(t.chi2).toBeCloseTo(100 / 40 + 100 / 60 + 100 / 40 + 100 / 60, 10);
  });
});
