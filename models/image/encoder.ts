/**
 * The image encoder: a compact depthwise-separable CNN over 64×64 RGB product photos, producing an
 * L2-normalised embedding (cosine similarity = dot product) and, for training, softmax heads for
 * article type, colour, gender and usage on that embedding (scaled cosine logits, so the classes
 * shape the embedding's geometry directly).
 *
 * Written with tfjs-core ops and `tf.variable`s only, so one definition trains in Node and runs in
 * the browser worker on any backend. Layout (default widths):
 *
 *   64×64×3 → space-to-depth 2×2 → 32×32×12
 *   6 blocks: depthwise 3×3 (stride 1 or 2) → pointwise (a matrix product) → batch norm → ReLU
 *     32×32×24 → 16×16×48 → 16×16×64 → 8×8×128 → 8×8×128 → 4×4×192
 *   global average pool → linear 192→128 → L2 normalise = embedding
 *   heads: 16 · embedding · W + b per task
 *   inference: embedding + the heads' expected unit class vectors (`prototypePull`), L2 normalise
 *
 * The pointwise convolutions are matrix products, so their gradients are matrix products on every
 * backend; the depthwise convolutions need the gradient kernels in `training-kernels.ts` on wasm.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { pointwiseBnRelu } from './batch-norm';
import { sumLeading } from './gradients';

type TF = typeof tfc;

export const TASKS = ['articleType', 'colour', 'gender', 'usage'] as const;
export type Task = (typeof TASKS)[number];

export interface BlockConfig {
  /** Output channels of the pointwise convolution. */
  channels: number;
  /** Stride of the depthwise convolution (1 or 2). */
  stride: 1 | 2;
}

export interface EncoderConfig {
  /** Side of the square RGB input (pixels); must be even. */
  inputSize: number;
  blocks: BlockConfig[];
  embeddingDim: number;
  /** Classes per task (0 or absent leaves a task out: models saved before `usage` lack it). */
  classes: Partial<Record<Task, number>>;
  /** Scale of the cosine logits. */
  headScale: number;
  /** Momentum of the batch-norm moving statistics. */
  bnMomentum: number;
  /**
   * Inference only: per task, how much of the expected class prototype (the head's class
   * probabilities times its unit class vectors) is added to the embedding before the final
   * normalisation. Pulls a photo towards the classes the heads see in it, so its neighbours share
   * its type and colour more often. Absent (older models): the plain embedding.
   */
  prototypePull?: Partial<Record<Task, number>>;
}

export const DEFAULT_BLOCKS: BlockConfig[] = [
  { channels: 24, stride: 1 },
  { channels: 48, stride: 2 },
  { channels: 64, stride: 1 },
  { channels: 128, stride: 2 },
  { channels: 128, stride: 1 },
  { channels: 192, stride: 2 },
];

/** The pull new models embed with: the plain expected prototype of article type and colour. */
export const DEFAULT_PROTOTYPE_PULL: Partial<Record<Task, number>> = { articleType: 1, colour: 1 };

export function encoderConfig(classes: Partial<Record<Task, number>>, overrides: Partial<Omit<EncoderConfig, 'classes'>> = {}): EncoderConfig {
  const config: EncoderConfig = {
    inputSize: 64,
    blocks: DEFAULT_BLOCKS,
    embeddingDim: 128,
    headScale: 16,
    bnMomentum: 0.9,
    prototypePull: DEFAULT_PROTOTYPE_PULL,
    ...overrides,
    classes,
  };
  if (config.inputSize % 2 !== 0 || config.inputSize < 8) throw new Error(`inputSize must be even and ≥ 8, got ${config.inputSize}`);
  if (config.embeddingDim < 1 || config.embeddingDim > 1024) throw new Error(`embeddingDim out of range: ${config.embeddingDim}`);
  if (config.blocks.length === 0) throw new Error('An encoder needs at least one block');
  return config;
}

