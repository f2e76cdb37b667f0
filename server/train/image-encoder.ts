/**
 * Trains the image encoder (`models/image/encoder.ts`) in Node on the wasm backend, on the packed
 * encoder input written by ingest, and evaluates it by retrieval on photos it never saw:
 *
 * - rows are grouped by photo hash (byte-identical photos), ~10% of groups are held out as queries
 *   and never trained on; the rest train;
 * - every training image is augmented on the fly (shift, mirror, light, background), and a share
 *   of them (default a tenth) is turned into a phone photo instead (`phonePhotoInto`);
 * - training runs epochs until a time budget is spent, with a cosine learning-rate decay over that
 *   budget (planned from the measured step time), data-parallel over one replica per core (up to
 *   two) in worker threads (`encoder-replica.ts`); the first part of the run trains on
 *   downscaled photos (progressive resizing: cheaper steps, so more of them);
 * - then the whole catalog is embedded and P@10 is measured for the held-out queries against all
 *   other rows, with the query's duplicate group left out of the ranking; and again with phone-photo
 *   versions of the query photos searched against the clean catalog.
 *
 * `trainImageEncoderFromCatalog` does all of it for the `fashionml train` command.
 *
 *   npx tsx server/train/image-encoder.ts [--budget-s 600] [--out DIR] [--styles CSV] [--cache DIR]
 *     [--seed 1] [--phone 0.1] [--batch-norm fused|tape] [--clock wall|cpu] [--max-wall-s S]
 *     [--replicas N] [--dim 128] [--low-res SIZE@SHARE|none]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { availableParallelism } from 'node:os';
import { DEFAULT_AUGMENT, PHONE_PHOTO, phonePhotos } from '../../models/image/augment';
import { SeededRandom } from '../../models/random';
import type { AugmentOptions, PhonePhotoOptions } from '../../models/image/augment';
import { createEncoder, DEFAULT_LOSS, disposeEncoder, embed, encoderConfig, getWeights, parameterCount, setWeights } from '../../models/image/encoder';
import type { Encoder, EncoderConfig, ForwardOptions, LossConfig } from '../../models/image/encoder';
import { retrievalPrecision } from '../../models/image/retrieval';
import type { RetrievalResult } from '../../models/image/retrieval';
import { toArtifacts, WEIGHTS_FILE } from '../../models/image/serialize';
import { addGradients, averageState, LocalReplica, prepareBackend, shareImages, WorkerReplica } from './encoder-replica';
import type { Replica, ReplicaData, ReplicaSetup } from './encoder-replica';
import { loadLabelledImages } from './image-data';
import type { LabelledImages } from './image-data';
import type { CatalogItem } from '../ingest/types';

export { prepareBackend } from './encoder-replica';
export type { TrainBackend } from './encoder-replica';

export interface PhotoSplit {
  /** Duplicate group (by photo hash) of every row. */
  group: Int32Array;
  train: Int32Array;
  queries: Int32Array;
}

/** Groups rows by photo hash and holds out `fraction` of the groups (seeded) as queries. */
export function splitByPhoto(sha256: readonly string[], fraction = 0.1, seed = 42): PhotoSplit {
  const ids = new Map<string, number>();
  const group = Int32Array.from(sha256, (h) => {
    let g = ids.get(h);
    if (g === undefined) {
      g = ids.size;
      ids.set(h, g);
    }
    return g;
  });
  const rng = new SeededRandom(seed);
  const heldOut = new Uint8Array(ids.size);
  for (let g = 0; g < ids.size; g++) heldOut[g] = rng.next() < fraction ? 1 : 0;
  const train: number[] = [];
  const queries: number[] = [];
  group.forEach((g, row) => (heldOut[g] ? queries : train).push(row));
  return { group, train: Int32Array.from(train), queries: Int32Array.from(queries) };
}

