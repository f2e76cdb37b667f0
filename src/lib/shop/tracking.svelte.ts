/**
 * The shop's calls into A/B experiments and on-device monitoring: what was shown, what the
 * shopper did, and the opt-in report. Counting never breaks the shop: failures are swallowed here
 * (the experiments manager and storage keep their own error state).
 */
import type { OutcomeType } from '../../../models/experiments/types';
import { experiments } from '../experiments/experiments-manager.svelte';
import { recordShown } from '../monitoring';
import { connectivity } from '../pwa/connectivity.svelte';
import { sync } from '../sync/sync-manager.svelte';
import { experimentRankerChooser } from './experiment-ranker';

let started = false;

/** Sends finished days' counts when the shopper has opted in (nothing without consent). */
function reportQuietly(): void {
  experiments.reportDue().catch(() => undefined);
}

/**
 * Loads this device's assignments and consent, lets each new manifest pick the variant's ranker,
 * and reports now and whenever the server is reachable again. Call before the first sync.
 */
export async function startExperiments(): Promise<void> {
  sync.chooseRanker = experimentRankerChooser(experiments);
  try {
    await experiments.load();
  } catch {
    // Storage errors are shown by the storage manager; the shop runs the champion meanwhile.
  }
  if (started) return;
  started = true;
  reportQuietly();
  let wasOnline = connectivity.online;
  $effect.root(() => {
    $effect(() => {
      const online = connectivity.online;
      if (online && !wasOnline) reportQuietly();
      wasOnline = online;
    });
  });
}

/** A feed went on screen: counted for coverage and as an exposure of every running experiment. */
export function feedShown(itemIds: readonly string[]): void {
  listShown(itemIds);
  experiments.recordExposure(itemIds).catch(() => undefined);
}

/** A list of items went on screen (similar items, search results). */
export function listShown(itemIds: readonly string[]): void {
  if (itemIds.length > 0) recordShown(itemIds);
}

/** One shopper action, counted for every running experiment. */
export function outcome(type: OutcomeType): void {
  experiments.recordOutcome(type).catch(() => undefined);
}
