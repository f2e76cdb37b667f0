/**
 * Trains the fashion ranker pack (models/recommend/pack.ts): the content model, the hybrid item
 * vectors, item statistics and the learned re-ranker, evaluated first on a time-based split
 * (server/evaluate/fashion-eval.ts) so the registry gate gets numbers, then refitted on every event
 * and written as a pack folder:
 *
 *   ranker.json         RankerPackMeta
 *   item-factors.q8     hybrid item vectors, int8 with per-row scales
 *   image-embeddings.q8 the image encoder's catalog embeddings (when given)
 *   item-stats.f32      popularity, trending, freshness (float32 columns)
 *   content.json        the content model (the device recomputes content vectors from it)
 *
 * A catalog without an interaction log (the Kaggle catalog) trains on simulated shoppers
 * (server/demo/shoppers.ts); the result says so (`simulated: true`, `extra.simulated` in the pack).
 *
 * The evaluation data depend on the catalog and `evaluationSeed` only, never on the model's `seed`:
 * the simulated shoppers and the held-out split are the same for every retraining of a catalog, so
 * the registry gate compares versions on the same events. `result.evaluationData` names that data.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CatalogItem, InteractionEvent } from '../../models/catalog/item';
import { INTERACTION_TYPES } from '../../models/catalog/item';
import { ContentModel } from '../../models/content/content-model';
import type { ContentModelOptions } from '../../models/content/content-model';
import { fitFashion, realLogFitOptions } from '../../models/hybrid/fashion-fit';
import type { FashionFitOptions } from '../../models/hybrid/fashion-fit';
import type { IndexedEvent } from '../../models/hybrid/fashion-hybrid';
import { FASHION_PACK_FILES, fashionPack } from '../../models/hybrid/fashion-pack';
import { RANKER_META_FILE } from '../../models/recommend/pack';
import type { RankerPackMeta } from '../../models/recommend/pack';
import { createRandom } from '../demo/random';
import { simulateShoppers } from '../demo/shoppers';
import type { Persona } from '../demo/shoppers';
import { evaluateFashion, evaluationFingerprint } from '../evaluate/fashion-eval';
import { evaluateRealShop, hasTemporalSplit, lastWindowCut, realShopFingerprint, realShopMetrics } from '../evaluate/real-shop-eval';

export const FASHION_RANKER_ID = 'fashion-ranker';
export const CONTENT_MODEL_FILE = FASHION_PACK_FILES.contentModel;
/** Seeds the simulated shoppers and the held-out split unless the caller names another (see the header). */
export const DEFAULT_EVALUATION_SEED = 42;

/**
 * Simulated shoppers for a catalog without an interaction log: one per 10 items, 60 to 3,000
 * (3,000 on the 35k-item catalog, about 370k events; simulating them takes seconds).
 */
export function defaultShoppers(items: number): number {
  return Math.min(3000, Math.max(60, Math.round(items / 10)));
}
/** The test window (and each tuning window) of a real log's evaluation, in days. */
export const REAL_LOG_WINDOW_DAYS = 28;
/** Simulated shoppers start on this day and shop for {@link SIMULATED_DAYS} days (fixed, so packs reproduce). */
export const SIMULATED_START = Date.UTC(2024, 0, 1);
export const SIMULATED_DAYS = 60;

export interface ImageEmbeddingsInput {
  dim: number;
  /** Row-major [items.length, dim], aligned to `items`, L2-normalised rows (zeros: no photo). */
  vectors: Float32Array;
  /** `image-encoder@N`: the encoder whose space this is. */
  encoder: string;
}

export interface TrainProgress {
  stage: 'simulate' | 'content' | 'evaluate' | 'fit' | 'write';
  message: string;
}

export interface TrainFashionRankerInput {
  items: CatalogItem[];
  catalog: { version: number; contentHash: string };
  /** The catalog's interaction log; empty: simulate shoppers, and record that. */
  events: InteractionEvent[];
  imageEmbeddings?: ImageEmbeddingsInput;
  outDir: string;
  /** Seeds the model (content model, factor initialisation, re-ranker sampling); default 42. */
  seed?: number;
  /** Seeds the simulated shoppers and the held-out split (default {@link DEFAULT_EVALUATION_SEED}); keep it fixed to compare versions. */
  evaluationSeed?: number;
  onProgress?: (progress: TrainProgress) => void;
  /** Simulated shoppers when `events` is empty (default {@link defaultShoppers}). */
  shoppers?: number;
  content?: ContentModelOptions;
  fit?: FashionFitOptions;
  /** Skip the held-out evaluation (metrics are then empty): for quick packs only. */
  skipEvaluation?: boolean;
}

