import { describe, expect, it } from 'vitest';
import { parseManifest } from './manifest';
import type { ManifestModel, SyncManifest } from './manifest';
import { planSync, PlanError } from './plan';
import type { ActiveSetRecord } from './plan';

const sha = (n: number) => n.toString(16).padStart(64, '0');

function model(id: string, version: number, kind: string, files: [string, number, number][], inputs: Record<string, unknown> = {}): ManifestModel {
  return {
    id,
    version,
    kind,
    inputs,
    files: files.map(([name, n, size]) => ({ name, sha256: sha(n), size })),
    metrics: {},
    lineage: { dataVersion: 1, codeVersion: 't', parent: null },
    createdAt: 'now',
  };
}

const RANKER_1 = model('fashion-ranker', 1, 'fashion-ranker', [['ranker.json', 101, 500], ['factors.q8', 102, 4000]], { imageEncoder: 'image-encoder@2' });
const RANKER_2 = model('fashion-ranker', 2, 'fashion-ranker', [['ranker.json', 201, 500], ['factors.q8', 102, 4000]], { imageEncoder: 'image-encoder@2' });
const ENCODER_1 = model('image-encoder', 1, 'image-encoder', [['model.json', 301, 300], ['weights.bin', 302, 9000]]);
const ENCODER_2 = model('image-encoder', 2, 'image-encoder', [['model.json', 311, 300], ['weights.bin', 312, 9000]]);

function manifest(overrides: Partial<SyncManifest> = {}): SyncManifest {
  return {
    format: 'fashionml.manifest/1',
    sequence: 7,
    catalog: {
      version: 3,
      contentHash: 'h3',
      itemCount: 100,
      snapshot: { sha256: sha(3), size: 20_000 },
      deltas: [
        { from: 2, sha256: sha(23), size: 900 },
        { from: 1, sha256: sha(13), size: 25_000 },
      ],
      publishedAt: 'now',
    },
    models: [RANKER_1, RANKER_2, ENCODER_1, ENCODER_2],
    aliases: { champion: { model: 'fashion-ranker', version: 2 } },
    ...overrides,
  };
}

function active(version: number, models: ManifestModel[] = [], contentHash = `h${version}`): ActiveSetRecord {
  return {
    catalog: { version, contentHash, itemCount: 90 },
    models: models.map((entry) => ({ role: entry.kind === 'image-encoder' ? 'image-encoder' : 'ranker', entry })),
    manifestSequence: 1,
    activatedAt: 1,
  };
}

const none = () => false;
/** `have` for a device holding these models' files. */
const holding = (...models: ManifestModel[]) => {
  const shas = new Set(models.flatMap((m) => m.files.map((f) => f.sha256)));
  return (s: string) => shas.has(s);
};