export interface TrainOptions {
  budgetSeconds: number;
  maxEpochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  augment: AugmentOptions;
  /** Share of training images turned into phone photos (`phonePhotoInto`) instead of `augment`. */
  phonePhoto: number;
  phonePhotoOptions: PhonePhotoOptions;
  /** How batch norm is differentiated (`fused`: the fast hand-written gradient). */
  batchNorm: NonNullable<ForwardOptions['batchNorm']>;
  /** Task weights and label smoothing of the training loss. */
  loss: LossConfig;
  /**
   * What the budget counts: `wall` seconds, or `cpu` seconds of this process divided by the
   * replicas (each replica is one thread, so on a machine shared with other work this is the time
   * the run would take with a core to itself per replica).
   */
  clock: 'wall' | 'cpu';
  /** With `clock: 'cpu'`: stop anyway after this many wall-clock seconds. */
  maxWallSeconds?: number;
  /**
   * Progressive resizing: the first `share` of the run (of the budget, or of the steps when the
   * epoch limit ends the run first) trains on photos downscaled to `size` (cheaper steps, so more of
   * them), the rest at full size. The network is fully convolutional with a global pool, so the
   * same weights take both sizes; null trains at full size throughout.
   */
  lowResolution: { size: number; share: number } | null;
  /** Data-parallel replicas, each in its own worker thread (1: train in this thread). Default `defaultReplicas()`. */
  replicas?: number;
  config?: Partial<Omit<EncoderConfig, 'classes'>>;
  onEpoch?: (e: EpochStats) => void;
  /** After every step: steps so far and the planned total (for progress bars). */
  onStep?: (step: number, plannedSteps: number, loss: number) => void;
}

export interface EpochStats {
  epoch: number;
  seconds: number;
  images: number;
  imagesPerSecond: number;
  meanLoss: number;
}

export const DEFAULT_TRAIN: TrainOptions = {
  budgetSeconds: 600,
  maxEpochs: 100,
  batchSize: 64,
  // 1.2e-2 and a tenth phone photos: best of 3e-3 / 6e-3 / 1.2e-2 and 0.25 / 0.1 in 600 CPU-second
  // runs on the 35k catalog (P@10 same type 0.617 → 0.661, phone-photo queries 0.332 → 0.423).
  learningRate: 1.2e-2,
  seed: 1,
  augment: DEFAULT_AUGMENT,
  phonePhoto: 0.1,
  phonePhotoOptions: PHONE_PHOTO,
  batchNorm: 'fused',
  loss: DEFAULT_LOSS,
  clock: 'wall',
  // 48-pixel photos for the first 60 % of the run: a third more steps in the same time. In
  // 600 CPU-second runs (one replica) P@10 same type 0.662 → 0.680, type and colour 0.326 → 0.351,
  // phone-photo queries 0.441 → 0.479; 40 pixels for 70 % was worse (0.651 / 0.342 / 0.429). In
  // 30-minute runs (two replicas, two seeds) the gain is gone: 0.741 / 0.408, phone 0.603 (full size
  // throughout, before the usage head: 0.747 / 0.414, phone 0.596).
  lowResolution: { size: 48, share: 0.6 },
};

export interface TrainResult {
  encoder: Encoder;
  epochs: EpochStats[];
  /** Wall-clock seconds. */
  trainSeconds: number;
  /** CPU seconds of this process (all its threads) while training. */
  cpuSeconds: number;
  steps: number;
  /** Steps taken on downscaled photos (the low-resolution phase); the rest were at full size. */
  lowResolutionSteps: number;
  /** Data-parallel replicas it trained with. */
  replicas: number;
  /** The low-resolution phase it trained with (null: full size throughout). */
  lowResolution: TrainOptions['lowResolution'];
}

/** Seconds of CPU (user + system) this process has used. */
function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Replicas the trainer uses by default: one per core, up to two (see `encoder-replica.ts`). */
export function defaultReplicas(): number {
  return Math.max(1, Math.min(2, availableParallelism()));
}

/**
 * Trains on `rows` of `data` until the budget or the epoch limit is reached, data-parallel over
 * `o.replicas` worker threads (one replica runs in this thread, with no workers).
 */
