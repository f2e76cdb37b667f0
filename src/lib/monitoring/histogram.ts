/**
 * Latency histograms with fixed, log-spaced buckets: every device and every backend uses the same
 * bucket edges, so histograms merge by adding counts (the lab's view, the opt-in experiment
 * report's aggregate) and never carry the raw timings. Plain TypeScript, no DOM: the lab worker
 * and Node tests use it too.
 */

/** Buckets per doubling: each bucket's upper edge is 2^(1/4) ≈ 1.19 × the one below (quantiles within ±10 %). */
export const BUCKETS_PER_DOUBLING = 4;
/** Smallest upper edge: 2^-4 ms = 62.5 µs. */
const FIRST_EXPONENT = -4 * BUCKETS_PER_DOUBLING;
/** Largest finite upper edge: 2^15 ms ≈ 33 s; slower samples land in the overflow bucket. */
const LAST_EXPONENT = 15 * BUCKETS_PER_DOUBLING;

/** Upper edges in ms (bucket i holds `edges[i-1] < ms ≤ edges[i]`), then `Infinity` for the overflow. */
export const LATENCY_EDGES_MS: readonly number[] = Object.freeze([
  ...Array.from({ length: LAST_EXPONENT - FIRST_EXPONENT + 1 }, (_, i) => 2 ** ((FIRST_EXPONENT + i) / BUCKETS_PER_DOUBLING)),
  Infinity,
]);

/** A histogram as plain data (JSON- and structured-clone-safe). `counts[i]` pairs with `LATENCY_EDGES_MS[i]`. */
export interface HistogramData {
  counts: number[];
  count: number;
  /** Sum of the samples in ms (for the mean). */
  sum: number;
  min: number;
  max: number;
}

/** The bucket a latency falls in. */
export function bucketOf(ms: number): number {
  if (!(ms > LATENCY_EDGES_MS[0]!)) return 0;
  const i = Math.ceil(Math.log2(ms) * BUCKETS_PER_DOUBLING - 1e-9) - FIRST_EXPONENT;
  return Math.min(i, LATENCY_EDGES_MS.length - 1);
}

export function checkLatency(ms: number, where: string): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new RangeError(`${where}: a latency must be a finite number of ms ≥ 0, got ${String(ms)}`);
}

export function emptyHistogram(): HistogramData {
  return { counts: new Array<number>(LATENCY_EDGES_MS.length).fill(0), count: 0, sum: 0, min: Infinity, max: -Infinity };
}

/** Adds one sample (in place). */
export function addSample(h: HistogramData, ms: number): HistogramData {
  checkLatency(ms, 'histogram');
  h.counts[bucketOf(ms)]! += 1;
  h.count += 1;
  h.sum += ms;
  h.min = Math.min(h.min, ms);
  h.max = Math.max(h.max, ms);
  return h;
}

export function histogramOf(values: Iterable<number>): HistogramData {
  const h = emptyHistogram();
  for (const v of values) addSample(h, v);
  return h;
}

/** Adds `other` into `into` (in place); both must use {@link LATENCY_EDGES_MS}. */
export function mergeHistograms(into: HistogramData, other: HistogramData): HistogramData {
  if (other.counts.length !== into.counts.length) {
    throw new Error(`mergeHistograms: ${other.counts.length} buckets is not ${into.counts.length}; both sides must use LATENCY_EDGES_MS`);
  }
  other.counts.forEach((c, i) => (into.counts[i]! += c));
  into.count += other.count;
  into.sum += other.sum;
  into.min = Math.min(into.min, other.min);
  into.max = Math.max(into.max, other.max);
  return into;
}

/**
 * The q-quantile estimated from the buckets: the bucket holding the rank, interpolated
 * geometrically inside it and clamped to the observed min and max. NaN for an empty histogram.
 */
export function histogramQuantile(h: HistogramData, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`histogramQuantile: q must be in [0, 1], got ${q}`);
  if (h.count === 0) return NaN;
  const rank = q * h.count;
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i]!;
    if (c === 0 || seen + c < rank) {
      seen += c;
      continue;
    }
    const hi = Math.min(LATENCY_EDGES_MS[i]!, h.max);
    const lo = Math.max(i === 0 ? 0 : LATENCY_EDGES_MS[i - 1]!, h.min);
    const within = c === 0 ? 0 : (rank - seen) / c;
    const value = lo > 0 ? lo * (hi / lo) ** within : lo + (hi - lo) * within;
    return Math.min(h.max, Math.max(h.min, value));
  }
  return h.max;
}

/** Exact quantile of raw samples (linear interpolation between order statistics, R's type 7). */
export function quantile(values: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be in [0, 1], got ${q}`);
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

export interface LatencyStats {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
}

/** Summary numbers of raw samples (exact quantiles). */
export function latencyStats(values: readonly number[]): LatencyStats {
  const n = values.length;
  return {
    count: n,
    mean: n ? values.reduce((a, b) => a + b, 0) / n : NaN,
    p50: quantile(values, 0.5),
    p95: quantile(values, 0.95),
    p99: quantile(values, 0.99),
    min: n ? Math.min(...values) : NaN,
    max: n ? Math.max(...values) : NaN,
  };
}

/** One bar of a drawn histogram. */
export interface HistogramBar {
  /** Lower and upper edge in ms. */
  from: number;
  to: number;
  count: number;
}

/**
 * The buckets from the first to the last non-empty one, merged `group` at a time, for drawing.
 * The overflow bucket is drawn up to the observed max.
 */
export function histogramBars(h: HistogramData, group = 1): HistogramBar[] {
  if (!Number.isInteger(group) || group < 1) throw new RangeError(`histogramBars: group must be a positive integer, got ${group}`);
  const first = h.counts.findIndex((c) => c > 0);
  if (first < 0) return [];
  let last = h.counts.length - 1;
  while (h.counts[last] === 0) last--;
  const start = first - (first % group);
  const bars: HistogramBar[] = [];
  for (let i = start; i <= last; i += group) {
    const end = Math.min(i + group - 1, h.counts.length - 1);
    let count = 0;
    for (let j = i; j <= end; j++) count += h.counts[j]!;
    const to = LATENCY_EDGES_MS[end]!;
    bars.push({ from: i === 0 ? 0 : LATENCY_EDGES_MS[i - 1]!, to: Number.isFinite(to) ? to : h.max, count });
  }
  return bars;
}
