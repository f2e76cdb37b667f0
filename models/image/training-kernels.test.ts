import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerEncoderGradients } from './gradients';
import { registerTrainingKernels } from './training-kernels';

function values(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 1073741824 - 1;
  });
}

type Case = { name: string; x: number[]; f: number[]; stride: 1 | 2; pad: 'same' | 'valid' };
const CASES: Case[] = [
  { name: 'stride 1 same', x: [2, 7, 7, 3], f: [3, 3, 3, 1], stride: 1, pad: 'same' },
  { name: 'stride 2 same', x: [2, 8, 8, 4], f: [3, 3, 4, 1], stride: 2, pad: 'same' },
  { name: 'stride 2 same, odd size', x: [2, 9, 9, 5], f: [3, 3, 5, 1], stride: 2, pad: 'same' },
  { name: 'stride 1 valid', x: [1, 6, 5, 3], f: [3, 3, 3, 1], stride: 1, pad: 'valid' },
  { name: 'stride 2 valid, multiplier 2', x: [1, 9, 9, 2], f: [3, 3, 2, 2], stride: 2, pad: 'valid' },
];

/**
 * Gradients of sum(conv(x, f) · dy) with respect to x and f: straight from the backprop kernels
 * (`via: 'kernels'`), or through the registered gradient of the forward op (`via: 'tape'`).
 */
function grads(kind: 'depthwise' | 'conv', c: Case, via: 'kernels' | 'tape'): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(values(c.x.reduce((a, b) => a * b), 1), c.x as [number, number, number, number]);
    const fShape = (kind === 'conv' ? [3, 3, c.x[3], 5] : c.f) as [number, number, number, number];
    const f = tf.tensor4d(values(fShape.reduce((a, b) => a * b), 2), fShape);
    const y = kind === 'conv' ? tf.conv2d(x, f, c.stride, c.pad) : tf.depthwiseConv2d(x, f, c.stride, c.pad);
    const dy = tf.tensor(values(y.size, 3), y.shape);
    const attrs = { strides: c.stride, pad: c.pad, dilations: [1, 1], dataFormat: 'NHWC', filterShape: fShape, inputShape: c.x };
    const run = (name: string, inputs: tf.NamedTensorMap) => (tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync() as Float32Array;
    // No Conv2D gradient is registered here: the filter-gradient kernel is checked on its own.
    if (kind === 'conv') return [run('Conv2DBackpropFilter', { x, dy })];
    if (via === 'kernels') return [run('DepthwiseConv2dNativeBackpropInput', { dy, filter: f }), run('DepthwiseConv2dNativeBackpropFilter', { x, dy })];
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), dy)));
    return g([x, f]).map((t) => t.dataSync() as Float32Array);
  });
}

function expectClose(ours: Float32Array[], reference: Float32Array[]): void {
  expect(ours.length).toBe(reference.length);
  reference.forEach((r, i) => {
    const o = ours[i]!;
    expect(o.length).toBe(r.length);
    for (let j = 0; j < r.length; j++) expect(Math.abs(o[j]! - r[j]!)).toBeLessThan(1e-4 * (1 + Math.abs(r[j]!)));
  });
}

beforeAll(async () => {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  registerEncoderGradients(tf);
  expect(registerTrainingKernels(tf, 'wasm').sort()).toEqual(['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']);
  await tf.ready();
});

describe('wasm training kernels and gradients match the cpu backend\'s kernels', () => {
  for (const kind of ['depthwise', 'conv'] as const) {
    for (const c of CASES) {
      if (kind === 'conv' && c.f[3] !== 1) continue;
      it(`${kind} ${c.name}`, async () => {
        await tf.setBackend('cpu');
        const reference = grads(kind, c, 'kernels');
        await tf.setBackend('wasm');
        expectClose(grads(kind, c, 'kernels'), reference);
        if (kind === 'depthwise') expectClose(grads(kind, c, 'tape'), reference);
      });
    }
  }
});

describe('registered gradients', () => {
  it('match a central finite difference for a small BN-free block', async () => {
    await tf.setBackend('cpu');
    const w = tf.tensor2d(values(12, 4), [3, 4]);
    const x = tf.tensor2d(values(6, 5), [2, 3]);
    const f = (v: tf.Tensor) => tf.sum(tf.square(tf.relu(tf.sub(tf.matMul(x, v as tf.Tensor2D), tf.mean(tf.matMul(x, v as tf.Tensor2D), 0)))));
    const analytic = tf.grad(f)(w).dataSync();
    const base = w.dataSync();
    const h = 1e-2;
    for (let i = 0; i < base.length; i++) {
      const plus = Float32Array.from(base);
      const minus = Float32Array.from(base);
      plus[i]! += h;
      minus[i]! -= h;
      const numeric = (f(tf.tensor2d(plus, [3, 4])).dataSync()[0]! - f(tf.tensor2d(minus, [3, 4])).dataSync()[0]!) / (2 * h);
      expect(analytic[i]!).toBeCloseTo(numeric, 2);
    }
    tf.dispose([w, x]);
  });
});
