/**
 * On-device monitoring: latency per operation and backend, errors per operation, and which catalog
 * items were shown (for coverage). Samples are kept in the IndexedDB `metrics` store and never
 * leave the device by themselves; {@link Monitor.summary} turns them into aggregates (histograms
 * with fixed edges, counts, a coverage share) for the Model Lab and for an opt-in report.
 *
 * Recording is synchronous and cheap: samples are buffered and written in one transaction every
 * `flushMs` (or when the buffer fills), so a feed refresh never waits on IndexedDB. A failed write
 * is counted and reported in the summary, never thrown at the caller; bad arguments do throw.
 */
import type { MetricSample } from '../storage/schema';
import type { FashionStore, WriteOp } from '../storage/store';
import { addSample, emptyHistogram, histogramQuantile, latencyStats } from './histogram';
import type { HistogramData, LatencyStats } from './histogram';

/** The operations the shopper app times: the "For you" feed, similar items, text search, photo search. */
export const MONITORED_OPS = ['feed', 'similar', 'search', 'photo-search'] as const;
export type MonitoredOp = (typeof MONITORED_OPS)[number];

/** Sample names in the `metrics` store (other writers may keep other names there). */
export const SAMPLE_NAMES = { latency: 'monitor.latency_ms', error: 'monitor.error', shown: 'monitor.shown' } as const;
const OWN_NAMES = new Set<string>(Object.values(SAMPLE_NAMES));

export interface MonitorOptions {
  /** Write buffered samples this often in ms (default 2000; 0: only on `flush()` or a full buffer). */
  flushMs?: number;
  /** Write at once when this many samples are buffered (default 200). */
  maxBuffered?: number;
  /** Keep at most this many monitoring samples; the oldest go first (default 20,000, about 2 MB). */
  maxSamples?: number;
  now?: () => number;
}

export interface LatencySummary extends LatencyStats {
  op: MonitoredOp;
  backend: string;
  /** Fixed-edge histogram (LATENCY_EDGES_MS): mergeable across devices. */
  histogram: HistogramData;
}

export interface ErrorSummary {
  op: MonitoredOp;
  count: number;
  /** The newest error's message and time. */
  lastMessage: string;
  lastAt: number;
}

export interface CoverageSummary {
  /** Times a list of items was shown. */
  lists: number;
  /** Item impressions (sum of list lengths). */
  impressions: number;
  /** Distinct items shown. */
  distinctItems: number;
  /** Catalog size given to `summary`, when given. */
  catalogSize?: number;
  /** distinctItems / catalogSize. */
  share?: number;
}

export interface MonitoringSummary {
  /** Oldest and newest sample time covered (epoch ms); null when there is none. */
  from: number | null;
  to: number | null;
  latency: LatencySummary[];
  errors: ErrorSummary[];
  coverage: CoverageSummary;
  /** Writes to IndexedDB that failed since the page loaded (the samples were dropped). */
  droppedWrites: number;
  lastWriteError?: string;
}

const MAX_BACKEND_LENGTH = 40;
const MAX_MESSAGE_LENGTH = 300;
const MAX_ITEMS_PER_LIST = 1000;

function requireOp(op: unknown, where: string): MonitoredOp {
  if (!(MONITORED_OPS as readonly unknown[]).includes(op)) {
    throw new RangeError(`${where}: operation ${JSON.stringify(op)} is not one of ${MONITORED_OPS.join(', ')}`);
  }
  return op as MonitoredOp;
}

function errorMessage(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : typeof error === 'string' ? error : JSON.stringify(error) ?? String(error);
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : text;
}

