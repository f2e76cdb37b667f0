import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CatalogItem } from '../../../models/catalog/item';
import { chunksOf } from '../storage/schema';
import { openFashionStore } from '../storage/store';
import type { FashionStore } from '../storage/store';
import { downloadBlob, IntegrityError } from './download';
import { loadActiveSet, readActiveRecord, readSyncState, runSync, SyncError } from './engine';
import type { SyncOptions, SyncPhase, SyncProgress } from './engine';
import { FakeRegistry } from './fake-registry';

const item = (id: string, overrides: Partial<CatalogItem> = {}): CatalogItem => ({
  id,
  title: `Demo Tee ${id}`,
  gender: 'Women',
  masterCategory: 'Apparel',
  subCategory: 'Topwear',
  articleType: 'Tshirts',
  colour: 'Blue',
  image: `images/${id}.jpg`,
  imageSha256: id.padStart(64, 'a'),
  attributes: {},
  ...overrides,
});

const ITEMS_V1 = Array.from({ length: 120 }, (_, i) => item(String(1000 + i)));
/** v2: two removed, one changed, one added. */
const ITEMS_V2 = [...ITEMS_V1.filter((i) => i.id !== '1003' && i.id !== '1004').map((i) => (i.id === '1010' ? { ...i, colour: 'Red' } : i)), item('2000', { title: 'New' })];

/** Bytes that do not compress, so sizes are predictable. */
function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

let store: FashionStore;
let registry: FakeRegistry;
let clock: number;

async function publishDefault(): Promise<void> {
  await registry.publishCatalog(1, ITEMS_V1);
  await registry.addModel('image-encoder', 1, 'image-encoder', { 'model.json': json({ layers: 6 }), 'weights.bin': noise(30_000, 1) });
  await registry.addModel('fashion-ranker', 1, 'fashion-ranker', { 'ranker.json': json({ format: 'fashionml.ranker-pack/1' }), 'item-factors.q8': noise(50_000, 2) }, { imageEncoder: 'image-encoder@1' });
  registry.setAlias('champion', 'fashion-ranker', 1);
}

function sync(options: Partial<SyncOptions> = {}) {
  return runSync({ store, fetch: registry.fetch, now: () => clock, retryDelayMs: 0, flushBytes: 8192, ...options });
}

beforeEach(async () => {
  vi.stubGlobal('indexedDB', new IDBFactory());
  store = await openFashionStore();
  registry = new FakeRegistry();
  clock = 1_700_000_000_000;
  await publishDefault();
});

