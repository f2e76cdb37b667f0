/**
 * Trains the image encoder (`models/image/encoder.ts`) in Node on the wasm backend, on the packed
 * encoder input written by ingest, and evaluates it by retrieval on photos it never saw:
 *
 * - rows are grouped by photo hash (byte-identical photos), ~10% of groups are held out as queries
 *   and never trained on; the rest train;
 * - every training image is augmented on the fly (shift, mirror, light, background);
 * - training runs whole epochs until a time budget is spent, with a cosine learning-rate decay
 *   over that budget;
 * - then the whole catalog is embedded and P@10 is measured for the held-out queries against all
 *   other rows, with the query's duplicate group left out of the ranking.
 *
 *   npx tsx server/train/image-encoder.ts [--budget-s 600] [--out DIR] [--styles CSV] [--cache DIR]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { augmentInto, DEFAULT_AUGMENT } from '../../models/image/augment';
import { SeededRandom } from '../../models/random';
import type { AugmentOptions } from '../../models/image/augment';
import { createEncoder, embed, encoderConfig, getWeights, parameterCount, toNetworkInput, trainStep } from '../../models/image/encoder';
import type { Encoder, EncoderConfig } from '../../models/image/encoder';
import { registerEncoderGradients } from '../../models/image/gradients';
import { retrievalPrecision } from '../../models/image/retrieval';
import type { RetrievalResult } from '../../models/image/retrieval';
import { toArtifacts, WEIGHTS_FILE } from '../../models/image/serialize';
import { registerTrainingKernels } from '../../models/image/training-kernels';
import { loadLabelledImages } from './image-data';
import type { LabelledImages } from './image-data';

export type TrainBackend = 'wasm' | 'cpu';

/** Sets up TF.js for training in Node: gradients, the missing wasm kernels, the backend. */
export async function prepareBackend(backend: TrainBackend = 'wasm'): Promise<typeof tf> {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  registerEncoderGradients(tf);
  registerTrainingKernels(tf, 'wasm');
  await tf.setBackend(backend);
  await tf.ready();
  return tf;
}

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
  config?: Partial<Omit<EncoderConfig, 'classes'>>;
  onEpoch?: (e: EpochStats) => void;
}

export interface EpochStats {
  epoch: number;
  seconds: number;
  images: number;
  imagesPerSecond: number;
  meanLoss: number;
}

export const DEFAULT_TRAIN: TrainOptions = { budgetSeconds: 600, maxEpochs: 100, batchSize: 64, learningRate: 3e-3, seed: 1, augment: DEFAULT_AUGMENT };

export interface TrainResult {
  encoder: Encoder;
  epochs: EpochStats[];
  trainSeconds: number;
  steps: number;
}

/** Trains on `rows` of `data` until the budget or the epoch limit is reached. */
export function trainEncoder(data: LabelledImages, rows: Int32Array, options: Partial<TrainOptions> = {}): TrainResult {
  const o = { ...DEFAULT_TRAIN, ...options };
  const classes = { articleType: data.classes.articleType.length, colour: data.classes.colour.length, gender: data.classes.gender.length };
  const encoder = createEncoder(tf, encoderConfig(classes, { inputSize: data.size, ...o.config }), o.seed);
  const optimizer = tf.train.adam(o.learningRate);
  const rng = new SeededRandom(o.seed + 1000);
  const order = Int32Array.from(rows);
  const batchBytes = new Uint8Array(o.batchSize * data.size * data.size * 3);
  const start = performance.now();
  const budgetMs = o.budgetSeconds * 1000;
  const epochs: EpochStats[] = [];
  let steps = 0;
  const stepsPerEpoch = Math.floor(order.length / o.batchSize);
  // Expected number of steps in the budget, refreshed after each epoch, for the cosine schedule.
  let plannedSteps = stepsPerEpoch * o.maxEpochs;
  outer: for (let epoch = 0; epoch < o.maxEpochs; epoch++) {
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
      if (performance.now() - start > budgetMs) break outer;
      const picked = order.subarray(b, b + o.batchSize);
      picked.forEach((row, i) => augmentInto(data.images, row, batchBytes, i, data.size, rng, o.augment));
      const labels = {
        articleType: Int32Array.from(picked, (r) => data.labels.articleType[r] as number),
        colour: Int32Array.from(picked, (r) => data.labels.colour[r] as number),
        gender: Int32Array.from(picked, (r) => data.labels.gender[r] as number),
      };
      const progress = Math.min(1, steps / Math.max(1, plannedSteps));
      const warm = Math.min(1, (steps + 1) / 100);
      // Adam reads its learning rate on every step; the field is protected only in the typings.
      (optimizer as unknown as { learningRate: number }).learningRate = o.learningRate * warm * (0.02 + 0.98 * 0.5 * (1 + Math.cos(Math.PI * progress)));
      lossSum += trainStep(tf, encoder, optimizer, { input: toNetworkInput(batchBytes, o.batchSize, data.size), count: o.batchSize, labels });
      batches++;
      steps++;
    }
    const seconds = (performance.now() - epochStart) / 1000;
    const stats = { epoch, seconds, images: batches * o.batchSize, imagesPerSecond: (batches * o.batchSize) / seconds, meanLoss: lossSum / Math.max(1, batches) };
    epochs.push(stats);
    o.onEpoch?.(stats);
    const msPerStep = (performance.now() - start) / steps;
    plannedSteps = Math.min(stepsPerEpoch * o.maxEpochs, Math.floor(budgetMs / msPerStep));
  }
  optimizer.dispose();
  return { encoder, epochs, trainSeconds: (performance.now() - start) / 1000, steps };
}

