/**
 * Image encoder speed on WebGPU beside wasm, in one run: a training step (images/s at batch 64 and
 * 256), embedding (images/s at batch 256 and 1024, from photo bytes to normalised vectors read
 * back, and the network alone on an input already on the device), and matmul (GFLOP/s, checked
 * against wasm). The inputs are synthetic: pixel values do not change the speed, and the photos
 * do not travel to the GPU machine. The same seeded weights and batch on both backends must give
 * the same embeddings and the same loss after one step (printed as sanity checks).
 *
 *   npm run bench:gpu:build && bash .gpu/run.sh node bench-dist/encoder-gpu.js [--quick]
 *   GPU_ICD=swiftshader bash .gpu/run.sh node bench-dist/encoder-gpu.js --quick   (no GPU: proves the bundle)
 *
 * Prints a table and writes encoder-gpu.json to $OUT (or bench-results/).
 */
import { arch, cpus, platform } from 'node:os';
import { createEncoder, disposeEncoder, embed, encoderConfig, forward, parameterCount, toNetworkInput, trainStepAsync } from '../../models/image/encoder';
import type { Encoder, TrainBatch } from '../../models/image/encoder';
import { registerEncoderGradients } from '../../models/image/gradients';
import { registerTrainingKernels } from '../../models/image/training-kernels';
import { SeededRandom } from '../../models/random';
import { setupBackends, tf, time, useBackend, writeResults } from './gpu-env';
import type { Timing } from './gpu-env';

const QUICK = process.argv.includes('--quick');
type Backend = 'webgpu' | 'wasm';

/** Sizes and repetitions; --quick is for SwiftShader (a CPU rasteriser, tens of images/s). */
const PLAN = QUICK
  ? { trainBatches: [8, 16], embedBatches: [16, 32], matmul: [128, 256], reps: { webgpu: 2, wasm: 2 }, sanityBatch: 8, warmup: 1 }
  : { trainBatches: [64, 256], embedBatches: [256, 1024], matmul: [1024, 2048, 4096], reps: { webgpu: 20, wasm: 5 }, sanityBatch: 64, warmup: 2 };
/** Classes as in the Myntra catalog (article type, colour, gender). */
const CLASSES = { articleType: 140, colour: 46, gender: 5 };
const SEED = 7;

interface Row extends Timing {
  backend: Backend;
  what: 'train step' | 'embed (bytes → vectors)' | 'forward (on device)' | 'matmul';
  batch: number;
  imagesPerSecond?: number;
  gflops?: number;
}

function bytes(count: number, size: number, seed: number): Uint8Array {
  const rng = new SeededRandom(seed);
  const out = new Uint8Array(count * size * size * 3);
  for (let i = 0; i < out.length; i++) out[i] = rng.int(256);
  return out;
}

function batchOf(count: number, size: number, seed: number): TrainBatch {
  const rng = new SeededRandom(seed + 1);
  const label = (n: number) => Int32Array.from({ length: count }, () => rng.int(n));
  return {
    input: toNetworkInput(bytes(count, size, seed), count, size),
    count,
    labels: { articleType: label(CLASSES.articleType), colour: label(CLASSES.colour), gender: label(CLASSES.gender) },
  };
}

function newEncoder(): Encoder {
  return createEncoder(tf, encoderConfig(CLASSES), SEED);
}

async function matmulRows(backend: Backend, sizes: number[], reps: number): Promise<{ rows: Row[]; products: Map<number, Float32Array> }> {
  const rows: Row[] = [];
  const products = new Map<number, Float32Array>();
  for (const n of sizes) {
    const rng = new SeededRandom(n);
    const a = tf.tensor2d(Float32Array.from({ length: n * n }, () => rng.uniform(-1, 1)), [n, n]);
    const b = tf.tensor2d(Float32Array.from({ length: n * n }, () => rng.uniform(-1, 1)), [n, n]);
    let last: Float32Array | undefined;
    const t = await time(async () => {
      const c = tf.matMul(a, b);
      last = (await c.data()) as Float32Array;
      c.dispose();
    }, backend === 'wasm' && n >= 2048 ? 2 : reps);
    if (last) products.set(n, last);
    rows.push({ backend, what: 'matmul', batch: n, ...t, gflops: (2 * n ** 3) / (t.medianMs * 1e6) });
    tf.dispose([a, b]);
  }
  return { rows, products };
}

