import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StorageQuotaError } from './quota';
import { embeddingsOf } from './schema';
import type { BlobRecord, EmbeddingRecord, InteractionRecord, ItemRecord } from './schema';
import { openFashionStore } from './store';
import type { FashionStore, OpenFashionStoreOptions } from './store';

const opened: FashionStore[] = [];

async function open(options?: OpenFashionStoreOptions): Promise<FashionStore> {
  const store = await openFashionStore(options);
  opened.push(store);
  return store;
}

beforeEach(() => {
  // A fresh, empty IndexedDB per test.
  vi.stubGlobal('indexedDB', new IDBFactory());
});

afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

function item(id: string, overrides: Partial<ItemRecord> = {}): ItemRecord {
  return {
    id,
    title: `Item ${id}`,
    gender: 'Women',
    masterCategory: 'Apparel',
    subCategory: 'Topwear',
    articleType: 'Tshirts',
    colour: 'Blue',
    attributes: {},
    catalogVersion: 1,
    ...overrides,
  };
}

function embedding(modelVersion: string, itemId: string, values: number[]): EmbeddingRecord {
  return { modelVersion, itemId, vector: new Float32Array(values) };
}

function blob(sha256: string, bytes: ArrayBuffer): BlobRecord {
  return { sha256, bytes, size: bytes.byteLength, contentType: 'application/octet-stream', storedAt: 1_700_000_000_000 };
}

function stubStorageEstimate(usage: number, quota: number): void {
  vi.stubGlobal('navigator', { storage: { estimate: () => Promise.resolve({ usage, quota }) } });
}

type PutFn = (this: IDBObjectStore, value: unknown, key?: IDBValidKey) => IDBRequest<IDBValidKey>;

/**
 * Makes the `nth` (1-based) `IDBObjectStore.put` fail for lack of space, the way browsers do:
 * - `throw`: `put` itself throws;
 * - `request`: the request fails with `QuotaExceededError`, which aborts the transaction;
 * - `commit`: every request succeeds, then the transaction aborts with `QuotaExceededError` as its
 *   `error` (how Chromium reports quota at commit).
 * The last two use fake-indexeddb internals (`_rawObjectStore`, `_abort`) to produce exactly the
 * events a browser fires.
 */
function failPut(nth: number, mode: 'throw' | 'request' | 'commit'): void {
  const original = IDBObjectStore.prototype.put as PutFn;
  let calls = 0;
  const quota = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError');
  vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, value, key) {
    calls++;
    if (calls !== nth) return original.call(this, value, key);
    if (mode === 'throw') throw quota();
    if (mode === 'request') {
      const raw = (this as unknown as { _rawObjectStore: { storeRecord: () => unknown } })._rawObjectStore;
      const storeRecord = raw.storeRecord;
      raw.storeRecord = () => {
        throw quota();
      };
      try {
        return original.call(this, value, key);
      } finally {
        raw.storeRecord = storeRecord;
      }
    }
    const request = original.call(this, value, key);
    const tx = this.transaction as unknown as { _abort(name: string): void };
    request.addEventListener('success', () => tx._abort('QuotaExceededError'));
    return request;
  } as PutFn);
}

