import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendUnavailableError } from './backends';
import type { BackendName } from './backends';
import type { BackendLoaders } from './runtime';
import { TfRuntime } from './runtime';
import { probeCpu, probeWasm } from './probes';

/** Node has no GPU backends here; wasm and cpu are real TF.js backends. */
function nodeLoaders(overrides: Partial<BackendLoaders> = {}): BackendLoaders {
  const unsupported = (backend: BackendName, reason: string) => ({
    probe: () => ({ backend, supported: false, reason }),
    load: () => Promise.reject(new Error('unreachable')),
  });
  return {
    webgpu: unsupported('webgpu', 'navigator.gpu is not available in this context'),
    webgl: unsupported('webgl', 'OffscreenCanvas is not available in this context'),
    wasm: {
      probe: probeWasm,
      load: async () => {
        const wasm = await import('@tensorflow/tfjs-backend-wasm');
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
        void wasm;
      },
    },
    cpu: { probe: probeCpu, load: async () => undefined },
    ...overrides,
  };
}

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('TfRuntime', () => {
  it('auto picks the best backend that initialises and says why the others were skipped', async () => {
    const runtime = new TfRuntime(tf, nodeLoaders());
    const report = await runtime.start('auto');
    expect(report.active).toBe('wasm');
    expect(report.requested).toBe('auto');
    const byName = Object.fromEntries(report.backends.map((b) => [b.backend, b]));
    expect(byName.webgpu?.reason).toContain('navigator.gpu');
    expect(byName.webgl?.reason).toContain('OffscreenCanvas');
    expect(byName.wasm?.reason).toBeUndefined();
    expect(byName.cpu?.reason).toMatch(/not tried: wasm ranks higher/);
    expect(report.readyMs).toBeGreaterThan(0);
  });

  it('an explicit backend the device lacks fails with the available ones named', async () => {
    const runtime = new TfRuntime(tf, nodeLoaders());
    const failure = runtime.start('webgpu');
    await expect(failure).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(runtime.start('webgpu')).rejects.toThrow(
      'Backend "webgpu" is not available on this device: navigator.gpu is not available in this context. Available: wasm, cpu.',
    );
  });

  it('a backend that fails to initialise is skipped with its error', async () => {
    const runtime = new TfRuntime(
      tf,
      nodeLoaders({ wasm: { probe: probeWasm, load: () => Promise.reject(new Error('wasm binary missing')) } }),
    );
    const report = await runtime.start('auto');
    expect(report.active).toBe('cpu');
    expect(report.backends.find((b) => b.backend === 'wasm')?.reason).toBe('initialisation failed: wasm binary missing');
  });

  it('runs work one call at a time, in order', async () => {
    const runtime = new TfRuntime(tf, nodeLoaders());
    await runtime.start('cpu');
    const order: string[] = [];
    const slow = runtime.run(async () => {
      await new Promise((r) => setTimeout(r, 30));
      order.push('slow');
    });
    const fast = runtime.run(async () => {
      order.push('fast');
    });
    await Promise.all([slow, fast]);
    expect(order).toEqual(['slow', 'fast']);
  });

  it('a failure on a CPU backend propagates instead of switching backends', async () => {
    const runtime = new TfRuntime(tf, nodeLoaders());
    await runtime.start('cpu');
    await expect(runtime.run(() => Promise.reject(new Error('bad input')))).rejects.toThrow('bad input');
    expect(runtime.report().fallbacks).toEqual([]);
  });

  it('does not leak tensors while starting', async () => {
    const runtime = new TfRuntime(tf, nodeLoaders());
    await runtime.start('cpu');
    const before = tf.memory().numTensors;
    await runtime.run(async (t) => {
      const x = t.ones([4, 4]);
      await x.data();
      x.dispose();
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