export interface TrainFashionRankerResult {
  dir: string;
  meta: RankerPackMeta;
  /** Flat numbers for the registry gate: `ndcg10`, `recall20`, `coldAuc`, `popularity.ndcg10`… */
  metrics: Record<string, number>;
  /** True when the events were simulated shoppers. */
  simulated: boolean;
  /** The simulated shoppers' preferences (when simulated). */
  personas?: Persona[];
  /** ALS objective per sweep and re-ranker log-loss per step of the evaluation fit. */
  losses: { als: number[]; rerank: number[] };
  /**
   * What the metrics were measured on (server/evaluate/fashion-eval.ts `evaluationFingerprint`):
   * protocol, catalog content hash, sha256 of the events, split seed and shares. Versions whose
   * strings are equal were evaluated on the same held-out events (present even with skipEvaluation).
   */
  evaluationData: string;
}

function validate(input: TrainFashionRankerInput): void {
  if (input.items.length === 0) throw new Error('trainFashionRanker: items is empty');
  const ids = new Set<string>();
  input.items.forEach((item, row) => {
    if (typeof item.id !== 'string' || item.id === '') throw new Error(`trainFashionRanker: items[${row}] has no id`);
    if (ids.has(item.id)) throw new Error(`trainFashionRanker: items[${row}] repeats id "${item.id}"`);
    ids.add(item.id);
  });
  for (const key of ['seed', 'evaluationSeed', 'shoppers'] as const) {
    const v = input[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= (key === 'shoppers' ? 1 : 0))) {
      throw new Error(`trainFashionRanker: ${key} must be a${key === 'shoppers' ? ' positive' : ' non-negative'} integer, got ${String(v)}`);
    }
  }
  if (!Number.isInteger(input.catalog.version) || input.catalog.version < 1) {
    throw new Error(`trainFashionRanker: catalog.version must be a positive integer, got ${input.catalog.version}`);
  }
  input.events.forEach((e, k) => {
    if (!(INTERACTION_TYPES as readonly string[]).includes(e.type)) {
      throw new Error(`trainFashionRanker: events[${k}].type "${e.type}" is not one of ${INTERACTION_TYPES.join(', ')}`);
    }
    if (!Number.isFinite(e.timestamp)) throw new Error(`trainFashionRanker: events[${k}].timestamp is not a number`);
  });
  const image = input.imageEmbeddings;
  if (image) {
    if (!/^image-encoder@\d+$/.test(image.encoder)) throw new Error(`trainFashionRanker: imageEmbeddings.encoder must look like "image-encoder@N", got "${image.encoder}"`);
    if (!Number.isInteger(image.dim) || image.dim < 1) throw new Error(`trainFashionRanker: imageEmbeddings.dim must be a positive integer, got ${image.dim}`);
    if (image.vectors.length !== input.items.length * image.dim) {
      throw new Error(`trainFashionRanker: imageEmbeddings.vectors holds ${image.vectors.length} values, expected ${input.items.length} items × ${image.dim}`);
    }
  }
}

/** Simulated shoppers over any catalog (items without usage or season simply never match one). */
export function simulateCatalogShoppers(items: readonly CatalogItem[], shoppers: number, seed: number): { personas: Persona[]; events: InteractionEvent[] } {
  const shopperItems = items.map((item) => ({
    id: item.id,
    gender: item.gender,
    articleType: item.articleType,
    colour: item.colour,
    usage: item.usage ?? '',
    season: item.season ?? '',
  }));
  const { personas, events } = simulateShoppers(createRandom(seed).fork('fashion-ranker-shoppers'), shopperItems, {
    shoppers,
    start: SIMULATED_START,
    days: SIMULATED_DAYS,
  });
  return { personas, events: events.map((e) => ({ userId: e.userId, itemId: e.itemId, type: e.type, timestamp: e.timestamp, weight: e.weight })) };
}

