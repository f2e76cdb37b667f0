import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeCatalogBlob, encodeSnapshotPayload } from '../../models/catalog/snapshot-codec';
import { Registry } from '../registry/registry';
import { FeatureStore } from '../store/feature-store';
import { loadMapping } from './generic-catalog';
import { ingestCatalog } from './ingest-catalog';
import type { QualityReport } from './quality-report';

const REAL = resolve(process.cwd(), '../shared/data/myntra-fashion-small');
const hasRealData = existsSync(join(REAL, 'styles.csv'));
if (!hasRealData) console.warn(`ingest-catalog: ${REAL} not found: real-catalog tests are skipped`);

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fashionml-ingest-'));
  dirs.push(dir);
  return dir;
}

describe.skipIf(!hasRealData)('ingest of the real Myntra catalog (needs ../shared/data)', () => {
  it('accounts for every row, keeps the comma names, and reports no drift on a re-ingest', async () => {
    const dir = dataDir();
    const store = FeatureStore.open(join(dir, 'features.sqlite'));
    const lines = readFileSync(join(REAL, 'styles.csv'), 'utf8').split('\n').filter((l) => l.trim() !== '').length - 1;

    const first = await ingestCatalog({ catalog: REAL, skipImages: true, dataDir: dir, store });
    expect(first.catalog.rowsRead).toBe(lines);
    expect(first.catalog.accepted + first.catalog.quarantined).toBe(lines);
    expect(first.version.itemCount).toBe(first.catalog.accepted);
    const items = store.items(1);
    expect(items).toHaveLength(first.catalog.accepted);
    expect(items.find((i) => i.id === '23124')?.title).toBe('Converse Unisex Navy Blue Liv,Laugh,Love Flip-flops');
    expect(items.filter((i) => i.title.includes(',')).length).toBeGreaterThanOrEqual(17);

    const report = JSON.parse(readFileSync(first.report.json, 'utf8')) as QualityReport;
    expect(Object.keys(report.distributions.gender ?? {})).toHaveLength(5);
    expect(report.drift).toBeNull();
    expect(existsSync(first.report.html)).toBe(true);

    const second = await ingestCatalog({ catalog: REAL, skipImages: true, dataDir: dir, store });
    expect(second.version.version).toBe(2);
    expect(second.version.contentHash).toBe(first.version.contentHash);
    expect(store.delta(1, 2)).toMatchObject({ added: [], changed: [], removed: [] });
    const again = JSON.parse(readFileSync(second.report.json, 'utf8')) as QualityReport;
    expect(again.drift?.previousCatalogVersion).toBe(1);
    expect(again.drift?.columns.length).toBeGreaterThanOrEqual(7);
    for (const column of again.drift?.columns ?? []) expect(column.psi ?? 0, column.column).toBeLessThan(1e-9);
    expect(again.warnings.join(' ')).not.toMatch(/PSI/);
    store.close();
  }, 60_000);
});

/** A small shop export laid out like H&M's: photos in nested folders, prices only in the sales log. */
async function handMadeExport(): Promise<{ root: string; articles: string; transactions: string; mapping: string; interactionsMapping: string }> {
  const root = dataDir();
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const ids = ['0108775015', '0108775044', '0110065001', '0111586001'];
  for (const [i, id] of ids.entries()) {
    const photo = await sharp({ create: { width: 32, height: 48, channels: 3, background: { r: 40 * i, g: 90, b: 200 - 40 * i } } }).jpeg().toBuffer();
    mkdirSync(join(root, 'export/images', id.slice(0, 3)), { recursive: true });
    writeFileSync(join(root, 'export/images', id.slice(0, 3), `${id}.jpg`), photo);
  }
  write(
    'export/articles.csv',
    [
      'article_id,product_code,prod_name,product_type_name,colour_group_name,detail_desc,price,image',
      '0108775015,0108775,Strap top,Vest top,Black,,,images/010/0108775015.jpg',
      '0108775044,0108775,Strap top,Vest top,White,"Jersey top with narrow shoulder straps.",,images/010/0108775044.jpg',
      '0110065001,0110065,OP T-shirt (Idro),Bra,White,,0.5,images/011/0110065001.jpg',
      '0111586001,0111586,Shape Up 30 den 1p Tights,Leggings/Tights,Black,,,images/011/0111586001.jpg',
    ].join('\n') + '\n',
  );
  // Not in time order: the latest priced sale of 0108775015 is its first row.
  write(
    'export/transactions.csv',
    [
      't_dat,customer_id,article_id,price,sales_channel_id',
      '2019-01-05,c1,0108775015,0.03,2',
      '2018-12-01,c2,0108775015,0.05,2',
      '2019-02-01,c2,0108775044,,1',
      '2019-01-01,c1,0108775044,0.02,1',
      '2019-03-01,c3,0110065001,0.01,2',
    ].join('\n') + '\n',
  );
  write(
    'catalog-mapping.json',
    JSON.stringify({
      fields: {
        id: 'article_id',
        title: 'prod_name',
        articleType: 'product_type_name',
        colour: 'colour_group_name',
        description: 'detail_desc',
        price: 'price',
        variantGroup: 'product_code',
        image: 'image',
      },
      defaults: { gender: 'Unisex', masterCategory: 'Apparel', subCategory: 'Apparel' },
    }),
  );
  write(
    'interactions-mapping.json',
    JSON.stringify({ fields: { user: 'customer_id', item: 'article_id', timestamp: 't_dat', price: 'price' }, defaults: { type: 'purchase' } }),
  );
  return {
    root,
    articles: join(root, 'export/articles.csv'),
    transactions: join(root, 'export/transactions.csv'),
    mapping: join(root, 'catalog-mapping.json'),
    interactionsMapping: join(root, 'interactions-mapping.json'),
  };
}