afterEach(() => {
  store.close();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('first sync', () => {
  it('fetches the snapshot, the champion and its encoder, reporting progress, and activates them in one step', async () => {
    const events: [SyncPhase, SyncProgress][] = [];
    const result = await sync({ onProgress: (phase, progress) => events.push([phase, progress]) });
    expect(result).toMatchObject({ outcome: 'updated', catalogVersion: 1, via: 'snapshot', filesFetched: 5 });

    const phases = [...new Set(events.map(([phase]) => phase))];
    expect(phases).toEqual(['checking', 'downloading', 'applying']);
    const downloads = events.filter(([phase]) => phase === 'downloading').map(([, p]) => p);
    const last = downloads.at(-1)!;
    expect(last.bytesDone).toBe(last.bytesTotal);
    expect(last.bytesTotal).toBe(result.bytesFetched);
    expect([last.filesDone, last.filesTotal]).toEqual([5, 5]);
    downloads.slice(1).forEach((p, i) => expect(p.bytesDone).toBeGreaterThanOrEqual(downloads[i]!.bytesDone));
    const applied = events.filter(([phase]) => phase === 'applying').at(-1)![1];
    expect([applied.itemsDone, applied.itemsTotal]).toEqual([120, 120]);

    const set = await loadActiveSet(store);
    expect(set?.catalogVersion).toBe(1);
    expect(set?.items.map(({ catalogVersion, ...rest }) => [catalogVersion, rest])).toEqual(ITEMS_V1.map((i) => [1, i]));
    expect(set?.models.map((m) => `${m.role} ${m.entry.id}@${m.entry.version}`)).toEqual(['ranker fashion-ranker@1', 'image-encoder image-encoder@1']);
    expect(new Uint8Array(set!.ranker!.files['item-factors.q8']!)).toEqual(noise(50_000, 2));
    expect(JSON.parse(new TextDecoder().decode(set!.ranker!.files['ranker.json']!))).toEqual({ format: 'fashionml.ranker-pack/1' });
    expect(Object.keys(set!.imageEncoder!.files).sort()).toEqual(['model.json', 'weights.bin']);
    // The snapshot blob is not kept once its items are stored, nor any download chunk.
    expect(await store.count('blobs')).toBe(4);
    expect(await store.count('downloads')).toBe(0);
    expect((await readSyncState(store)).lastUpdated).toBe(clock);
  });

  it('with nothing published yet, does nothing and says so', async () => {
    registry = new FakeRegistry();
    expect(await sync()).toMatchObject({ outcome: 'no-catalog' });
    expect(await loadActiveSet(store)).toBeNull();
  });

  it('without a champion, syncs the catalog alone', async () => {
    delete registry.aliases.champion;
    expect(await sync()).toMatchObject({ outcome: 'updated', filesFetched: 1 });
    const set = await loadActiveSet(store);
    expect([set?.items.length, set?.models, set?.ranker]).toEqual([120, [], undefined]);
  });
});

describe('later syncs', () => {
  it('a second run sends If-None-Match, gets 304 and fetches nothing', async () => {
    await sync();
    registry.requests.length = 0;
    clock += 60_000;
    expect(await sync()).toMatchObject({ outcome: 'not-modified', catalogVersion: 1, bytesFetched: 0 });
    expect(registry.requests).toHaveLength(1);
    expect(registry.requests[0]).toMatchObject({ status: 304, ifNoneMatch: expect.stringMatching(/^".+"$/) });
    expect((await readSyncState(store)).lastUpdated).toBe(clock);
  });

  it('a new catalog version comes as a delta; changed and added items carry the new version', async () => {
    await sync();
    await registry.publishCatalog(2, ITEMS_V2);
    registry.requests.length = 0;
    const result = await sync();
    expect(result).toMatchObject({ outcome: 'updated', catalogVersion: 2, via: 'delta', filesFetched: 1 });
    expect(registry.blobRequests().map((r) => r.url.slice(-64))).toEqual([registry.catalog!.deltas[0]!.sha256]);
    const set = await loadActiveSet(store);
    expect(set?.items.length).toBe(119);
    expect(set?.items.find((i) => i.id === '1003')).toBeUndefined();
    expect(set?.items.find((i) => i.id === '1010')).toMatchObject({ colour: 'Red', catalogVersion: 2 });
    expect(set?.items.find((i) => i.id === '2000')).toMatchObject({ title: 'New', catalogVersion: 2 });
    expect(set?.items.find((i) => i.id === '1011')).toMatchObject({ catalogVersion: 1 });
    // The models did not change, so their files stay.
    expect(set?.ranker?.entry.version).toBe(1);
  });

  it('a catalog larger than one chunk is stored in chunks, in id order, and a delta replaces them', async () => {
    registry = new FakeRegistry();
    const many = Array.from({ length: 4500 }, (_, i) => item(String(100_000 + i)));
    await registry.publishCatalog(1, many);
    const progress: number[] = [];
    await sync({ onProgress: (phase, p) => phase === 'applying' && progress.push(p.itemsDone) });
    expect(progress.filter((n) => n > 0)).toEqual([2000, 4000, 4500]);
    expect((await store.getAll('catalog')).map((c) => [c.catalogVersion, c.chunk, c.items.length])).toEqual([
      [1, 0, 2000],
      [1, 1, 2000],
      [1, 2, 500],
    ]);

    await registry.publishCatalog(2, [item('099999'), ...many.slice(1)]);
    expect(await sync()).toMatchObject({ via: 'delta', catalogVersion: 2 });
    expect((await store.getAll('catalog')).map((c) => [c.catalogVersion, c.chunk, c.items.length])).toEqual([
      [2, 0, 2000],
      [2, 1, 2000],
      [2, 2, 500],
    ]);
    const ids = (await loadActiveSet(store))!.items.map((i) => i.id);
    expect(ids[0]).toBe('099999');
    expect(ids).not.toContain('100000');
    expect(ids).toEqual([...ids].sort());
  });

  it('a new champion switches models and deletes the files only the old one used', async () => {
    await sync();
    await registry.addModel('fashion-ranker', 2, 'fashion-ranker', { 'ranker.json': json({ v: 2 }), 'item-factors.q8': noise(50_000, 2) }, { imageEncoder: 'image-encoder@1' });
    registry.setAlias('champion', 'fashion-ranker', 2);
    const oldRankerJson = registry.models[1]!.files.find((f) => f.name === 'ranker.json')!.sha256;
    registry.requests.length = 0;
    expect(await sync()).toMatchObject({ outcome: 'updated', filesFetched: 1 });
    const set = await loadActiveSet(store);
    expect(set?.ranker?.entry.version).toBe(2);
    expect(await store.get('blobs', oldRankerJson)).toBeUndefined();
    expect(await store.count('blobs')).toBe(4);
  });
});

describe('interrupted downloads', () => {
  it('a connection cut mid-blob resumes with a Range request from the bytes kept and completes', async () => {
    const factors = registry.models.find((m) => m.id === 'fashion-ranker')!.files.find((f) => f.name === 'item-factors.q8')!;
    registry.cuts.set(factors.sha256, { afterBytes: 20_000, times: 1 });
    const result = await sync();
    expect(result.outcome).toBe('updated');
    const requests = registry.blobRequests(factors.sha256);
    expect(requests.map((r) => r.range)).toEqual([undefined, 'bytes=20000-']);
    expect(requests[1]!.status).toBe(206);
    const set = await loadActiveSet(store);
    expect(new Uint8Array(set!.ranker!.files['item-factors.q8']!)).toEqual(noise(50_000, 2));
  });

  it('a sync that gives up keeps the previous set active and the received bytes; the next run resumes', async () => {
    await sync();
    await registry.addModel('fashion-ranker', 2, 'fashion-ranker', { 'ranker.json': json({ v: 2 }), 'item-factors.q8': noise(60_000, 9) }, { imageEncoder: 'image-encoder@1' });
    registry.setAlias('champion', 'fashion-ranker', 2);
    const factors = registry.models.at(-1)!.files.find((f) => f.name === 'item-factors.q8')!;
    registry.cuts.set(factors.sha256, { afterBytes: 25_000, times: 1 });

    const failure = await sync({ maxAttempts: 1 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SyncError);
    expect(failure).toMatchObject({ kind: 'offline', message: expect.stringContaining('Connection lost while downloading fashion-ranker@2 item-factors.q8') });
    expect((await readActiveRecord(store))?.models[0]!.entry.version).toBe(1);
    expect((await loadActiveSet(store))?.ranker?.entry.version).toBe(1);
    // 25,000 bytes kept: three flushed chunks of 8 KiB and the tail flushed at the failure.
    const kept = await store.getAll('downloads', chunksOf(factors.sha256));
    expect(kept.reduce((n, c) => n + c.bytes.byteLength, 0)).toBe(25_000);

    // "Reload": the next run starts from the manifest again and asks only for the rest.
    registry.requests.length = 0;
    const progress: SyncProgress[] = [];
    expect(await sync({ onProgress: (_phase, p) => progress.push(p) })).toMatchObject({ outcome: 'updated' });
    expect(registry.blobRequests(factors.sha256).map((r) => r.range)).toEqual(['bytes=25000-']);
    expect(progress.find((p) => p.bytesDone > 0)!.bytesDone).toBeGreaterThanOrEqual(25_000);
    expect(new Uint8Array((await loadActiveSet(store))!.ranker!.files['item-factors.q8']!)).toEqual(noise(60_000, 9));
    expect(await store.count('downloads')).toBe(0);
  });

  it('a server that answers a Range request with the whole blob is handled by starting over', async () => {
    const factors = registry.models.find((m) => m.id === 'fashion-ranker')!.files.find((f) => f.name === 'item-factors.q8')!;
    registry.cuts.set(factors.sha256, { afterBytes: 10_000, times: 1 });
    registry.ignoreRange = true;
    expect((await sync()).outcome).toBe('updated');
    expect(registry.blobRequests(factors.sha256).map((r) => [r.range, r.status])).toEqual([
      [undefined, 200],
      ['bytes=10000-', 200],
    ]);
    expect(new Uint8Array((await loadActiveSet(store))!.ranker!.files['item-factors.q8']!)).toEqual(noise(50_000, 2));
  });

  it('an unreachable server is "offline", not a failure of the data', async () => {
    await sync();
    registry.offline = true;
    await expect(sync()).rejects.toMatchObject({ kind: 'offline' });
    expect((await loadActiveSet(store))?.catalogVersion).toBe(1);
  });
});

describe('corrupt blobs', () => {
  it('a blob whose bytes do not match its sha256 is refused, reported, not stored, and the old set stays', async () => {
    await sync();
    await registry.publishCatalog(2, ITEMS_V2);
    const delta = registry.catalog!.deltas[0]!.sha256;
    registry.corrupt.add(delta);

    const failure = await sync().catch((e: unknown) => e);
    expect(failure).toMatchObject({ kind: 'integrity', message: expect.stringMatching(/^Refused catalog v2 \(delta from v1\): its \d+ bytes hash to [0-9a-f]{12}…, not [0-9a-f]{12}…/) });
    // Downloaded twice (the second time from zero), then refused.
    expect(registry.blobRequests(delta).map((r) => r.range)).toEqual([undefined, undefined]);
    expect(await store.get('blobs', delta)).toBeUndefined();
    expect(await store.count('downloads')).toBe(0);
    expect((await loadActiveSet(store))?.catalogVersion).toBe(1);
    expect((await readSyncState(store)).refused).toMatchObject([{ sha256: delta, label: 'catalog v2 (delta from v1)' }]);

    // Not retried forever: the next background run does not download it again…
    registry.requests.length = 0;
    await expect(sync()).rejects.toMatchObject({ kind: 'integrity', message: expect.stringContaining('not retried until') });
    expect(registry.blobRequests()).toEqual([]);
    // …a person asking for it does; once the server serves the right bytes it goes through.
    registry.corrupt.clear();
    expect(await sync({ retryRefused: true })).toMatchObject({ outcome: 'updated', catalogVersion: 2 });
    expect((await readSyncState(store)).refused).toEqual([]);
  });

  it('blobs a failed run stored are reused if needed, and deleted by the next switch if not', async () => {
    await sync();
    const v2 = await registry.addModel('fashion-ranker', 2, 'fashion-ranker', { 'ranker.json': json({ v: 2 }), 'item-factors.q8': noise(50_000, 7) }, { imageEncoder: 'image-encoder@1' });
    registry.setAlias('champion', 'fashion-ranker', 2);
    const [rankerJson, factors] = v2.files.map((f) => f.sha256) as [string, string];
    registry.corrupt.add(factors);
    await expect(sync({ concurrency: 1 })).rejects.toMatchObject({ kind: 'integrity' });
    expect(await store.count('blobs', rankerJson)).toBe(1);
    expect((await readSyncState(store)).unused).toEqual([rankerJson]);

    // The champion goes back to v1 and a new catalog arrives: v2's file is not needed any more.
    registry.setAlias('champion', 'fashion-ranker', 1);
    await registry.publishCatalog(2, ITEMS_V2);
    expect(await sync()).toMatchObject({ outcome: 'updated', catalogVersion: 2 });
    expect(await store.count('blobs', rankerJson)).toBe(0);
    expect((await readSyncState(store)).unused).toEqual([]);
    expect(await store.count('blobs')).toBe(4);
  });

  it('downloadBlob on its own: a mismatch throws IntegrityError and keeps nothing', async () => {
    const [sha, bytes] = [...registry.blobs.entries()][0]!;
    registry.corrupt.add(sha);
    const blob = { sha256: sha, size: bytes.byteLength, label: 'some blob', contentType: 'application/octet-stream' };
    const error = await downloadBlob(store, blob, { fetch: registry.fetch, baseUrl: '', retryDelayMs: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect(await store.count('blobs')).toBe(0);
    expect(await store.count('downloads')).toBe(0);
  });

  it('a catalog blob that verifies but does not match the manifest is refused before any switch', async () => {
    await sync();
    await registry.publishCatalog(2, ITEMS_V2);
    // The manifest claims a count the delta does not give.
    registry.catalog!.itemCount = 500;
    await expect(sync()).rejects.toMatchObject({ kind: 'catalog', message: expect.stringContaining('the manifest says 500') });
    expect((await loadActiveSet(store))?.items.length).toBe(120);
  });
});

describe('atomic switch', () => {
  it('a failure in the final transaction leaves the previous catalog and models exactly as they were', async () => {
    await sync();
    const before = await loadActiveSet(store);
    await registry.publishCatalog(2, ITEMS_V2);
    await registry.addModel('fashion-ranker', 2, 'fashion-ranker', { 'ranker.json': json({ v: 2 }) }, { imageEncoder: 'image-encoder@1' });
    registry.setAlias('champion', 'fashion-ranker', 2);
    const batch = store.batch.bind(store);
    // Let the switch run its writes, then fail the transaction with one write it cannot make.
    vi.spyOn(store, 'batch').mockImplementation((ops, onProgress) =>
      ops.some((op) => op.store === 'catalog') ? batch([...ops, { store: 'items', put: { id: undefined } as never }], onProgress) : batch(ops, onProgress),
    );
    await expect(sync()).rejects.toMatchObject({ kind: 'storage', message: expect.stringContaining('Could not switch to catalog v2') });
    vi.restoreAllMocks();
    const after = await loadActiveSet(store);
    expect(after?.catalogVersion).toBe(1);
    expect(after?.items).toEqual(before?.items);
    expect(after?.ranker?.entry.version).toBe(1);
    expect(after?.ranker?.files).toEqual(before?.ranker?.files);

    // The verified blobs were kept: the next run switches without downloading them again.
    registry.requests.length = 0;
    expect(await sync()).toMatchObject({ outcome: 'updated', catalogVersion: 2, filesFetched: 0 });
    expect(registry.blobRequests()).toEqual([]);
    expect((await loadActiveSet(store))?.ranker?.entry.version).toBe(2);
  });

  it('a manifest whose champion is missing changes nothing', async () => {
    await sync();
    registry.setAlias('champion', 'fashion-ranker', 7);
    await expect(sync()).rejects.toMatchObject({ kind: 'manifest', message: expect.stringContaining('fashion-ranker@7') });
    expect((await loadActiveSet(store))?.ranker?.entry.version).toBe(1);
  });
});
