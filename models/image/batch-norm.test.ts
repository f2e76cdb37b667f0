import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../random';
import { createEncoder, disposeEncoder, encoderConfig, forward, toNetworkInput } from './encoder';
import type { Encoder } from './encoder';
import { registerEncoderGradients } from './gradients';
import { registerTrainingKernels } from './training-kernels';

const SIZE = 16;
const CONFIG = encoderConfig(
  { articleType: 3, colour: 4, gender: 2 },
  { inputSize: SIZE, embeddingDim: 8, blocks: [{ channels: 8, stride: 1 }, { channels: 16, stride: 2 }, { channels: 12, stride: 1 }] },
);

function batchInput(count: number, seed: number): Float32Array {
  const rng = new SeededRandom(seed);
  return toNetworkInput(Uint8Array.from({ length: count * SIZE * SIZE * 3 }, () => rng.int(256)), count, SIZE);
}

/** A loss that reaches every output: weighted sums of the embedding and all logits. */
function lossAndGrads(encoder: Encoder, input: Float32Array, count: number, batchNorm: 'fused' | 'tape'): { loss: number; grads: Map<string, Float32Array>; moments: Float32Array[] } {
  const x = tf.tensor4d(input, [count, SIZE / 2, SIZE / 2, 12]);
  const moments: Float32Array[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const r = forward(tf, encoder, x, true, { batchNorm });
    for (const m of r.moments) {
      moments.push(m.mean.dataSync() as Float32Array, m.variance.dataSync() as Float32Array);
      if (batchNorm === 'fused') tf.dispose([m.mean, m.variance]);
    }
    const parts = [r.embedding, ...Object.values(r.logits)].map((t, i) => tf.sum(tf.mul(t, tf.tensor(Float32Array.from({ length: t.size }, (_, j) => Math.sin(j + i)), t.shape))));
    return parts.reduce((a, b) => tf.add(a, b)) as tf.Scalar;
  }, [...encoder.params.values()]);
  const names = [...encoder.params.keys()];
  const out = new Map<string, Float32Array>();
  for (const [i, v] of [...encoder.params.values()].entries()) out.set(names[i]!, grads[v.name]!.dataSync() as Float32Array);
  const loss = value.dataSync()[0]!;
  tf.dispose([x, value, ...Object.values(grads)]);
  return { loss, grads: out, moments };
}

function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 1e-6;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

describe.each(['cpu', 'wasm'])('fused pointwise + batch norm + ReLU on %s', (backend) => {
  beforeAll(async () => {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    registerEncoderGradients(tf);
    registerTrainingKernels(tf, 'wasm');
    await tf.setBackend(backend);
    await tf.ready();
  });

  it('gives the same loss, batch statistics and gradients as recording every op on the tape', () => {
    const encoder = createEncoder(tf, CONFIG, 5);
    const input = batchInput(6, 9);
    const fused = lossAndGrads(encoder, input, 6, 'fused');
    const tape = lossAndGrads(encoder, input, 6, 'tape');
    expect(Math.abs(fused.loss - tape.loss)).toBeLessThan(1e-3 * Math.max(1, Math.abs(tape.loss)));
    fused.moments.forEach((m, i) => expect(relativeError(m, tape.moments[i]!)).toBeLessThan(1e-3));
    for (const [name, g] of tape.grads) {
      const e = relativeError(fused.grads.get(name)!, g);
      expect(e, `gradient of ${name}`).toBeLessThan(2e-3);
    }
    disposeEncoder(encoder);
  });

  it('leaks no tensors', () => {
    const encoder = createEncoder(tf, CONFIG, 6);
    const input = batchInput(4, 3);
    lossAndGrads(encoder, input, 4, 'fused');
    const before = tf.memory().numTensors;
    lossAndGrads(encoder, input, 4, 'fused');
    expect(tf.memory().numTensors).toBe(before);
    disposeEncoder(encoder);
  });
});