/** One weight as it is stored: what the serializer writes and reads. */
export interface NamedWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface Encoder {
  config: EncoderConfig;
  /** Trainable weights, in a fixed order. */
  params: Map<string, tfc.Variable>;
  /** Batch-norm moving statistics (not trained by gradient). */
  state: Map<string, tfc.Variable>;
}

/** Small deterministic generator for weight initialisation (mulberry32 + Box–Muller). */
function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** Classes of `task`'s head; 0 when the model has none. */
export function classCount(config: EncoderConfig, task: Task): number {
  const n = config.classes[task] ?? 0;
  return n > 0 ? n : 0;
}

/** Names and shapes of every weight, trainable first then state, in storage order. */
export function weightSpecs(config: EncoderConfig): { name: string; shape: number[]; trainable: boolean; init: 'he' | 'zeros' | 'ones' }[] {
  const specs: { name: string; shape: number[]; trainable: boolean; init: 'he' | 'zeros' | 'ones' }[] = [];
  let channels = 12;
  config.blocks.forEach((block, i) => {
    specs.push({ name: `block${i}/dw`, shape: [3, 3, channels, 1], trainable: true, init: 'he' });
    specs.push({ name: `block${i}/pw`, shape: [channels, block.channels], trainable: true, init: 'he' });
    specs.push({ name: `block${i}/gamma`, shape: [block.channels], trainable: true, init: 'ones' });
    specs.push({ name: `block${i}/beta`, shape: [block.channels], trainable: true, init: 'zeros' });
    channels = block.channels;
  });
  specs.push({ name: 'proj/w', shape: [channels, config.embeddingDim], trainable: true, init: 'he' });
  specs.push({ name: 'proj/b', shape: [config.embeddingDim], trainable: true, init: 'zeros' });
  for (const task of TASKS) {
    const n = classCount(config, task);
    if (n === 0) continue;
    specs.push({ name: `head/${task}/w`, shape: [config.embeddingDim, n], trainable: true, init: 'he' });
    specs.push({ name: `head/${task}/b`, shape: [n], trainable: true, init: 'zeros' });
  }
  config.blocks.forEach((block, i) => {
    specs.push({ name: `block${i}/mean`, shape: [block.channels], trainable: false, init: 'zeros' });
    specs.push({ name: `block${i}/var`, shape: [block.channels], trainable: false, init: 'ones' });
  });
  return specs;
}

/** Creates an encoder with freshly initialised weights (He-normal, seeded). */
export function createEncoder(tf: TF, config: EncoderConfig, seed = 1): Encoder {
  const normal = gaussian(seed);
  const params = new Map<string, tfc.Variable>();
  const state = new Map<string, tfc.Variable>();
  for (const spec of weightSpecs(config)) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (spec.init === 'ones') data.fill(1);
    if (spec.init === 'he') {
      // Fan-in: 9 for a depthwise filter, rows of a matrix otherwise.
      const fanIn = spec.shape.length === 4 ? (spec.shape[0] ?? 1) * (spec.shape[1] ?? 1) : (spec.shape[0] ?? 1);
      const std = Math.sqrt(2 / fanIn) * (spec.name.startsWith('head/') ? 0.5 : 1);
      for (let i = 0; i < size; i++) data[i] = normal() * std;
    }
    const initial = tf.tensor(data, spec.shape, 'float32');
    const v = tf.variable(initial, spec.trainable, `img_${seed}_${Math.random().toString(36).slice(2)}_${spec.name}`);
    initial.dispose(); // the variable holds its own reference to the values
    (spec.trainable ? params : state).set(spec.name, v);
  }
  return { config, params, state };
}

export function disposeEncoder(encoder: Encoder): void {
  for (const v of encoder.params.values()) v.dispose();
  for (const v of encoder.state.values()) v.dispose();
}

export function parameterCount(config: EncoderConfig, includeHeads = true): number {
  return weightSpecs(config)
    .filter((s) => s.trainable && (includeHeads || !s.name.startsWith('head/')))
    .reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
}

