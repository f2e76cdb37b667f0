/** Median, p95 and spread of a set of timings, as every benchmark reports them. */
export interface Summary {
  n: number;
  median: number;
  p95: number;
  min: number;
  max: number;
}

/** Nearest-rank percentiles of `values` (which need not be sorted). */
export function summarise(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error('summarise: no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
  return { n: sorted.length, median: rank(0.5), p95: rank(0.95), min: sorted[0] as number, max: sorted.at(-1) as number };
}
