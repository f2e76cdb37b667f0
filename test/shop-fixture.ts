/**
 * Data for the shopper app's end-to-end tests and benchmark: a catalog ingested into a fresh data
 * directory, an image encoder trained on its photos (short budget) and registered, the ranker pack
 * trained with those embeddings and registered as `champion`, and the catalog published — the
 * same registry `fashionml serve` would serve.
 *
 * Two catalogs: the generated demo catalog (always), and the real Myntra catalog from
 * ../shared/data when present. The result is cached under `.data/shop-fixture/<key>`, where the key
 * hashes the inputs (catalog files, the code that ingests and trains, the budgets), so a second
 * run with nothing changed starts in seconds; a run that fails half-way leaves no `done` marker
 * and is redone.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { CatalogItem } from '../models/catalog/item';
import { embed } from '../models/image/encoder';
import { dataPaths } from '../server/config';
import { generateDemoCatalog } from '../server/demo/demo-catalog';
import { buildAppServer } from '../server/http/app';
import { ingestCatalog } from '../server/ingest/ingest-catalog';
import { Registry } from '../server/registry/registry';
import { FeatureStore } from '../server/store/feature-store';
import { loadLabelledImages } from '../server/train/image-data';
import { prepareBackend, saveEncoder, splitByPhoto, trainEncoder } from '../server/train/image-encoder';
import { FASHION_RANKER_ID, trainFashionRanker } from '../server/train/fashion-ranker';
import { APP_DIR } from './browser';

export const MYNTRA_DIR = resolve(process.env.FASHIONML_MYNTRA_DIR ?? '../shared/data/myntra-fashion-small');
export const IMAGE_ENCODER_ID = 'image-encoder';

export type ShopCatalog = 'demo' | 'myntra';

/** Training budget of the image encoder, in seconds, per catalog (short: tests need it to work, not to be the best). */
const ENCODER_BUDGET_S: Record<ShopCatalog, number> = { demo: 20, myntra: 90 };
/** Folders whose code decides what the fixture produces. */
const CODE = ['server/ingest', 'server/train', 'server/demo', 'server/registry', 'server/store', 'models/image', 'models/hybrid', 'models/content', 'models/cf', 'models/recommend/pack.ts'];

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

function hashTree(hash: ReturnType<typeof createHash>, path: string): void {
  if (!existsSync(path)) return;
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) if (!name.endsWith('.test.ts')) hashTree(hash, join(path, name));
  } else {
    hash.update(path).update(readFileSync(path));
  }
}

function cacheKey(catalog: ShopCatalog): string {
  const hash = createHash('sha256').update(`${catalog}|${ENCODER_BUDGET_S[catalog]}`);
  for (const path of CODE) hashTree(hash, path);
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
  if (existsSync(done)) {
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
    const version = summary.version.version;
    const info = store.version(version)!;
    const items = store.items(version);
    const registry = new Registry(paths.registry);

    // Image encoder: trained on the ingested photos (the packed input ingest wrote), then registered.
    if (!summary.images) throw new Error('shop fixture: ingest read no photos');
    const images = await timed('load encoder input', () =>
      loadLabelledImages({ stylesCsv: join(source, 'styles.csv'), cacheDir: dirname(summary.images!.encoderInput) }),
    );
    const tf = await prepareBackend('wasm');
    const split = splitByPhoto(images.sha256);
    const trained = await timed('train image encoder', () => trainEncoder(images, split.train, { budgetSeconds: ENCODER_BUDGET_S[catalog] }));
    const encoderDir = join(dir, 'work', 'image-encoder');
    await saveEncoder(trained.encoder, encoderDir, { trainSeconds: trained.trainSeconds, classes: images.classes, fixture: true });
    const encoderEntry = registry.registerModel({
      id: IMAGE_ENCODER_ID,
      kind: 'image-encoder',
      dir: encoderDir,
      inputs: { catalogVersion: version },
      dataVersion: version,
      codeVersion: 'shop-fixture',
    });
    const encoderRef = `${IMAGE_ENCODER_ID}@${encoderEntry.version}`;

    // Every catalog item's photo embedding, aligned to the items (zeros: no photo).
    const vectors = await timed('embed catalog photos', () => embed(tf, trained.encoder, images.images));
    const dim = trained.encoder.config.embeddingDim;
    const rowOf = new Map(images.ids.map((id, row) => [id, row]));
    const aligned = new Float32Array(items.length * dim);
    items.forEach((item, i) => {
      const row = rowOf.get(item.id);
      if (row !== undefined) aligned.set(vectors.subarray(row * dim, (row + 1) * dim), i * dim);
    });

    const rankerDir = join(dir, 'work', 'fashion-ranker');
    const ranker = await timed('train ranker', () =>
      trainFashionRanker({
        items,
        catalog: { version, contentHash: info.contentHash },
        events: store.interactions(),
        imageEmbeddings: { dim, vectors: aligned, encoder: encoderRef },
        outDir: rankerDir,
        skipEvaluation: true,
      }),
    );
    const rankerEntry = registry.registerModel({
      id: FASHION_RANKER_ID,
      kind: 'fashion-ranker',
      dir: ranker.dir,
      inputs: { catalogVersion: version, imageEncoder: encoderRef },
      metrics: ranker.metrics,
      dataVersion: version,
      codeVersion: 'shop-fixture',
    });
    registry.setAlias('champion', FASHION_RANKER_ID, rankerEntry.version);
    await timed('publish catalog', () => registry.publishCatalog(store, version));

    const data: ShopData = {
      catalog,
      dataDir: dir,
      catalogVersion: version,
      itemCount: items.length,
      ranker: `${FASHION_RANKER_ID}@${rankerEntry.version}`,
      imageEncoder: encoderRef,
      photoQueries: photoQueries(items, source),
      timings,
    };
    rmSync(join(dir, 'work'), { recursive: true, force: true });
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
  const server = await buildAppServer({ appDir: APP_DIR, api: { registry: new Registry(paths.registry), thumbsDir: paths.thumbs } });
  const url = await server.listen({ host: '127.0.0.1', port });
  return { url, close: () => server.close() };
}
