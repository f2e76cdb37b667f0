/**
 * The Model Lab in real Chromium against the project's own server and a registry with two
 * fashion-ranker versions: the demo shop data (test/shop-fixture.ts: `fashion-ranker@1` as
 * champion) plus a second version trained here through the pipeline's `trainModels` (another
 * seed, the same image encoder) and made `challenger`.
 *
 * Checks: both versions side by side with what differs, the embedding map drawn (pixels, not a
 * blank canvas; screenshot in bench-results/model-lab.png), a per-backend benchmark, and that
 * loading versions in the lab leaves the shopper's active set and worker exactly as they were.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_DIR, launchBrowser } from '../../../test/browser';
import type { Browser } from '../../../test/browser';
import { prepareShopData } from '../../../test/shop-fixture';
import { dataPaths } from '../../../server/config';
import { buildAppServer } from '../../../server/http/app';
import { trainModels } from '../../../server/pipeline/pipeline';
import { Registry } from '../../../server/registry/registry';
import { FeatureStore } from '../../../server/store/feature-store';

const SCREENSHOT = resolve('bench-results', 'model-lab.png');

let dataDir: string;
let server: FastifyInstance;
let url: string;
let browser: Browser;
let page: Page;
let champion: string;
let challenger: string;

beforeAll(async () => {
  const data = await prepareShopData('demo');
  dataDir = mkdtempSync(join(tmpdir(), 'fashionml-lab-'));
  cpSync(data.dataDir, dataDir, { recursive: true });
  const paths = dataPaths(dataDir);
  const registry = new Registry(paths.registry);
  const store = FeatureStore.open(paths.featureStore);
  try {
    // A second ranker version as the pipeline makes one: another seed, the registered encoder reused.
    const trained = await trainModels({ paths, store, registry, catalogVersion: data.catalogVersion, encoderBudgetSeconds: 0, seed: 7, log: () => undefined });
    challenger = `${trained.ranker.id}@${trained.ranker.version}`;
    registry.setAlias('challenger', trained.ranker.id, trained.ranker.version);
  } finally {
    store.close();
  }
  champion = data.ranker;
  server = await buildAppServer({ appDir: APP_DIR, api: { registry, thumbsDir: paths.thumbs } });
  url = await server.listen({ host: '127.0.0.1', port: 0 });
  browser = await launchBrowser();
  page = browser.page;
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** What the shopper's side holds: the active set record, the blobs it keeps, and what its worker has loaded. */
async function shopperState(): Promise<{ active: unknown; blobs: string[]; worker: string | undefined; catalogChunks: number }> {
  return page.evaluate(async () => {
    const handle = window.fashionml!;
    const store = await handle.storage.store();
    const active = (await store.get('meta', 'sync.active'))?.value;
    const blobs = (await store.getAll('blobs')).map((b) => b.sha256).sort();
    const loaded = await handle.runtime.engine.call((api) => api.loadedModels());
    return { active, blobs, worker: loaded?.ranker, catalogChunks: await store.count('catalog') };
  });
}

