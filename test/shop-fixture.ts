/**
 * Data for the shopper app's end-to-end tests and benchmark: a catalog ingested into a fresh data
 * directory and run through `fashionml pipeline` (server/pipeline: image encoder on a short budget,
 * catalog embeddings, ranker pack, registered with lineage, catalog published), with the ranker as
 * `champion` — the same registry `fashionml serve` would serve.
 *
 * Two catalogs: the generated demo catalog (always), and the real Myntra catalog from
 * ../shared/data when present. The result is cached under `.data/shop-fixture/<key>`, where the key
 * hashes the catalog's files, the budgets, and the committed formats the device reads (pack,
 * encoder, snapshot, registry): a second run starts in seconds, and work in progress elsewhere
 * does not retrain it. FASHIONML_SHOP_FIXTURE_FRESH=1 rebuilds it. A run that fails half-way leaves
 * no `shop-data.json` and is redone.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CatalogItem } from '../models/catalog/item';
import { dataPaths } from '../server/config';
import { generateDemoCatalog } from '../server/demo/demo-catalog';
import { buildAppServer } from '../server/http/app';
import { ingestCatalog } from '../server/ingest/ingest-catalog';
import { runPipeline } from '../server/pipeline/pipeline';
import { Registry } from '../server/registry/registry';
import { FeatureStore } from '../server/store/feature-store';
import { APP_DIR } from './browser';

export const MYNTRA_DIR = resolve(process.env.FASHIONML_MYNTRA_DIR ?? '../shared/data/myntra-fashion-small');

export type ShopCatalog = 'demo' | 'myntra';

/** Training budget of the image encoder, in seconds, per catalog (short: tests need it to work, not to be the best). */
const ENCODER_BUDGET_S: Record<ShopCatalog, number> = { demo: 20, myntra: 90 };
/** Bumped when what the fixture writes changes. */
const FIXTURE_VERSION = 2;
/** The files whose committed content the device reads: a change to one of them remakes the data. */
const FORMATS = ['models/recommend/pack.ts', 'models/image/serialize.ts', 'models/catalog/snapshot-codec.ts', 'models/content/content-model.ts'];

export interface PhotoQuery {
  /** A catalog photo file, as a shopper would pick it. */
  file: string;
  itemId: string;
  /** The item itself and every item with a byte-identical photo: any of them is a right first answer. */
  acceptable: string[];
}

export interface ShopData {
  catalog: ShopCatalog;
  dataDir: string;
  catalogVersion: number;
  itemCount: number;
  ranker: string;
  imageEncoder: string;
  photoQueries: PhotoQuery[];
  /** Seconds each step took when the data was made (not when read from the cache). */
  timings: Record<string, number>;
}

export function hasMyntra(): boolean {
  return existsSync(join(MYNTRA_DIR, 'styles.csv')) && existsSync(join(MYNTRA_DIR, 'images'));
}

