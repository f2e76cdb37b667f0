/**
 * Image encoder benchmark on the Myntra catalog (`../shared/data/myntra-fashion-small`):
 *
 * - training speed on wasm in one thread against data-parallel replicas in worker threads (one per
 *   core, up to two; BENCH_REPLICAS), each sampled for BENCH_SPEED_S seconds (default 40) in the
 *   same run, at full size;
 * - a training run for a time budget (BENCH_BUDGET_S, default 1800: the 30-minute target) at the
 *   pipeline's embedding size (BENCH_DIM, default 64), or the figures recorded with a model already
 *   trained by `server/train/image-encoder.ts` when BENCH_MODEL names its folder;
 * - embedding throughput on wasm at batch 256 (best of 3 over 4,096 photos);
 * - retrieval P@10 on held-out photos (same article type; same type and colour), with the baseline
 *   measured in the same run on the same split: raw-pixel nearest neighbours (16×16 colour
 *   thumbnails, cosine); and the same with phone-photo versions of the query photos
 *   (`phonePhotos`, fixed seed) searched against the clean catalog; each also for the same weights
 *   with the prototype pull switched the other way (off, or on for a model saved without one).
 *
 *   npx tsx bench/image-encoder.bench.ts
 *   BENCH_MODEL=.data/image-encoder/model npx tsx bench/image-encoder.bench.ts
 *   BENCH_CLOCK=cpu npx tsx bench/image-encoder.bench.ts   (budget in CPU seconds on a shared machine)
 *   BENCH_LOW_RES=none npx tsx bench/image-encoder.bench.ts (full-size photos from the first step)
 *
 * Prints a table and writes bench-results/image-encoder.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { phonePhotos } from '../models/image/augment';
import { DEFAULT_PROTOTYPE_PULL, disposeEncoder, embed, parameterCount } from '../models/image/encoder';
import type { Encoder } from '../models/image/encoder';
import { pixelThumbnails, retrievalPrecision } from '../models/image/retrieval';
import { loadEncoder, WEIGHTS_FILE } from '../models/image/serialize';
import type { EncoderModelJson } from '../models/image/serialize';
import { loadLabelledImages } from '../server/train/image-data';
import { DEFAULT_EMBEDDING_DIM } from '../server/pipeline/image-step';
import { DEFAULT_TRAIN, defaultReplicas, evaluateEncoder, parseLowResolution, PHONE_QUERY_SEED, prepareBackend, splitByPhoto, trainEncoder } from '../server/train/image-encoder';
import type { EpochStats } from '../server/train/image-encoder';

const MODEL_DIR = process.env.BENCH_MODEL;
const BUDGET_S = Number(process.env.BENCH_BUDGET_S ?? 1800);
/** BENCH_CLOCK=cpu counts the budget in this process's CPU seconds (for a machine shared with other work). */
const CLOCK = process.env.BENCH_CLOCK === 'cpu' ? 'cpu' : 'wall';
/** Data-parallel replicas for the training run (default: one per core, up to two). */
const REPLICAS = Number(process.env.BENCH_REPLICAS ?? defaultReplicas());
/** Embedding size (default 64, what the pipeline ships). */
const DIM = Number(process.env.BENCH_DIM ?? DEFAULT_EMBEDDING_DIM);
/** Low-resolution first phase, `SIZE@SHARE` or `none` (default: the trainer's). */
const LOW_RES = process.env.BENCH_LOW_RES ? parseLowResolution(process.env.BENCH_LOW_RES) : DEFAULT_TRAIN.lowResolution;
/** Seconds of each training-speed sample (one replica, then REPLICAS), 0 to skip. */
const SPEED_S = Number(process.env.BENCH_SPEED_S ?? 40);

