import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { compareResults, runCnn, runMatmul, seededUniform } from './known-computation';
import type { ComputationResult } from './known-computation';

const result = (sample: number[], checksum: number): ComputationResult => ({
  sample,
  checksum,
  medianMs: 1,
  p95Ms: 1,
  runs: 1,
});

describe('known computation', () => {
  it('seeds inputs deterministically in [-1, 1)', () => {
    const a = seededUniform(1000, 7);
    expect(seededUniform(1000, 7)).toEqual(a);
    expect(seededUniform(1000, 8)).not.toEqual(a);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...a)).toBeLessThan(1);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.1);
  });

  it('matmul gives the value computed by hand for one entry', async () => {
    await tf.setBackend('cpu');
    const n = 8;
    const out = await runMatmul(tf, n, { runs: 1 });
    const a = seededUniform(n * n, 1);
    const b = seededUniform(n * n, 2);
    let c00 = 0;
    for (let k = 0; k < n; k++) c00 += (a[k] as number) * (b[k * n] as number);
    expect(out.sample[0]).toBeCloseTo(c00, 5);
    expect(out.gflops).toBeGreaterThan(0);
  });

  it('wasm and cpu agree within tolerance and leak no tensors', async () => {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    const results = [];
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      await tf.ready();
      const before = tf.memory().numTensors;
      results.push({ matmul: await runMatmul(tf, 64, { runs: 1 }), cnn: await runCnn(tf, 2, 32, { runs: 1 }) });
      expect(tf.memory().numTensors).toBe(before);
    }
    const [cpu, wasm] = results as [(typeof results)[0], (typeof results)[0]];
    expect(compareResults(wasm.matmul, cpu.matmul)).toBeUndefined();
    expect(compareResults(wasm.cnn, cpu.cnn)).toBeUndefined();
    expect(cpu.cnn.sample).toHaveLength(16);
  });

  it('reports the first value that differs beyond tolerance', () => {
    expect(compareResults(result([1, 2, 3], 6), result([1, 2, 3], 6))).toBeUndefined();
    expect(compareResults(result([1, 2.0019, 3], 6), result([1, 2, 3], 6))).toBeUndefined();
    expect(compareResults(result([1, 2.01, 3], 6), result([1, 2, 3], 6))).toBe('value 1: 2.01 ≠ 2');
    expect(compareResults(result([1, 2], 6), result([1, 2, 3], 6))).toBe('sample length 2 ≠ 3');
    expect(compareResults(result([1, 2, 3], 7), result([1, 2, 3], 6))).toBe('checksum 7 ≠ 6');
  });
});