function get(map: Map<string, tfc.Variable>, name: string): tfc.Variable {
  const v = map.get(name);
  if (!v) throw new Error(`Encoder has no weight ${name}`);
  return v;
}

/**
 * Bytes (N×S×S×3 RGB, NHWC) to the network input: scaled to [-1, 1] and rearranged 2×2
 * space-to-depth, [N, S/2, S/2, 12]. Done on typed arrays: one pass, no kernels needed.
 */
export function toNetworkInput(bytes: Uint8Array | Float32Array, count: number, size: number, offset = 0): Float32Array {
  const half = size / 2;
  const out = new Float32Array(count * half * half * 12);
  const scale = bytes instanceof Uint8Array ? 1 / 127.5 : 1;
  const shift = bytes instanceof Uint8Array ? -1 : 0;
  const rowBytes = size * size * 3;
  let o = 0;
  for (let n = 0; n < count; n++) {
    const base = (offset + n) * rowBytes;
    for (let r = 0; r < half; r++) {
      for (let c = 0; c < half; c++) {
        for (let dr = 0; dr < 2; dr++) {
          const p = base + ((2 * r + dr) * size + 2 * c) * 3;
          for (let k = 0; k < 6; k++) out[o++] = (bytes[p + k] as number) * scale + shift;
        }
      }
    }
  }
  return out;
}

export interface ForwardResult {
  /** [B, D], L2-normalised. */
  embedding: tfc.Tensor2D;
  logits: Partial<Record<Task, tfc.Tensor2D>>;
  /** Per block: the batch mean and variance (training mode only). */
  moments: { mean: tfc.Tensor1D; variance: tfc.Tensor1D }[];
}

const EPS = 1e-3;

export interface ForwardOptions {
  /**
   * Training mode only: `fused` (default) runs each block's pointwise product, batch norm and ReLU
   * as one op with a hand-written gradient (batch-norm.ts, much faster on wasm); `tape` records
   * every op, the reference it is checked against.
   */
  batchNorm?: 'fused' | 'tape';
  /**
   * Inference only: `pulled` computes just the heads the prototype pull uses (what embedding needs;
   * a head nothing reads, such as usage, costs a matrix product per batch); `all` (default) every head.
   */
  heads?: 'all' | 'pulled';
}

/**
 * The network on a prepared input [B, S/2, S/2, 12]. In training mode batch norm uses the batch's
 * statistics (and returns them, as kept tensors the caller disposes); otherwise the moving ones.
 * Call inside `tf.tidy` or a gradient function.
 */
