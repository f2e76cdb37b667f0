import { simd } from 'wasm-feature-detect';
import type { BackendName } from './backends';
import type { BackendProbe } from './capabilities';

/**
 * Feature probes: what the current global scope (a browser worker, or Node with the `webgpu`
 * package) offers each backend, without initialising TF.js. Cheap enough to run at every start.
 */

export async function probeWebGpu(): Promise<BackendProbe> {
  const gpu = (globalThis.navigator as (Navigator & { gpu?: GPU }) | undefined)?.gpu;
  if (!gpu) {
    return { backend: 'webgpu', supported: false, reason: 'navigator.gpu is not available in this context' };
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    return { backend: 'webgpu', supported: false, reason: `requestAdapter() failed: ${describeError(error)}` };
  }
  if (!adapter) {
    return { backend: 'webgpu', supported: false, reason: 'requestAdapter() returned no adapter' };
  }
  const info = adapter.info;
  const device = [info.vendor, info.architecture, info.device, info.description]
    .filter((part) => part !== undefined && part !== '')
    .join(' / ');
  return {
    backend: 'webgpu',
    supported: true,
    device: device || 'unnamed adapter',
    features: [...adapter.features].sort(),
    limits: {
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxComputeWorkgroupSizeX: adapter.limits.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
    },
  };
}

export function probeWebGl(): BackendProbe {
  if (typeof OffscreenCanvas === 'undefined') {
    return { backend: 'webgl', supported: false, reason: 'OffscreenCanvas is not available in this context' };
  }
  let gl: WebGL2RenderingContext | null = null;
  try {
    gl = new OffscreenCanvas(1, 1).getContext('webgl2');
  } catch (error) {
    return { backend: 'webgl', supported: false, reason: `WebGL2 context creation threw: ${describeError(error)}` };
  }
  if (!gl) {
    return { backend: 'webgl', supported: false, reason: 'no WebGL2 context (GPU blocked or WebGL disabled)' };
  }
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  const features = gl.getSupportedExtensions() ?? [];
  const floatTextures = features.includes('EXT_color_buffer_float');
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return {
    backend: 'webgl',
    supported: true,
    device: renderer,
    features: features.filter((name) => /float|timer|parallel/i.test(name)).sort(),
    ...(floatTextures ? {} : { reason: 'no EXT_color_buffer_float: results may use 16-bit floats' }),
  };
}

export async function probeWasm(): Promise<BackendProbe> {
  if (typeof WebAssembly === 'undefined') {
    return { backend: 'wasm', supported: false, reason: 'WebAssembly is not available' };
  }
  const hasSimd = await simd();
  return {
    backend: 'wasm',
    supported: true,
    // Threads stay off on purpose: threaded wasm breaks under the bundle and needs COOP/COEP.
    device: hasSimd ? 'WebAssembly SIMD, single thread' : 'WebAssembly without SIMD, single thread',
    features: hasSimd ? ['simd'] : [],
  };
}

export function probeCpu(): BackendProbe {
  return { backend: 'cpu', supported: true, device: 'JavaScript', features: [] };
}

export async function probeAll(): Promise<Record<BackendName, BackendProbe>> {
  return { webgpu: await probeWebGpu(), webgl: probeWebGl(), wasm: await probeWasm(), cpu: probeCpu() };
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