export class Monitor {
  private buffer: MetricSample[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private dropped = 0;
  private lastWriteError: string | undefined;
  private readonly options: Required<MonitorOptions>;

  constructor(
    private readonly store: () => Promise<FashionStore>,
    options: MonitorOptions = {},
  ) {
    this.options = { flushMs: options.flushMs ?? 2000, maxBuffered: options.maxBuffered ?? 200, maxSamples: options.maxSamples ?? 20_000, now: options.now ?? Date.now };
    if (!(Number.isInteger(this.options.maxSamples) && this.options.maxSamples >= 1)) throw new RangeError('Monitor: maxSamples must be a positive integer');
  }

  /** One timed call of `op` on `backend` (e.g. `wasm`, `webgpu`, `js`). @param ms wall time in milliseconds. */
  recordLatency(op: MonitoredOp, backend: string, ms: number): void {
    requireOp(op, 'recordLatency');
    if (typeof backend !== 'string' || backend === '' || backend.length > MAX_BACKEND_LENGTH) {
      throw new RangeError(`recordLatency: backend must be a name of 1 to ${MAX_BACKEND_LENGTH} characters, got ${JSON.stringify(backend)}`);
    }
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new RangeError(`recordLatency: ms must be a finite number ≥ 0, got ${String(ms)}`);
    this.push({ name: SAMPLE_NAMES.latency, value: ms, at: this.options.now(), tags: { op, backend } });
  }

  /** A failed call of `op`; only the error's name and message are kept (truncated), never its arguments. */
  recordError(op: MonitoredOp, error: unknown): void {
    requireOp(op, 'recordError');
    this.push({ name: SAMPLE_NAMES.error, value: 1, at: this.options.now(), tags: { op, message: errorMessage(error) } });
  }

  /** A list of catalog items put on screen (a feed page, similar items, search results). */
  recordShown(itemIds: readonly string[]): void {
    if (!Array.isArray(itemIds) || itemIds.some((id) => typeof id !== 'string' || id === '')) {
      throw new TypeError('recordShown: itemIds must be an array of non-empty item id strings');
    }
    if (itemIds.length === 0) return;
    const ids = itemIds.slice(0, MAX_ITEMS_PER_LIST);
    this.push({ name: SAMPLE_NAMES.shown, value: ids.length, at: this.options.now(), tags: { items: JSON.stringify(ids) } });
  }

  /** Writes what is buffered; resolves once it is stored (or dropped after a failed write). */
  flush(): Promise<void> {
    this.clearTimer();
    const batch = this.buffer;
    this.buffer = [];
    if (batch.length > 0) this.writing = this.writing.then(() => this.write(batch));
    return this.writing;
  }

  /** Aggregates of every kept sample (buffered ones included). @param catalogSize for the coverage share. */
  async summary(options: { since?: number; catalogSize?: number } = {}): Promise<MonitoringSummary> {
    await this.flush();
    const store = await this.store();
    const samples = (await store.getAll('metrics')).filter((s) => OWN_NAMES.has(s.name) && (options.since === undefined || s.at >= options.since));
    return summarise(samples, options.catalogSize, this.dropped, this.lastWriteError);
  }

  /** Deletes every monitoring sample (buffered and stored); other metrics are kept. */
  async clear(): Promise<void> {
    this.clearTimer();
    this.buffer = [];
    await this.writing;
    const store = await this.store();
    const own = (await store.getAll('metrics')).filter((s) => OWN_NAMES.has(s.name));
    await store.batch(own.map((s): WriteOp => ({ store: 'metrics', delete: s.id! })));
  }

  private push(sample: MetricSample): void {
    this.buffer.push(sample);
    if (this.buffer.length >= this.options.maxBuffered) void this.flush();
    else if (this.timer === undefined && this.options.flushMs > 0) this.timer = setTimeout(() => void this.flush(), this.options.flushMs);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async write(batch: MetricSample[]): Promise<void> {
    try {
      const store = await this.store();
      await store.putMany('metrics', batch);
      await this.trim(store);
    } catch (error) {
      // Monitoring must never break the shop: the samples are dropped and the summary says so.
      this.dropped += 1;
      this.lastWriteError = errorMessage(error);
    }
  }

  /** Keeps the newest `maxSamples` monitoring samples; trims only when 10 % over, so it runs rarely. */
  private async trim(store: FashionStore): Promise<void> {
    const limit = this.options.maxSamples;
    if ((await store.count('metrics')) <= limit + Math.ceil(limit / 10)) return;
    const own = (await store.getAll('metrics')).filter((s) => OWN_NAMES.has(s.name));
    const excess = own.length - limit;
    if (excess <= 0) return;
    // Keys grow with insertion, so the lowest ids are the oldest samples.
    await store.batch(own.slice(0, excess).map((s): WriteOp => ({ store: 'metrics', delete: s.id! })));
  }
}

/** The aggregates of a set of monitoring samples (exported for tests and the lab). */
export function summarise(samples: readonly MetricSample[], catalogSize?: number, droppedWrites = 0, lastWriteError?: string): MonitoringSummary {
  const latency = new Map<string, { op: MonitoredOp; backend: string; values: number[]; histogram: HistogramData }>();
  const errors = new Map<MonitoredOp, ErrorSummary>();
  const shown = new Set<string>();
  const coverage: CoverageSummary = { lists: 0, impressions: 0, distinctItems: 0 };
  let from: number | null = null;
  let to: number | null = null;
  for (const s of samples) {
    from = from === null ? s.at : Math.min(from, s.at);
    to = to === null ? s.at : Math.max(to, s.at);
    const op = s.tags?.op as MonitoredOp | undefined;
    if (s.name === SAMPLE_NAMES.latency && op) {
      const backend = s.tags?.backend ?? 'unknown';
      const key = `${op}|${backend}`;
      let entry = latency.get(key);
      if (!entry) latency.set(key, (entry = { op, backend, values: [], histogram: emptyHistogram() }));
      entry.values.push(s.value);
      addSample(entry.histogram, s.value);
    } else if (s.name === SAMPLE_NAMES.error && op) {
      const entry = errors.get(op) ?? { op, count: 0, lastMessage: '', lastAt: -Infinity };
      entry.count += 1;
      if (s.at >= entry.lastAt) {
        entry.lastAt = s.at;
        entry.lastMessage = s.tags?.message ?? '';
      }
      errors.set(op, entry);
    } else if (s.name === SAMPLE_NAMES.shown) {
      coverage.lists += 1;
      coverage.impressions += s.value;
      try {
        for (const id of JSON.parse(s.tags?.items ?? '[]') as string[]) shown.add(id);
      } catch {
        // A damaged record counts as a list without known items.
      }
    }
  }
  coverage.distinctItems = shown.size;
  if (catalogSize !== undefined && catalogSize > 0) {
    coverage.catalogSize = catalogSize;
    coverage.share = Math.min(1, shown.size / catalogSize);
  }
  const opOrder = (op: MonitoredOp) => MONITORED_OPS.indexOf(op);
  const summary: MonitoringSummary = {
    from,
    to,
    latency: [...latency.values()]
      .map(({ op, backend, values, histogram }) => ({ op, backend, ...latencyStats(values), histogram }))
      .sort((a, b) => opOrder(a.op) - opOrder(b.op) || a.backend.localeCompare(b.backend)),
    errors: [...errors.values()].sort((a, b) => opOrder(a.op) - opOrder(b.op)),
    coverage,
    droppedWrites,
  };
  if (lastWriteError !== undefined) summary.lastWriteError = lastWriteError;
  return summary;
}

/** p95 estimated from a (possibly merged) histogram, e.g. one built from several devices' reports. */
export function p95Of(h: HistogramData): number {
  return histogramQuantile(h, 0.95);
}