export async function trainEncoder(data: LabelledImages, rows: Int32Array, options: Partial<TrainOptions> = {}): Promise<TrainResult> {
  const o = { ...DEFAULT_TRAIN, ...options };
  const replicaCount = Math.max(1, Math.floor(o.replicas ?? defaultReplicas()));
  const low = o.lowResolution;
  if (low && !(Number.isInteger(low.size) && low.size % 2 === 0 && low.size >= 8 && low.size <= data.size && low.share >= 0 && low.share <= 1)) {
    throw new RangeError(`trainEncoder: lowResolution needs an even size in [8, ${data.size}] and a share in [0, 1], got ${JSON.stringify(low)}`);
  }
  const setup: ReplicaSetup = {
    classes: Object.fromEntries(Object.entries(data.classes).map(([task, names]) => [task, names.length])),
    config: { ...o.config },
    seed: o.seed,
    learningRate: o.learningRate,
    augment: o.augment,
    phonePhoto: o.phonePhoto,
    phonePhotoOptions: o.phonePhotoOptions,
    batchNorm: o.batchNorm,
    loss: o.loss,
  };
  const replicaData: ReplicaData = { images: data.images, size: data.size, labels: data.labels };
  let local: LocalReplica | undefined;
  let replicas: Replica[];
  if (replicaCount === 1) {
    local = new LocalReplica(replicaData, setup);
    replicas = [local];
  } else {
    const shared = shareImages(replicaData);
    replicas = [];
    try {
      for (let i = 0; i < replicaCount; i++) replicas.push(await WorkerReplica.start({ data: shared, setup }));
    } catch (error) {
      await Promise.all(replicas.map((r) => r.close()));
      throw error;
    }
  }
  try {
    const rng = new SeededRandom(o.seed + 1000);
    const order = Int32Array.from(rows);
    const start = performance.now();
    const cpuStart = cpuNow();
    const budgetMs = o.budgetSeconds * 1000;
    const wallCapMs = o.clock === 'cpu' && o.maxWallSeconds !== undefined ? o.maxWallSeconds * 1000 : Infinity;
    // The CPU clock counts per replica: with every core busy it runs as fast as the wall clock.
    const cpuUsed = () => ((cpuNow() - cpuStart) * 1000) / replicaCount;
    /** Share of the budget used so far, by the budget's clock and the wall-clock cap. */
    const used = () => Math.max(o.clock === 'cpu' ? cpuUsed() / budgetMs : (performance.now() - start) / budgetMs, (performance.now() - start) / wallCapMs);
    const epochs: EpochStats[] = [];
    let steps = 0;
    let lowResolutionSteps = 0;
    const stepsPerEpoch = Math.floor(order.length / o.batchSize);
    // Expected number of steps in the budget, for the cosine schedule.
    let plannedSteps = stepsPerEpoch * o.maxEpochs;
    let outOfTime = false;
    for (let epoch = 0; epoch < o.maxEpochs && !outOfTime; epoch++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const t = order[i] as number;
        order[i] = order[j] as number;
        order[j] = t;
      }
      const epochStart = performance.now();
      let lossSum = 0;
      let batches = 0;
      for (let b = 0; b + o.batchSize <= order.length; b += o.batchSize) {
        if (used() >= 1) {
          outOfTime = true; // the last, partial epoch is still reported below
          break;
        }
        const picked = order.subarray(b, b + o.batchSize);
        const stepSeed = rng.int(2 ** 31);
        // Share of the planned run done: the budget's share when time runs out first, the steps'
        // share when the epoch limit comes first (a small catalog), so the run always ends at full size.
        const progress = Math.min(1, steps / Math.max(1, plannedSteps));
        const lowStep = low !== null && progress < low.share;
        if (lowStep) lowResolutionSteps++;
        const size = lowStep ? { size: low.size } : {};
        const shares = replicas.map((replica, r) => {
          const from = Math.floor((r * picked.length) / replicaCount);
          const to = Math.floor(((r + 1) * picked.length) / replicaCount);
          return replica.compute({ rows: picked.slice(from, to), seed: stepSeed + r, batchRows: picked.length, ...size });
        });
        const { loss, grads } = addGradients(await Promise.all(shares));
        const warm = Math.min(1, (steps + 1) / 100);
        const learningRate = o.learningRate * warm * (0.02 + 0.98 * 0.5 * (1 + Math.cos(Math.PI * progress)));
        for (const replica of replicas) replica.apply(grads, learningRate);
        lossSum += loss;
        batches++;
        steps++;
        // Re-plan as the measured step time settles, so the schedule ends with the budget even when
        // one epoch is a large share of it (or the machine's speed changes).
        if (steps >= 20) plannedSteps = Math.min(stepsPerEpoch * o.maxEpochs, Math.floor(steps / Math.max(1e-9, used())));
        o.onStep?.(steps, plannedSteps, loss);
      }
      const seconds = (performance.now() - epochStart) / 1000;
      if (batches === 0) break;
      const stats = { epoch, seconds, images: batches * o.batchSize, imagesPerSecond: (batches * o.batchSize) / seconds, meanLoss: lossSum / batches };
      epochs.push(stats);
      o.onEpoch?.(stats);
    }
    const trainSeconds = (performance.now() - start) / 1000;
    const cpuSeconds = cpuNow() - cpuStart;
    let encoder: Encoder;
    if (local) {
      encoder = local.encoder;
    } else {
      const weights = averageState(await Promise.all(replicas.map((r) => r.weights())));
      encoder = createEncoder(tf, encoderConfig(setup.classes, { inputSize: data.size, ...setup.config }), o.seed);
      setWeights(tf, encoder, weights);
    }
    return { encoder, epochs, trainSeconds, cpuSeconds, steps, lowResolutionSteps, replicas: replicaCount, lowResolution: low };
  } finally {
    await Promise.all(replicas.map((r) => r.close()));
  }
}

