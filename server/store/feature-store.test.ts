import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { CatalogItem } from '../ingest/types';
import { canonicalJson, FEATURE_STORE_SCHEMA_VERSION, FeatureStore, itemRowHash } from './feature-store';

const item = (id: string, overrides: Partial<CatalogItem> = {}): CatalogItem => ({
  id,
  title: `Item ${id}`,
  gender: 'Women',
  masterCategory: 'Apparel',
  subCategory: 'Topwear',
  articleType: 'Tops',
  colour: 'Red',
  attributes: {},
  ...overrides,
});

const dirs: string[] = [];
function tempStore(): { file: string; store: FeatureStore } {
  const dir = mkdtempSync(join(tmpdir(), 'fashionml-store-'));
  dirs.push(dir);
  const file = join(dir, 'features.sqlite');
  return { file, store: FeatureStore.open(file) };
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('FeatureStore catalog versions', () => {
  it('numbers versions, hashes content independent of order, and reads items back', () => {
    const { store } = tempStore();
    const v1 = store.addCatalogVersion({ items: [item('b'), item('a')], source: 'test', rowsRead: 3, quarantined: [
      { file: 'styles.csv', line: 4, field: 'id', reason: 'missing_id', message: 'no id', raw: ',Men' },
    ] });
    expect(v1).toMatchObject({ version: 1, itemCount: 2, parent: null, rowsRead: 3, rowsQuarantined: 1 });
    expect(store.items(1).map((i) => i.id)).toEqual(['a', 'b']);
    expect(store.quarantined('catalog:1')).toEqual([
      { file: 'styles.csv', line: 4, field: 'id', reason: 'missing_id', message: 'no id', raw: ',Men' },
    ]);
    const v2 = store.addCatalogVersion({ items: [item('a'), item('b')], source: 'test', rowsRead: 2, quarantined: [] });
    expect(v2.version).toBe(2);
    expect(v2.parent).toBe(1);
    expect(v2.contentHash).toBe(v1.contentHash);
    store.close();
  });

  it('computes the delta between any two versions', () => {
    const { store } = tempStore();
    store.addCatalogVersion({ items: [item('a'), item('b'), item('c')], source: 't', rowsRead: 3, quarantined: [] });
    store.addCatalogVersion({ items: [item('a'), item('b', { colour: 'Blue' }), item('d')], source: 't', rowsRead: 3, quarantined: [] });
    const delta = store.delta(1, 2);
    expect(delta.added.map((i) => i.id)).toEqual(['d']);
    expect(delta.changed).toEqual([item('b', { colour: 'Blue' })]);
    expect(delta.removed).toEqual(['c']);
    const back = store.delta(2, 1);
    expect(back.added.map((i) => i.id)).toEqual(['c']);
    expect(back.removed).toEqual(['d']);
    expect(() => store.delta(1, 9)).toThrow('No catalog version 9 (known: 1, 2)');
    store.close();
  });

  it('stores identical rows once across versions', () => {
    const { store } = tempStore();
    const items = Array.from({ length: 50 }, (_, i) => item(`i${i}`));
    store.addCatalogVersion({ items, source: 't', rowsRead: 50, quarantined: [] });
    store.addCatalogVersion({ items: [...items, item('new')], source: 't', rowsRead: 51, quarantined: [] });
    const rows = (store.db.prepare('SELECT count(*) AS n FROM item_rows').get() as { n: number }).n;
    expect(rows).toBe(51);
    store.close();
  });

  it('a failed write leaves the previous version as the latest, intact', () => {
    const { store } = tempStore();
    store.addCatalogVersion({ items: [item('a')], source: 't', rowsRead: 1, quarantined: [] });
    expect(() =>
      store.addCatalogVersion({
        items: [item('x'), item('x')], // duplicate id violates the primary key mid-write
        source: 't',
        rowsRead: 2,
        quarantined: [],
      }),
    ).toThrow(/UNIQUE/);
    expect(store.latestVersion()?.version).toBe(1);
    expect(store.versions()).toHaveLength(1);
    expect(store.items(1).map((i) => i.id)).toEqual(['a']);
    store.close();
  });

  it('an ingest killed mid-transaction leaves the previous version readable', async () => {
    const { file, store } = tempStore();
    store.addCatalogVersion({ items: [item('a'), item('b')], source: 'good', rowsRead: 2, quarantined: [] });
    store.close();

    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/write-large-version.ts'), file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const outcome = await new Promise<string>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        if (text.includes('committed')) resolve('committed');
        else if (text.includes('progress')) {
          child.kill('SIGKILL');
          resolve('killed');
        }
      });
      child.on('exit', () => resolve('exited'));
    });
    expect(outcome).toBe('killed');
    await new Promise((r) => child.once('close', r));

    const reopened = FeatureStore.open(file);
    expect(reopened.latestVersion()).toMatchObject({ version: 1, source: 'good', itemCount: 2 });
    expect(reopened.items(1).map((i) => i.id)).toEqual(['a', 'b']);
    expect(reopened.db.pragma('integrity_check', { simple: true })).toBe('ok');
    // The next ingest gets the next number as if the killed one never happened.
    expect(reopened.addCatalogVersion({ items: [item('c')], source: 'next', rowsRead: 1, quarantined: [] }).version).toBe(2);
    reopened.close();
  }, 60_000);
});

