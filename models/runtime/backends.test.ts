import { describe, expect, it } from 'vitest';
import {
  BACKENDS,
  BackendUnavailableError,
  InvalidBackendError,
  backendOrder,
  nextBackend,
  parseBackendRequest,
} from './backends';

describe('backend requests', () => {
  it('auto expands to every backend, fastest first', () => {
    expect(backendOrder('auto')).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(backendOrder('wasm')).toEqual(['wasm']);
  });

  it('parses valid values case-insensitively and treats empty as auto', () => {
    expect(parseBackendRequest('WebGPU')).toBe('webgpu');
    expect(parseBackendRequest(null)).toBe('auto');
    expect(parseBackendRequest('')).toBe('auto');
    for (const name of BACKENDS) expect(parseBackendRequest(name)).toBe(name);
  });

  it('rejects an unknown backend with an error that names the valid ones and the source', () => {
    expect(() => parseBackendRequest('cuda', 'URL parameter "backend"')).toThrow(InvalidBackendError);
    expect(() => parseBackendRequest('cuda', 'URL parameter "backend"')).toThrow(
      'URL parameter "backend": "cuda" is not a backend. Valid values: auto, webgpu, webgl, wasm, cpu.',
    );
  });

  it('finds the next backend, skipping excluded ones', () => {
    expect(nextBackend('webgpu')).toBe('webgl');
    expect(nextBackend('webgpu', new Set(['webgl']))).toBe('wasm');
    expect(nextBackend('cpu')).toBeUndefined();
  });

  it('names the available backends when an explicit choice cannot be honoured', () => {
    const error = new BackendUnavailableError('webgpu', 'navigator.gpu is missing', ['wasm', 'cpu']);
    expect(error.message).toBe(
      'Backend "webgpu" is not available on this device: navigator.gpu is missing. Available: wasm, cpu.',
    );
  });
});