describe('round trips per store', () => {
  it('meta: put, get, overwrite, getAll, count, delete', async () => {
    const store = await open();
    await store.put('meta', { key: 'backend', value: { name: 'webgpu' } });
    await store.put('meta', { key: 'lastSync', value: 1234, updatedAt: 99 });
    expect(await store.get('meta', 'backend')).toEqual({ key: 'backend', value: { name: 'webgpu' } });

    await store.put('meta', { key: 'backend', value: { name: 'wasm' } });
    expect((await store.get('meta', 'backend'))?.value).toEqual({ name: 'wasm' });
    expect(await store.count('meta')).toBe(2);
    expect((await store.getAll('meta')).map((r) => r.key)).toEqual(['backend', 'lastSync']);

    await store.delete('meta', 'backend');
    expect(await store.get('meta', 'backend')).toBeUndefined();
    expect(await store.count('meta')).toBe(1);
    await store.delete('meta', 'does-not-exist');
  });

  it('items: putMany, get, getAll, byCategory, count, delete, clear', async () => {
    const store = await open();
    const keys = await store.putMany('items', [
      item('b', { attributes: { pattern: 'striped' }, price: 19.99, year: 2012, season: 'Summer' }),
      item('a', { masterCategory: 'Footwear', articleType: 'Sneakers' }),
      item('c', { masterCategory: 'Footwear', articleType: 'Sandals' }),
    ]);
    expect(keys).toEqual(['b', 'a', 'c']);

    expect(await store.get('items', 'b')).toEqual(
      item('b', { attributes: { pattern: 'striped' }, price: 19.99, year: 2012, season: 'Summer' }),
    );
    expect((await store.getAll('items')).map((i) => i.id)).toEqual(['a', 'b', 'c']);
    expect((await store.getAll('items', undefined, 2)).map((i) => i.id)).toEqual(['a', 'b']);
    expect((await store.getAllFromIndex('items', 'byCategory', 'Footwear')).map((i) => i.id)).toEqual(['a', 'c']);
    expect(await store.count('items')).toBe(3);
    expect(await store.count('items', IDBKeyRange.lowerBound('b'))).toBe(2);

    await store.delete('items', 'a');
    expect(await store.get('items', 'a')).toBeUndefined();
    expect(await store.count('items')).toBe(2);

    await store.clear('items');
    expect(await store.count('items')).toBe(0);
    expect(await store.getAll('items')).toEqual([]);
  });

  it('embeddings: Float32Array vectors survive, and one model version is one key range', async () => {
    const store = await open();
    await store.putMany('embeddings', [
      embedding('m2', 'x', [9, 9]),
      embedding('m1', 'b', [0.5, -1.25]),
      embedding('m1', 'a', [1, 2]),
      embedding('m10', 'a', [7, 7]),
    ]);

    const got = await store.get('embeddings', ['m1', 'b']);
    expect(got?.vector).toBeInstanceOf(Float32Array);
    expect(Array.from(got?.vector ?? [])).toEqual([0.5, -1.25]);

    const m1 = await store.getAll('embeddings', embeddingsOf('m1'));
    expect(m1.map((e) => e.itemId)).toEqual(['a', 'b']);
    expect(m1.every((e) => e.modelVersion === 'm1' && e.vector instanceof Float32Array)).toBe(true);
    expect(await store.count('embeddings', embeddingsOf('m1'))).toBe(2);

    // Dropping an old model version leaves the others.
    await store.delete('embeddings', embeddingsOf('m1'));
    expect((await store.getAll('embeddings')).map((e) => `${e.modelVersion}/${e.itemId}`)).toEqual([
      'm10/a',
      'm2/x',
    ]);
  });

  it('embeddings: a vector that views a larger matrix is stored on its own', async () => {
    const store = await open();
    const dim = 4;
    const matrix = new Float32Array([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]);
    await store.put('embeddings', { modelVersion: 'm1', itemId: 'row1', vector: matrix.subarray(dim, 2 * dim) });
    await store.putMany('embeddings', [
      { modelVersion: 'm1', itemId: 'row2', vector: matrix.subarray(2 * dim, 3 * dim) },
    ]);

    const row1 = await store.get('embeddings', ['m1', 'row1']);
    const row2 = await store.get('embeddings', ['m1', 'row2']);
    expect(Array.from(row1?.vector ?? [])).toEqual([10, 11, 12, 13]);
    expect(row1?.vector.buffer.byteLength).toBe(dim * 4);
    expect(Array.from(row2?.vector ?? [])).toEqual([20, 21, 22, 23]);
    expect(row2?.vector.buffer.byteLength).toBe(dim * 4);
    expect(matrix.length).toBe(12);
  });

  it('blobs: ArrayBuffer bytes survive', async () => {
    const store = await open();
    const bytes = new Uint8Array([0, 1, 2, 250, 255]).buffer;
    await store.put('blobs', blob('abc123', bytes));

    const got = await store.get('blobs', 'abc123');
    expect(got?.bytes).toBeInstanceOf(ArrayBuffer);
    expect(Array.from(new Uint8Array(got?.bytes ?? new ArrayBuffer(0)))).toEqual([0, 1, 2, 250, 255]);
    expect(got?.size).toBe(5);
    expect(await store.count('blobs')).toBe(1);
    await store.delete('blobs', 'abc123');
    expect(await store.get('blobs', 'abc123')).toBeUndefined();
  });

  it('interactions: ids are assigned, and byItem, byTime and byType select the right rows', async () => {
    const store = await open();
    const events: InteractionRecord[] = [
      { itemId: 'a', type: 'view', at: 1000 },
      { itemId: 'b', type: 'click', at: 2000 },
      { itemId: 'a', type: 'purchase', at: 3000, weight: 5 },
    ];
    const keys = await store.putMany('interactions', events);
    expect(keys).toEqual([1, 2, 3]);
    expect(await store.put('interactions', { itemId: 'c', type: 'like', at: 4000 })).toBe(4);

    expect(await store.get('interactions', 3)).toEqual({ id: 3, itemId: 'a', type: 'purchase', at: 3000, weight: 5 });
    expect((await store.getAllFromIndex('interactions', 'byItem', 'a')).map((e) => e.id)).toEqual([1, 3]);
    expect(
      (await store.getAllFromIndex('interactions', 'byTime', IDBKeyRange.bound(1500, 3500))).map((e) => e.id),
    ).toEqual([2, 3]);
    expect((await store.getAllFromIndex('interactions', 'byType', 'purchase')).map((e) => e.id)).toEqual([3]);

    await store.delete('interactions', IDBKeyRange.upperBound(2));
    expect((await store.getAll('interactions')).map((e) => e.id)).toEqual([3, 4]);
  });

  it('experiments and metrics: put, get, getAll, count, clear', async () => {
    const store = await open();
    await store.put('experiments', { id: 'ranker-v2', variant: 'treatment', assignedAt: 5, params: { k: 20 } });
    expect(await store.get('experiments', 'ranker-v2')).toEqual({
      id: 'ranker-v2',
      variant: 'treatment',
      assignedAt: 5,
      params: { k: 20 },
    });

    const first = await store.put('metrics', { name: 'inference_ms', value: 12.5, at: 1, tags: { backend: 'webgpu' } });
    const second = await store.put('metrics', { name: 'inference_ms', value: 8, at: 2 });
    expect(second).toBeGreaterThan(first);
    expect((await store.getAll('metrics')).map((m) => m.value)).toEqual([12.5, 8]);
    expect(await store.count('metrics')).toBe(2);

    await store.clear('metrics');
    expect(await store.count('metrics')).toBe(0);
    expect(await store.count('experiments')).toBe(1);
  });

  it('clearAll empties every store and the store stays usable', async () => {
    const store = await open();
    await store.put('meta', { key: 'k', value: 1 });
    await store.put('items', item('a'));
    await store.put('embeddings', embedding('m1', 'a', [1]));
    await store.put('blobs', blob('s', new ArrayBuffer(3)));
    await store.put('interactions', { itemId: 'a', type: 'view', at: 1 });
    await store.put('experiments', { id: 'e', variant: 'control', assignedAt: 1 });
    await store.put('metrics', { name: 'm', value: 1, at: 1 });

    await store.clearAll();
    for (const name of ['meta', 'items', 'embeddings', 'blobs', 'interactions', 'experiments', 'metrics'] as const) {
      expect(await store.count(name), name).toBe(0);
    }
    await store.put('items', item('b'));
    expect(await store.count('items')).toBe(1);
  });

  it('putMany of nothing writes nothing', async () => {
    const store = await open();
    expect(await store.putMany('items', [])).toEqual([]);
    expect(await store.count('items')).toBe(0);
  });
});

