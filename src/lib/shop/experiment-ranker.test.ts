import { describe, expect, it } from 'vitest';
import type { ExperimentRecord } from '../storage';
import type { SyncManifest } from '../sync/manifest';
import { experimentRankerChooser } from './experiment-ranker';
import type { ExperimentsForSync } from './experiment-ranker';

const NOW = Date.parse('2025-03-10T09:00:00Z');

const manifest: SyncManifest = {
  format: 'fashionml.manifest/1',
  sequence: 3,
  catalog: null,
  models: [],
  aliases: { champion: { model: 'fashion-ranker', version: 1 }, challenger: { model: 'fashion-ranker', version: 2 } },
  experiments: [{ id: 'ranker-v2' }],
};

const record = (variant: string, model: string): ExperimentRecord => ({
  id: 'ranker-v2',
  variant,
  assignedAt: NOW - 1000,
  endsAt: NOW + 86_400_000,
  params: { start: NOW - 86_400_000, model },
});

/** A stand-in for the experiments manager that assigns `assigned` when it sees a manifest. */
function fakeExperiments(assigned: ExperimentRecord[], fail?: Error) {
  const seen: unknown[] = [];
  const port: ExperimentsForSync = {
    assignments: [],
    applyManifest(m) {
      seen.push(m);
      if (fail) return Promise.reject(fail);
      (port as { assignments: readonly ExperimentRecord[] }).assignments = assigned;
      return Promise.resolve(assigned);
    },
    rankerFor(aliases) {
      const model = port.assignments[0]?.params?.model as string | undefined;
      if (!model || model === 'champion') return undefined;
      const target = aliases[model];
      return target ? { id: target.model, version: target.version } : undefined;
    },
  };
  return { port, seen };
}

describe('experimentRankerChooser', () => {
  it('applies the manifest first, then names the variant ranker with the experiment and variant', async () => {
    const { port, seen } = fakeExperiments([record('treatment', 'challenger')]);
    const choice = await experimentRankerChooser(port, () => NOW)(manifest);
    expect(seen).toEqual([manifest]);
    expect(choice).toEqual({ id: 'fashion-ranker', version: 2, why: 'experiment ranker-v2, variant treatment' });
  });

  it('keeps the champion for a device in the control variant or in no experiment', async () => {
    expect(await experimentRankerChooser(fakeExperiments([record('control', 'champion')]).port, () => NOW)(manifest)).toBeUndefined();
    expect(await experimentRankerChooser(fakeExperiments([]).port, () => NOW)(manifest)).toBeUndefined();
  });

  it('keeps the champion when the experiments cannot be applied, and passes the error on', async () => {
    const errors: unknown[] = [];
    const failure = new Error('QuotaExceededError');
    const choose = experimentRankerChooser(fakeExperiments([record('treatment', 'challenger')], failure).port, () => NOW, (e) => errors.push(e));
    expect(await choose(manifest)).toBeUndefined();
    expect(errors).toEqual([failure]);
  });
});
