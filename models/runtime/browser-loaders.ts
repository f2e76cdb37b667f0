import type * as tfc from '@tensorflow/tfjs-core';
import type { BackendLoaders } from './runtime';
import { probeCpu, probeWasm, probeWebGl, probeWebGpu } from './probes';

type Tf = typeof tfc;

/** Where the TF.js wasm binaries are served from (our own origin; never a CDN). */
export interface WasmBinaryUrls {
  'tfjs-backend-wasm.wasm': string;
  'tfjs-backend-wasm-simd.wasm': string;
}

/**
 * Loaders for a browser worker: each backend's package is imported only when it is first used,
 * so a device on wasm never downloads the WebGPU or WebGL code.
 */
export function browserLoaders(wasmUrls: WasmBinaryUrls): BackendLoaders {
  return {
    webgpu: { probe: probeWebGpu, load: async () => void (await import('@tensorflow/tfjs-backend-webgpu')) },
    webgl: { probe: probeWebGl, load: async () => void (await import('@tensorflow/tfjs-backend-webgl')) },
    wasm: {
      probe: probeWasm,
      load: async (tf: Tf) => {
        const wasm = await import('@tensorflow/tfjs-backend-wasm');
        // Threaded wasm breaks under a bundle and needs COOP/COEP headers: stay single-threaded.
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
        // TF.js insists on an entry for the threaded build; it is never fetched with threads off.
        wasm.setWasmPaths({ ...wasmUrls, 'tfjs-backend-wasm-threaded-simd.wasm': wasmUrls['tfjs-backend-wasm-simd.wasm'] });
      },
    },
    cpu: { probe: probeCpu, load: async () => void (await import('@tensorflow/tfjs-backend-cpu')) },
  };
}