export function forward(tf: TF, encoder: Encoder, input: tfc.Tensor4D, training: boolean, options: ForwardOptions = {}): ForwardResult {
  const { config } = encoder;
  const fused = (options.batchNorm ?? 'fused') === 'fused';
  const moments: ForwardResult['moments'] = [];
  let h: tfc.Tensor4D = input;
  config.blocks.forEach((block, i) => {
    h = tf.depthwiseConv2d(h, get(encoder.params, `block${i}/dw`) as tfc.Tensor4D, block.stride, 'same');
    const [b, height, width, c] = h.shape;
    const flat = tf.reshape(h, [b * height * width, c]);
    const pw = get(encoder.params, `block${i}/pw`) as tfc.Tensor2D;
    const gamma = get(encoder.params, `block${i}/gamma`);
    const beta = get(encoder.params, `block${i}/beta`);
    if (!training) {
      // Inference: batch norm folded into the pointwise weights, one fused product + bias + ReLU.
      const scale = tf.mul(tf.rsqrt(tf.add(get(encoder.state, `block${i}/var`), EPS)), gamma);
      const shift = tf.sub(beta, tf.mul(get(encoder.state, `block${i}/mean`), scale));
      const out = tf.fused.matMul({ a: flat, b: tf.mul(pw, scale), bias: shift, activation: 'relu' });
      h = tf.reshape(out, [b, height, width, block.channels]);
      return;
    }
    if (fused) {
      const { y, mean, variance } = pointwiseBnRelu(tf, flat as tfc.Tensor2D, pw, gamma, beta, EPS);
      moments.push({ mean, variance });
      h = tf.reshape(y, [b, height, width, block.channels]);
      return;
    }
    const z = tf.matMul(flat, pw);
    let normalised: tfc.Tensor2D;
    {
      const rows = b * height * width;
      const mean = tf.reshape(tf.div(sumLeading(tf, z, rows), rows), [block.channels]) as tfc.Tensor1D;
      const centred = tf.sub(z, mean);
      const variance = tf.reshape(tf.div(sumLeading(tf, tf.square(centred), rows), rows), [block.channels]) as tfc.Tensor1D;
      moments.push({ mean, variance });
      normalised = tf.add(tf.mul(centred, tf.mul(tf.rsqrt(tf.add(variance, EPS)), gamma)), beta);
    }
    h = tf.reshape(tf.relu(normalised), [b, height, width, block.channels]);
  });
  const pooled = tf.mean(h, [1, 2]) as tfc.Tensor2D;
  const projected = tf.add(tf.matMul(pooled, get(encoder.params, 'proj/w') as tfc.Tensor2D), get(encoder.params, 'proj/b'));
  const embedding = tf.mul(projected, tf.rsqrt(tf.add(tf.sum(tf.square(projected), 1, true), 1e-12))) as tfc.Tensor2D;
  const logits: ForwardResult['logits'] = {};
  const onlyPulled = !training && options.heads === 'pulled';
  for (const task of TASKS) {
    if (classCount(config, task) === 0 || (onlyPulled && !config.prototypePull?.[task])) continue;
    const w = get(encoder.params, `head/${task}/w`) as tfc.Tensor2D;
    logits[task] = tf.add(tf.mul(tf.matMul(embedding, w), config.headScale), get(encoder.params, `head/${task}/b`)) as tfc.Tensor2D;
  }
  if (training || !config.prototypePull) return { embedding, logits, moments };
  return { embedding: pullTowardsPrototypes(tf, encoder, embedding, logits, config.prototypePull), logits, moments };
}

/** `embedding + Σ_task weight · softmax(logits) · unit class vectorsᵀ`, L2-normalised again. */
function pullTowardsPrototypes(tf: TF, encoder: Encoder, embedding: tfc.Tensor2D, logits: ForwardResult['logits'], pull: Partial<Record<Task, number>>): tfc.Tensor2D {
  let pulled = embedding;
  for (const task of TASKS) {
    const weight = pull[task] ?? 0;
    const taskLogits = logits[task];
    if (weight === 0 || !taskLogits) continue;
    const w = get(encoder.params, `head/${task}/w`) as tfc.Tensor2D;
    const prototypes = tf.mul(w, tf.rsqrt(tf.add(tf.sum(tf.square(w), 0, true), 1e-12)));
    pulled = tf.add(pulled, tf.mul(tf.matMul(tf.softmax(taskLogits), prototypes, false, true), weight));
  }
  return tf.mul(pulled, tf.rsqrt(tf.add(tf.sum(tf.square(pulled), 1, true), 1e-12)));
}

/**
 * Embeds photos: `images` holds `count` rows of S×S×3 RGB bytes (the packed encoder input or a
 * shopper's photo letterboxed the same way). Returns count×D floats, each row L2-normalised.
 * Runs in batches of `batchSize`; reads back with `await data()` so it is safe on webgpu.
 */
export async function embed(tf: TF, encoder: Encoder, images: Uint8Array, batchSize = 256): Promise<Float32Array> {
  const size = encoder.config.inputSize;
  const rowBytes = size * size * 3;
  if (images.length % rowBytes !== 0) throw new Error(`embed: ${images.length} bytes is not a whole number of ${size}×${size}×3 images`);
  const count = images.length / rowBytes;
  const dim = encoder.config.embeddingDim;
  const out = new Float32Array(count * dim);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const input = toNetworkInput(images, n, size, start);
    const result = tf.tidy(() => forward(tf, encoder, tf.tensor4d(input, [n, size / 2, size / 2, 12]), false, { heads: 'pulled' }).embedding);
    out.set(await result.data(), start * dim);
    result.dispose();
  }
  return out;
}