describe('atomic writes', () => {
  it('a batch with one invalid row writes none of its rows and keeps existing data', async () => {
    const store = await open();
    await store.put('items', item('keep', { title: 'original' }));

    const invalid = { ...item('x') } as Partial<ItemRecord>;
    delete invalid.id;
    const batch = [item('new1'), item('keep', { title: 'overwritten' }), invalid as ItemRecord, item('new2')];
    const failure = store.putMany('items', batch);
    await expect(failure).rejects.toMatchObject({ name: 'DataError' });
    await expect(failure).rejects.not.toBeInstanceOf(StorageQuotaError);

    expect((await store.getAll('items')).map((i) => i.id)).toEqual(['keep']);
    expect((await store.get('items', 'keep'))?.title).toBe('original');
  });

  it('a batch whose request fails midway is rolled back', async () => {
    const store = await open();
    await store.put('interactions', { itemId: 'old', type: 'view', at: 1 });
    failPut(3, 'request');

    const batch: InteractionRecord[] = [1, 2, 3, 4].map((n) => ({ itemId: `i${n}`, type: 'click', at: n }));
    await expect(store.putMany('interactions', batch)).rejects.toBeInstanceOf(StorageQuotaError);
    expect((await store.getAll('interactions')).map((e) => e.itemId)).toEqual(['old']);
  });
});

