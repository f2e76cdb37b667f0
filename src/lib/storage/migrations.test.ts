import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { openDB } from 'idb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { applyMigrations, MIGRATIONS, SCHEMA_VERSION } from './migrations';
import type { Migration } from './migrations';
import type * as MigrationsModuleNs from './migrations';

type MigrationsModule = typeof MigrationsModuleNs;
import { DB_NAME } from './schema';
import type { FashionDB, InteractionRecord, ItemRecord } from './schema';
import { openFashionStore } from './store';
import type { FashionStore, OpenFashionStoreOptions } from './store';

const opened: Array<{ close(): void }> = [];

async function open(options?: OpenFashionStoreOptions): Promise<FashionStore> {
  const store = await openFashionStore(options);
  opened.push(store);
  return store;
}

/** A plain IndexedDB connection, as another tab running other code would hold. */
function rawOpen(name: string, version?: number): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, version);
    request.onsuccess = () => {
      opened.push(request.result);
      resolve(request.result);
    };
    request.onerror = () => reject(request.error);
  });
}

interface StoreShape {
  keyPath: string | string[] | null;
  autoIncrement: boolean;
  indexes: Record<string, string | string[]>;
}

/** The database's actual version and stores, read through a plain connection. */
async function describeDatabase(name = DB_NAME): Promise<{ version: number; stores: Record<string, StoreShape> }> {
  const db = await rawOpen(name);
  const stores: Record<string, StoreShape> = {};
  const names = Array.from(db.objectStoreNames);
  if (names.length > 0) {
    const tx = db.transaction(names);
    for (const storeName of names) {
      const os = tx.objectStore(storeName);
      const indexes: Record<string, string | string[]> = {};
      for (const indexName of Array.from(os.indexNames)) indexes[indexName] = os.index(indexName).keyPath;
      stores[storeName] = { keyPath: os.keyPath, autoIncrement: os.autoIncrement, indexes };
    }
  }
  const version = db.version;
  db.close();
  return { version, stores };
}

const V1_STORES: Record<string, StoreShape> = {
  meta: { keyPath: 'key', autoIncrement: false, indexes: {} },
  items: { keyPath: 'id', autoIncrement: false, indexes: { byCategory: 'masterCategory' } },
  embeddings: { keyPath: ['modelVersion', 'itemId'], autoIncrement: false, indexes: {} },
  blobs: { keyPath: 'sha256', autoIncrement: false, indexes: {} },
  interactions: { keyPath: 'id', autoIncrement: true, indexes: { byTime: 'at', byItem: 'itemId' } },
  experiments: { keyPath: 'id', autoIncrement: false, indexes: {} },
  metrics: { keyPath: 'id', autoIncrement: true, indexes: {} },
};

const V2_STORES: Record<string, StoreShape> = {
  ...V1_STORES,
  items: { keyPath: 'id', autoIncrement: false, indexes: { byCategory: 'masterCategory', byArticleType: 'articleType' } },
  interactions: {
    keyPath: 'id',
    autoIncrement: true,
    indexes: { byTime: 'at', byItem: 'itemId', byType: 'type' },
  },
};

const V3_STORES: Record<string, StoreShape> = {
  ...V2_STORES,
  downloads: { keyPath: ['sha256', 'offset'], autoIncrement: false, indexes: {} },
  catalog: { keyPath: ['catalogVersion', 'chunk'], autoIncrement: false, indexes: {} },
};

function item(id: string, articleType: string, masterCategory = 'Apparel'): ItemRecord {
  return {
    id,
    title: `Item ${id}`,
    gender: 'Men',
    masterCategory,
    subCategory: 'Topwear',
    articleType,
    colour: 'Black',
    attributes: {},
    catalogVersion: 3,
  };
}

beforeEach(() => {
  vi.stubGlobal('indexedDB', new IDBFactory());
});

