/**
 * The inference worker: the only place TF.js runs in the browser. It exposes plain-data methods
 * through comlink; tensors, GPU buffers and wasm objects never leave it.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as Comlink from 'comlink';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import type { BackendName, BackendRequest } from '../models/runtime/backends';
import { browserLoaders } from '../models/runtime/browser-loaders';
import type { CapabilityReport } from '../models/runtime/capabilities';
import { TfRuntime } from '../models/runtime/runtime';
import { runCnn, runMatmul } from '../models/probe/known-computation';
import type { CnnResult, MatmulResult } from '../models/probe/known-computation';

export interface KnownComputationOptions {
  matmulSize: number;
  cnnBatch: number;
  runs?: number;
}

export interface KnownComputationResult {
  backend: BackendName;
  matmul: MatmulResult;
  cnn: CnnResult;
}

tf.env().set('PROD', true);
const runtime = new TfRuntime(
  tf,
  browserLoaders({ 'tfjs-backend-wasm.wasm': wasmPlainUrl, 'tfjs-backend-wasm-simd.wasm': wasmSimdUrl }),
);
let started: Promise<CapabilityReport> | undefined;

function requireStarted(): Promise<CapabilityReport> {
  if (!started) throw new Error('The inference worker has not been started: call start() first');
  return started;
}

const api = {
  /** Picks and warms up a backend; later calls return the first call's report. */
  start(request: BackendRequest): Promise<CapabilityReport> {
    started ??= runtime.start(request);
    // A failed start may be retried (e.g. with another backend after the user changes it).
    started.catch(() => (started = undefined));
    return started;
  },

  async report(): Promise<CapabilityReport> {
    await requireStarted();
    return runtime.report();
  },

  /** The matmul and CNN probes on the active backend, or on `backend` when given. */
  async runKnownComputation(
    options: KnownComputationOptions,
    backend?: BackendName,
  ): Promise<KnownComputationResult> {
    await requireStarted();
    const work = async (t: typeof tf): Promise<KnownComputationResult> => ({
      backend: t.getBackend() as BackendName,
      matmul: await runMatmul(t, options.matmulSize, { runs: options.runs ?? 5 }),
      cnn: await runCnn(t, options.cnnBatch, 64, { runs: options.runs ?? 5 }),
    });
    return backend === undefined ? runtime.run(work) : runtime.runOn(backend, work);
  },

  async availableBackends(): Promise<BackendName[]> {
    await requireStarted();
    return runtime.availableBackends();
  },

  /** Destroys the WebGPU device, as a GPU reset would (diagnostics and tests of the fallback). */
  async simulateDeviceLoss(): Promise<boolean> {
    await requireStarted();
    return runtime.simulateDeviceLoss();
  },

  /** Live tensor count, to check that calls do not leak. */
  async tensorCount(): Promise<number> {
    await requireStarted();
    return tf.memory().numTensors;
  },
};

export type InferenceApi = typeof api;
Comlink.expose(api);
