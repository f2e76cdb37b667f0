import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_AUGMENT, PHONE_PHOTO } from '../../models/image/augment';
import { DEFAULT_LOSS } from '../../models/image/encoder';
import { SeededRandom } from '../../models/random';
import { addGradients, averageState, LocalReplica, prepareBackend, shareImages, WorkerReplica } from './encoder-replica';
import type { ReplicaData, ReplicaSetup } from './encoder-replica';

/** 48 random 16×16 photos with labels: enough to exercise every part of a step. */
function syntheticData(): ReplicaData {
  const rng = new SeededRandom(3);
  const count = 48;
  const size = 16;
  const images = Uint8Array.from({ length: count * size * size * 3 }, () => rng.int(256));
  return {
    images,
    size,
    labels: {
      articleType: Int32Array.from({ length: count }, (_, i) => i % 4),
      colour: Int32Array.from({ length: count }, (_, i) => i % 3),
      gender: Int32Array.from({ length: count }, (_, i) => i % 2),
    },
  };
}

const SETUP: ReplicaSetup = {
  classes: { articleType: 4, colour: 3, gender: 2 },
  config: { blocks: [{ channels: 8, stride: 2 }, { channels: 12, stride: 1 }], embeddingDim: 8 },
  seed: 5,
  learningRate: 1e-2,
  augment: DEFAULT_AUGMENT,
  phonePhoto: 0.25,
  phonePhotoOptions: PHONE_PHOTO,
  batchNorm: 'fused',
  // A non-default loss, so the tests see it reach the worker.
  loss: { ...DEFAULT_LOSS, labelSmoothing: 0.05 },
};

describe('data-parallel encoder replicas', () => {
  const data = syntheticData();
  let worker: WorkerReplica;
  beforeAll(async () => {
    await prepareBackend('wasm');
    worker = await WorkerReplica.start({ data: shareImages(data), setup: SETUP });
  }, 60_000);
  afterAll(async () => {
    await worker.close();
  });

  it('a replica in a worker thread computes exactly what one in this thread does, step after step', async () => {
    const local = new LocalReplica(data, SETUP);
    try {
      for (let step = 0; step < 3; step++) {
        // The last step trains on downscaled photos, as the low-resolution phase does.
        const share = { rows: Int32Array.from({ length: 12 }, (_, i) => (step * 12 + i) % 48), seed: 100 + step, batchRows: 24, ...(step === 2 ? { size: 8 } : {}) };
        const [a, b] = await Promise.all([local.compute(share), worker.compute(share)]);
        expect(b.loss).toBe(a.loss);
        b.grads.forEach((g, i) => expect(g).toEqual(a.grads[i]));
        local.apply(a.grads, 1e-2);
        worker.apply(b.grads, 1e-2);
      }
      const [mine, theirs] = await Promise.all([local.weights(), worker.weights()]);
      theirs.forEach((w, i) => expect(w.data).toEqual(mine[i]?.data));
    } finally {
      await local.close();
      local.dispose();
    }
  }, 60_000);

  it('shares of a batch add up to the loss of the whole batch, and the sum trains', async () => {
    const whole = new LocalReplica(data, SETUP);
    const half = new LocalReplica(data, SETUP);
    try {
      const rows = Int32Array.from({ length: 24 }, (_, i) => i);
      const losses: number[] = [];
      for (let step = 0; step < 12; step++) {
        const parts = await Promise.all([half.compute({ rows: rows.slice(0, 12), seed: step, batchRows: 24 }), half.compute({ rows: rows.slice(12), seed: step + 1, batchRows: 24 })]);
        const sum = addGradients(parts);
        losses.push(sum.loss);
        half.apply(sum.grads, 1e-2);
      }
      // Each share's loss is its part of the batch mean: the sum is on the scale of one whole batch.
      const wholeLoss = (await whole.compute({ rows, seed: 0, batchRows: 24 })).loss;
      expect(losses[0]).toBeGreaterThan(0.5 * wholeLoss);
      expect(losses[0]).toBeLessThan(1.5 * wholeLoss);
      expect(Math.min(...losses.slice(-3))).toBeLessThan(losses[0] as number);
    } finally {
      await Promise.all([whole.close(), half.close()]);
      whole.dispose();
      half.dispose();
    }
  }, 60_000);

  it('gives a head whose task has no weight in the loss a zero gradient, so it stays as it is', async () => {
    const replica = new LocalReplica(data, { ...SETUP, loss: { weights: { articleType: 1, colour: 1 }, labelSmoothing: 0 } });
    try {
      const names = [...replica.encoder.params.keys()];
      const { grads } = await replica.compute({ rows: Int32Array.of(0, 1, 2, 3), seed: 1, batchRows: 4 });
      const gender = grads[names.indexOf('head/gender/w')]!;
      expect(gender.length).toBe(8 * 2);
      expect(gender.every((g) => g === 0)).toBe(true);
      expect(grads[names.indexOf('head/colour/w')]!.some((g) => g !== 0)).toBe(true);
    } finally {
      await replica.close();
      replica.dispose();
    }
  });

  it('averages batch-norm statistics across replicas and keeps trainable weights as they are', () => {
    const a = [
      { name: 'block0/pw', shape: [1], data: Float32Array.of(2) },
      { name: 'block0/mean', shape: [2], data: Float32Array.of(1, 3) },
    ];
    const b = [
      { name: 'block0/pw', shape: [1], data: Float32Array.of(2) },
      { name: 'block0/mean', shape: [2], data: Float32Array.of(3, 5) },
    ];
    const avg = averageState([a, b]);
    expect(avg[0]?.data).toEqual(Float32Array.of(2));
    expect(avg[1]?.data).toEqual(Float32Array.of(2, 4));
  });

  it('reports a worker that fails instead of hanging', async () => {
    const broken = await WorkerReplica.start({ data: shareImages(data), setup: SETUP });
    try {
      await expect(broken.compute({ rows: Int32Array.of(1000), seed: 1, batchRows: 1 })).rejects.toThrow(/replica/);
    } finally {
      await broken.close();
    }
  }, 60_000);

  it('leaves no tensors behind in this thread', async () => {
    const before = tf.memory().numTensors;
    const local = new LocalReplica(data, SETUP);
    const g = await local.compute({ rows: Int32Array.of(0, 1, 2, 3), seed: 1, batchRows: 4 });
    local.apply(g.grads, 1e-3);
    await local.close();
    local.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