afterEach(() => {
  for (const connection of opened.splice(0)) connection.close();
  vi.doUnmock('./migrations');
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('schema versions', () => {
  it('the latest version is 3, one migration per version', () => {
    expect(SCHEMA_VERSION).toBe(3);
    expect(MIGRATIONS).toHaveLength(SCHEMA_VERSION);
  });

  it('v1 creates the base stores and indexes', async () => {
    (await open({ version: 1 })).close();
    expect(await describeDatabase()).toEqual({ version: 1, stores: V1_STORES });
  });

  it('a fresh open runs every migration up to the latest version', async () => {
    const store = await open();
    expect(store.version).toBe(SCHEMA_VERSION);
    store.close();
    expect(await describeDatabase()).toEqual({ version: 3, stores: V3_STORES });
  });
});

describe('upgrading v2 → v3', () => {
  it('adds the downloads and catalog stores and keeps every row', async () => {
    const v2 = await open({ version: 2 });
    await v2.putMany('items', [item('a', 'Tshirts'), item('b', 'Jeans')]);
    await v2.put('meta', { key: 'sync.active', value: { catalog: 1 } });
    v2.close();

    const v3 = await open({ version: 3 });
    expect((await v3.getAllFromIndex('items', 'byArticleType', 'Jeans')).map((i) => i.id)).toEqual(['b']);
    expect((await v3.get('meta', 'sync.active'))?.value).toEqual({ catalog: 1 });
    await v3.put('downloads', { sha256: 'ab', offset: 0, bytes: new Uint8Array([1, 2]).buffer, storedAt: 1 });
    expect(await v3.count('downloads')).toBe(1);
    await v3.put('catalog', { catalogVersion: 4, chunk: 0, items: [item('c', 'Jeans')] });
    expect((await v3.get('catalog', [4, 0]))?.items.map((i) => i.id)).toEqual(['c']);
    v3.close();
    expect(await describeDatabase()).toEqual({ version: 3, stores: V3_STORES });
  });
});

describe('upgrading v1 → v2', () => {
  it('keeps every row and adds indexes that cover rows written at v1', async () => {
    const v1 = await open({ version: 1 });
    await v1.putMany('items', [
      item('a', 'Tshirts'),
      item('b', 'Jeans'),
      item('c', 'Tshirts', 'Footwear'),
    ]);
    const events: InteractionRecord[] = [
      { itemId: 'a', type: 'view', at: 10 },
      { itemId: 'a', type: 'purchase', at: 20, weight: 4 },
      { itemId: 'b', type: 'purchase', at: 30 },
    ];
    await v1.putMany('interactions', events);
    await v1.put('embeddings', { modelVersion: 'm1', itemId: 'a', vector: new Float32Array([1, 2, 3]) });
    await v1.put('blobs', {
      sha256: 'w',
      bytes: new Uint8Array([7, 8]).buffer,
      size: 2,
      contentType: 'application/octet-stream',
      storedAt: 1,
    });
    await v1.put('meta', { key: 'backend', value: 'webgl' });
    // The v2 index is not there yet.
    await expect(v1.getAllFromIndex('items', 'byArticleType', 'Tshirts')).rejects.toMatchObject({
      name: 'NotFoundError',
    });
    v1.close();

    const v2 = await open({ version: 2 });
    expect(v2.version).toBe(2);
    expect((await v2.getAll('items')).map((i) => i.id)).toEqual(['a', 'b', 'c']);
    expect(await v2.get('items', 'c')).toEqual(item('c', 'Tshirts', 'Footwear'));
    expect(await v2.count('interactions')).toBe(3);
    expect(Array.from((await v2.get('embeddings', ['m1', 'a']))?.vector ?? [])).toEqual([1, 2, 3]);
    expect(Array.from(new Uint8Array((await v2.get('blobs', 'w'))?.bytes ?? new ArrayBuffer(0)))).toEqual([7, 8]);
    expect((await v2.get('meta', 'backend'))?.value).toBe('webgl');

    expect((await v2.getAllFromIndex('items', 'byArticleType', 'Tshirts')).map((i) => i.id)).toEqual(['a', 'c']);
    expect((await v2.getAllFromIndex('items', 'byArticleType', 'Jeans')).map((i) => i.id)).toEqual(['b']);
    expect((await v2.getAllFromIndex('interactions', 'byType', 'purchase')).map((e) => e.itemId)).toEqual([
      'a',
      'b',
    ]);
    expect(await v2.getAllFromIndex('interactions', 'byType', 'click')).toEqual([]);
    // v1 indexes still work, and new rows land in the new indexes.
    expect((await v2.getAllFromIndex('items', 'byCategory', 'Footwear')).map((i) => i.id)).toEqual(['c']);
    await v2.put('interactions', { itemId: 'c', type: 'click', at: 40 });
    expect((await v2.getAllFromIndex('interactions', 'byType', 'click')).map((e) => e.itemId)).toEqual(['c']);
    // New autoIncrement keys continue after the v1 ones.
    expect((await v2.getAll('interactions')).map((e) => e.id)).toEqual([1, 2, 3, 4]);
    v2.close();

    expect(await describeDatabase()).toEqual({ version: 2, stores: V2_STORES });
  });

  it('reopening at the current version runs no migration and keeps data', async () => {
    const first = await open();
    await first.put('items', item('a', 'Tshirts'));
    first.close();
    const second = await open();
    expect((await second.getAll('items')).map((i) => i.id)).toEqual(['a']);
  });
});

describe('opening errors', () => {
  it.each([0, 4, 1.5, Number.NaN])('rejects version %s with RangeError before touching the database', async (version) => {
    const openSpy = vi.spyOn(indexedDB, 'open');
    await expect(openFashionStore({ version })).rejects.toBeInstanceOf(RangeError);
    expect(openSpy).not.toHaveBeenCalled();
    expect(await indexedDB.databases()).toEqual([]);
  });

  it('opening an older version than the database has rejects with VersionError', async () => {
    (await open()).close();
    await expect(openFashionStore({ version: 1 })).rejects.toMatchObject({ name: 'VersionError' });
  });

  it('a failing migration rejects with its own error and leaves the database at the old version', async () => {
    const v1 = await open({ version: 1 });
    await v1.put('items', item('a', 'Tshirts'));
    v1.close();

    vi.resetModules();
    vi.doMock('./migrations', async (importOriginal) => {
      const actual = await importOriginal<MigrationsModule>();
      const [base] = actual.MIGRATIONS;
      const broken: Migration = (_db, tx) => {
        tx.objectStore('items').createIndex('byArticleType', 'articleType');
        throw new Error('backfill failed');
      };
      return {
        ...actual,
        applyMigrations: (...[db, tx, from, to]: Parameters<typeof actual.applyMigrations>) =>
          actual.applyMigrations(db, tx, from, to, [base as Migration, broken]),
      };
    });
    const { openFashionStore: openWithBrokenMigration } = await import('./store');
    await expect(openWithBrokenMigration({ version: 2 })).rejects.toThrow('backfill failed');

    expect(await describeDatabase()).toEqual({ version: 1, stores: V1_STORES });
    const again = await open({ version: 1 });
    expect((await again.getAll('items')).map((i) => i.id)).toEqual(['a']);
  });
});

describe('applyMigrations', () => {
  it('runs exactly the versions after oldVersion up to newVersion, in order', async () => {
    const ran: number[] = [];
    const migrations: Migration[] = [1, 2, 3, 4].map((n) => () => void ran.push(n));
    const db = await openDB<FashionDB>('scratch', 3, {
      upgrade: (database, oldVersion, newVersion, tx) =>
        applyMigrations(database, tx, oldVersion, newVersion ?? 3, migrations),
    });
    db.close();
    expect(ran).toEqual([1, 2, 3]);

    ran.length = 0;
    const upgraded = await openDB<FashionDB>('scratch', 4, {
      upgrade: (database, oldVersion, newVersion, tx) =>
        applyMigrations(database, tx, oldVersion, newVersion ?? 4, migrations),
    });
    upgraded.close();
    expect(ran).toEqual([4]);
  });

  it('throws RangeError for a version with no migration', async () => {
    let thrown: unknown;
    const db = await openDB<FashionDB>('scratch', 1, {
      upgrade: (database, oldVersion, _newVersion, tx) => {
        try {
          applyMigrations(database, tx, oldVersion, 2, [() => undefined]);
        } catch (error) {
          thrown = error;
        }
      },
    });
    db.close();
    expect(thrown).toBeInstanceOf(RangeError);
    expect((thrown as Error).message).toBe('No migration to schema version 2');
  });
});

describe('multiple tabs', () => {
  it('an open store closes itself when another tab upgrades, and says so', async () => {
    const onClose = vi.fn();
    const oldTab = await open({ version: 1, onClose });
    await oldTab.put('items', item('a', 'Tshirts'));
    const onBlocked = vi.fn();

    const newTab = await open({ version: 2, onBlocked });
    expect(onClose).toHaveBeenCalledExactlyOnceWith('versionchange');
    expect(onBlocked).not.toHaveBeenCalled();
    expect((await newTab.getAllFromIndex('items', 'byArticleType', 'Tshirts')).map((i) => i.id)).toEqual(['a']);
    await expect(oldTab.get('items', 'a')).rejects.toMatchObject({ name: 'InvalidStateError' });
  });

  it('reports blocked while a connection that ignores versionchange stays open, then completes', async () => {
    (await open({ version: 1 })).close();
    const stubborn = await rawOpen(DB_NAME, 1);

    let blockedWith: unknown;
    let reportBlocked = () => {};
    const blocked = new Promise<void>((resolve) => (reportBlocked = resolve));
    let done = false;
    const opening = open({
      version: 2,
      onBlocked: (event) => {
        blockedWith = event;
        reportBlocked();
      },
    }).then((store) => {
      done = true;
      return store;
    });

    await blocked;
    expect(blockedWith).toEqual({ currentVersion: 1, requestedVersion: 2 });
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);

    stubborn.close();
    const store = await opening;
    expect(store.version).toBe(2);
  });
});