describe('Model Lab', () => {
  it('lists the registry’s versions with metrics and lineage', async () => {
    await page.goto(`${url}/?backend=wasm#/lab`);
    // The app's own start-up sync and worker load, which the lab must leave alone.
    await page.waitForFunction(() => window.fashionml?.shop.recommender.status === 'ready', undefined, { timeout: 90_000 });
    await page.getByTestId('versions-fashion-ranker').waitFor({ timeout: 60_000 });
    const rows = await page.$$eval('[data-testid="versions-fashion-ranker"] [data-testid="version-row"]', (trs) => trs.map((tr) => tr.getAttribute('data-ref')));
    expect(rows).toEqual([challenger, champion]);
    const challengerRow = page.locator(`[data-ref="${challenger}"]`);
    await expect(challengerRow.textContent()).resolves.toContain('challenger');
    await expect(challengerRow.textContent()).resolves.toContain(champion); // its parent
    await page.getByTestId('metric-history-fashion-ranker').waitFor();
    expect(await page.getByTestId('pick-a').inputValue()).toBe(champion);
    expect(await page.getByTestId('pick-b').inputValue()).toBe(challenger);
  });

  it('shows champion and challenger side by side on a simulated persona, with what differs', async () => {
    const before = await shopperState();
    expect(before.worker).toBe(champion);

    const persona = await page.$$eval('[data-testid="pick-profile"] option', (options) => options.map((o) => (o as HTMLOptionElement).value).find((v) => v.startsWith('persona-')));
    expect(persona, 'the lab made simulated personas from the catalog').toBeDefined();
    await page.getByTestId('pick-profile').selectOption(persona!);
    await page.getByTestId('lab-compare').click();
    await page.locator('[data-testid="model-lab"][data-status="ready"] [data-testid="embedding-map"]').waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('lab-error').count()).toBe(0);

    const columns = await page.$$eval('[data-testid^="feed-"][data-ref]', (sections) =>
      sections.map((s) => ({ ref: s.getAttribute('data-ref'), items: [...s.querySelectorAll('[data-testid="lab-feed-item"]')].map((li) => li.getAttribute('data-item-id')!) })),
    );
    expect(columns.map((c) => c.ref)).toEqual([champion, challenger]);
    for (const c of columns) expect(c.items.length).toBe(20);
    const diff = page.getByTestId('feed-diff');
    const onlyA = Number(await diff.getAttribute('data-only-a'));
    const shared = Number(await diff.getAttribute('data-shared'));
    expect(onlyA + shared).toBe(20);
    expect(onlyA).toBe(columns[0]!.items.filter((id) => !columns[1]!.items.includes(id)).length);

    // The map: points drawn in several category colours, not a blank canvas.
    const pixels = await page.getByTestId('embedding-canvas').evaluate((canvas) => {
      const c = canvas as HTMLCanvasElement;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let inked = 0;
      const colours = new Set<string>();
      for (let i = 0; i < data.length; i += 4) {
        if (data[i]! < 245 || data[i + 1]! < 245 || data[i + 2]! < 245) {
          inked++;
          colours.add(`${data[i]! >> 4},${data[i + 1]! >> 4},${data[i + 2]! >> 4}`);
        }
      }
      return { inked, colours: colours.size, total: data.length / 4 };
    });
    expect(pixels.inked).toBeGreaterThan(500);
    expect(pixels.inked).toBeLessThan(pixels.total * 0.8);
    expect(pixels.colours).toBeGreaterThanOrEqual(3);
    expect(Number(await page.getByTestId('embedding-map').getAttribute('data-points'))).toBeGreaterThan(100);

    // Hovering a drawn point shows its item.
    await page.getByTestId('embedding-canvas').scrollIntoViewIfNeeded();
    const box = (await page.getByTestId('embedding-canvas').boundingBox())!;
    const spot = await page.getByTestId('embedding-canvas').evaluate((canvas) => {
      const c = canvas as HTMLCanvasElement;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < data.length; i += 4 * 7) if (data[i]! < 200 && data[i + 3] === 255) return { x: ((i / 4) % c.width) / c.width, y: Math.floor(i / 4 / c.width) / c.height };
      return null;
    });
    expect(spot).not.toBeNull();
    await page.mouse.move(box.x + spot!.x * box.width, box.y + spot!.y * box.height);
    await expect(page.getByTestId('map-tooltip').getAttribute('data-item-id')).resolves.toMatch(/.+/);
    await page.mouse.move(0, 0);

    mkdirSync(resolve('bench-results'), { recursive: true });
    // The sticky app header would be stitched into the middle of a tall element screenshot.
    await page.addStyleTag({ content: '.app-header { position: static !important; }' });
    await page.getByTestId('model-lab').screenshot({ path: SCREENSHOT });
    const stats = await sharp(SCREENSHOT).stats();
    expect(stats.channels.slice(0, 3).every((ch) => ch.stdev > 10), 'the screenshot is not one flat colour').toBe(true);
    const meta = await sharp(SCREENSHOT).metadata();
    expect(meta.height).toBeGreaterThan(800);

    // The challenger trained above records its loss curves in ranker.json: drawn as charts.
    expect(await page.getByTestId('training-curves').locator('svg').count()).toBeGreaterThanOrEqual(2);

    // The shopper's side is exactly as it was: same active set, same blobs, same model in its worker.
    const after = await shopperState();
    expect(after).toEqual(before);
    const labCache = await page.evaluate(async () => (await (await caches.open('fashionml-lab')).keys()).length);
    expect(labCache).toBeGreaterThan(0);
    expect(browser.errors).toEqual([]);
  });

  it('times each backend on this device with latency histograms', async () => {
    await page.locator('input[type="number"]').fill('5');
    await page.getByTestId('lab-benchmark').click();
    await page.getByTestId('bench-table').waitFor({ timeout: 300_000 });
    const rows = await page.$$eval('[data-testid="bench-row"]', (trs) => trs.map((tr) => ({ backend: tr.getAttribute('data-backend'), svgs: tr.querySelectorAll('svg').length, text: tr.textContent ?? '' })));
    const wasm = rows.find((r) => r.backend === 'wasm');
    const js = rows.find((r) => r.backend === 'js');
    expect(wasm?.text).toMatch(/median .* ms · p95/);
    expect(wasm?.svgs).toBe(4); // feed, similar, search and photo search
    expect(js?.svgs).toBeGreaterThanOrEqual(3);
    // What the shopper screens record (src/lib/monitoring) shows up in the lab's monitoring panel.
    await page.evaluate(async () => {
      const store = await window.fashionml!.storage.store();
      const at = Date.now();
      await store.putMany('metrics', [
        ...[3, 4, 5, 30].map((value) => ({ name: 'monitor.latency_ms', value, at, tags: { op: 'feed', backend: 'wasm' } })),
        { name: 'monitor.error', value: 1, at, tags: { op: 'search', message: 'Error: test failure' } },
        { name: 'monitor.shown', value: 2, at, tags: { items: JSON.stringify(window.fashionml!.shop.catalog.items.slice(0, 2).map((i) => i.id)) } },
      ]);
    });
    await page.getByTestId('monitoring-refresh').click();
    await page.locator('[data-testid="monitoring-row"][data-op="feed"][data-backend="wasm"]').waitFor();
    await expect(page.getByTestId('monitoring-errors').textContent()).resolves.toContain('test failure');
    await expect(page.getByTestId('monitoring-coverage').textContent()).resolves.toMatch(/^\s*2 distinct items shown of \d+/);

    const leaked = await page.evaluate(async () => (await window.fashionml!.runtime.engine.call((api) => api.loadedModels()))?.ranker);
    expect(leaked).toBe(champion);
  }, 400_000);
});
