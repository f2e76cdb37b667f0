/**
 * The shopper app's start: read what the device holds (history, lists, settings, and the last
 * synced catalog and models) so a repeat visit shows the feed without the network, then sync in
 * the background and load any new set into the worker.
 */
import { sync } from '../sync';
import { catalog } from './catalog.svelte';
import { feed } from './feed.svelte';
import { history } from './history.svelte';
import { cart, saved } from './lists.svelte';
import { recommender } from './recommender.svelte';
import type { DeviceSet } from './recommender.svelte';
import { shopSettings } from './settings.svelte';
import { startExperiments } from './tracking.svelte';

/** `activatedAt` of the set in the worker, so the start and the sync's "activated" do not load it twice. */
let loadedActivation: number | undefined;
let loadChain: Promise<boolean> = Promise.resolve(false);
/** Resolves (true) once the worker has started; false when it could not. */
let workerReady: Promise<boolean> = Promise.resolve(true);

/** Loads the active set from IndexedDB into the page and the worker; false when nothing is synced yet. */
export function loadFromDevice(): Promise<boolean> {
  // One load at a time; a second caller waits and then finds the set loaded already.
  loadChain = loadChain.catch(() => false).then(loadOnce);
  return loadChain;
}

async function loadOnce(): Promise<boolean> {
  await sync.load();
  const activation = sync.active?.activatedAt;
  if (recommender.ready && activation !== undefined && activation === loadedActivation) return true;
  const set = await sync.loadActiveSet();
  if (!set) {
    recommender.waiting();
    return false;
  }
  if (!set.ranker) {
    recommender.status = 'error';
    recommender.error = 'The server has published a catalog but no fashion-ranker model (alias "champion") yet.';
    return false;
  }
  // The set is read from IndexedDB while the worker starts; the page can show the catalog and the
  // last visit's feed meanwhile, and only the hand-over to the worker waits for it.
  catalog.set(set.catalogVersion, set.items);
  await feed.restore(set.catalogVersion);
  if (!(await workerReady)) return false;
  const device: DeviceSet = {
    catalogVersion: set.catalogVersion,
    items: set.items,
    ranker: { ref: `${set.ranker.entry.id}@${set.ranker.entry.version}`, files: set.ranker.files },
    ...(set.imageEncoder
      ? { imageEncoder: { ref: `${set.imageEncoder.entry.id}@${set.imageEncoder.entry.version}`, files: set.imageEncoder.files } }
      : {}),
  };
  await recommender.load(device);
  if (recommender.ready) {
    loadedActivation = activation;
    // Not awaited: this load may itself run inside a feed refresh (a reload after the worker was replaced).
    void feed.refresh();
  }
  return recommender.ready;
}

/** Loads the stored set, turning a failure into the recommender's error state (never rejects). */
function loadQuietly(): Promise<boolean> {
  return loadFromDevice().catch((error: unknown) => {
    recommender.status = 'error';
    recommender.error = error instanceof Error ? error.message : String(error);
    return false;
  });
}

/**
 * Starts the shop: local state first, then the stored set into the worker (a repeat visit shows
 * its feed without the network) while the sync checks for a new one at the same time.
 */
export async function startShop(runtimeStarted: Promise<void>): Promise<void> {
  try {
    // Experiments first sets the sync's ranker chooser, so the first sync already runs this device's variant.
    await Promise.all([history.load(), saved.load(), cart.load(), shopSettings.load(), sync.load(), startExperiments()]);
  } catch {
    // storage.error already says why; the shop can still sync and browse.
  }
  recommender.setReloader(loadQuietly);
  workerReady = runtimeStarted.then(
    () => true,
    () => false,
  );
  // A new set (this run's or a background refresh's) goes to the worker once it is active.
  sync.onActivated(() => void loadQuietly());
  const synced = sync.start();
  await loadQuietly();
  const result = await synced;
  // Nothing new arrived, yet the worker is still empty (e.g. a load failed): try the stored set again.
  if (result && result.outcome !== 'updated' && !recommender.ready) await loadQuietly();
}
