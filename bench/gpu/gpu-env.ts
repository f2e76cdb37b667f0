/**
 * What every GPU benchmark entry in this folder needs: WebGPU for Node through Dawn (the `webgpu`
 * package), TF.js with the webgpu, wasm and cpu backends, timing helpers, and where to write JSON.
 *
 * `@tensorflow/tfjs-backend-webgpu` registers its backend at import time only if `navigator.gpu`
 * exists, so it is imported dynamically after `installWebGpu()`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { create, globals } from 'webgpu';

export { tf };

/** The adapter as WebGPU describes it (plain data, for the JSON). */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  features: string[];
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

/**
 * Gives Node a `navigator.gpu` (Dawn), registers TF.js's webgpu backend and points the wasm backend
 * at the binaries beside the bundle (single-threaded, as in the app). Returns the adapter's
 * description, or an error message when there is no adapter (the wasm figures still run).
 */
export async function setupBackends(): Promise<{ adapter?: AdapterSummary; webgpuError?: string }> {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  // The bundle's folder when bundled; node_modules' copy when run from source with tsx.
  const here = dirname(fileURLToPath(import.meta.url));
  setWasmPaths(here.endsWith('bench-dist') ? `${here}/` : join(here, '../../node_modules/@tensorflow/tfjs-backend-wasm/dist/') + '/');
  Object.assign(globalThis, globals);
  const gpu = create([]);
  // Node 20 has no navigator at all; Node 21+ has one without gpu.
  if (typeof globalThis.navigator !== 'object' || globalThis.navigator === null) {
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  }
  Object.defineProperty(globalThis.navigator, 'gpu', { value: gpu, configurable: true });
  let adapter: AdapterSummary | undefined;
  let webgpuError: string | undefined;
  try {
    const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!a) throw new Error('navigator.gpu.requestAdapter() returned null: no WebGPU adapter on this machine');
    const info = a.info;
    adapter = {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      features: [...a.features].map(String).sort(),
      maxBufferSize: a.limits.maxBufferSize,
      maxStorageBufferBindingSize: a.limits.maxStorageBufferBindingSize,
    };
    await import('@tensorflow/tfjs-backend-webgpu');
  } catch (error) {
    webgpuError = error instanceof Error ? error.message : String(error);
  }
  return { ...(adapter ? { adapter } : {}), ...(webgpuError ? { webgpuError } : {}) };
}

export async function useBackend(name: 'webgpu' | 'wasm' | 'cpu'): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`TF.js backend ${name} did not initialise`);
  await tf.ready();
}

export interface Timing {
  reps: number;
  medianMs: number;
  p95Ms: number;
  minMs: number;
}

/** Nearest-rank percentile of already sorted values. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

/** Runs `fn` `warmup` times untimed, then `reps` times timed; `fn` must wait for its own result. */
export async function time(fn: () => Promise<unknown>, reps: number, warmup = 1): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { reps, medianMs: percentile(ms, 0.5), p95Ms: percentile(ms, 0.95), minMs: ms[0] as number };
}

/** Writes `$OUT/<file>` when OUT is set (the GPU machine), else `bench-results/<file>`. */
export function writeResults(file: string, results: unknown): string {
  const dir = process.env.OUT ?? 'bench-results';
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify(results, null, 2));
  return path;
}
