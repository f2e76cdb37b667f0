/**
 * The product page and the cart on a real shop's catalog, in real Chromium against the project's
 * own server: a tiny H&M export (about 30 articles of ../shared/data/hm-sample, several garments in
 * more than one colour, plus their purchases) built in a temporary folder, ingested with the
 * example mapping files, trained, published and served.
 *
 * Checks that the product page shows the larger rendition at its own size (the 128×192 source, not
 * the 85×128 thumbnail), lists exactly the item's variant-group siblings under "Other colours" and
 * opens one on click, shows the price, and that the cart shows prices, quantities and their total.
 * Every expectation is read from the catalog the device synced, or from the feature store.
 *
 * Skipped visibly when the H&M sample is not there.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import type { CatalogItem } from '../../models/catalog/item';
import { APP_DIR, launchBrowser } from '../../test/browser';
import type { Browser } from '../../test/browser';
import { dataPaths } from '../../server/config';
import type { DataPaths } from '../../server/config';
import { buildAppServer } from '../../server/http/app';
import { ingestCatalog } from '../../server/ingest/ingest-catalog';
import { runPipeline } from '../../server/pipeline/pipeline';
import { Registry } from '../../server/registry/registry';
import { FeatureStore } from '../../server/store/feature-store';

const HM = resolve(process.env.FASHIONML_HM_DIR ?? '../shared/data/hm-sample');
const hasHm = existsSync(join(HM, 'articles.csv')) && existsSync(join(HM, 'transactions.csv')) && existsSync(join(HM, 'images'));
if (!hasHm) console.warn(`product.e2e: ${HM} not found: the H&M product page test is skipped`);

/** Garments in three or more colours, and garments in one, taken from the export in file order. */
const GROUPS = 6;
const PER_GROUP = 4;
const SINGLES = 8;

/**
 * Writes the tiny export into `dir`: the chosen articles.csv rows as they are, their purchases, and
 * a link to the sample's images folder (the image paths are relative to the articles file).
 */
function writeTinyExport(dir: string): { ids: string[] } {
  const [header, ...rows] = readFileSync(join(HM, 'articles.csv'), 'utf8').split('\n').filter((line) => line !== '');
  // Only plain rows are chosen (no quoted field), so the first columns can be split on commas:
  // article_id, product_code, …, colour_group_name (7th).
  const plain = rows.filter((line) => !line.includes('"'));
  const byGroup = new Map<string, string[][]>();
  for (const line of plain) {
    const fields = line.split(',');
    byGroup.set(fields[1]!, [...(byGroup.get(fields[1]!) ?? []), fields]);
  }
  const groups = [...byGroup.values()].filter((members) => members.length >= 3 && new Set(members.map((f) => f[6])).size === members.length);
  const singles = [...byGroup.values()].filter((members) => members.length === 1);
  const chosen = [...groups.slice(0, GROUPS).flatMap((members) => members.slice(0, PER_GROUP)), ...singles.slice(0, SINGLES).flat()];
  const ids = new Set(chosen.map((fields) => fields[0]!));
  writeFileSync(join(dir, 'articles.csv'), `${[header, ...chosen.map((fields) => fields.join(','))].join('\n')}\n`);
  const [tHeader, ...sales] = readFileSync(join(HM, 'transactions.csv'), 'utf8').split('\n');
  writeFileSync(join(dir, 'transactions.csv'), `${[tHeader, ...sales.filter((line) => ids.has(line.split(',')[2] ?? ''))].join('\n')}\n`);
  symlinkSync(join(HM, 'images'), join(dir, 'images'), 'dir');
  return { ids: [...ids] };
}

/** The catalog as the page holds it after the sync (the state the screens describe). */
async function deviceCatalog(page: Page): Promise<CatalogItem[]> {
  const items = await page.evaluate(() => window.fashionml!.shop.catalog.items.map((item) => ({ ...item })));
  // IndexedDB rows also name the catalog version they belong to; the item is the rest.
  return items.map((item) => {
    const copy: CatalogItem & { catalogVersion?: number } = { ...item };
    delete copy.catalogVersion;
    return copy;
  });
}