describe('FeatureStore interactions and embeddings', () => {
  it('round-trips interactions with their quarantine', () => {
    const { store } = tempStore();
    store.addInteractions('events:1', [
      { userId: 'u1', itemId: 'a', type: 'like', timestamp: 2000 },
      { userId: 'u1', itemId: 'b', type: 'view', timestamp: 1000, weight: 0.5 },
    ], [{ file: 'events.csv', line: 3, reason: 'unknown_item', message: 'item z is not in the catalog', raw: 'u1,z' }]);
    expect(store.interactions()).toEqual([
      { userId: 'u1', itemId: 'b', type: 'view', timestamp: 1000, weight: 0.5 },
      { userId: 'u1', itemId: 'a', type: 'like', timestamp: 2000 },
    ]);
    expect(store.quarantined('events:1')).toHaveLength(1);
    store.close();
  });

  it('writes a catalog version and its interactions in one transaction', () => {
    const { store } = tempStore();
    const events = [{ userId: 'u1', itemId: 'a', type: 'purchase' as const, timestamp: 5 }];
    const v1 = store.addCatalogVersion({ items: [item('a')], source: 's', rowsRead: 1, quarantined: [], interactions: { events, quarantined: [] } });
    expect(store.interactions()).toEqual(events);
    // An interaction that cannot be written (no timestamp: NOT NULL) takes the catalog version down with it.
    const bad = [{ userId: 'u1', itemId: 'a', type: 'view' as const, timestamp: null as never }];
    expect(() =>
      store.addCatalogVersion({ items: [item('b')], source: 's', rowsRead: 1, quarantined: [], interactions: { events: bad, quarantined: [] } }),
    ).toThrow();
    expect(store.latestVersion()?.version).toBe(v1.version);
    expect(store.interactions()).toEqual(events);
    store.close();
  });

  it('round-trips float32 embeddings keyed by model version', () => {
    const { store } = tempStore();
    const big = new Float32Array([9, 1.5, -2, 0.25, 9]);
    store.putEmbeddings('image@1', new Map([['a', big.subarray(1, 4)], ['b', new Float32Array([3])]]));
    const back = store.embeddings('image@1');
    expect(Array.from(back.get('a') ?? [])).toEqual([1.5, -2, 0.25]);
    expect(Array.from(back.get('b') ?? [])).toEqual([3]);
    expect(store.embeddings('other').size).toBe(0);
    store.close();
  });
});

describe('FeatureStore schema migrations', () => {
  /** A file as schema version 1 wrote it: interactions without a price column. */
  function versionOneFile(): string {
    const dir = mkdtempSync(join(tmpdir(), 'fashionml-store-v1-'));
    dirs.push(dir);
    const file = join(dir, 'features.sqlite');
    const db = new Database(file);
    db.exec(`
      CREATE TABLE interactions (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, item_id TEXT NOT NULL, type TEXT NOT NULL,
        ts INTEGER NOT NULL, weight REAL, batch TEXT NOT NULL);
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT INTO meta VALUES ('schema_version', '1');
      INSERT INTO interactions(user_id, item_id, type, ts, weight, batch) VALUES ('u1', 'a', 'purchase', 1000, NULL, 'old');
    `);
    db.close();
    return file;
  }

  it('stores and reads back interaction prices', () => {
    const { store } = tempStore();
    expect(store.schemaVersion()).toBe(FEATURE_STORE_SCHEMA_VERSION);
    store.addInteractions('events:1', [
      { userId: 'u1', itemId: 'a', type: 'purchase', timestamp: 1000, price: 0.0508 },
      { userId: 'u1', itemId: 'b', type: 'purchase', timestamp: 2000 },
    ]);
    expect(store.interactions()).toEqual([
      { userId: 'u1', itemId: 'a', type: 'purchase', timestamp: 1000, price: 0.0508 },
      { userId: 'u1', itemId: 'b', type: 'purchase', timestamp: 2000 },
    ]);
    store.close();
  });

  it('brings a version-1 file up to date, keeping its events, and opens it again unchanged', () => {
    const file = versionOneFile();
    const store = FeatureStore.open(file);
    expect(store.schemaVersion()).toBe(2);
    expect(store.interactions()).toEqual([{ userId: 'u1', itemId: 'a', type: 'purchase', timestamp: 1000 }]);
    store.addInteractions('new', [{ userId: 'u2', itemId: 'a', type: 'purchase', timestamp: 3000, price: 1.25 }]);
    store.close();
    const again = FeatureStore.open(file);
    expect(again.interactions().map((e) => e.price)).toEqual([undefined, 1.25]);
    expect(again.db.pragma('integrity_check', { simple: true })).toBe('ok');
    again.close();
  });

  it('refuses a file from a newer schema, naming the file and both versions', () => {
    const { file, store } = tempStore();
    store.db.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
    store.close();
    expect(() => FeatureStore.open(file)).toThrow(
      `${file}: feature store schema version 99 is newer than this code's (${FEATURE_STORE_SCHEMA_VERSION}); update FashionML`,
    );
  });
});

describe('row hashing', () => {
  it('ignores key order and notices any change', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe('{"a":{"c":3,"d":2},"b":1}');
    expect(itemRowHash(item('a'))).toBe(itemRowHash({ ...item('a') }));
    expect(itemRowHash(item('a'))).not.toBe(itemRowHash(item('a', { title: 'Other' })));
  });
});