describe('batch across stores', () => {
  it('applies clears, deletes and puts in order, in several stores at once, reporting progress', async () => {
    const store = await open();
    await store.putMany('items', [item('a'), item('b'), item('c')]);
    await store.put('blobs', blob('snapshot', new ArrayBuffer(4)));
    const progress: number[] = [];
    await store.batch(
      [
        { store: 'items', delete: 'b' },
        { store: 'items', put: item('d') },
        { store: 'items', put: item('a', { title: 'changed' }) },
        { store: 'blobs', delete: 'snapshot' },
        { store: 'meta', put: { key: 'sync.active', value: { catalog: 2 } } },
      ],
      (done, total) => progress.push(done / total),
    );
    expect((await store.getAll('items')).map((i) => [i.id, i.title])).toEqual([
      ['a', 'changed'],
      ['c', 'Item c'],
      ['d', 'Item d'],
    ]);
    expect(await store.count('blobs')).toBe(0);
    expect((await store.get('meta', 'sync.active'))?.value).toEqual({ catalog: 2 });
    expect(progress).toEqual([0.2, 0.4, 0.6, 0.8, 1]);

    await store.batch([{ store: 'items', clear: true }, { store: 'items', put: item('z') }]);
    expect((await store.getAll('items')).map((i) => i.id)).toEqual(['z']);
  });

  it('a failing operation rolls back every store of the batch', async () => {
    const store = await open();
    await store.put('items', item('keep'));
    await store.put('meta', { key: 'sync.active', value: 1 });
    const invalid = { ...item('x') } as Partial<ItemRecord>;
    delete invalid.id;
    const failure = store.batch([
      { store: 'items', clear: true },
      { store: 'items', put: item('new') },
      { store: 'meta', put: { key: 'sync.active', value: 2 } },
      { store: 'items', put: invalid as ItemRecord },
    ]);
    await expect(failure).rejects.toMatchObject({ name: 'DataError' });
    expect((await store.getAll('items')).map((i) => i.id)).toEqual(['keep']);
    expect((await store.get('meta', 'sync.active'))?.value).toBe(1);
  });

  it('quota at commit becomes StorageQuotaError and nothing is written', async () => {
    const store = await open();
    failPut(2, 'commit');
    const error = await store
      .batch([
        { store: 'blobs', put: blob('w', new ArrayBuffer(1000)) },
        { store: 'meta', put: { key: 'sync.active', value: 2 } },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageQuotaError);
    expect((error as Error).message).toContain('could not save 2 records of 1.0 kB to "blobs, meta"');
    vi.restoreAllMocks();
    expect(await store.count('blobs')).toBe(0);
    expect(await store.count('meta')).toBe(0);
  });
});

describe('quota errors', () => {
  it('a put that throws QuotaExceededError becomes StorageQuotaError naming the store and usage', async () => {
    const store = await open();
    await store.putMany('items', [item('a'), item('b')]);
    stubStorageEstimate(48_000_000, 50_000_000);
    failPut(2, 'throw');

    const batch = Array.from({ length: 12 }, (_, n) => item(`new${n}`));
    const error = await store.putMany('items', batch).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageQuotaError);
    const quotaError = error as StorageQuotaError;
    expect(quotaError.message).toBe(
      'Storage is full: could not save 12 items to "items" (using 48.0 MB of 50.0 MB). ' +
        'Free space or clear the catalog cache in Settings.',
    );
    expect(quotaError.storeName).toBe('items');
    expect(quotaError.recordCount).toBe(12);
    expect(quotaError.usage).toBe(48_000_000);
    expect(quotaError.quota).toBe(50_000_000);
    expect((quotaError.cause as DOMException).name).toBe('QuotaExceededError');

    vi.restoreAllMocks();
    expect((await store.getAll('items')).map((i) => i.id)).toEqual(['a', 'b']);
  });

  it('a request failing with QuotaExceededError is mapped and the batch rolled back', async () => {
    const store = await open();
    await store.put('embeddings', embedding('m0', 'kept', [1, 2]));
    failPut(3, 'request');

    const batch = ['a', 'b', 'c', 'd', 'e'].map((id) => embedding('m1', id, [1, 2, 3, 4]));
    const error = await store.putMany('embeddings', batch).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageQuotaError);
    expect((error as Error).message).toBe(
      'Storage is full: could not save 5 embeddings of 80 B to "embeddings". ' +
        'Free space or clear the catalog cache in Settings.',
    );
    expect(await store.count('embeddings', embeddingsOf('m1'))).toBe(0);
    expect(await store.get('embeddings', ['m0', 'kept'])).toBeDefined();
  });

  it('a transaction aborted at commit with QuotaExceededError is mapped and nothing is stored', async () => {
    const store = await open();
    failPut(1, 'commit');

    const error = await store.put('blobs', blob('weights', new ArrayBuffer(1_500_000))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageQuotaError);
    expect((error as Error).message).toBe(
      'Storage is full: could not save 1 blob of 1.5 MB to "blobs". Free space or clear the catalog cache in Settings.',
    );
    expect((error as StorageQuotaError).usage).toBeUndefined();
    expect(await store.get('blobs', 'weights')).toBeUndefined();
  });

  it('commit-time quota on a batch rolls back every row, and later writes succeed', async () => {
    const store = await open();
    await store.put('meta', { key: 'catalogVersion', value: 1 });
    failPut(2, 'commit');

    const error = await store
      .putMany('meta', [
        { key: 'catalogVersion', value: 2 },
        { key: 'syncedAt', value: 123 },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageQuotaError);
    expect((error as Error).message).toContain('could not save 2 settings to "meta"');
    expect((await store.get('meta', 'catalogVersion'))?.value).toBe(1);
    expect(await store.get('meta', 'syncedAt')).toBeUndefined();

    vi.restoreAllMocks();
    await store.put('meta', { key: 'syncedAt', value: 456 });
    expect((await store.get('meta', 'syncedAt'))?.value).toBe(456);
  });
});

describe('lifecycle', () => {
  it('calls after close reject with InvalidStateError; close is idempotent', async () => {
    const store = await open();
    await store.put('items', item('a'));
    store.close();
    store.close();
    await expect(store.get('items', 'a')).rejects.toMatchObject({ name: 'InvalidStateError' });
    await expect(store.put('items', item('b'))).rejects.toMatchObject({ name: 'InvalidStateError' });
    await expect(store.putMany('items', [])).rejects.toMatchObject({ name: 'InvalidStateError' });

    const reopened = await open();
    expect((await reopened.getAll('items')).map((i) => i.id)).toEqual(['a']);
  });

  it('uses the given database name, separate from the default one', async () => {
    const main = await open();
    const other = await open({ name: 'fashionml-test' });
    expect(main.name).toBe('fashionml');
    expect(other.name).toBe('fashionml-test');
    await other.put('items', item('a'));
    expect(await main.count('items')).toBe(0);
  });
});