/**
 * Embeds catalog rows given one by one (each S×S×3 RGB bytes, the packed encoder input of one item
 * or a letterboxed shopper photo): count×D floats, row i the vector of `rows[i]`.
 */
export async function embedCatalogRows(tf: TF, encoder: Encoder, rows: readonly Uint8Array[], batchSize = 256): Promise<Float32Array> {
  const size = encoder.config.inputSize;
  const rowBytes = size * size * 3;
  const packed = new Uint8Array(rows.length * rowBytes);
  rows.forEach((row, i) => {
    if (row.length !== rowBytes) throw new Error(`embedCatalogRows: row ${i} has ${row.length} bytes, expected ${size}×${size}×3 = ${rowBytes}`);
    packed.set(row, i * rowBytes);
  });
  return embed(tf, encoder, packed, batchSize);
}

/** One training batch: prepared network input and a class index per row and task (-1 = unknown). */
export interface TrainBatch {
  input: Float32Array;
  count: number;
  /** Side of the batch's images before space-to-depth (default: the model's `inputSize`). */
  size?: number;
  labels: Partial<Record<Task, Int32Array>>;
}

export interface LossConfig {
  /** Weight of each task's cross-entropy (absent or 0: the task is not trained). */
  weights: Partial<Record<Task, number>>;
  labelSmoothing: number;
}

export const DEFAULT_LOSS: LossConfig = { weights: { articleType: 1, colour: 1, gender: 0.3, usage: 0.3 }, labelSmoothing: 0.1 };

function oneHot(labels: Int32Array, classes: number, smoothing: number): Float32Array {
  const out = new Float32Array(labels.length * classes);
  const off = smoothing / classes;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] as number;
    if (y < 0 || y >= classes) continue; // unknown label: the row adds nothing to this task's loss
    out.fill(off, i * classes, (i + 1) * classes);
    out[i * classes + y] = 1 - smoothing + off;
  }
  return out;
}

/**
 * One optimiser step on `batch`: the weighted sum of the tasks' softmax cross-entropies. Updates
 * the batch-norm moving statistics. Returns the loss before the step. Leaves no tensors behind.
 * Reads the loss synchronously: for webgpu use `trainStepAsync`.
 */
export function trainStep(tf: TF, encoder: Encoder, optimizer: tfc.Optimizer, batch: TrainBatch, loss: LossConfig = DEFAULT_LOSS, options: ForwardOptions = {}): number {
  const value = trainStepTensor(tf, encoder, optimizer, batch, loss, options);
  const lossValue = value.dataSync()[0] as number;
  value.dispose();
  return lossValue;
}

/** `trainStep` that reads the loss with `await data()` (safe on webgpu; also waits for the step). */
export async function trainStepAsync(tf: TF, encoder: Encoder, optimizer: tfc.Optimizer, batch: TrainBatch, loss: LossConfig = DEFAULT_LOSS, options: ForwardOptions = {}): Promise<number> {
  const value = trainStepTensor(tf, encoder, optimizer, batch, loss, options);
  const lossValue = (await value.data())[0] as number;
  value.dispose();
  return lossValue;
}

/** One optimiser step; returns the loss before the step as a scalar the caller disposes. */
export function trainStepTensor(tf: TF, encoder: Encoder, optimizer: tfc.Optimizer, batch: TrainBatch, loss: LossConfig = DEFAULT_LOSS, options: ForwardOptions = {}): tfc.Scalar {
  const { value, grads } = computeGradients(tf, encoder, batch, loss, options);
  optimizer.applyGradients(grads);
  tf.dispose(Object.values(grads));
  return value;
}

