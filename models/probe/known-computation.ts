import type * as tfc from '@tensorflow/tfjs-core';
import { SeededRandom } from '../random';
import { summarise } from './stats';

type Tf = typeof tfc;

/**
 * Known computations with seeded inputs: a square matmul and a small depthwise-separable CNN
 * forward pass. Every backend must give the same numbers (within {@link RESULT_TOLERANCE}), which
 * proves the backend computes correctly; timing the same work gives its speed.
 */

/** Two results agree when |a − b| ≤ RESULT_TOLERANCE · max(1, |b|) for every compared value. */
export const RESULT_TOLERANCE = 1e-3;

/** Deterministic uniform floats in [-1, 1) (mulberry32), so every backend sees the same inputs. */
export function seededUniform(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  const random = new SeededRandom(seed);
  for (let i = 0; i < count; i++) out[i] = random.next() * 2 - 1;
  return out;
}

export interface ComputationResult {
  /** Sum of every output value: a cheap fingerprint of the whole result. */
  checksum: number;
  /** The first output values, compared one by one across backends. */
  sample: number[];
  /** Median milliseconds per run (including reading the result back). */
  medianMs: number;
  p95Ms: number;
  runs: number;
}

export interface MatmulResult extends ComputationResult {
  size: number;
  gflops: number;
}

export interface CnnResult extends ComputationResult {
  batch: number;
  imageSize: number;
  imagesPerSecond: number;
}

export interface TimingOptions {
  /** Timed runs after one untimed warm-up run. */
  runs?: number;
}

/** C = A·B for seeded n×n matrices. */
export async function runMatmul(tf: Tf, size: number, options: TimingOptions = {}): Promise<MatmulResult> {
  const a = tf.tensor2d(seededUniform(size * size, 1), [size, size]);
  const b = tf.tensor2d(seededUniform(size * size, 2), [size, size]);
  try {
    const timed = await timeRuns(() => tf.matMul(a, b), options.runs ?? 5);
    const flops = 2 * size ** 3;
    return { ...timed, size, gflops: flops / (timed.medianMs / 1000) / 1e9 };
  } finally {
    a.dispose();
    b.dispose();
  }
}

/** Channel sizes of the probe CNN: 3 → 16 (conv, stride 2) → 32 (separable, stride 2) → 64 → 10. */
const CNN = { input: 3, stem: 16, block1: 32, block2: 64, classes: 10 } as const;

/**
 * A small MobileNet-style forward pass on seeded images and weights:
 * conv3×3/2 → relu6 → [depthwise3×3/2 → pointwise → relu6] ×2 → global average pool → dense.
 */
export async function runCnn(
  tf: Tf,
  batch: number,
  imageSize = 64,
  options: TimingOptions = {},
): Promise<CnnResult> {
  const scale = (count: number, fanIn: number, seed: number) =>
    seededUniform(count, seed).map((v) => v * Math.sqrt(3 / fanIn));
  const w = {
    stem: tf.tensor4d(scale(9 * CNN.input * CNN.stem, 9 * CNN.input, 11), [3, 3, CNN.input, CNN.stem]),
    dw1: tf.tensor4d(scale(9 * CNN.stem, 9, 12), [3, 3, CNN.stem, 1]),
    pw1: tf.tensor4d(scale(CNN.stem * CNN.block1, CNN.stem, 13), [1, 1, CNN.stem, CNN.block1]),
    dw2: tf.tensor4d(scale(9 * CNN.block1, 9, 14), [3, 3, CNN.block1, 1]),
    pw2: tf.tensor4d(scale(CNN.block1 * CNN.block2, CNN.block1, 15), [1, 1, CNN.block1, CNN.block2]),
    dense: tf.tensor2d(scale(CNN.block2 * CNN.classes, CNN.block2, 16), [CNN.block2, CNN.classes]),
  };
  const images = tf.tensor4d(seededUniform(batch * imageSize * imageSize * 3, 3), [batch, imageSize, imageSize, 3]);
  const forward = () =>
    tf.tidy(() => {
      let x = tf.relu6(tf.conv2d(images, w.stem, 2, 'same'));
      x = tf.relu6(tf.separableConv2d(x, w.dw1, w.pw1, 2, 'same'));
      x = tf.relu6(tf.separableConv2d(x, w.dw2, w.pw2, 2, 'same'));
      const pooled = tf.mean(x, [1, 2]);
      return tf.matMul(pooled, w.dense);
    });
  try {
    const timed = await timeRuns(forward, options.runs ?? 5);
    return { ...timed, batch, imageSize, imagesPerSecond: batch / (timed.medianMs / 1000) };
  } finally {
    tf.dispose([images, ...Object.values(w)]);
  }
}

/** Describes where two results differ beyond {@link RESULT_TOLERANCE}, or returns undefined. */
export function compareResults(actual: ComputationResult, expected: ComputationResult): string | undefined {
  const within = (a: number, b: number) => Math.abs(a - b) <= RESULT_TOLERANCE * Math.max(1, Math.abs(b));
  if (actual.sample.length !== expected.sample.length) {
    return `sample length ${actual.sample.length} ≠ ${expected.sample.length}`;
  }
  for (let i = 0; i < expected.sample.length; i++) {
    const a = actual.sample[i] as number;
    const b = expected.sample[i] as number;
    if (!within(a, b)) return `value ${i}: ${a} ≠ ${b}`;
  }
  // The checksum sums many values, so its error grows with their count: compare it loosely.
  if (Math.abs(actual.checksum - expected.checksum) > 1e-2 * Math.max(1, Math.abs(expected.checksum))) {
    return `checksum ${actual.checksum} ≠ ${expected.checksum}`;
  }
  return undefined;
}

const SAMPLE_SIZE = 16;

async function timeRuns(
  compute: () => tfc.Tensor,
  runs: number,
): Promise<ComputationResult> {
  const times: number[] = [];
  let values: Float32Array | undefined;
  for (let i = 0; i <= Math.max(1, runs); i++) {
    const start = performance.now();
    const out = compute();
    const data = (await out.data()) as Float32Array;
    out.dispose();
    if (i > 0) times.push(performance.now() - start);
    values = data;
  }
  const result = values ?? new Float32Array();
  let checksum = 0;
  for (const v of result) checksum += v;
  const { median, p95 } = summarise(times);
  return {
    checksum,
    sample: Array.from(result.subarray(0, SAMPLE_SIZE)),
    medianMs: median,
    p95Ms: p95,
    runs,
  };
}
