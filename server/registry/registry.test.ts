import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeCatalogBlob, DELTA_FORMAT, SNAPSHOT_FORMAT } from '../../models/catalog/snapshot-codec';
import type { CatalogItem } from '../ingest/types';
import { FeatureStore } from '../store/feature-store';
import { Registry } from './registry';

const item = (id: string, colour = 'Red'): CatalogItem => ({
  id,
  title: `Item ${id}`,
  gender: 'Men',
  masterCategory: 'Apparel',
  subCategory: 'Topwear',
  articleType: 'Shirts',
  colour,
  attributes: {},
});

const dirs: string[] = [];
function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'fashionml-registry-'));
  dirs.push(dir);
  return { dir, store: FeatureStore.open(join(dir, 'features.sqlite')), registry: new Registry(join(dir, 'registry')) };
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function modelDir(root: string, content: string): string {
  const dir = join(root, `model-${content}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', content }));
  writeFileSync(join(dir, 'group1-shard1of1.bin'), Buffer.from(content.repeat(10)));
  return dir;
}

describe('Registry', () => {
  it('publishes a catalog snapshot and deltas as content-addressed blobs named by the manifest', async () => {
    const { store, registry } = setup();
    store.addCatalogVersion({ items: [item('a'), item('b')], source: 't', rowsRead: 2, quarantined: [] });
    const first = registry.publishCatalog(store, 1);
    expect(first.deltas).toEqual([]);
    store.addCatalogVersion({ items: [item('a', 'Blue'), item('c')], source: 't', rowsRead: 2, quarantined: [] });
    const second = registry.publishCatalog(store, 2);

    const manifest = registry.manifest();
    expect(manifest.sequence).toBe(2);
    expect(manifest.catalog?.version).toBe(2);
    expect(manifest.catalogHistory.map((c) => c.version)).toEqual([1]);
    expect(second.deltas.map((d) => d.from)).toEqual([1]);

    expect(second.snapshot.format).toBe(SNAPSHOT_FORMAT);
    expect(second.deltas[0]!.format).toBe(DELTA_FORMAT);
    const delta = await decodeCatalogBlob(registry.blobs.read(second.deltas[0]!.sha256));
    if (delta.kind !== 'delta') throw new Error('expected a delta');
    expect([delta.from, delta.to, delta.contentHash]).toEqual([1, 2, second.contentHash]);
    expect(delta.added.map((i) => i.id)).toEqual(['c']);
    expect(delta.changed.map((i) => i.colour)).toEqual(['Blue']);
    expect(delta.removed).toEqual(['b']);
    const snapshot = await decodeCatalogBlob(registry.blobs.read(second.snapshot.sha256));
    expect(snapshot).toMatchObject({ kind: 'snapshot', version: 2, contentHash: second.contentHash });
    if (snapshot.kind === 'snapshot') expect(snapshot.items).toEqual(store.items(2));
    // The same version published again is the same blob (deterministic gzip).
    expect(registry.publishCatalog(store, 2).snapshot.sha256).toBe(second.snapshot.sha256);
    for (const ref of [second.snapshot, ...second.deltas]) {
      const bytes = registry.blobs.read(ref.sha256);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(ref.sha256);
      expect(bytes.length).toBe(ref.size);
    }
    store.close();
  });

  it('registers model versions with files, metrics and lineage, and moves aliases', () => {
    const { dir, registry } = setup();
    const v1 = registry.registerModel({ id: 'hybrid', kind: 'hybrid-ranker', dir: modelDir(dir, 'one'), metrics: { ndcg10: 0.4 }, dataVersion: 1, codeVersion: '0.1.0' });
    const v2 = registry.registerModel({ id: 'hybrid', kind: 'hybrid-ranker', dir: modelDir(dir, 'two'), dataVersion: 2, codeVersion: '0.1.0', parent: 'hybrid@1' });
    expect([v1.version, v2.version]).toEqual([1, 2]);
    expect(v1.files.map((f) => f.name)).toEqual(['group1-shard1of1.bin', 'model.json']);
    expect(v2.lineage).toEqual({ dataVersion: 2, codeVersion: '0.1.0', parent: 'hybrid@1' });
    registry.setAlias('champion', 'hybrid', 1);
    registry.setAlias('challenger', 'hybrid', 2);
    expect(registry.manifest().aliases).toEqual({ champion: { model: 'hybrid', version: 1 }, challenger: { model: 'hybrid', version: 2 } });
    expect(() => registry.setAlias('champion', 'hybrid', 7)).toThrow('No model hybrid@7 (registered versions of hybrid: 1, 2)');
    expect(() => registry.setAlias('Bad Alias', 'hybrid', 1)).toThrow(/Invalid alias/);
  });

  it('collects only blobs that no alias or recent version needs', () => {
    const { dir, registry } = setup();
    for (const content of ['a', 'b', 'c', 'd']) {
      registry.registerModel({ id: 'image', kind: 'image-encoder', dir: modelDir(dir, content), dataVersion: 1, codeVersion: 'x' });
    }
    registry.setAlias('champion', 'image', 1);
    const removed = registry.collectGarbage({ modelVersions: 2, catalogVersions: 1 });
    // Version 2's two files go; 1 (champion), 3 and 4 (newest two) stay.
    expect(removed).toHaveLength(2);
    const manifest = registry.manifest();
    for (const m of manifest.models.filter((m) => m.version !== 2)) {
      for (const f of m.files) expect(registry.blobs.has(f.sha256), `${m.version}/${f.name}`).toBe(true);
    }
  });

  it('keeps the previous manifest when a publish fails, and rejects a corrupt manifest clearly', () => {
    const { dir, registry } = setup();
    registry.registerModel({ id: 'image', kind: 'image-encoder', dir: modelDir(dir, 'a'), dataVersion: 1, codeVersion: 'x' });
    const before = readFileSync(registry.manifestPath, 'utf8');
    mkdirSync(join(dir, 'empty'));
    expect(() => registry.registerModel({ id: 'image', kind: 'k', dir: join(dir, 'empty'), dataVersion: 1, codeVersion: 'x' })).toThrow('holds no model files');
    expect(() => registry.registerModel({ id: 'Bad Id', kind: 'k', dir: modelDir(dir, 'b'), dataVersion: 1, codeVersion: 'x' })).toThrow();
    expect(readFileSync(registry.manifestPath, 'utf8')).toBe(before);
    writeFileSync(registry.manifestPath, '{"format":"something else"}');
    expect(() => registry.manifest()).toThrow(/is not a valid manifest: format/);
  });

  it('refuses to publish while another live process holds the lock, and takes over a dead one', () => {
    const { dir, registry } = setup();
    writeFileSync(join(registry.root, 'publish.lock'), String(process.ppid));
    expect(() => registry.registerModel({ id: 'm', kind: 'k', dir: modelDir(dir, 'a'), dataVersion: null, codeVersion: 'x' })).toThrow(
      /being published to by process/,
    );
    writeFileSync(join(registry.root, 'publish.lock'), '999999999');
    expect(registry.registerModel({ id: 'm', kind: 'k', dir: modelDir(dir, 'a'), dataVersion: null, codeVersion: 'x' }).version).toBe(1);
  });
});
