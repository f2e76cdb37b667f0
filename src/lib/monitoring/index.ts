/**
 * On-device monitoring for the shopper app: how long each operation takes on each backend, what
 * fails, and how much of the catalog shoppers are shown. Kept in the IndexedDB `metrics` store,
 * shown in the Model Lab (`#/lab`), nothing sent anywhere.
 *
 * ## Wiring it (page code)
 *
 * ```ts
 * import { recordError, recordLatency, recordShown } from '../lib/monitoring';
 *
 * const started = performance.now();
 * try {
 *   const response = await client.call((api) => api.feed(request));
 *   recordLatency('feed', runtime.backend ?? 'unknown', performance.now() - started);
 *   recordShown(response.items.map((r) => r.itemId));     // what went on screen
 * } catch (error) {
 *   recordError('feed', error);                             // name and message only
 *   throw error;
 * }
 * ```
 *
 * - `op` is one of `feed`, `similar`, `search`, `photo-search` (anything else throws, naming these).
 * - `backend` is the worker's active backend (`webgpu`, `webgl`, `wasm`, `cpu`) or `js`.
 * - Time the whole round trip as the shopper feels it (page → worker → page); the worker's own
 *   `elapsedMs` is engine time only.
 * - Calls are synchronous and cheap (buffered, written every 2 s in one transaction); a storage
 *   failure is counted in the summary, never thrown.
 *
 * `monitoring.summary({ catalogSize })` gives the aggregates: per (op, backend) count, mean,
 * p50/p95/p99 and a fixed-edge histogram (`histogram.ts`, mergeable across devices, so an opt-in
 * experiment report can send it without any raw timing); per op the error count and the newest
 * message; coverage (lists shown, impressions, distinct items, share of the catalog).
 */
import { storage } from '../storage/storage-manager.svelte';
import { Monitor } from './monitor';
import type { MonitoredOp } from './monitor';

export { Monitor, MONITORED_OPS, SAMPLE_NAMES, summarise } from './monitor';
export type { CoverageSummary, ErrorSummary, LatencySummary, MonitoredOp, MonitorOptions, MonitoringSummary } from './monitor';
export { LATENCY_EDGES_MS, histogramBars, histogramOf, histogramQuantile, latencyStats, mergeHistograms, quantile } from './histogram';
export type { HistogramBar, HistogramData, LatencyStats } from './histogram';

/** The app's monitor over the shared on-device store. */
export const monitoring = new Monitor(() => storage.store());

if (typeof addEventListener === 'function') {
  // Keep what is buffered when the page goes away or to the background.
  addEventListener('pagehide', () => void monitoring.flush());
  addEventListener('visibilitychange', () => {
    if (typeof document !== 'undefined' && document.visibilityState === 'hidden') void monitoring.flush();
  });
}

export function recordLatency(op: MonitoredOp, backend: string, ms: number): void {
  monitoring.recordLatency(op, backend, ms);
}

export function recordError(op: MonitoredOp, error: unknown): void {
  monitoring.recordError(op, error);
}

export function recordShown(itemIds: readonly string[]): void {
  monitoring.recordShown(itemIds);
}
