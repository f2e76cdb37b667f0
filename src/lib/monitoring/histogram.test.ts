import { describe, expect, it } from 'vitest';
import {
  addSample,
  bucketOf,
  emptyHistogram,
  histogramBars,
  histogramOf,
  histogramQuantile,
  LATENCY_EDGES_MS,
  latencyStats,
  mergeHistograms,
  quantile,
} from './histogram';

describe('latency histogram', () => {
  it('puts a sample in the bucket whose upper edge is the first at or above it', () => {
    expect(LATENCY_EDGES_MS.at(-1)).toBe(Infinity);
    for (const ms of [0, 0.01, 0.0625, 0.07, 1, 1.0001, 3.3, 16, 250, 40_000]) {
      const i = bucketOf(ms);
      expect(ms).toBeLessThanOrEqual(LATENCY_EDGES_MS[i]!);
      if (i > 0) expect(ms).toBeGreaterThan(LATENCY_EDGES_MS[i - 1]!);
    }
    // Edges are exact powers of two every fourth bucket: 1 ms closes a bucket, 1.0001 opens the next.
    expect(bucketOf(1.0001)).toBe(bucketOf(1) + 1);
    expect(bucketOf(40_000)).toBe(LATENCY_EDGES_MS.length - 1);
  });

  it('refuses latencies that are not finite non-negative numbers', () => {
    const h = emptyHistogram();
    expect(() => addSample(h, -1)).toThrow(/finite number of ms ≥ 0, got -1/);
    expect(() => addSample(h, NaN)).toThrow(/got NaN/);
    expect(() => addSample(h, Infinity)).toThrow(/got Infinity/);
    expect(h.count).toBe(0);
  });

  it('estimates quantiles within one bucket (±19 %) of the exact value', () => {
    // A log-normal-ish spread of 1,000 timings, 0.5 ms to ~60 ms.
    const values = Array.from({ length: 1000 }, (_, i) => 0.5 * Math.exp((i / 999) * 4.8));
    const h = histogramOf(values);
    for (const q of [0.1, 0.5, 0.9, 0.95, 0.99]) {
      const exact = quantile(values, q);
      const estimate = histogramQuantile(h, q);
      expect(estimate / exact).toBeGreaterThan(1 / 2 ** 0.25);
      expect(estimate / exact).toBeLessThan(2 ** 0.25);
    }
    expect(histogramQuantile(h, 0)).toBe(h.min);
    expect(histogramQuantile(h, 1)).toBe(h.max);
    expect(histogramQuantile(emptyHistogram(), 0.5)).toBeNaN();
  });

  it('merges by adding counts: the same as one histogram of every sample', () => {
    const a = [1, 2, 3, 50];
    const b = [0.2, 7, 7, 900];
    const merged = mergeHistograms(histogramOf(a), histogramOf(b));
    expect(merged).toEqual(histogramOf([...a, ...b]));
    expect(() => mergeHistograms(emptyHistogram(), { counts: [1], count: 1, sum: 1, min: 1, max: 1 })).toThrow(/1 buckets is not/);
  });

  it('exact quantiles and stats match a hand-computed case', () => {
    const values = [4, 1, 3, 2, 10];
    // Sorted 1 2 3 4 10; type 7: p50 at index 2 → 3; p95 at 3.8 → 4 + 0.8 × 6 = 8.8.
    expect(quantile(values, 0.5)).toBe(3);
    expect(quantile(values, 0.95)).toBeCloseTo(8.8, 12);
    const stats = latencyStats(values);
    expect(stats).toMatchObject({ count: 5, mean: 4, p50: 3, min: 1, max: 10 });
    expect(latencyStats([]).count).toBe(0);
    expect(() => quantile(values, 1.5)).toThrow(/q must be in \[0, 1\]/);
  });

  it('draws bars from the first to the last non-empty bucket, merged in groups', () => {
    const h = histogramOf([1, 1, 2, 4]);
    const bars = histogramBars(h);
    expect(bars[0]!.to).toBe(1);
    expect(bars.at(-1)!.to).toBe(4);
    expect(bars.reduce((s, b) => s + b.count, 0)).toBe(4);
    expect(bars).toHaveLength(9); // edges 1, 2^¼ … 4: nine buckets
    const grouped = histogramBars(h, 4);
    expect(grouped.reduce((s, b) => s + b.count, 0)).toBe(4);
    expect(grouped.length).toBeLessThan(bars.length);
    expect(histogramBars(emptyHistogram())).toEqual([]);
    expect(histogramBars(histogramOf([50_000]))[0]!.to).toBe(50_000);
  });
});
