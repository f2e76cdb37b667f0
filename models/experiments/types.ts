/**
 * The A/B experiment contract shared by the server (declaration, report endpoint, analysis) and the
 * device (assignment, counting, the opt-in report). Plain data and pure functions only: this folder
 * runs in Node, in the page and in workers.
 *
 * Privacy by design: a device decides its own variant (a hash of the experiment's salt and the
 * install id, no server call), counts exposures and outcomes locally, and, only when the shopper
 * has opted in, sends one report per experiment and period that holds counts and nothing else.
 */

/** Assignment resolution: a device lands in one of this many buckets per experiment. */
export const BUCKETS = 10_000;

/** Outcomes a device counts per variant (the shopper's actions, never which item). */
export const OUTCOME_TYPES = ['click', 'like', 'add_to_cart', 'purchase'] as const;
export type OutcomeType = (typeof OUTCOME_TYPES)[number];

export interface ExperimentVariant {
  /** Lower-case name, unique within the experiment (e.g. `control`, `challenger`). */
  name: string;
  /** The ranker this variant runs: `fashion-ranker@N`, or an alias such as `champion`. */
  model: string;
  /** Relative share of devices (any positive number; shares are weight / sum of weights). */
  weight: number;
}

/** An experiment as the manifest lists it (validated on the server by server/experiments/schema.ts). */
export interface ExperimentDefinition {
  id: string;
  /** Mixed into the assignment hash: a new salt reshuffles every device, the same salt never does. */
  salt: string;
  /** The first variant is the control that every other variant is compared with. */
  variants: ExperimentVariant[];
  /** ISO 8601 instants; a device counts only while start ≤ now < end. */
  start: string;
  end: string;
  /** Outcomes of interest, in the order reports show them. */
  metrics: OutcomeType[];
  description?: string;
}

/** What a device counted for one variant in one period. */
export interface VariantCounts {
  /** Items shown in feeds (a feed shown again unchanged counts once). */
  exposures: number;
  outcomes: Record<OutcomeType, number>;
}

export const REPORT_FORMAT = 'fashionml.experiment-report/1';

/** Periods are UTC days: one report per device, experiment and day at most. */
export const PERIOD_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The body of `POST /v1/experiments/<id>/report`: aggregate counts only. `reportKey` is a random
 * key made once per install for reports (not the install id, which never leaves the device); the
 * server keeps only a hash of it, to refuse a second report for the same period.
 */
export interface ExperimentReport {
  format: typeof REPORT_FORMAT;
  reportKey: string;
  period: string;
  variant: string;
  counts: VariantCounts;
  /** The day's on-device monitoring, aggregated (absent when nothing was measured). */
  monitoring?: MonitoringAggregate;
}

/**
 * Latency buckets of the on-device monitor (src/lib/monitoring/histogram.ts `LATENCY_EDGES_MS`):
 * bucket i's upper edge is 2^((i − 16) / 4) ms for i < 77 (62.5 µs … 32.8 s); bucket 77 is open.
 * Fixed edges are what lets histograms from every device be added together.
 */
export const LATENCY_BUCKETS = 78;

/** Upper edge in ms of latency bucket `i` (Infinity for the last). */
export function latencyEdgeMs(i: number): number {
  return i >= LATENCY_BUCKETS - 1 ? Infinity : 2 ** ((i - 16) / 4);
}

/** The latency bucket a time in ms falls in (bucket i holds edge(i − 1) < ms ≤ edge(i)). */
export function latencyBucket(ms: number): number {
  if (!(ms > latencyEdgeMs(0))) return 0;
  return Math.min(Math.ceil(Math.log2(ms) * 4 - 1e-9) + 16, LATENCY_BUCKETS - 1);
}

/**
 * One day of a device's monitoring as an opt-in report carries it: histogram counts (sparse:
 * `[bucket, count]` pairs, non-zero only), error counts (no messages), and how much of the
 * catalog was shown (counts, no ids).
 */
export interface MonitoringAggregate {
  latency: { op: string; backend: string; buckets: [bucket: number, count: number][] }[];
  errors: { op: string; count: number }[];
  coverage: { lists: number; impressions: number; distinctItems: number; catalogSize?: number };
}

/** Report keys: 32 random bytes, base64url without padding (43 characters). */
export const REPORT_KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** The UTC day (`YYYY-MM-DD`) that epoch-ms `at` falls in. */
export function periodOf(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** Epoch ms at which `period` (a UTC day) ends. */
export function periodEnd(period: string): number {
  if (!PERIOD_PATTERN.test(period)) throw new RangeError(`A period is a UTC day written YYYY-MM-DD, not ${JSON.stringify(period)}`);
  return Date.parse(`${period}T00:00:00.000Z`) + 86_400_000;
}

export function emptyCounts(): VariantCounts {
  return { exposures: 0, outcomes: { click: 0, like: 0, add_to_cart: 0, purchase: 0 } };
}

/** Whether the experiment is running at epoch-ms `at`. */
export function isRunning(experiment: Pick<ExperimentDefinition, 'start' | 'end'>, at: number): boolean {
  return Date.parse(experiment.start) <= at && at < Date.parse(experiment.end);
}