/**
 * The loss of `batch` and its gradient for every trainable weight (keyed by variable name, as
 * `optimizer.applyGradients` wants them), without applying them; updates the batch-norm moving
 * statistics. The loss is the weighted cross-entropy summed over the batch's rows divided by
 * `normaliser` (default: the batch's own size), so replicas that each take a share of one batch
 * and pass the whole batch's size get gradients that add up to the whole batch's. The caller
 * disposes the loss and the gradients.
 */
export function computeGradients(
  tf: TF,
  encoder: Encoder,
  batch: TrainBatch,
  loss: LossConfig = DEFAULT_LOSS,
  options: ForwardOptions = {},
  normaliser = batch.count,
): { value: tfc.Scalar; grads: tfc.NamedTensorMap } {
  const { config } = encoder;
  const half = (batch.size ?? config.inputSize) / 2;
  const targets: Partial<Record<Task, tfc.Tensor2D>> = {};
  for (const task of TASKS) {
    const labels = batch.labels[task];
    const classes = classCount(config, task);
    if (!labels || classes === 0 || !loss.weights[task]) continue;
    targets[task] = tf.tensor2d(oneHot(labels, classes, loss.labelSmoothing), [batch.count, classes]);
  }
  const input = tf.tensor4d(batch.input, [batch.count, half, half, 12]);
  let moments: ForwardResult['moments'] = [];
  const vars = [...encoder.params.values()];
  const { value, grads } = tf.variableGrads(() => {
    const result = forward(tf, encoder, input, true, options);
    moments = result.moments.map((m) => ({ mean: tf.keep(m.mean), variance: tf.keep(m.variance) }));
    let total: tfc.Scalar = tf.scalar(0);
    for (const task of TASKS) {
      const target = targets[task];
      const logits = result.logits[task];
      if (!target || !logits) continue;
      const ce = tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)))) as tfc.Scalar;
      total = tf.add(total, tf.mul(ce, (loss.weights[task] ?? 0) / normaliser));
    }
    return total;
  }, vars);
  const momentum = config.bnMomentum;
  tf.tidy(() => {
    moments.forEach((m, i) => {
      const mean = get(encoder.state, `block${i}/mean`);
      const variance = get(encoder.state, `block${i}/var`);
      mean.assign(tf.add(tf.mul(mean, momentum), tf.mul(m.mean, 1 - momentum)));
      variance.assign(tf.add(tf.mul(variance, momentum), tf.mul(m.variance, 1 - momentum)));
    });
  });
  tf.dispose([input, ...Object.values(targets), ...moments.flatMap((m) => [m.mean, m.variance])]);
  return { value, grads };
}

/** Every weight (trainable, then state) as plain arrays, in storage order. */
export function getWeights(encoder: Encoder): NamedWeight[] {
  return weightSpecs(encoder.config).map((spec) => {
    const v = get(spec.trainable ? encoder.params : encoder.state, spec.name);
    return { name: spec.name, shape: [...v.shape], data: v.dataSync() as Float32Array };
  });
}

/** Overwrites the encoder's weights; every name must be present with its exact shape. */
export function setWeights(tf: TF, encoder: Encoder, weights: readonly NamedWeight[]): void {
  const byName = new Map(weights.map((w) => [w.name, w]));
  for (const spec of weightSpecs(encoder.config)) {
    const w = byName.get(spec.name);
    if (!w) throw new Error(`Weights lack ${spec.name}`);
    if (w.shape.length !== spec.shape.length || w.shape.some((d, i) => d !== spec.shape[i])) {
      throw new Error(`Weight ${spec.name} has shape [${w.shape.join(',')}], expected [${spec.shape.join(',')}]`);
    }
    const v = get(spec.trainable ? encoder.params : encoder.state, spec.name);
    tf.tidy(() => v.assign(tf.tensor(w.data, spec.shape, 'float32')));
  }
}
