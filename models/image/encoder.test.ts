import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { augmentInto, downscale, PHONE_PHOTO, phonePhotoInto, phonePhotos } from './augment';
import { SeededRandom } from '../random';
import { computeGradients, createEncoder, disposeEncoder, embed, embedCatalogRows, encoderConfig, forward, getWeights, toNetworkInput, trainStep } from './encoder';
import type { EncoderConfig } from './encoder';
import { registerEncoderGradients } from './gradients';
import { pixelThumbnails, retrievalPrecision, topK } from './retrieval';
import { fromArtifacts, loadEncoder, toArtifacts } from './serialize';
import { registerTrainingKernels } from './training-kernels';

const SIZE = 16;
const CONFIG: EncoderConfig = encoderConfig(
  { articleType: 2, colour: 3, gender: 1 },
  { inputSize: SIZE, embeddingDim: 8, blocks: [{ channels: 8, stride: 1 }, { channels: 16, stride: 2 }] },
);
const COLOURS = [
  [220, 30, 30],
  [30, 160, 40],
  [40, 60, 220],
];

/** Coloured shapes on white: class 0 a filled square, class 1 a thin cross; colour from COLOURS. */
function shapes(count: number, seed: number): { bytes: Uint8Array; shape: Int32Array; colour: Int32Array } {
  const rng = new SeededRandom(seed);
  const bytes = new Uint8Array(count * SIZE * SIZE * 3).fill(255);
  const shape = new Int32Array(count);
  const colour = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    shape[n] = n % 2;
    colour[n] = rng.int(3);
    const c = COLOURS[colour[n] as number]!;
    const cx = 6 + rng.int(4);
    const cy = 6 + rng.int(4);
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const inside = shape[n] === 0 ? Math.abs(x - cx) <= 3 && Math.abs(y - cy) <= 3 : x === cx || y === cy;
        if (!inside) continue;
        bytes.set(c, (n * SIZE * SIZE + y * SIZE + x) * 3);
      }
    }
  }
  return { bytes, shape, colour };
}

beforeAll(async () => {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  registerEncoderGradients(tf);
  registerTrainingKernels(tf, 'wasm');
  await tf.setBackend('wasm');
  await tf.ready();
});