describe('ingest of a mapped export with its sales log', () => {
  it('reads photos from nested folders, keeps variant groups, and prices items from their latest priced sale', async () => {
    const shop = await handMadeExport();
    const dir = dataDir();
    const store = FeatureStore.open(join(dir, 'features.sqlite'));
    const logged: string[] = [];
    const summary = await ingestCatalog({
      catalog: shop.articles,
      mapping: shop.mapping,
      interactions: shop.transactions,
      interactionsMapping: shop.interactionsMapping,
      dataDir: dir,
      store,
      progress: { start: () => ({ update: () => undefined, stop: () => undefined }), log: (m) => logged.push(m) },
    });
    expect(summary.catalog).toMatchObject({ rowsRead: 4, accepted: 4, quarantined: 0 });
    expect(summary.images).toMatchObject({ processed: 4, problems: 0 });
    expect(summary.interactions).toMatchObject({ rowsRead: 5, accepted: 5, quarantined: 0, pricesFilled: 2 });
    expect(logged).toContain('2 item price(s) taken from their latest interaction with a price');

    const items = store.items(summary.version.version);
    expect(items.map((i) => [i.id, i.variantGroup, i.price, i.image, i.description !== undefined])).toEqual([
      ['0108775015', '0108775', 0.03, 'images/010/0108775015.jpg', false],
      ['0108775044', '0108775', 0.02, 'images/010/0108775044.jpg', true],
      ['0110065001', '0110065', 0.5, 'images/011/0110065001.jpg', false], // its own price stays
      ['0111586001', '0111586', undefined, 'images/011/0111586001.jpg', false], // never sold: no price
    ]);
    for (const item of items) expect(item.imageSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(store.interactions().map((e) => e.price)).toEqual([0.05, 0.02, 0.03, undefined, 0.01]);
    // The report sees the prices the items got.
    const report = JSON.parse(readFileSync(summary.report.json, 'utf8')) as QualityReport;
    expect(report.warnings.join(' ')).not.toMatch(/No item has[^.]*price/);
    store.close();
  }, 60_000);
});

describe('the H&M sample catalog mapping (examples/hm-sample)', () => {
  it('validates against the schema, with product_code as the variant group', async () => {
    const mapping = await loadMapping(resolve(process.cwd(), 'examples/hm-sample/catalog-mapping.json'));
    expect(mapping.fields).toMatchObject({ id: 'article_id', title: 'prod_name', variantGroup: 'product_code', description: 'detail_desc', image: 'image' });
    expect(mapping.attributes).toBe('rest');
  });
});

const HM = resolve(process.cwd(), '../shared/data/hm-sample');
const hasHm = existsSync(join(HM, 'articles.csv')) && existsSync(join(HM, 'transactions.csv'));
if (!hasHm) console.warn(`ingest-catalog: ${HM} not found: the H&M sample test is skipped`);

describe.skipIf(!hasHm)(`ingest of the H&M sample export with the example mapping files${hasHm ? '' : ' (skipped: ../shared/data/hm-sample not found)'}`, () => {
  it('accepts every article, photo and purchase, and carries variant groups and prices to the published snapshot', async () => {
    const dir = dataDir();
    const store = FeatureStore.open(join(dir, 'features.sqlite'));
    const summary = await ingestCatalog({
      catalog: join(HM, 'articles.csv'),
      mapping: resolve(process.cwd(), 'examples/hm-sample/catalog-mapping.json'),
      interactions: join(HM, 'transactions.csv'),
      interactionsMapping: resolve(process.cwd(), 'examples/hm-sample/interactions-mapping.json'),
      dataDir: dir,
      store,
    });
    expect(summary.catalog).toMatchObject({ rowsRead: 15_885, accepted: 15_885, quarantined: 0 });
    // Every photo found under images/<3 digits>/, relative to the articles file's folder.
    expect(summary.images).toMatchObject({ processed: 15_885, problems: 0 });
    expect(summary.interactions).toMatchObject({ rowsRead: 29_424, accepted: 29_424, quarantined: 0 });

    const items = store.items(summary.version.version);
    expect(items).toHaveLength(15_885);
    // Ids are strings that keep their leading zero.
    expect(items.every((i) => /^\d{10}$/.test(i.id))).toBe(true);
    expect(items[0]!.id).toBe('0108775015');
    expect(items.every((i) => /^images\/\d{3}\/\d{10}\.jpg$/.test(i.image ?? '') && i.imageSha256 !== undefined)).toBe(true);
    expect(new Set(items.map((i) => i.variantGroup)).size).toBe(9_371);
    expect(items.every((i) => i.variantGroup === i.id.slice(0, 7))).toBe(true);
    expect(items.every((i) => !('product_code' in i.attributes) && !('image' in i.attributes))).toBe(true);
    // Descriptions for some articles only; the empty ones absent.
    const described = items.filter((i) => i.description !== undefined);
    expect(described.length).toBe(3_094);
    expect(described.every((i) => i.description!.trim() !== '')).toBe(true);

    // The articles carry no price: each gets its latest sale's, computed here independently.
    const latest = new Map<string, { day: string; price: number }>();
    for (const line of readFileSync(join(HM, 'transactions.csv'), 'utf8').split('\n').slice(1)) {
      const [day, , article, price] = line.split(',');
      if (!day || !article || !price) continue;
      const seen = latest.get(article);
      if (!seen || day >= seen.day) latest.set(article, { day, price: Number(price) });
    }
    expect(summary.interactions?.pricesFilled).toBe(15_885);
    expect(items.every((i) => i.price === latest.get(i.id)?.price)).toBe(true);
    expect(store.interactions().filter((e) => e.price !== undefined)).toHaveLength(29_424);

    // What the device gets: the published snapshot decodes to the stored items, groups included.
    const registry = new Registry(join(dir, 'registry'));
    const entry = registry.publishCatalog(store, summary.version.version);
    const decoded = await decodeCatalogBlob(new Uint8Array(registry.blobs.read(entry.snapshot.sha256)), entry.snapshot.sha256);
    expect(decoded.kind).toBe('snapshot');
    if (decoded.kind === 'snapshot') expect(decoded.items).toEqual(items);

    // Every photo is 128×192, above the 128-px thumbnail: each keeps a rendition at its own size.
    expect(items.every((i) => i.rendition?.width === 128 && i.rendition.height === 192)).toBe(true);
    const renditions = readdirSync(join(dir, 'images', 'photos'));
    expect(renditions.length).toBe(new Set(items.map((i) => i.imageSha256)).size);
    expect(summary.images).toMatchObject({ renditions: 15_885 });
    // What the rendition column adds to the synced snapshot (one small dictionary code per item).
    const without = items.map(({ rendition: _, ...rest }) => rest);
    const plain = gzipSync(encodeSnapshotPayload({ version: 1, contentHash: 'h', items: without }), { level: 9 }).length;
    const withSizes = gzipSync(encodeSnapshotPayload({ version: 1, contentHash: 'h', items }), { level: 9 }).length;
    expect(withSizes - plain).toBeLessThan(2_000);
    console.log(
      `H&M sample: ${renditions.length} renditions, ${(summary.images!.renditionBytes / 1e6).toFixed(1)} MB; ` +
        `snapshot ${(entry.snapshot.size / 1e6).toFixed(2)} MB, ${withSizes - plain} bytes of it for the rendition sizes`,
    );
    store.close();
  }, 600_000);
});