/** Embeds every row and measures P@10 for the held-out queries (duplicates never count). */
export async function evaluateEncoder(encoder: Encoder, data: LabelledImages, split: PhotoSplit): Promise<{ retrieval: RetrievalResult; embedSeconds: number; embeddings: Float32Array }> {
  const t = performance.now();
  const embeddings = await embed(tf, encoder, data.images, 256);
  const embedSeconds = (performance.now() - t) / 1000;
  const retrieval = await retrievalPrecision(tf, embeddings, encoder.config.embeddingDim, split.queries, { group: split.group, articleType: data.labels.articleType, colour: data.labels.colour });
  return { retrieval, embedSeconds, embeddings };
}

/** Writes `model.json` + `weights.bin` into `dir`. */
export async function saveEncoder(encoder: Encoder, dir: string, meta: Record<string, unknown> = {}): Promise<void> {
  const { modelJson, weightData } = toArtifacts(encoder.config, getWeights(encoder), meta);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, WEIGHTS_FILE), new Uint8Array(weightData));
  await writeFile(join(dir, 'model.json'), JSON.stringify(modelJson, null, 2));
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}

async function main(): Promise<void> {
  const budget = Number(arg('--budget-s', '600'));
  const out = resolve(arg('--out', '.data/image-encoder/model'));
  const data = await loadLabelledImages({ stylesCsv: arg('--styles', '../shared/data/myntra-fashion-small/styles.csv'), cacheDir: arg('--cache', '.data/image-encoder') });
  await prepareBackend((arg('--backend', 'wasm') as TrainBackend));
  const split = splitByPhoto(data.sha256);
  console.log(`${data.count} photos, ${split.train.length} train rows, ${split.queries.length} query rows; budget ${budget} s`);
  const result = trainEncoder(data, split.train, {
    budgetSeconds: budget,
    onEpoch: (e) => console.log(`epoch ${e.epoch}: ${e.seconds.toFixed(0)} s, ${e.imagesPerSecond.toFixed(0)} img/s, loss ${e.meanLoss.toFixed(3)}`),
  });
  console.log(`params ${parameterCount(result.encoder.config)}; trained ${result.steps} steps in ${result.trainSeconds.toFixed(0)} s`);
  const ev = await evaluateEncoder(result.encoder, data, split);
  console.log(`embed ${(data.count / ev.embedSeconds).toFixed(0)} img/s; P@10 type ${ev.retrieval.precisionType.toFixed(3)}, type+colour ${ev.retrieval.precisionTypeColour.toFixed(3)} (${ev.retrieval.queries} queries)`);
  await saveEncoder(result.encoder, out, { retrieval: ev.retrieval, trainSeconds: result.trainSeconds, epochs: result.epochs, classes: data.classes });
  console.log(`saved ${out}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
