/**
 * The sync's ranker chooser for A/B experiments: each new manifest first updates this device's
 * assignments, then names the ranker of the variant it is in (or none: the champion).
 */
import type { ExperimentRecord } from '../storage';
import { running } from '../experiments/device';
import type { RankerChoice } from '../sync/plan';
import type { SyncManifest } from '../sync/manifest';

/** What the chooser needs of the experiments manager (src/lib/experiments). */
export interface ExperimentsForSync {
  readonly assignments: readonly ExperimentRecord[];
  applyManifest(manifest: unknown): Promise<unknown>;
  rankerFor(aliases: SyncManifest['aliases']): { id: string; version: number } | undefined;
}

/**
 * A `sync.chooseRanker` over `experiments`. Any failure (a bad experiment, storage) keeps the
 * champion: an experiment must never stop the shop from syncing.
 */
export function experimentRankerChooser(
  experiments: ExperimentsForSync,
  now: () => number = Date.now,
  onError: (error: unknown) => void = () => undefined,
): (manifest: SyncManifest) => Promise<RankerChoice | undefined> {
  return async (manifest) => {
    try {
      await experiments.applyManifest(manifest);
      const ranker = experiments.rankerFor(manifest.aliases);
      if (!ranker) return undefined;
      // rankerFor follows the first running experiment; name it (and the variant) for sync's errors.
      const active = running(experiments.assignments, now())[0];
      const why = active ? `experiment ${active.id}, variant ${active.variant}` : 'experiment';
      return { id: ranker.id, version: ranker.version, why };
    } catch (error) {
      onError(error);
      return undefined;
    }
  };
}