describe('image encoder', () => {
  it('a few training steps on coloured shapes make the loss fall', () => {
    const data = shapes(32, 1);
    const encoder = createEncoder(tf, CONFIG, 3);
    const optimizer = tf.train.adam(0.01);
    const batch = { input: toNetworkInput(data.bytes, 32, SIZE), count: 32, labels: { articleType: data.shape, colour: data.colour, gender: new Int32Array(32) } };
    const losses: number[] = [];
    for (let i = 0; i < 15; i++) losses.push(trainStep(tf, encoder, optimizer, batch));
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.7);
    optimizer.dispose();
    disposeEncoder(encoder);
  });

  it('leaks no tensors in a train step or an embed call', async () => {
    const data = shapes(8, 2);
    const encoder = createEncoder(tf, CONFIG, 4);
    const optimizer = tf.train.adam(0.01);
    const batch = { input: toNetworkInput(data.bytes, 8, SIZE), count: 8, labels: { articleType: data.shape, colour: data.colour } };
    trainStep(tf, encoder, optimizer, batch); // the optimiser makes its slots on the first step
    const before = tf.memory().numTensors;
    trainStep(tf, encoder, optimizer, batch);
    await embed(tf, encoder, data.bytes, 4);
    expect(tf.memory().numTensors).toBe(before);
    optimizer.dispose();
    disposeEncoder(encoder);
  });

  it('embeds L2-normalised, deterministic vectors, the same batched or not', async () => {
    const data = shapes(10, 3);
    const encoder = createEncoder(tf, CONFIG, 5);
    const a = await embed(tf, encoder, data.bytes, 4);
    const b = await embed(tf, encoder, data.bytes, 256);
    expect(a.length).toBe(10 * 8);
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 5);
    for (let n = 0; n < 10; n++) {
      const norm = Math.hypot(...a.subarray(n * 8, (n + 1) * 8));
      expect(norm).toBeCloseTo(1, 5);
    }
    disposeEncoder(encoder);
  });

  it('save → load round-trips weights exactly and gives the same embeddings', async () => {
    const data = shapes(6, 4);
    const encoder = createEncoder(tf, CONFIG, 6);
    const weights = getWeights(encoder);
    const { modelJson, weightData } = toArtifacts(CONFIG, weights, { note: 'test' });
    const parsed = JSON.parse(JSON.stringify(modelJson)) as typeof modelJson;
    const back = fromArtifacts(parsed, weightData.slice(0));
    expect(back.weights.map((w) => w.name)).toEqual(weights.map((w) => w.name));
    back.weights.forEach((w, i) => expect(Array.from(w.data)).toEqual(Array.from(weights[i]!.data)));
    const loaded = loadEncoder(tf, parsed, weightData);
    expect(Array.from(await embed(tf, loaded, data.bytes))).toEqual(Array.from(await embed(tf, encoder, data.bytes)));
    expect(() => fromArtifacts(parsed, weightData.slice(4))).toThrow(/bytes/);
    disposeEncoder(encoder);
    disposeEncoder(loaded);
  });

  it('trains a usage head where labels are known and ignores rows marked -1', () => {
    const data = shapes(16, 11);
    const config = encoderConfig({ articleType: 2, colour: 3, usage: 2 }, { inputSize: SIZE, embeddingDim: 8, blocks: CONFIG.blocks });
    const encoder = createEncoder(tf, config, 12);
    // Usage follows the shape on the first half; the second half has no usage value.
    const usage = Int32Array.from(data.shape, (v, i) => (i < 8 ? v : -1));
    const batch = { input: toNetworkInput(data.bytes, 16, SIZE), count: 16, labels: { articleType: data.shape, colour: data.colour, usage } };
    const onlyUsage = { weights: { usage: 1 }, labelSmoothing: 0 };
    const { value, grads } = computeGradients(tf, encoder, batch, onlyUsage);
    // With every label unknown the usage loss is exactly zero.
    const unknown = computeGradients(tf, encoder, { ...batch, labels: { usage: new Int32Array(16).fill(-1) } }, onlyUsage);
    expect(value.dataSync()[0]).toBeGreaterThan(0);
    expect(unknown.value.dataSync()[0]).toBe(0);
    const usageGrad = grads[encoder.params.get('head/usage/w')!.name]!;
    expect(tf.max(tf.abs(usageGrad)).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([value, unknown.value, ...Object.values(grads), ...Object.values(unknown.grads)]);
    disposeEncoder(encoder);
  });

  it('loads a model saved before the usage head existed (no usage in its classes)', async () => {
    const data = shapes(4, 13);
    const encoder = createEncoder(tf, CONFIG, 14);
    const { modelJson, weightData } = toArtifacts(CONFIG, getWeights(encoder));
    const old = JSON.parse(JSON.stringify(modelJson)) as typeof modelJson;
    expect(old.config.classes).not.toHaveProperty('usage');
    expect(old.weightsManifest[0]!.weights.some((w) => w.name.startsWith('head/usage'))).toBe(false);
    const loaded = loadEncoder(tf, old, weightData);
    expect(Array.from(await embed(tf, loaded, data.bytes))).toEqual(Array.from(await embed(tf, encoder, data.bytes)));
    disposeEncoder(encoder);
    disposeEncoder(loaded);
  });

  it('downscale averages each output pixel’s footprint and keeps flat colours exact', () => {
    // 4×4 → 2×2: each output pixel is the mean of a 2×2 block.
    const four = Uint8Array.from({ length: 4 * 4 * 3 }, (_, k) => Math.floor(k / 3) * 10);
    expect(Array.from(downscale(four, 1, 4, 2).filter((_, k) => k % 3 === 0))).toEqual([25, 45, 105, 125]);
    // 16 → 12 (a 4/3 footprint) on a flat image: exactly the same colour, for every image.
    const flat = new Uint8Array(2 * SIZE * SIZE * 3);
    for (let k = 0; k < flat.length; k += 3) flat.set(k < SIZE * SIZE * 3 ? [200, 40, 90] : [7, 8, 9], k);
    const small = downscale(flat, 2, SIZE, 12);
    expect(small.length).toBe(2 * 12 * 12 * 3);
    expect(Array.from(small.subarray(0, 3))).toEqual([200, 40, 90]);
    expect(Array.from(small.subarray(small.length - 3))).toEqual([7, 8, 9]);
    expect(() => downscale(flat, 2, SIZE, 20)).toThrow(/target side 20/);
  });

  it('trains on smaller photos than its input size with the same weights', () => {
    const data = shapes(16, 15);
    const encoder = createEncoder(tf, CONFIG, 16);
    const small = downscale(data.bytes, 16, SIZE, 12);
    const batch = { input: toNetworkInput(small, 16, 12), count: 16, size: 12, labels: { articleType: data.shape, colour: data.colour } };
    const optimizer = tf.train.adam(0.01);
    const losses: number[] = [];
    for (let i = 0; i < 10; i++) losses.push(trainStep(tf, encoder, optimizer, batch));
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    optimizer.dispose();
    disposeEncoder(encoder);
  });

  it('augmentation keeps the size and is reproducible for a seed', () => {
    const data = shapes(2, 5);
    const a = new Uint8Array(SIZE * SIZE * 3);
    const b = new Uint8Array(SIZE * SIZE * 3);
    augmentInto(data.bytes, 1, a, 0, SIZE, new SeededRandom(9));
    augmentInto(data.bytes, 1, b, 0, SIZE, new SeededRandom(9));
    expect(a).toEqual(b);
  });
});