describe('planSync', () => {
  it('a new device fetches the snapshot, the champion ranker and the encoder it names', () => {
    const plan = planSync(manifest(), null, none);
    expect(plan.catalogSource).toMatchObject({ kind: 'snapshot', blob: { sha256: sha(3), label: 'catalog v3' } });
    expect(plan.models.map((m) => [m.role, `${m.entry.id}@${m.entry.version}`])).toEqual([
      ['ranker', 'fashion-ranker@2'],
      ['image-encoder', 'image-encoder@2'],
    ]);
    expect(plan.fetch.map((b) => b.label)).toEqual([
      'catalog v3',
      'fashion-ranker@2 ranker.json',
      'fashion-ranker@2 factors.q8',
      'image-encoder@2 model.json',
      'image-encoder@2 weights.bin',
    ]);
    expect(plan.fetch.map((b) => b.contentType)).toEqual(['application/gzip', 'application/json', 'application/octet-stream', 'application/json', 'application/octet-stream']);
    expect(plan.changes).toBe(true);
  });

  it('a device on the previous version gets the delta when it is smaller than the snapshot', () => {
    const plan = planSync(manifest(), active(2, [RANKER_2, ENCODER_2]), holding(RANKER_2, ENCODER_2));
    expect(plan.catalogSource).toMatchObject({ kind: 'delta', from: 2, blob: { sha256: sha(23), size: 900, label: 'catalog v3 (delta from v2)' } });
    expect(plan.fetch.map((b) => b.sha256)).toEqual([sha(23)]);
  });

  it('takes the snapshot when the only delta is larger, or none starts at the device version', () => {
    expect(planSync(manifest(), active(1), none).catalogSource?.kind).toBe('snapshot');
    expect(planSync(manifest(), active(5), none).catalogSource?.kind).toBe('snapshot');
  });

  it('a device already current has nothing to fetch and nothing to switch', () => {
    const plan = planSync(manifest(), active(3, [RANKER_2, ENCODER_2]), holding(RANKER_2, ENCODER_2));
    expect(plan).toMatchObject({ catalogSource: null, fetch: [], changes: false });
  });

  it('a same-numbered catalog with another content hash (a reset server) is fetched again', () => {
    expect(planSync(manifest(), active(3, [RANKER_2, ENCODER_2], 'other'), none).catalogSource?.kind).toBe('snapshot');
  });

  it('a new champion alone switches models and fetches only the files that changed', () => {
    const plan = planSync(manifest(), active(3, [RANKER_1, ENCODER_2]), holding(RANKER_1, ENCODER_2));
    expect(plan.catalogSource).toBeNull();
    expect(plan.changes).toBe(true);
    expect(plan.fetch.map((b) => b.label)).toEqual(['fashion-ranker@2 ranker.json']);
  });

  it("an A/B variant's ranker replaces the champion, with the encoder it names", () => {
    const choice = { id: 'fashion-ranker', version: 1, why: 'experiment ranker-v2, variant control' };
    const plan = planSync(manifest(), active(3, [RANKER_2, ENCODER_2]), holding(RANKER_2, ENCODER_2), choice);
    expect(plan.models.map((m) => `${m.entry.id}@${m.entry.version}`)).toEqual(['fashion-ranker@1', 'image-encoder@2']);
    expect(plan.fetch.map((b) => b.label)).toEqual(['fashion-ranker@1 ranker.json']);
    expect(() => planSync(manifest(), null, none, { ...choice, version: 8 })).toThrow(
      'experiment ranker-v2, variant control names fashion-ranker@8, which the manifest does not list (versions of fashion-ranker: 1, 2)',
    );
  });

  it('skips blobs already on the device and asks once for a blob two models share', () => {
    const shared = model('fashion-ranker', 3, 'fashion-ranker', [['a.bin', 900, 10], ['b.bin', 900, 10]]);
    const plan = planSync(manifest({ models: [shared], aliases: { champion: { model: 'fashion-ranker', version: 3 } } }), null, (s) => s === sha(3));
    expect(plan.fetch.map((b) => b.label)).toEqual(['fashion-ranker@3 a.bin']);
    expect(plan.catalogSource?.kind).toBe('snapshot');
  });

  it('without a champion syncs the catalog alone; with nothing published, nothing', () => {
    const plan = planSync(manifest({ aliases: {} }), null, none);
    expect(plan.models).toEqual([]);
    expect(plan.fetch.map((b) => b.label)).toEqual(['catalog v3']);
    expect(planSync(manifest({ catalog: null }), null, none)).toMatchObject({ catalog: null, fetch: [], changes: false });
  });

  it('a ranker without inputs.imageEncoder brings no encoder', () => {
    const plain = model('fashion-ranker', 4, 'fashion-ranker', [['ranker.json', 401, 5]]);
    const plan = planSync(manifest({ models: [plain], aliases: { champion: { model: 'fashion-ranker', version: 4 } } }), null, none);
    expect(plan.models.map((m) => m.role)).toEqual(['ranker']);
  });

  it('refuses aliases and inputs that name what the manifest does not hold', () => {
    const plan = (m: SyncManifest) => () => planSync(m, null, none);
    expect(plan(manifest({ aliases: { champion: { model: 'fashion-ranker', version: 9 } } }))).toThrow(
      'The alias "champion" names fashion-ranker@9, which the manifest does not list (versions of fashion-ranker: 1, 2)',
    );
    expect(plan(manifest({ aliases: { champion: { model: 'image-encoder', version: 1 } } }))).toThrow(
      'The alias "champion" names image-encoder@1 of kind "image-encoder", not a fashion-ranker',
    );
    const badRef = model('fashion-ranker', 5, 'fashion-ranker', [['r', 1, 1]], { imageEncoder: 'encoder v2' });
    expect(plan(manifest({ models: [badRef], aliases: { champion: { model: 'fashion-ranker', version: 5 } } }))).toThrow(
      'fashion-ranker@5 inputs.imageEncoder must look like "image-encoder@3", not "encoder v2"',
    );
    const missing = model('fashion-ranker', 6, 'fashion-ranker', [['r', 1, 1]], { imageEncoder: 'image-encoder@7' });
    expect(plan(manifest({ models: [missing, ENCODER_1], aliases: { champion: { model: 'fashion-ranker', version: 6 } } }))).toThrow(PlanError);
  });
});

const REMOVE = Symbol('remove');
/** A deep copy of `value` with the field at the dot-separated `path` set to `to` (or removed). */
function edited(value: unknown, path: string, to: unknown): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  const keys = path.split('.');
  const parent = keys.slice(0, -1).reduce((o, k) => o[k] as Record<string, unknown>, copy);
  if (to === REMOVE) Reflect.deleteProperty(parent, keys.at(-1)!);
  else parent[keys.at(-1)!] = to;
  return copy;
}

describe('parseManifest', () => {
  const good = () => JSON.parse(JSON.stringify({ ...manifest(), generatedAt: 'now', catalogHistory: [], experiments: [] })) as unknown;

  it('accepts what the registry writes, keeping the fields sync uses and the experiments for the ranker chooser', () => {
    const parsed = parseManifest(good());
    expect(parsed).toEqual({ ...manifest(), experiments: [] });
  });

  it('names the first field that is wrong', () => {
    const broken = (path: string, to: unknown) => () => parseManifest(edited(good(), path, to));
    expect(broken('format', 'fashionml.manifest/2')).toThrow('format must be "fashionml.manifest/1" (got "fashionml.manifest/2"); this app may be out of date');
    expect(broken('catalog.snapshot.sha256', 'ABC')).toThrow('The manifest is not usable: catalog.snapshot.sha256 must be 64 lower-case hex digits');
    expect(broken('catalog.deltas.1.from', 0)).toThrow('catalog.deltas[1].from must be an integer ≥ 1');
    expect(broken('models.2.files.1.name', REMOVE)).toThrow('models[2].files[1].name must be a string');
    expect(broken('aliases.champion.version', '2')).toThrow('aliases.champion.version must be an integer ≥ 1');
    expect(() => parseManifest([])).toThrow('(root) must be an object');
  });
});
