/**
 * Everything stored about the shopper, and only on this device: what they did (interactions),
 * saved items and cart, their settings, experiment assignments and local metrics. The synced
 * catalog and models are not about them and stay, so the app keeps working after a delete.
 */
import type { ExperimentRecord, InteractionRecord, MetricSample } from '../storage';
import { experiments } from '../experiments/experiments-manager.svelte';
import { storage } from '../storage/storage-manager.svelte';
import { feed, LAST_FEED_KEY } from './feed.svelte';
import { history } from './history.svelte';
import { cart, saved } from './lists.svelte';
import type { ListEntry } from './lists.svelte';
import { shopSettings } from './settings.svelte';

export const PERSONAL_DATA_FORMAT = 'fashionml.personal-data/1';

/** `meta` keys that hold the shopper's own data (the rest is sync state). */
// `experiments.*` holds the install id, report key and unsent counts: deleting them gives this
// device a new identity for assignment and reports, as a new install would have.
const PERSONAL_META = /^(shop\.|settings\.|experiments\.)/;

export interface PersonalData {
  format: typeof PERSONAL_DATA_FORMAT;
  exportedAt: string;
  interactions: InteractionRecord[];
  saved: ListEntry[];
  cart: ListEntry[];
  settings: Record<string, unknown>;
  /** The last "For you" feed computed on this device (kept so the next visit shows it at once). */
  lastFeed: unknown;
  experiments: ExperimentRecord[];
  metrics: MetricSample[];
}

export async function collectPersonalData(): Promise<PersonalData> {
  const store = await storage.store();
  const meta = await store.getAll('meta');
  const value = (key: string) => meta.find((m) => m.key === key)?.value;
  return {
    format: PERSONAL_DATA_FORMAT,
    exportedAt: new Date().toISOString(),
    interactions: await store.getAll('interactions'),
    saved: (value('shop.saved') as ListEntry[] | undefined) ?? [],
    cart: (value('shop.cart') as ListEntry[] | undefined) ?? [],
    settings: Object.fromEntries(meta.filter((m) => m.key.startsWith('settings.')).map((m) => [m.key.slice(9), m.value])),
    lastFeed: value(LAST_FEED_KEY) ?? null,
    experiments: await store.getAll('experiments'),
    metrics: await store.getAll('metrics'),
  };
}

/** Counts per kind of record, for the Settings screen. */
export function summarise(data: PersonalData): Record<string, number> {
  return {
    interactions: data.interactions.length,
    saved: data.saved.length,
    cart: data.cart.length,
    settings: Object.keys(data.settings).length,
    experiments: data.experiments.length,
    metrics: data.metrics.length,
  };
}

/** Offers the data as a JSON file download (made in the page; nothing is uploaded). */
export function downloadPersonalData(data: PersonalData): void {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = `fashionml-my-data-${data.exportedAt.slice(0, 10)}.json`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Deletes everything about the shopper from this device and resets the screens' state. */
export async function deletePersonalData(): Promise<void> {
  const store = await storage.store();
  await store.clear('interactions');
  await store.clear('experiments');
  await store.clear('metrics');
  for (const record of await store.getAll('meta')) if (PERSONAL_META.test(record.key)) await store.delete('meta', record.key);
  history.reset();
  saved.reset();
  cart.reset();
  shopSettings.reset();
  feed.reset();
  // Assignments, consent and the install id were deleted above: the next sync assigns afresh, with reports off.
  experiments.reset();
  await Promise.all([history.load(), saved.load(), cart.load(), experiments.load()]);
  await feed.refresh();
  await storage.refreshUsage();
}