describe('prototype pull', () => {
  it('the pulled embedding is the plain one plus each task’s expected unit class vector, renormalised', async () => {
    const data = shapes(4, 10);
    const pull = { articleType: 0.7, colour: 1.5 };
    const encoder = createEncoder(tf, { ...CONFIG, prototypePull: pull }, 8);
    const plain = createEncoder(tf, { ...CONFIG, prototypePull: undefined }, 8);
    const input = toNetworkInput(data.bytes, 4, SIZE);
    const { embedding, logits } = tf.tidy(() => {
      const r = forward(tf, plain, tf.tensor4d(input, [4, SIZE / 2, SIZE / 2, 12]), false);
      return { embedding: r.embedding.arraySync(), logits: { articleType: r.logits.articleType!.arraySync(), colour: r.logits.colour!.arraySync() } };
    });
    const pulled = await embed(tf, encoder, data.bytes);
    const dim = CONFIG.embeddingDim;
    for (let n = 0; n < 4; n++) {
      const v = [...embedding[n]!];
      for (const task of ['articleType', 'colour'] as const) {
        const l = logits[task][n]!;
        const top = Math.max(...l);
        const p = l.map((x) => Math.exp(x - top));
        const z = p.reduce((a, b) => a + b, 0);
        const w = encoder.params.get(`head/${task}/w`)!.arraySync() as number[][];
        for (let c = 0; c < l.length; c++) {
          const norm = Math.hypot(...w.map((row) => row[c]!));
          for (let d = 0; d < dim; d++) v[d]! += (pull[task] * p[c]! / z) * (w[d]![c]! / norm);
        }
      }
      const norm = Math.hypot(...v);
      for (let d = 0; d < dim; d++) expect(pulled[n * dim + d]).toBeCloseTo(v[d]! / norm, 5);
    }
    disposeEncoder(encoder);
    disposeEncoder(plain);
  });
});