/** Seed of the phone-photo versions of the queries: the same altered photos in every evaluation. */
export const PHONE_QUERY_SEED = 4242;

export interface EncoderEvaluation {
  /** Held-out studio photos searched against the whole catalog. */
  retrieval: RetrievalResult;
  /** Phone-photo versions of the same held-out photos searched against the clean catalog. */
  phoneRetrieval: RetrievalResult;
  embedSeconds: number;
  embeddings: Float32Array;
}

/**
 * Embeds every row and measures P@10 for the held-out queries (duplicates never count), then again
 * with each query replaced by a phone-photo version of its photo (`phonePhotos`, fixed seed).
 */
export async function evaluateEncoder(encoder: Encoder, data: LabelledImages, split: PhotoSplit): Promise<EncoderEvaluation> {
  const t = performance.now();
  const embeddings = await embed(tf, encoder, data.images, 256);
  const embedSeconds = (performance.now() - t) / 1000;
  const labels = { group: split.group, articleType: data.labels.articleType, colour: data.labels.colour };
  const dim = encoder.config.embeddingDim;
  const retrieval = await retrievalPrecision(tf, embeddings, dim, split.queries, labels);
  const phoneQueries = await embed(tf, encoder, phonePhotos(data.images, split.queries, data.size, PHONE_QUERY_SEED), 256);
  const phoneRetrieval = await retrievalPrecision(tf, embeddings, dim, split.queries, labels, 10, phoneQueries);
  return { retrieval, phoneRetrieval, embedSeconds, embeddings };
}

/** Writes `model.json` + `weights.bin` into `dir`. */
export async function saveEncoder(encoder: Encoder, dir: string, meta: Record<string, unknown> = {}): Promise<void> {
  const { modelJson, weightData } = toArtifacts(encoder.config, getWeights(encoder), meta);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, WEIGHTS_FILE), new Uint8Array(weightData));
  await writeFile(join(dir, 'model.json'), JSON.stringify(modelJson, null, 2));
}