/** Git's object id of each path at HEAD (uncommitted edits do not count); empty outside a checkout. */
function committedIds(paths: readonly string[]): string {
  try {
    return execFileSync('git', ['rev-parse', ...paths.map((p) => `HEAD:${p}`)], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  } catch {
    return '';
  }
}

function cacheKey(catalog: ShopCatalog): string {
  const hash = createHash('sha256').update(`${FIXTURE_VERSION}|${catalog}|${ENCODER_BUDGET_S[catalog]}|${committedIds(FORMATS)}`);
  if (catalog === 'myntra') {
    // The photos are too many to hash every run; their listing and styles.csv stand for them.
    hash.update(readFileSync(join(MYNTRA_DIR, 'styles.csv')));
    hash.update(readdirSync(join(MYNTRA_DIR, 'images')).sort().join('\n'));
  }
  return hash.digest('hex').slice(0, 16);
}

/** Makes (or reads from the cache) the data directory for one catalog. */
export async function prepareShopData(catalog: ShopCatalog, log: (line: string) => void = (line) => console.log(`[shop-fixture] ${line}`)): Promise<ShopData> {
  if (catalog === 'myntra' && !hasMyntra()) throw new Error(`The real catalog is not at ${MYNTRA_DIR} (styles.csv + images/)`);
  const dir = resolve('.data', 'shop-fixture', `${catalog}-${cacheKey(catalog)}`);
  const done = join(dir, 'shop-data.json');
  if (existsSync(done) && process.env.FASHIONML_SHOP_FIXTURE_FRESH !== '1') {
    log(`${catalog}: using ${dir}`);
    return JSON.parse(readFileSync(done, 'utf8')) as ShopData;
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const timings: Record<string, number> = {};
  const timed = async <T>(step: string, work: () => Promise<T> | T): Promise<T> => {
    const started = performance.now();
    log(`${catalog}: ${step}…`);
    const result = await work();
    timings[step] = (performance.now() - started) / 1000;
    log(`${catalog}: ${step} took ${timings[step]!.toFixed(1)} s`);
    return result;
  };

  const paths = dataPaths(dir);
  let source = MYNTRA_DIR;
  let interactions: string | undefined;
  if (catalog === 'demo') {
    const demo = await timed('generate demo catalog', () => generateDemoCatalog(paths.demoSource));
    source = paths.demoSource;
    interactions = demo.interactionsCsv;
  }

  const store = FeatureStore.open(paths.featureStore);
  try {
    const summary = await timed('ingest', () => ingestCatalog({ catalog: source, ...(interactions ? { interactions } : {}), dataDir: paths.root, store }));
    if (!summary.images) throw new Error('shop fixture: ingest read no photos');
    const version = summary.version.version;
    const registry = new Registry(paths.registry);
    const trained = await timed('pipeline (encoder, embeddings, ranker, publish)', () =>
      runPipeline({
        paths,
        store,
        registry,
        catalogVersion: version,
        encoderBudgetSeconds: ENCODER_BUDGET_S[catalog],
        seed: 42,
        log: (line) => log(`${catalog}: ${line}`),
      }),
    );
    if (!trained.encoder) throw new Error('shop fixture: the pipeline trained no image encoder');
    const ranker = `${trained.ranker.id}@${trained.ranker.version}`;
    if (trained.alias !== 'champion') {
      // The journey needs a champion to sync; the gate's verdict is the pipeline's own test's concern.
      log(`${catalog}: the gate kept ${ranker} as ${trained.alias} (${JSON.stringify(trained.decision)}); making it champion for the tests`);
      registry.setAlias('champion', trained.ranker.id, trained.ranker.version);
    }
    const items = store.items(version);
    const data: ShopData = {
      catalog,
      dataDir: dir,
      catalogVersion: version,
      itemCount: items.length,
      ranker,
      imageEncoder: `${trained.encoder.id}@${trained.encoder.version}`,
      photoQueries: photoQueries(items, source),
      timings,
    };
    writeFileSync(done, JSON.stringify(data, null, 2));
    return data;
  } finally {
    store.close();
  }
}

/** A few catalog photos spread over the catalog, each with the ids that share its exact bytes. */
function photoQueries(items: readonly CatalogItem[], source: string, count = 5): PhotoQuery[] {
  const bySha = new Map<string, string[]>();
  for (const item of items) if (item.imageSha256) bySha.set(item.imageSha256, [...(bySha.get(item.imageSha256) ?? []), item.id]);
  const withPhoto = items.filter((item) => item.imageSha256 && item.image && existsSync(join(source, item.image)));
  const step = Math.max(1, Math.floor(withPhoto.length / count));
  return withPhoto
    .filter((_, i) => i % step === 0)
    .slice(0, count)
    .map((item) => ({ file: join(source, item.image!), itemId: item.id, acceptable: bySha.get(item.imageSha256!) ?? [item.id] }));
}

export interface ShopServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the built app and the sync API over the fixture's registry and thumbnails. */
export async function startShopServer(data: ShopData, port = 0): Promise<ShopServer> {
  const paths = dataPaths(data.dataDir);
  const server = await buildAppServer({ appDir: APP_DIR, api: { registry: new Registry(paths.registry), thumbsDir: paths.thumbs, photosDir: paths.photos } });
  const url = await server.listen({ host: '127.0.0.1', port });
  return { url, close: () => server.close() };
}