export async function trainFashionRanker(input: TrainFashionRankerInput): Promise<TrainFashionRankerResult> {
  validate(input);
  const seed = input.seed ?? 42;
  const evaluationSeed = input.evaluationSeed ?? DEFAULT_EVALUATION_SEED;
  const progress = (stage: TrainProgress['stage'], message: string) => input.onProgress?.({ stage, message });
  const items = input.items;

  let events = input.events;
  let personas: Persona[] | undefined;
  const simulated = events.length === 0;
  if (simulated) {
    const shoppers = input.shoppers ?? defaultShoppers(items.length);
    progress('simulate', `no interaction log: simulating ${shoppers} shoppers (simulated data)`);
    ({ personas, events } = simulateCatalogShoppers(items, shoppers, evaluationSeed));
  }
  // A real log is evaluated with time (server/evaluate/real-shop-eval.ts) when it spans a test
  // window and a tuning window before it and someone bought in the last one; otherwise, and for
  // simulated shoppers, by the per-shopper split of server/evaluate/fashion-eval.ts.
  const realCut = simulated ? undefined : lastWindowCut(events, REAL_LOG_WINDOW_DAYS);
  const temporal = realCut !== undefined && hasTemporalSplit(events, realCut, REAL_LOG_WINDOW_DAYS);
  const evaluationData = temporal
    ? realShopFingerprint({ catalogContentHash: input.catalog.contentHash, events, cut: realCut!, days: REAL_LOG_WINDOW_DAYS })
    : evaluationFingerprint({ catalogContentHash: input.catalog.contentHash, events, seed: evaluationSeed });

  progress('content', `content model over ${items.length} items`);
  const content = ContentModel.fit(items, { seed, ...input.content });
  const contentVectors = { vectors: content.embedItems(items), dim: content.dim };
  const image = input.imageEmbeddings ? { vectors: input.imageEmbeddings.vectors, dim: input.imageEmbeddings.dim, encoder: input.imageEmbeddings.encoder } : undefined;
  const fitOptions: FashionFitOptions = { seed, ...(simulated ? {} : realLogFitOptions(REAL_LOG_WINDOW_DAYS)), ...input.fit };

  let metrics: Record<string, number> = {};
  let losses = { als: [] as number[], rerank: [] as number[] };
  if (!input.skipEvaluation && temporal) {
    progress('evaluate', `the last ${REAL_LOG_WINDOW_DAYS} days of the log as the test window (${new Date(realCut!).toISOString().slice(0, 10)} on), trained and tuned on the weeks before, with the catalog as it stood then; ranked by the device's engine`);
    const evaluation = await evaluateRealShop({ items, events, cut: realCut!, days: REAL_LOG_WINDOW_DAYS, fit: fitOptions, content: { seed, ...input.content }, ...(image ? { image } : {}) });
    metrics = { ...realShopMetrics(evaluation), simulated: 0 };
    losses = { als: [], rerank: evaluation.fit.rerankLosses };
  } else if (!input.skipEvaluation) {
    progress('evaluate', `time-based split of ${events.length} ${simulated ? 'simulated ' : ''}events, ranked by the device's engine`);
    const evaluation = await evaluateFashion({ items, events, personas, content: contentVectors, image, options: { fit: fitOptions, seed: evaluationSeed } });
    metrics = { ...evaluation.metrics, simulated: simulated ? 1 : 0 };
    losses = { als: evaluation.alsLosses, rerank: evaluation.rerankLosses };
  }

  progress('fit', `fitting on all ${events.length} events`);
  const itemIndex = new Map(items.map((item, i) => [item.id, i]));
  const userIndex = new Map<string, number>();
  const indexed: IndexedEvent[] = [];
  for (const e of events) {
    const item = itemIndex.get(e.itemId);
    if (item === undefined) continue;
    if (!userIndex.has(e.userId)) userIndex.set(e.userId, userIndex.size);
    indexed.push({ user: userIndex.get(e.userId)!, item, type: e.type, at: e.timestamp });
  }
  const fit = fitFashion({ items, events: indexed, nUsers: userIndex.size, content: contentVectors, image, options: fitOptions });

  progress('write', `writing the pack to ${input.outDir}`);
  const dir = resolve(input.outDir);
  await mkdir(dir, { recursive: true });
  const { meta, files } = fashionPack(fit, {
    itemIds: items.map((item) => item.id),
    catalog: input.catalog,
    contentModel: { json: content.toJSON(), dim: content.dim },
    ...(input.imageEmbeddings ? { imageEncoder: input.imageEmbeddings.encoder } : {}),
    extra: {
      simulated,
      events: indexed.length,
      shoppers: userIndex.size,
      seed,
      evaluationSeed,
      evaluationData,
      rerankCheck: fit.rerankCheck ?? null,
      rerankExamples: fit.rerankExamples,
      content: content.fitInfo,
      // Training curves of the evaluation fit, for the Model Lab's charts.
      losses,
    },
  });
  for (const [name, bytes] of files) await writeFile(join(dir, name), bytes);
  await writeFile(join(dir, RANKER_META_FILE), JSON.stringify(meta));
  return { dir, meta, metrics, simulated, personas, losses, evaluationData };
}