export interface CatalogTrainOptions {
  /** `styles.csv` of a Kaggle-layout catalog (photos in `images/` beside it)… */
  stylesCsv?: string;
  /** …or catalog items with the folder their `image` paths are relative to. */
  items?: readonly CatalogItem[];
  catalogDir?: string;
  /** Where the packed 64×64 encoder input is kept between runs (one folder per catalog). */
  cacheDir: string;
  /** Training time in seconds (default 1800). */
  budgetSeconds?: number;
  /** Weight initialisation and augmentation seed (default 1). The query split always uses seed 42. */
  seed?: number;
  /** Folder the model is written to (`model.json` + `weights.bin`). */
  outDir: string;
  /** Training options beyond the budget and seed. */
  train?: Partial<Omit<TrainOptions, 'budgetSeconds' | 'seed'>>;
  onProgress?: (event: TrainProgress) => void;
}

export type TrainProgress =
  | { phase: 'images'; done: number; total: number }
  | { phase: 'train'; step: number; plannedSteps: number; loss: number }
  | { phase: 'epoch'; epoch: EpochStats }
  | { phase: 'evaluate' };

export interface ImageEncoderMetrics {
  /** Retrieval P@10 of held-out photos: same article type; same type and colour. */
  p10Type: number;
  p10TypeColour: number;
  /** The same with phone-photo versions of the held-out photos as queries. */
  p10TypePhone: number;
  p10TypeColourPhone: number;
  queries: number;
  photos: number;
  /** Wall-clock and CPU seconds of training (they differ on a machine shared with other work). */
  trainSeconds: number;
  trainCpuSeconds: number;
  epochs: number;
  steps: number;
  /** Of those, steps on downscaled photos (the low-resolution phase). */
  lowResolutionSteps: number;
  /** Training throughput (images per wall-clock second, wasm). */
  imagesPerSecond: number;
  /** Embedding throughput over the whole catalog (images/s, batch 256, wasm). */
  embedImagesPerSecond: number;
  params: number;
  /** Data-parallel replicas (worker threads) it trained with. */
  replicas: number;
}

/**
 * Trains the image encoder on a catalog's photos for a time budget on wasm, evaluates it by
 * retrieval on held-out photos (split by photo hash, seed 42) and saves it. What `fashionml train`
 * calls; returns the model folder and its metrics (also written into `model.json`'s `meta`).
 */
export async function trainImageEncoderFromCatalog(options: CatalogTrainOptions): Promise<{ modelDir: string; metrics: ImageEncoderMetrics; classes: LabelledImages['classes'] }> {
  const progress = options.onProgress;
  const data = await loadLabelledImages({
    ...(options.stylesCsv !== undefined ? { stylesCsv: options.stylesCsv } : {}),
    ...(options.items !== undefined ? { items: options.items } : {}),
    ...(options.catalogDir !== undefined ? { catalogDir: options.catalogDir } : {}),
    cacheDir: options.cacheDir,
    ...(progress ? { onProgress: (done: number, total: number) => progress({ phase: 'images', done, total }) } : {}),
  });
  if (data.count < 20) throw new Error(`trainImageEncoderFromCatalog: ${data.count} usable photos in ${options.cacheDir}; at least 20 are needed`);
  await prepareBackend('wasm');
  const split = splitByPhoto(data.sha256);
  if (split.queries.length === 0) throw new Error(`trainImageEncoderFromCatalog: no held-out photos among ${data.count}; the catalog is too small to evaluate`);
  const result = await trainEncoder(data, split.train, {
    ...options.train,
    budgetSeconds: options.budgetSeconds ?? 1800,
    seed: options.seed ?? 1,
    ...(progress
      ? {
          onStep: (step: number, plannedSteps: number, loss: number) => progress({ phase: 'train', step, plannedSteps, loss }),
          onEpoch: (epoch: EpochStats) => progress({ phase: 'epoch', epoch }),
        }
      : {}),
  });
  progress?.({ phase: 'evaluate' });
  const ev = await evaluateEncoder(result.encoder, data, split);
  const trainedImages = result.epochs.reduce((sum, e) => sum + e.images, 0);
  const metrics: ImageEncoderMetrics = {
    p10Type: ev.retrieval.precisionType,
    p10TypeColour: ev.retrieval.precisionTypeColour,
    p10TypePhone: ev.phoneRetrieval.precisionType,
    p10TypeColourPhone: ev.phoneRetrieval.precisionTypeColour,
    queries: split.queries.length,
    photos: data.count,
    trainSeconds: result.trainSeconds,
    trainCpuSeconds: result.cpuSeconds,
    epochs: trainedImages / Math.max(1, split.train.length),
    steps: result.steps,
    lowResolutionSteps: result.lowResolutionSteps,
    imagesPerSecond: trainedImages / Math.max(1e-9, result.trainSeconds),
    embedImagesPerSecond: data.count / ev.embedSeconds,
    params: parameterCount(result.encoder.config),
    replicas: result.replicas,
  };
  const modelDir = resolve(options.outDir);
  await saveEncoder(result.encoder, modelDir, { metrics, retrieval: ev.retrieval, phoneRetrieval: ev.phoneRetrieval, trainSeconds: result.trainSeconds, epochs: result.epochs, classes: data.classes, seed: options.seed ?? 1, splitSeed: 42, lowResolution: result.lowResolution });
  disposeEncoder(result.encoder);
  return { modelDir, metrics, classes: data.classes };
}

