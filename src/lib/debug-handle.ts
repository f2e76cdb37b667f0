import { runtime } from './runtime/runtime-manager.svelte';
import { storage } from './storage/storage-manager.svelte';

/**
 * A handle on `window.fashionml` for the browser console and end-to-end tests: the same objects the
 * screens use, nothing more. It exposes plain-data calls only; no tensor is reachable from it.
 */
export interface DebugHandle {
  runtime: typeof runtime;
  storage: typeof storage;
}

declare global {
  interface Window {
    fashionml?: DebugHandle;
  }
}

export function installDebugHandle(): void {
  window.fashionml = { runtime, storage };
}
