/**
 * The few statistics experiment analysis needs, as small pure functions with their sources named:
 * the normal and chi-square tail probabilities, Wilson's score interval for a proportion,
 * Newcombe's interval for a difference of proportions, the pooled two-proportion z-test, and
 * Pearson's chi-square goodness of fit (for the sample-ratio-mismatch check).
 */

/** The two-sided 95 % normal quantile, Φ⁻¹(0.975). */
export const Z_95 = 1.959963984540054;

/**
 * Complementary error function, Chebyshev fit from Numerical Recipes (`erfcc`): fractional error
 * below 1.2e-7 everywhere, plenty for p-values printed to four places.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Standard normal cumulative distribution Φ(z). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error about 1e-15). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma needs x > 0, got ${x}`);
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let sum = c[0]!;
  for (let i = 1; i < 9; i++) sum += c[i]! / (y + i);
  const t = y + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}

/**
 * Regularised upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a): the series for x < a + 1, the
 * continued fraction (modified Lentz) otherwise, as in Numerical Recipes (`gammq`).
 */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0) || x < 0) throw new RangeError(`gammaQ needs a > 0 and x ≥ 0, got a=${a}, x=${x}`);
  if (x === 0) return 1;
  const logPrefix = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000 && Math.abs(term) > Math.abs(sum) * 1e-15; n++) {
      term *= x / (a + n);
      sum += term;
    }
    return Math.max(0, 1 - sum * Math.exp(logPrefix));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.exp(logPrefix) * h;
}

/** P(X ≥ x) for X chi-square distributed with `df` degrees of freedom. */
export function chiSquareSf(x: number, df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`Degrees of freedom must be a positive integer, got ${df}`);
  return gammaQ(df / 2, x / 2);
}

export interface Interval {
  low: number;
  high: number;
}

function checkCounts(successes: number, trials: number, what: string): void {
  if (!Number.isInteger(successes) || !Number.isInteger(trials) || successes < 0 || trials < 0) {
    throw new RangeError(`${what}: counts must be non-negative integers, got ${successes} of ${trials}`);
  }
  if (successes > trials) throw new RangeError(`${what}: ${successes} successes out of ${trials} trials is not a proportion`);
}

/**
 * Wilson's score interval for a binomial proportion (Wilson 1927): centre (p̂ + z²/2n) / (1 + z²/n),
 * half-width z / (1 + z²/n) · √(p̂(1 − p̂)/n + z²/4n²). Well behaved near 0 and with few trials,
 * where the Wald interval is not. `null` without trials.
 */
export function wilsonInterval(successes: number, trials: number, z = Z_95): Interval | null {
  checkCounts(successes, trials, 'wilsonInterval');
  if (trials === 0) return null;
  const p = successes / trials;
  const z2n = (z * z) / trials;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / trials + (z * z) / (4 * trials * trials));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * Newcombe's hybrid score interval for p₂ − p₁ (Newcombe 1998, method 10), built from the two
 * Wilson intervals: [d − √((p₂ − l₂)² + (u₁ − p₁)²), d + √((u₂ − p₂)² + (p₁ − l₁)²)].
 */
export function differenceInterval(x1: number, n1: number, x2: number, n2: number, z = Z_95): Interval | null {
  const w1 = wilsonInterval(x1, n1, z);
  const w2 = wilsonInterval(x2, n2, z);
  if (!w1 || !w2) return null;
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const d = p2 - p1;
  return {
    low: d - Math.sqrt((p2 - w2.low) ** 2 + (w1.high - p1) ** 2),
    high: d + Math.sqrt((w2.high - p2) ** 2 + (p1 - w1.low) ** 2),
  };
}

/**
 * Pooled two-proportion z-test of p₂ = p₁: z = (p̂₂ − p̂₁) / √(p̂(1 − p̂)(1/n₁ + 1/n₂)) with p̂ the
 * pooled rate; two-sided p-value. `null` when either group is empty or the pooled rate is 0 or 1
 * (no variance to test against).
 */
export function twoProportionZTest(x1: number, n1: number, x2: number, n2: number): { z: number; pValue: number } | null {
  checkCounts(x1, n1, 'twoProportionZTest (group 1)');
  checkCounts(x2, n2, 'twoProportionZTest (group 2)');
  if (n1 === 0 || n2 === 0) return null;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return null;
  const z = (x2 / n2 - x1 / n1) / se;
  return { z, pValue: erfc(Math.abs(z) / Math.SQRT2) };
}

/**
 * Pearson's chi-square goodness of fit of `observed` counts to the shares `weights` (any positive
 * numbers): Σ (O − E)² / E with E = N · wᵢ / Σw, k − 1 degrees of freedom. `null` without
 * observations or with a single group.
 */
export function chiSquareGoodnessOfFit(observed: readonly number[], weights: readonly number[]): { chi2: number; df: number; pValue: number; expected: number[] } | null {
  if (observed.length !== weights.length) throw new RangeError(`chiSquareGoodnessOfFit: ${observed.length} counts but ${weights.length} weights`);
  const n = observed.reduce((a, b) => a + b, 0);
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  if (n === 0 || observed.length < 2) return null;
  const expected = weights.map((w) => (n * w) / totalWeight);
  const chi2 = observed.reduce((sum, o, i) => sum + (o - expected[i]!) ** 2 / expected[i]!, 0);
  const df = observed.length - 1;
  return { chi2, df, pValue: chiSquareSf(chi2, df), expected };
}

/**
 * Pearson's chi-square test of independence on an r × c table of counts ((r − 1)(c − 1) degrees
 * of freedom); rows or columns that are all zero are dropped.
 */
export function chiSquareIndependence(table: readonly (readonly number[])[]): { chi2: number; df: number; pValue: number } {
  const rows = table.filter((row) => row.some((v) => v > 0));
  const columns = (rows[0] ?? []).map((_, j) => j).filter((j) => rows.some((row) => row[j]! > 0));
  const cells = rows.map((row) => columns.map((j) => row[j]!));
  const rowSums = cells.map((row) => row.reduce((a, b) => a + b, 0));
  const colSums = columns.map((_, j) => cells.reduce((a, row) => a + row[j]!, 0));
  const n = rowSums.reduce((a, b) => a + b, 0);
  if (rows.length < 2 || columns.length < 2) throw new RangeError('chiSquareIndependence needs at least two non-empty rows and columns');
  let chi2 = 0;
  cells.forEach((row, i) =>
    row.forEach((o, j) => {
      const e = (rowSums[i]! * colSums[j]!) / n;
      chi2 += (o - e) ** 2 / e;
    }),
  );
  const df = (rows.length - 1) * (columns.length - 1);
  return { chi2, df, pValue: chiSquareSf(chi2, df) };
}