async function openProduct(page: Page, url: string, id: string): Promise<void> {
  await page.goto(`${url}/#/product/${id}`);
  await page.locator(`[data-testid="product"][data-item-id="${id}"]`).waitFor({ timeout: 120_000 });
}

/** The product photo once it has loaded: what it shows and at what natural size. */
async function loadedPhoto(page: Page): Promise<{ src: string; naturalWidth: number; naturalHeight: number; width: number; height: number }> {
  const photo = page.getByTestId('product-photo');
  await photo.waitFor();
  await page.waitForFunction(() => {
    const img = document.querySelector<HTMLImageElement>('[data-testid="product-photo"]');
    return img !== null && img.complete && img.naturalWidth > 0;
  }, undefined, { timeout: 30_000 });
  return photo.evaluate((img: HTMLImageElement) => ({
    src: new URL(img.currentSrc).pathname,
    naturalWidth: img.naturalWidth,
    naturalHeight: img.naturalHeight,
    width: img.width,
    height: img.height,
  }));
}

async function otherColours(page: Page): Promise<{ id: string; colour: string }[]> {
  return page.$$eval('[data-testid="other-colours"] [data-testid="variant-card"]', (cards) =>
    cards.map((card) => ({ id: card.getAttribute('data-item-id') ?? '', colour: card.querySelector('[data-testid="variant-colour"]')?.textContent?.trim() ?? '' })),
  );
}