async function main(): Promise<void> {
  const data = await loadLabelledImages({ stylesCsv: '../shared/data/myntra-fashion-small/styles.csv', cacheDir: '.data/image-encoder' });
  await prepareBackend('wasm');
  const split = splitByPhoto(data.sha256);

  // Training speed, single thread against data-parallel, measured side by side on the same split.
  const speed: { replicas: number; imagesPerSecond: number; steps: number }[] = [];
  if (SPEED_S > 0) {
    for (const replicas of [...new Set([1, REPLICAS])]) {
      // Full-size photos throughout: the speed of one step at the network's input size.
      const run = await trainEncoder(data, split.train, { budgetSeconds: SPEED_S, replicas, lowResolution: null, config: { embeddingDim: DIM } });
      // The first steps warm the kernels up: count the whole run, the way a training run pays for it.
      const images = run.epochs.reduce((n, e) => n + e.images, 0);
      speed.push({ replicas, imagesPerSecond: images / run.epochs.reduce((t, e) => t + e.seconds, 0), steps: run.steps });
      disposeEncoder(run.encoder);
    }
  }

  let encoder: Encoder;
  let epochs: EpochStats[];
  let trainSeconds: number;
  let trainCpuSeconds: number;
  let trainedHere: boolean;
  if (MODEL_DIR) {
    const modelJson = JSON.parse(readFileSync(join(MODEL_DIR, 'model.json'), 'utf8')) as EncoderModelJson;
    const bin = readFileSync(join(MODEL_DIR, WEIGHTS_FILE));
    encoder = loadEncoder(tf, modelJson, bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
    epochs = (modelJson.meta.epochs as EpochStats[] | undefined) ?? [];
    trainSeconds = Number(modelJson.meta.trainSeconds ?? NaN);
    trainCpuSeconds = Number((modelJson.meta.metrics as { trainCpuSeconds?: number } | undefined)?.trainCpuSeconds ?? NaN);
    trainedHere = false;
  } else {
    const result = await trainEncoder(data, split.train, { budgetSeconds: BUDGET_S, clock: CLOCK, replicas: REPLICAS, lowResolution: LOW_RES, config: { embeddingDim: DIM } });
    encoder = result.encoder;
    epochs = result.epochs;
    trainSeconds = result.trainSeconds;
    trainCpuSeconds = result.cpuSeconds;
    trainedHere = true;
  }

  // Embedding throughput on wasm, batch 256, best of 3.
  const sample = data.images.subarray(0, 4096 * data.size * data.size * 3);
  await embed(tf, encoder, sample.subarray(0, 256 * data.size * data.size * 3), 256);
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await embed(tf, encoder, sample, 256);
    best = Math.min(best, performance.now() - t);
  }
  const embedPerSecond = 4096 / (best / 1000);

  const ours = await evaluateEncoder(encoder, data, split);
  // The same weights with the prototype pull switched the other way (off where the model has one,
  // on with the default where it has none): what the pull adds, on the same split.
  const otherPull = encoder.config.prototypePull ? undefined : DEFAULT_PROTOTYPE_PULL;
  const other = await evaluateEncoder({ ...encoder, config: { ...encoder.config, prototypePull: otherPull } }, data, split);
  const pullLabel = (pull: typeof otherPull) => (pull ? `pull ${JSON.stringify(pull)}` : 'no pull');
  const labels = { group: split.group, articleType: data.labels.articleType, colour: data.labels.colour };
  const pixels = pixelThumbnails(data.images, data.size, 16);
  const baseline = await retrievalPrecision(tf, pixels, 16 * 16 * 3, split.queries, labels);
  const phonePixels = pixelThumbnails(phonePhotos(data.images, split.queries, data.size, PHONE_QUERY_SEED), data.size, 16);
  const phoneBaseline = await retrievalPrecision(tf, pixels, 16 * 16 * 3, split.queries, labels, 10, phonePixels);

  const imagesPerSecond = epochs.length > 0 ? epochs.reduce((s, e) => s + e.images, 0) / epochs.reduce((s, e) => s + e.seconds, 0) : NaN;
  const results = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model },
    data: { photos: data.count, trainRows: split.train.length, queryRows: split.queries.length, groups: new Set(split.group).size },
    model: { params: parameterCount(encoder.config), paramsWithoutHeads: parameterCount(encoder.config, false), embeddingDim: encoder.config.embeddingDim, blocks: encoder.config.blocks },
    trainingSpeed: { backend: 'wasm', batch: DEFAULT_TRAIN.batchSize, secondsEach: SPEED_S, runs: speed },
    training: { backend: 'wasm', replicas: trainedHere ? REPLICAS : 'see the model folder', trainedHere, trainSeconds, trainCpuSeconds, epochs, imagesPerSecond, secondsPerFullEpoch: split.train.length / imagesPerSecond, epochsDone: epochs.reduce((n, e) => n + e.images, 0) / split.train.length, options: trainedHere ? { ...DEFAULT_TRAIN, budgetSeconds: BUDGET_S, clock: CLOCK, lowResolution: LOW_RES, phonePhotoOptions: undefined, augment: undefined } : 'see the model folder' },
    embedding: { backend: 'wasm', batch: 256, imagesPerSecond: embedPerSecond },
    prototypePull: { encoder: encoder.config.prototypePull ?? null, other: otherPull ?? null },
    retrieval: { encoder: ours.retrieval, encoderOtherPull: other.retrieval, rawPixels16: baseline },
    retrievalPhonePhotoQueries: { encoder: ours.phoneRetrieval, encoderOtherPull: other.phoneRetrieval, rawPixels16: phoneBaseline, seed: PHONE_QUERY_SEED },
    targets: { precisionType: 0.85, precisionTypeColour: 0.55, trainMinutes: 30, embedImagesPerSecond: 2000 },
  };
  console.table({
    ...Object.fromEntries(speed.map((r) => [`train images/s, ${r.replicas} replica${r.replicas > 1 ? 's' : ''} (wasm, ${SPEED_S} s sample)`, { value: r.imagesPerSecond.toFixed(0) }])),
    'train images/s (wasm)': { value: imagesPerSecond.toFixed(0) },
    'train seconds (wall / CPU)': { value: `${trainSeconds.toFixed(0)} / ${trainCpuSeconds.toFixed(0)}` },
    'embed images/s (wasm, batch 256)': { value: embedPerSecond.toFixed(0) },
    'P@10 type — encoder': { value: ours.retrieval.precisionType.toFixed(3) },
    [`P@10 type — encoder, ${pullLabel(otherPull)}`]: { value: other.retrieval.precisionType.toFixed(3) },
    'P@10 type — raw 16×16 pixels': { value: baseline.precisionType.toFixed(3) },
    'P@10 type+colour — encoder': { value: ours.retrieval.precisionTypeColour.toFixed(3) },
    [`P@10 type+colour — encoder, ${pullLabel(otherPull)}`]: { value: other.retrieval.precisionTypeColour.toFixed(3) },
    'P@10 type+colour — raw 16×16 pixels': { value: baseline.precisionTypeColour.toFixed(3) },
    'phone-photo queries: P@10 type — encoder': { value: ours.phoneRetrieval.precisionType.toFixed(3) },
    [`phone-photo queries: P@10 type — encoder, ${pullLabel(otherPull)}`]: { value: other.phoneRetrieval.precisionType.toFixed(3) },
    'phone-photo queries: P@10 type — raw pixels': { value: phoneBaseline.precisionType.toFixed(3) },
    'phone-photo queries: P@10 type+colour — encoder': { value: ours.phoneRetrieval.precisionTypeColour.toFixed(3) },
    [`phone-photo queries: P@10 type+colour — encoder, ${pullLabel(otherPull)}`]: { value: other.phoneRetrieval.precisionTypeColour.toFixed(3) },
    'phone-photo queries: P@10 type+colour — raw pixels': { value: phoneBaseline.precisionTypeColour.toFixed(3) },
  });
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/image-encoder.json', JSON.stringify(results, null, 2));
  console.log('wrote bench-results/image-encoder.json');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
