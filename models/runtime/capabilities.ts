import type { BackendName, BackendRequest } from './backends';

/** What a probe found out about one backend before (or instead of) initialising it. */
export interface BackendProbe {
  backend: BackendName;
  /** True when the device has what the backend needs; it may still fail to initialise. */
  supported: boolean;
  /** Why it is not supported, or why it was not used. */
  reason?: string;
  /** Adapter (webgpu) or renderer (webgl) description; wasm reports SIMD support. */
  device?: string;
  features?: string[];
  limits?: Record<string, number>;
}

/** A backend change after start-up: a lost GPU device, a failing backend. */
export interface BackendFallback {
  from: BackendName;
  to: BackendName;
  reason: string;
  at: string;
}

/** Which backend runs, on what, and why every other backend is not the one running. */
export interface CapabilityReport {
  requested: BackendRequest;
  active: BackendName;
  /** Adapter or renderer of the active backend. */
  device?: string;
  features: string[];
  /** One entry per backend in priority order, with the reason each inactive one was skipped. */
  backends: BackendProbe[];
  /** Fallbacks that happened since start, oldest first. */
  fallbacks: BackendFallback[];
  tfjsVersion: string;
  /** Milliseconds from the start of initialisation to a warmed-up backend. */
  readyMs: number;
}