async function encoderRows(backend: Backend, reps: number): Promise<{ rows: Row[]; sanityEmbedding: Float32Array; sanityLoss: number }> {
  const rows: Row[] = [];
  const size = encoderConfig(CLASSES).inputSize;
  // Sanity first, on fresh weights: the same seed gives the same weights on every backend.
  const sanity = newEncoder();
  const sanityBatch = batchOf(PLAN.sanityBatch, size, 1);
  const sanityEmbedding = await embed(tf, sanity, bytes(PLAN.sanityBatch, size, 1), PLAN.sanityBatch);
  const sanityOptimizer = tf.train.adam(1e-3);
  await trainStepAsync(tf, sanity, sanityOptimizer, sanityBatch);
  // The loss after one step depends on every gradient: equal on two backends, the gradients agree.
  const sanityLoss = await trainStepAsync(tf, sanity, sanityOptimizer, sanityBatch);
  sanityOptimizer.dispose();
  disposeEncoder(sanity);

  for (const batchSize of PLAN.trainBatches) {
    const encoder = newEncoder();
    const optimizer = tf.train.adam(1e-3);
    const batch = batchOf(batchSize, size, 2);
    const t = await time(() => trainStepAsync(tf, encoder, optimizer, batch), backend === 'wasm' && batchSize >= 256 ? Math.min(reps, 3) : reps, PLAN.warmup);
    rows.push({ backend, what: 'train step', batch: batchSize, ...t, imagesPerSecond: batchSize / (t.medianMs / 1000) });
    optimizer.dispose();
    disposeEncoder(encoder);
    console.log(`  ${backend}: train step batch ${batchSize}: ${t.medianMs.toFixed(1)} ms`);
  }
  const encoder = newEncoder();
  for (const batchSize of PLAN.embedBatches) {
    const images = bytes(batchSize, size, 3);
    const t = await time(() => embed(tf, encoder, images, batchSize), reps, PLAN.warmup);
    rows.push({ backend, what: 'embed (bytes → vectors)', batch: batchSize, ...t, imagesPerSecond: batchSize / (t.medianMs / 1000) });
    const input = tf.tensor4d(toNetworkInput(images, batchSize, size), [batchSize, size / 2, size / 2, 12]);
    const f = await time(async () => {
      const e = tf.tidy(() => forward(tf, encoder, input, false, { heads: 'pulled' }).embedding);
      await e.data();
      e.dispose();
    }, reps, PLAN.warmup);
    input.dispose();
    rows.push({ backend, what: 'forward (on device)', batch: batchSize, ...f, imagesPerSecond: batchSize / (f.medianMs / 1000) });
    console.log(`  ${backend}: embed batch ${batchSize}: ${t.medianMs.toFixed(1)} ms`);
  }
  disposeEncoder(encoder);
  return { rows, sanityEmbedding, sanityLoss };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** Largest |a - b| relative to the largest |b|. */
function relativeError(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  return maxAbsDiff(a, b) / Math.max(scale, 1e-12);
}

async function main(): Promise<void> {
  const started = performance.now();
  const { adapter, webgpuError } = await setupBackends();
  registerEncoderGradients(tf);
  registerTrainingKernels(tf, 'wasm');
  const config = encoderConfig(CLASSES);
  console.log(`encoder: ${config.inputSize}×${config.inputSize} input, ${parameterCount(config)} params; ${QUICK ? 'quick sizes' : 'full sizes'}`);
  console.log(adapter ? `adapter: ${adapter.vendor} ${adapter.architecture} ${adapter.device} ${adapter.description}` : `no WebGPU: ${webgpuError}`);

  const rows: Row[] = [];
  const per: Partial<Record<Backend, { embedding: Float32Array; loss: number; products: Map<number, Float32Array> }>> = {};
  const backends: Backend[] = adapter ? ['webgpu', 'wasm'] : ['wasm'];
  for (const backend of backends) {
    await useBackend(backend);
    console.log(`${backend}: running`);
    const enc = await encoderRows(backend, PLAN.reps[backend]);
    const mm = await matmulRows(backend, backend === 'wasm' ? PLAN.matmul.filter((n) => n <= 2048) : PLAN.matmul, PLAN.reps[backend]);
    rows.push(...enc.rows, ...mm.rows);
    per[backend] = { embedding: enc.sanityEmbedding, loss: enc.sanityLoss, products: mm.products };
  }

  const sanity: Record<string, number | string> = {};
  const gpu = per.webgpu;
  const wasm = per.wasm;
  if (gpu && wasm) {
    sanity.embeddingMaxAbsDiff = maxAbsDiff(gpu.embedding, wasm.embedding);
    sanity.secondStepLossWebgpu = gpu.loss;
    sanity.secondStepLossWasm = wasm.loss;
    for (const [n, product] of gpu.products) {
      const reference = wasm.products.get(n);
      if (reference) sanity[`matmul${n}RelativeError`] = relativeError(product, reference);
    }
  }
  const ok = Object.entries(sanity).every(([key, v]) => typeof v !== 'number' || !(key.endsWith('Diff') || key.endsWith('Error')) || v < 1e-3)
    && (!gpu || !wasm || Math.abs(gpu.loss - wasm.loss) <= 1e-3 * Math.max(1, Math.abs(wasm.loss)));

  const table = rows.map((r) => ({
    backend: r.backend,
    what: r.what,
    'batch / n': r.batch,
    'median ms': Number(r.medianMs.toFixed(2)),
    'p95 ms': Number(r.p95Ms.toFixed(2)),
    'images/s': r.imagesPerSecond !== undefined ? Math.round(r.imagesPerSecond) : '',
    'GFLOP/s': r.gflops !== undefined ? Number(r.gflops.toFixed(1)) : '',
  }));
  console.table(table);
  console.log('sanity (webgpu vs wasm):', sanity, ok ? 'OK' : 'MISMATCH');
  const path = writeResults('encoder-gpu.json', {
    date: new Date().toISOString(),
    quick: QUICK,
    host: { platform: platform(), arch: arch(), cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
    adapter: adapter ?? null,
    webgpuError: webgpuError ?? null,
    encoder: { inputSize: config.inputSize, params: parameterCount(config), embeddingDim: config.embeddingDim, blocks: config.blocks, classes: CLASSES },
    notes: 'Synthetic inputs. train step = forward + backward + Adam on a prepared batch (upload included, loss read back); embed = bytes → network input on the CPU → embeddings read back; forward = network alone on an input already on the device. wasm is single-threaded SIMD.',
    results: rows,
    sanity: { ...sanity, ok },
    seconds: (performance.now() - started) / 1000,
  });
  console.log(`wrote ${path} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  process.exit(ok && !webgpuError ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