/** `--low-res 48@0.6` (side @ share of the run) or `none`. */
export function parseLowResolution(text: string): TrainOptions['lowResolution'] {
  if (text === 'none') return null;
  const match = /^(\d+)@(\d*\.?\d+)$/.exec(text);
  if (!match) throw new Error(`--low-res: expected SIZE@SHARE (e.g. 48@0.6) or none, got "${text}"`);
  return { size: Number(match[1]), share: Number(match[2]) };
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}

async function main(): Promise<void> {
  const budget = Number(arg('--budget-s', '600'));
  const phone = Number(arg('--phone', String(DEFAULT_TRAIN.phonePhoto)));
  const batchNorm = arg('--batch-norm', DEFAULT_TRAIN.batchNorm) as TrainOptions['batchNorm'];
  const clock = arg('--clock', 'wall') as TrainOptions['clock'];
  const maxWall = arg('--max-wall-s', '');
  const replicas = Number(arg('--replicas', String(defaultReplicas())));
  const dim = Number(arg('--dim', '128'));
  const lowRes = arg('--low-res', '');
  const lowResolution = lowRes ? parseLowResolution(lowRes) : DEFAULT_TRAIN.lowResolution;
  console.log(
    `budget ${budget} s (${clock} clock${maxWall ? `, at most ${maxWall} s wall` : ''}), ${replicas} replica(s), ${dim}-d, phone-photo share ${phone}, batch norm ${batchNorm}, low resolution ${lowResolution ? `${lowResolution.size} px for ${lowResolution.share} of the run` : 'none'}`,
  );
  const { modelDir, metrics } = await trainImageEncoderFromCatalog({
    stylesCsv: arg('--styles', '../shared/data/myntra-fashion-small/styles.csv'),
    cacheDir: arg('--cache', '.data/image-encoder'),
    outDir: arg('--out', '.data/image-encoder/model'),
    budgetSeconds: budget,
    seed: Number(arg('--seed', '1')),
    train: {
      phonePhoto: phone,
      batchNorm,
      clock,
      replicas,
      lowResolution,
      config: { embeddingDim: dim },
      ...(maxWall ? { maxWallSeconds: Number(maxWall) } : {}),
    },
    onProgress: (e) => {
      if (e.phase === 'epoch') console.log(`epoch ${e.epoch.epoch}: ${e.epoch.seconds.toFixed(0)} s, ${e.epoch.imagesPerSecond.toFixed(0)} img/s, loss ${e.epoch.meanLoss.toFixed(3)}`);
      if (e.phase === 'evaluate') console.log('evaluating');
      if (e.phase === 'train' && e.step % 100 === 0) console.log(`step ${e.step} of ~${e.plannedSteps}, loss ${e.loss.toFixed(3)}`);
    },
  });
  console.log(JSON.stringify(metrics, null, 2));
  console.log(`saved ${modelDir}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
