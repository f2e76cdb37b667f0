/**
 * Sync in real Chromium against the project's own server and a real published registry (the demo
 * catalog, a trained ranker pack as `champion` and the image encoder it names), through a proxy
 * that can cut a connection mid-blob or corrupt a blob (test/sync-fixture.ts).
 *
 * The tests run in order on one page, as one device's life: first sync with progress; a second
 * sync that gets a 304; a new catalog version by delta; a connection cut mid-blob that resumes
 * with Range; a corrupt blob refused while the previous set stays active; a reload that keeps the
 * active set; thumbnails that the service worker serves offline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../../../test/browser';
import type { Browser } from '../../../test/browser';
import { startSyncFixture } from '../../../test/sync-fixture';
import type { SyncFixture } from '../../../test/sync-fixture';

let fixture: SyncFixture;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  fixture = await startSyncFixture();
  // Until the first test, the server looks as if nothing were published (the app syncs on start).
  fixture.proxy.hideCatalog = true;
  browser = await launchBrowser();
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await fixture?.close();
});

/** Waits until the app's own sync at start has run, so the tests' runs are their own. */
async function appSettled(): Promise<void> {
  await page.waitForFunction(() => {
    const sync = window.fashionml?.sync;
    return sync !== undefined && sync.phase !== 'idle' && !sync.busy;
  });
}

async function openApp(): Promise<void> {
  await page.goto(fixture.url);
  await appSettled();
}

/** What the page's `loadActiveSet()` returns, summarised, with each file's sha256 computed in the page. */
async function activeSet(): Promise<{
  catalogVersion: number;
  itemIds: string[];
  colours: Record<string, string>;
  models: { ref: string; role: string; files: Record<string, string> }[];
} | null> {
  return page.evaluate(async () => {
    const set = await window.fashionml!.sync.loadActiveSet();
    if (!set) return null;
    const hex = async (bytes: ArrayBuffer) =>
      Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
    return {
      catalogVersion: set.catalogVersion,
      itemIds: set.items.map((i) => i.id),
      colours: Object.fromEntries(set.items.map((i) => [i.id, i.colour])),
      models: await Promise.all(
        set.models.map(async (m) => ({
          ref: `${m.entry.id}@${m.entry.version}`,
          role: m.role,
          files: Object.fromEntries(await Promise.all(Object.entries(m.files).map(async ([name, bytes]) => [name, await hex(bytes)]))),
        })),
      ),
    };
  });
}

/** The files of a model version as the registry lists them, name → sha256. */
function registryFiles(id: string, version: number): Record<string, string> {
  const entry = fixture.registry.manifest().models.find((m) => m.id === id && m.version === version)!;
  return Object.fromEntries(entry.files.map((f) => [f.name, f.sha256]));
}

function syncNow(retryRefused = false) {
  return page.evaluate(async (retry) => {
    const sync = window.fashionml!.sync;
    const result = await sync.syncNow({ retryRefused: retry });
    return { result: result ? { ...result } : undefined, phase: sync.phase, error: sync.error, errorKind: sync.errorKind, refused: sync.refused.map((r) => ({ ...r })) };
  }, retryRefused);
}

