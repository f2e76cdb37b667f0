/**
 * A day of the on-device monitor's samples (src/lib/monitoring, the IndexedDB `metrics` store) as
 * the aggregate an opt-in experiment report carries: histogram counts per operation and backend
 * (the monitor's fixed edges, so the server can add devices together), error counts without their
 * messages, and how many lists, impressions and distinct items were shown — never which.
 */
import type { MonitoringAggregate } from '../../../models/experiments/types';
import { SAMPLE_NAMES, summarise } from '../monitoring/monitor';
import type { FashionStore } from '../storage';

const MONITOR_NAMES = new Set<string>(Object.values(SAMPLE_NAMES));
const BACKEND = /^[a-z0-9][a-z0-9._-]{0,39}$/;

export async function monitoringAggregate(store: FashionStore, from: number, to: number): Promise<MonitoringAggregate | undefined> {
  const samples = (await store.getAll('metrics')).filter((s) => MONITOR_NAMES.has(s.name) && s.at >= from && s.at < to);
  if (samples.length === 0) return undefined;
  const active = (await store.get('meta', 'sync.active'))?.value as { catalog?: { itemCount?: number } } | undefined;
  const catalogSize = active?.catalog?.itemCount;
  const summary = summarise(samples, catalogSize);
  return {
    latency: summary.latency.map((l) => ({
      op: l.op,
      backend: BACKEND.test(l.backend) ? l.backend : 'other',
      buckets: l.histogram.counts.flatMap((n, i): [number, number][] => (n > 0 ? [[i, n]] : [])),
    })),
    errors: summary.errors.map((e) => ({ op: e.op, count: e.count })),
    coverage: {
      lists: summary.coverage.lists,
      impressions: summary.coverage.impressions,
      distinctItems: summary.coverage.distinctItems,
      ...(summary.coverage.catalogSize ? { catalogSize: summary.coverage.catalogSize } : {}),
    },
  };
}
