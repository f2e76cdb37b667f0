/**
 * The shopper app's start: read what the device holds (history, lists, settings, and the last
 * synced catalog and models) so a repeat visit shows the feed without the network, then sync in
 * the background and load any new set into the worker.
 */
import { loadActiveSet } from '../sync/engine';
import { storage } from '../storage/storage-manager.svelte';
import { feed } from './feed.svelte';
import { history } from './history.svelte';
import { cart, saved } from './lists.svelte';
import { recommender } from './recommender.svelte';
import type { DeviceSet } from './recommender.svelte';
import { shopSettings } from './settings.svelte';
import { syncBridge } from './sync-bridge.svelte';

/** Loads the active set from IndexedDB into the page and the worker; false when nothing is synced yet. */
export async function loadFromDevice(): Promise<boolean> {
  const set = await loadActiveSet(await storage.store());
  if (!set) {
    recommender.waiting();
    return false;
  }
  if (!set.ranker) {
    recommender.status = 'error';
    recommender.error = 'The server has published a catalog but no fashion-ranker model (alias "champion") yet.';
    return false;
  }
  const device: DeviceSet = {
    catalogVersion: set.catalogVersion,
    items: set.items,
    ranker: { ref: `${set.ranker.entry.id}@${set.ranker.entry.version}`, files: set.ranker.files },
    ...(set.imageEncoder
      ? { imageEncoder: { ref: `${set.imageEncoder.entry.id}@${set.imageEncoder.entry.version}`, files: set.imageEncoder.files } }
      : {}),
  };
  await recommender.load(device);
  if (recommender.ready) await feed.refresh();
  return recommender.ready;
}

/** Starts the shop once the worker is starting: local state first, then the network. */
export async function startShop(runtimeStarted: Promise<void>): Promise<void> {
  try {
    await Promise.all([history.load(), saved.load(), cart.load(), shopSettings.load(), syncBridge.readState()]);
  } catch {
    // storage.error already says why; the shop can still sync and browse.
  }
  await runtimeStarted;
  await loadFromDevice().catch((error: unknown) => {
    recommender.status = 'error';
    recommender.error = error instanceof Error ? error.message : String(error);
  });
  const reload = () => void loadFromDevice();
  const result = await syncBridge.syncNow();
  if (result?.outcome === 'updated' || (result && !recommender.ready)) reload();
  syncBridge.startBackgroundRefresh(reload);
}