describe('phone-photo augmentation', () => {
  it('is reproducible for a seed, changes the photo, and leaves the source alone', () => {
    const data = shapes(3, 7);
    const source = data.bytes.slice();
    const a = phonePhotos(data.bytes, Int32Array.from([2, 0]), SIZE, 11);
    const b = phonePhotos(data.bytes, Int32Array.from([2, 0]), SIZE, 11);
    expect(a).toEqual(b);
    expect(a.length).toBe(2 * SIZE * SIZE * 3);
    expect(data.bytes).toEqual(source);
    // Row 0 of the output is photo 2: not a copy of it, and the studio white is (mostly) gone.
    const photo = data.bytes.subarray(2 * SIZE * SIZE * 3, 3 * SIZE * SIZE * 3);
    let changed = 0;
    for (let i = 0; i < photo.length; i++) if (Math.abs(a[i]! - photo[i]!) > 8) changed++;
    expect(changed / photo.length).toBeGreaterThan(0.2);
  });

  it('with every effect turned off it copies the photo', () => {
    const data = shapes(1, 8);
    const off = { ...PHONE_PHOTO, keystone: 0, rotate: 0, scale: [1, 1] as [number, number], shift: 0, flip: 0, background: 0, colourCast: 0, exposure: [1, 1] as [number, number], gamma: [1, 1] as [number, number], shading: 0, noise: 0, blur: 0 };
    const out = new Uint8Array(SIZE * SIZE * 3);
    phonePhotoInto(data.bytes, 0, out, 0, SIZE, new SeededRandom(1), off);
    expect(out).toEqual(data.bytes);
    expect(() => phonePhotoInto(data.bytes, 0, data.bytes, 0, SIZE, new SeededRandom(1))).toThrow(/different arrays/);
  });
});

describe('embedCatalogRows', () => {
  it('gives the rows the same vectors as embedding the packed input, and names a wrong-sized row', async () => {
    const data = shapes(5, 9);
    const encoder = createEncoder(tf, CONFIG, 7);
    const rowBytes = SIZE * SIZE * 3;
    const rows = Array.from({ length: 5 }, (_, i) => data.bytes.slice(i * rowBytes, (i + 1) * rowBytes));
    expect(Array.from(await embedCatalogRows(tf, encoder, rows, 2))).toEqual(Array.from(await embed(tf, encoder, data.bytes, 2)));
    await expect(embedCatalogRows(tf, encoder, [rows[0]!, rows[1]!.subarray(3)])).rejects.toThrow(/row 1 has/);
    disposeEncoder(encoder);
  });
});

describe('retrieval precision', () => {
  it('searches with the given query vectors but the query row’s labels and duplicate group', async () => {
    // Gallery: rows 0,1 type 0 (colours 0, 1); rows 2,3 type 1. Query row 0, searched with a vector
    // that points at row 2 and 3: no type hit; row 0 itself (its group) is never counted.
    const e = new Float32Array([1, 0, 0.8, 0.6, 0, 1, 0.6, 0.8]);
    const labels = { group: Int32Array.from([0, 1, 2, 3]), articleType: Int32Array.from([0, 0, 1, 1]), colour: Int32Array.from([0, 1, 0, 0]) };
    const own = await retrievalPrecision(tf, e, 2, Int32Array.from([0]), labels, 1);
    expect(own.precisionType).toBe(1);
    const moved = await retrievalPrecision(tf, e, 2, Int32Array.from([0]), labels, 2, new Float32Array([0, 1]));
    expect(moved.precisionType).toBe(0);
    await expect(retrievalPrecision(tf, e, 2, Int32Array.from([0]), labels, 2, new Float32Array(3))).rejects.toThrow(/queryEmbeddings/);
  });

  it('top-k skips excluded rows and keeps the best first', () => {
    const scores = new Float32Array([0.1, 0.9, 0.5, 0.95, 0.3]);
    expect(Array.from(topK(scores, 2, (j) => j === 3))).toEqual([1, 2]);
  });

  it('counts hits by hand and never counts a duplicate photo', async () => {
    // Rows 0 and 1 are one photo; row 2 same type+colour as 0; row 3 same type, other colour.
    const e = new Float32Array([1, 0, 1, 0, 0.9, 0.43589, 0.8, 0.6]);
    const labels = { group: Int32Array.from([0, 0, 1, 2]), articleType: Int32Array.from([0, 0, 0, 0]), colour: Int32Array.from([0, 0, 0, 1]) };
    const r = await retrievalPrecision(tf, e, 2, Int32Array.from([0]), labels, 2);
    expect(r.precisionType).toBe(1);
    expect(r.precisionTypeColour).toBe(0.5);
  });

  it('pixel thumbnails are unit vectors', () => {
    const v = pixelThumbnails(shapes(2, 6).bytes, SIZE, 4);
    expect(Math.hypot(...v.subarray(0, 48))).toBeCloseTo(1, 5);
  });
});