describe.skipIf(!hasHm)(`the product page on a small H&M export${hasHm ? '' : ' (skipped: ../shared/data/hm-sample not found)'}`, () => {
  let dir: string;
  let paths: DataPaths;
  let app: FastifyInstance;
  const server = { url: '' };
  let browser: Browser;
  let stored: CatalogItem[];
  let chosen: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fashionml-hm-product-'));
    const exportDir = join(dir, 'export');
    mkdirSync(exportDir);
    chosen = writeTinyExport(exportDir).ids;
    paths = dataPaths(join(dir, 'data'));
    const store = FeatureStore.open(paths.featureStore);
    try {
      const summary = await ingestCatalog({
        catalog: join(exportDir, 'articles.csv'),
        mapping: resolve('examples/hm-sample/catalog-mapping.json'),
        interactions: join(exportDir, 'transactions.csv'),
        interactionsMapping: resolve('examples/hm-sample/interactions-mapping.json'),
        dataDir: paths.root,
        store,
      });
      expect(summary.catalog).toMatchObject({ accepted: chosen.length, quarantined: 0 });
      const registry = new Registry(paths.registry);
      // No image encoder (budget 0): this test is about the page, and the ranker still trains.
      const trained = await runPipeline({ paths, store, registry, catalogVersion: summary.version.version, encoderBudgetSeconds: 0, seed: 42, log: () => undefined });
      if (trained.alias !== 'champion') registry.setAlias('champion', trained.ranker.id, trained.ranker.version);
      stored = store.items(summary.version.version);
      // What `fashionml serve` serves over this data directory.
      app = await buildAppServer({ appDir: APP_DIR, api: { registry, thumbsDir: paths.thumbs, photosDir: paths.photos } });
      server.url = await app.listen({ host: '127.0.0.1', port: 0 });
    } finally {
      store.close();
    }
    browser = await launchBrowser();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('syncs the catalog with rendition sizes, variant groups and prices', async () => {
    expect(stored).toHaveLength(chosen.length);
    expect(chosen.length).toBeGreaterThanOrEqual(25);
    const { page } = browser;
    await page.goto(`${server.url}/?backend=wasm`);
    await page.waitForFunction((n) => window.fashionml?.shop.catalog.items.length === n, stored.length, { timeout: 120_000 });
    const items = await deviceCatalog(page);
    // The device holds what ingest stored, field for field.
    expect(new Map(items.map((i) => [i.id, i]))).toEqual(new Map(stored.map((i) => [i.id, i])));
    expect(items.every((i) => i.rendition?.width === 128 && i.rendition.height === 192)).toBe(true);
    expect(items.every((i) => i.price !== undefined)).toBe(true);
    expect(new Set(items.map((i) => i.variantGroup)).size).toBe(GROUPS + SINGLES);
  });

  it('shows the rendition at its natural size, "Other colours" with exactly the siblings, and the price', async () => {
    const { page } = browser;
    const items = await deviceCatalog(page);
    const group = (item: CatalogItem) => items.filter((other) => other.variantGroup === item.variantGroup && other.id !== item.id);
    const item = items.find((i) => group(i).length >= 2)!;
    await openProduct(page, server.url, item.id);

    const photo = await loadedPhoto(page);
    expect(photo.src).toBe(`/v1/photos/${item.imageSha256}.webp`);
    // The 128×192 source at its own size, not the 85×128 thumbnail.
    expect([photo.naturalWidth, photo.naturalHeight]).toEqual([item.rendition!.width, item.rendition!.height]);
    expect(photo.naturalHeight).toBeGreaterThan(128);
    const thumb = await page.evaluate(async (sha) => {
      const bitmap = await createImageBitmap(await (await fetch(`/v1/thumbs/${sha}.webp`)).blob());
      return [bitmap.width, bitmap.height];
    }, item.imageSha256);
    expect(thumb).toEqual([85, 128]);
    expect(photo.naturalWidth * photo.naturalHeight).toBeGreaterThan(thumb[0]! * thumb[1]!);

    const expected = group(item).map((other) => ({ id: other.id, colour: other.colour }));
    expect(await otherColours(page)).toEqual(expected);
    await expect(page.getByRole('heading', { name: 'Other colours' }).isVisible()).resolves.toBe(true);
    // Each sibling's card shows its photo (thumbnail) with its colour name.
    const thumbs = await page.$$eval('[data-testid="variant-card"] img', (imgs) => imgs.map((img) => new URL((img as HTMLImageElement).src).pathname));
    expect(thumbs).toEqual(group(item).map((other) => `/v1/thumbs/${other.imageSha256}.webp`));

    await expect(page.getByTestId('product-price').textContent()).resolves.toBe(item.price!.toFixed(2));

    // Clicking a colour opens that item's page, which lists the first item among its others.
    const target = group(item)[1]!;
    await page.locator(`[data-testid="variant-card"][data-item-id="${target.id}"]`).click();
    await page.locator(`[data-testid="product"][data-item-id="${target.id}"]`).waitFor({ timeout: 30_000 });
    expect(new URL(page.url()).hash).toBe(`#/product/${target.id}`);
    await expect(page.locator('#product-title').textContent()).resolves.toBe(target.title);
    expect(await otherColours(page)).toEqual(group(target).map((other) => ({ id: other.id, colour: other.colour })));
    expect((await otherColours(page)).map((o) => o.id)).toContain(item.id);
    const next = await loadedPhoto(page);
    expect(next.src).toBe(`/v1/photos/${target.imageSha256}.webp`);
    expect([next.naturalWidth, next.naturalHeight]).toEqual([128, 192]);
    await expect(page.getByTestId('product-price').textContent()).resolves.toBe(target.price!.toFixed(2));
  });

  it('hides "Other colours" for an item alone in its group', async () => {
    const { page } = browser;
    const items = await deviceCatalog(page);
    const single = items.find((i) => items.filter((o) => o.variantGroup === i.variantGroup).length === 1)!;
    await openProduct(page, server.url, single.id);
    await loadedPhoto(page);
    expect(await page.getByTestId('other-colours').count()).toBe(0);
  });

  it('falls back to the thumbnail when the rendition cannot be had', async () => {
    const { page } = browser;
    const items = await deviceCatalog(page);
    // Not opened before (so not in the service worker's cache), and gone from the server.
    const item = items[items.length - 1]!;
    rmSync(join(paths.photos, `${item.imageSha256}.webp`));
    await openProduct(page, server.url, item.id);
    const thumb = page.locator('.product-photo img[data-testid="thumb"]');
    await thumb.waitFor({ timeout: 30_000 });
    expect(new URL((await thumb.getAttribute('src'))!, server.url).pathname).toBe(`/v1/thumbs/${item.imageSha256}.webp`);
    await expect(thumb.getAttribute('alt')).resolves.toBe(item.title);
    expect(await page.getByTestId('product-photo').count()).toBe(0);
  });

  it('the service worker keeps renditions once shown, like thumbnails', async () => {
    const { page } = browser;
    const items = await deviceCatalog(page);
    const item = items[1]!;
    await openProduct(page, server.url, item.id);
    // The service worker takes over documents loaded once it is active (hash changes are not
    // loads), so the page is loaded again then and the photo fetched through its cache rule.
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await page.reload();
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 60_000 });
    await loadedPhoto(page);
    const url = `/v1/photos/${item.imageSha256}.webp`;
    await page.waitForFunction(async (u) => (await (await caches.open('fashionml-photos')).match(u)) !== undefined, url, { timeout: 30_000, polling: 200 });
    await browser.context.setOffline(true);
    try {
      const offline = await page.evaluate(async (u) => {
        const response = await fetch(u);
        return { status: response.status, type: response.headers.get('content-type'), bytes: (await response.arrayBuffer()).byteLength };
      }, url);
      expect(offline).toMatchObject({ status: 200, type: 'image/webp' });
      expect(offline.bytes).toBe(readFileSync(join(paths.photos, `${item.imageSha256}.webp`)).length);
    } finally {
      await browser.context.setOffline(false);
    }
  });

  it('the cart shows each line\'s price, a quantity control and the total', async () => {
    const { page } = browser;
    const items = await deviceCatalog(page);
    const [a, b] = [items[0]!, items[items.length - 2]!];
    for (const item of [a, b]) {
      await openProduct(page, server.url, item.id);
      await page.getByTestId('product-add-to-cart').click();
      await expect.poll(() => page.evaluate((id) => window.fashionml!.shop.cart.has(id), item.id)).toBe(true);
    }
    await page.goto(`${server.url}/#/cart`);
    const line = (item: CatalogItem) => page.locator(`[data-testid="cart-line"][data-item-id="${item.id}"]`);
    await line(a).waitFor();
    await expect(line(a).getByTestId('cart-line-price').textContent()).resolves.toBe(a.price!.toFixed(2));
    await line(a).getByRole('button', { name: `One more ${a.title}` }).click();
    await line(a).getByRole('button', { name: `One more ${a.title}` }).click();
    await expect.poll(() => line(a).getByTestId('quantity').textContent()).toBe('3');
    await line(a).getByRole('button', { name: `One fewer ${a.title}` }).click();
    await expect.poll(() => line(a).getByTestId('quantity').textContent()).toBe('2');

    // The page agrees with the stored cart, and the total with the catalog's prices.
    const entries = await page.evaluate(async () => {
      const record = await (await window.fashionml!.storage.store()).get('meta', 'shop.cart');
      return record?.value as { itemId: string; quantity: number }[];
    });
    const quantities = new Map(entries.map((e) => [e.itemId, e.quantity]));
    expect(quantities.get(a.id)).toBe(2);
    expect(quantities.get(b.id)).toBe(1);
    await expect(line(a).getByTestId('cart-line-subtotal').textContent()).resolves.toBe((a.price! * 2).toFixed(2));
    const total = a.price! * 2 + b.price!;
    await expect(page.getByTestId('cart-total').textContent()).resolves.toBe(total.toFixed(2));
    await expect(page.getByTestId('checkout').textContent()).resolves.toMatch(/Buy 3 items/);

    // A cart stored before quantities existed reads as one of each.
    await page.evaluate(async (ids) => {
      const store = await window.fashionml!.storage.store();
      await store.put('meta', { key: 'shop.cart', value: ids.map((itemId) => ({ itemId, at: 1 })), updatedAt: Date.now() });
    }, [a.id, b.id]);
    await page.reload();
    await line(a).waitFor({ timeout: 60_000 });
    await expect(line(a).getByTestId('quantity').textContent()).resolves.toBe('1');
    await expect(page.getByTestId('cart-total').textContent()).resolves.toBe((a.price! + b.price!).toFixed(2));
    expect(browser.errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });
});