describe('sync', () => {
  it('first sync: downloads the catalog and models with progress and makes them active at once', async () => {
    await openApp();
    expect(await activeSet()).toBeNull();
    fixture.proxy.hideCatalog = false;
    fixture.proxy.requests.length = 0;

    const run = await page.evaluate(async () => {
      const sync = window.fashionml!.sync;
      const events: { phase: string; bytesDone: number; bytesTotal: number; itemsDone: number; itemsTotal: number; filesDone: number; filesTotal: number }[] = [];
      const off = sync.onProgress((phase, p) => events.push({ phase, ...p }));
      const started = performance.now();
      const result = await sync.syncNow();
      const wallMs = performance.now() - started;
      off();
      return { result: result ? { ...result } : undefined, wallMs, events, active: sync.active ? { ...sync.active, models: [...sync.active.models] } : undefined, error: sync.error };
    });
    expect(run.error).toBeUndefined();
    const manifest = fixture.registry.manifest();
    const catalog = manifest.catalog!;
    const ranker = manifest.models.find((m) => m.id === 'fashion-ranker')!;
    const encoder = manifest.models.find((m) => m.id === 'image-encoder')!;
    const expectedBytes = catalog.snapshot.size + [...ranker.files, ...encoder.files].reduce((n, f) => n + f.size, 0);
    expect(run.result).toMatchObject({ outcome: 'updated', catalogVersion: catalog.version, via: 'snapshot', bytesFetched: expectedBytes, filesFetched: 1 + ranker.files.length + encoder.files.length });
    console.info(
      `[sync] first sync of the demo data on localhost: ${(expectedBytes / 1024).toFixed(0)} KiB in ${run.result!.filesFetched} blobs, ` +
        `${catalog.itemCount} items, ${run.wallMs.toFixed(0)} ms (engine ${run.result!.elapsedMs} ms)`,
    );

    // Progress: bytes grow to the total while downloading, then items are stored.
    const downloading = run.events.filter((e) => e.phase === 'downloading');
    expect(downloading.length).toBeGreaterThan(3);
    downloading.slice(1).forEach((e, i) => expect(e.bytesDone).toBeGreaterThanOrEqual(downloading[i]!.bytesDone));
    expect(downloading.at(-1)).toMatchObject({ bytesDone: expectedBytes, bytesTotal: expectedBytes, filesDone: run.result!.filesFetched });
    const applying = run.events.filter((e) => e.phase === 'applying');
    expect(applying.at(-1)).toMatchObject({ itemsDone: catalog.itemCount, itemsTotal: catalog.itemCount });
    expect(run.active).toMatchObject({ catalogVersion: catalog.version, itemCount: catalog.itemCount, models: [`fashion-ranker@${ranker.version}`, `image-encoder@${encoder.version}`] });

    // Each blob was fetched once, whole, and what the device holds hashes to the registry's names.
    const blobs = fixture.proxy.blobRequests();
    expect(blobs.map((r) => [r.range, r.status])).toEqual(blobs.map(() => [undefined, 200]));
    expect(new Set(blobs.map((r) => r.path.slice(-64)))).toEqual(new Set([catalog.snapshot.sha256, ...ranker.files.map((f) => f.sha256), ...encoder.files.map((f) => f.sha256)]));
    const set = await activeSet();
    expect(set?.catalogVersion).toBe(catalog.version);
    expect(set?.itemIds).toHaveLength(catalog.itemCount);
    expect(set?.models).toEqual([
      { ref: `fashion-ranker@${ranker.version}`, role: 'ranker', files: registryFiles('fashion-ranker', ranker.version) },
      { ref: `image-encoder@${encoder.version}`, role: 'image-encoder', files: registryFiles('image-encoder', encoder.version) },
    ]);
  });

  it('a second sync fetches nothing: the manifest answers 304', async () => {
    fixture.proxy.requests.length = 0;
    const run = await syncNow();
    expect(run.result).toMatchObject({ outcome: 'not-modified', bytesFetched: 0 });
    expect(fixture.proxy.apiRequests().map((r) => [r.path, r.status, typeof r.ifNoneMatch])).toEqual([['/v1/manifest', 304, 'string']]);
  });

  it('a new catalog version comes as a delta', async () => {
    const before = (await activeSet())!;
    const [recoloured, removed] = [before.itemIds.slice(0, 3), before.itemIds.slice(3, 5)];
    const entry = fixture.publishCatalogVersion((items) => [
      ...items.filter((i) => !removed.includes(i.id)).map((i) => (recoloured.includes(i.id) ? { ...i, colour: 'Mustard' } : i)),
      { ...items[10]!, id: 'sync-new-1', title: 'Demo Sync Scarf' },
    ]);
    fixture.proxy.requests.length = 0;
    const run = await syncNow();
    expect(run.result).toMatchObject({ outcome: 'updated', catalogVersion: entry.version, via: 'delta', filesFetched: 1 });
    const delta = entry.deltas.find((d) => d.from === before.catalogVersion)!;
    expect(fixture.proxy.blobRequests().map((r) => r.path)).toEqual([`/v1/blobs/${delta.sha256}`]);
    expect(delta.size).toBeLessThan(entry.snapshot.size / 5);

    const after = (await activeSet())!;
    expect(after.catalogVersion).toBe(entry.version);
    expect(after.itemIds).toHaveLength(before.itemIds.length - 2 + 1);
    expect(after.itemIds).toContain('sync-new-1');
    removed.forEach((id) => expect(after.itemIds).not.toContain(id));
    recoloured.forEach((id) => expect(after.colours[id]).toBe('Mustard'));
    expect(after.models).toEqual(before.models);
  });

  it('a connection cut mid-blob resumes with a Range request and completes', async () => {
    const entry = fixture.newChampion('image-embeddings.q8');
    const file = entry.files.find((f) => f.name === 'image-embeddings.q8')!;
    fixture.proxy.cutAfter(file.sha256, Math.floor(file.size / 2));
    fixture.proxy.requests.length = 0;

    const run = await syncNow();
    expect(run.error).toBeUndefined();
    expect(run.result).toMatchObject({ outcome: 'updated', filesFetched: 2 });
    const requests = fixture.proxy.blobRequests(file.sha256);
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({ status: 200, bytes: Math.floor(file.size / 2) });
    expect(requests[0]!.range).toBeUndefined();
    // The second asks only for what the device does not have yet.
    const resumedFrom = Number(/^bytes=(\d+)-$/.exec(requests[1]!.range ?? '')?.[1]);
    expect(resumedFrom).toBeGreaterThan(0);
    expect(resumedFrom).toBeLessThanOrEqual(Math.floor(file.size / 2));
    expect(requests[1]).toMatchObject({ status: 206, bytes: file.size - resumedFrom });

    const set = (await activeSet())!;
    expect(set.models[0]).toEqual({ ref: `fashion-ranker@${entry.version}`, role: 'ranker', files: registryFiles('fashion-ranker', entry.version) });
  });

  it('a corrupt blob is refused and reported, the previous version stays active, and it is not fetched again and again', async () => {
    const before = (await activeSet())!;
    const entry = fixture.newChampion('item-factors.q8');
    const file = entry.files.find((f) => f.name === 'item-factors.q8')!;
    fixture.proxy.corrupt(file.sha256);
    fixture.proxy.requests.length = 0;

    const run = await syncNow();
    expect(run.result).toBeUndefined();
    expect(run.phase).toBe('error');
    expect(run.errorKind).toBe('integrity');
    expect(run.error).toMatch(new RegExp(`^Refused fashion-ranker@${entry.version} item-factors\\.q8: its ${file.size} bytes hash to [0-9a-f]{12}…, not ${file.sha256.slice(0, 12)}…`));
    expect(run.refused.map((r) => r.sha256)).toEqual([file.sha256]);
    // Fetched whole twice (the retry starts from zero), never stored.
    expect(fixture.proxy.blobRequests(file.sha256).map((r) => r.range)).toEqual([undefined, undefined]);
    expect(await page.evaluate(async (sha) => (await window.fashionml!.storage.store()).count('blobs', sha), file.sha256)).toBe(0);
    expect(await activeSet()).toEqual(before);

    // The next run reports it again without downloading it.
    fixture.proxy.requests.length = 0;
    const again = await syncNow();
    expect(again.errorKind).toBe('integrity');
    expect(fixture.proxy.blobRequests(file.sha256)).toEqual([]);
    expect(await activeSet()).toEqual(before);
  });

  it('a reload keeps the active set', async () => {
    const before = (await activeSet())!;
    await page.reload();
    await appSettled();
    expect(await activeSet()).toEqual(before);
    const summary = await page.evaluate(async () => {
      await window.fashionml!.sync.load();
      const s = window.fashionml!.sync;
      return { active: s.active ? { ...s.active, models: [...s.active.models] } : undefined, lastUpdated: s.lastUpdated, refused: s.refused.length };
    });
    expect(summary.active).toMatchObject({ catalogVersion: before.catalogVersion, models: before.models.map((m) => m.ref) });
    expect(summary.lastUpdated).toBeGreaterThan(0);
    expect(summary.refused).toBe(1);
  });

  it('thumbnails seen once come from the service worker cache offline', async () => {
    // The service worker controls the page from the reload above on.
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 30_000 });
    const url = await page.evaluate(async () => {
      const set = await window.fashionml!.sync.loadActiveSet();
      const item = set!.items.find((i) => i.imageSha256 && i.id.startsWith('9'))!;
      return `/v1/thumbs/${item.imageSha256}.webp`;
    });
    const online = await page.evaluate(async (u) => {
      const response = await fetch(u);
      return { status: response.status, bytes: (await response.arrayBuffer()).byteLength };
    }, url);
    expect(online.status).toBe(200);
    expect(online.bytes).toBeGreaterThan(0);
    // The service worker answers first and stores the copy after (Workbox puts it in the cache
    // inside the fetch event's waitUntil), so wait for the entry rather than look once.
    await page.waitForFunction(async (u) => (await (await caches.open('fashionml-thumbs')).match(u)) !== undefined, url, { timeout: 10_000, polling: 100 });

    fixture.proxy.requests.length = 0;
    await browser.context.setOffline(true);
    try {
      const offline = await page.evaluate(async (u) => {
        const response = await fetch(u);
        return { status: response.status, bytes: (await response.arrayBuffer()).byteLength };
      }, url);
      expect(offline).toEqual(online);
      expect(fixture.proxy.requests.filter((r) => r.path === url)).toEqual([]);
    } finally {
      await browser.context.setOffline(false);
    }
  });
});
