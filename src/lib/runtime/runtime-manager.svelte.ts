import { parseBackendRequest } from '../../../models/runtime/backends';
import type { BackendRequest } from '../../../models/runtime/backends';
import type { CapabilityReport } from '../../../models/runtime/capabilities';
import { storage } from '../storage/storage-manager.svelte';
import { InferenceClient } from './inference-client';

export type RuntimeStatus = 'idle' | 'starting' | 'ready' | 'error';

/** The backend asked for by `?backend=` in the page URL (it wins over the saved setting). */
export function backendFromUrl(url: URL): BackendRequest | undefined {
  const value = url.searchParams.get('backend');
  return value === null ? undefined : parseBackendRequest(value, 'URL parameter "backend"');
}

/** The backend saved in Settings; a corrupt value is reported rather than ignored. */
async function savedBackend(): Promise<BackendRequest> {
  const saved = await storage.getSetting<string>('backend', 'auto');
  return parseBackendRequest(saved, 'saved setting "backend"');
}

/** Saves the backend to use on the next start. */
export function saveBackendSetting(request: BackendRequest): Promise<void> {
  return storage.saveSetting('backend', request);
}

/**
 * The on-device engine as the UI sees it: which backend runs and whether it is ready. There is
 * one worker per page; every screen talks to it through this manager.
 */
class RuntimeManager {
  status = $state<RuntimeStatus>('idle');
  report = $state<CapabilityReport | undefined>(undefined);
  error = $state<string | undefined>(undefined);
  request = $state<BackendRequest>('auto');
  /** Milliseconds from creating the worker to a warmed-up backend, as the page saw it. */
  startMs = $state<number | undefined>(undefined);

  private client: InferenceClient | undefined;

  /**
   * Starts the worker on `request`; without one, on the `?backend=` URL parameter, else the saved
   * setting, else `auto`.
   */
  async start(request?: BackendRequest): Promise<void> {
    try {
      this.request = request ?? backendFromUrl(new URL(location.href)) ?? (await savedBackend());
    } catch (error) {
      this.fail(error);
      return;
    }
    this.client?.terminate();
    this.client = new InferenceClient({ backend: this.request });
    this.status = 'starting';
    this.error = undefined;
    try {
      const started = performance.now();
      this.report = await this.client.start();
      this.startMs = performance.now() - started;
      this.status = 'ready';
    } catch (error) {
      this.fail(error);
    }
  }

  /** The worker bridge; throws if the engine has not been started. */
  get engine(): InferenceClient {
    if (!this.client) throw new Error('The on-device engine has not been started');
    return this.client;
  }

  /** Re-reads the report (after a fallback, for instance). */
  async refreshReport(): Promise<void> {
    this.report = await this.engine.call((api) => api.report());
  }

  private fail(error: unknown): void {
    this.status = 'error';
    this.report = undefined;
    this.error = error instanceof Error ? error.message : String(error);
  }
}

export const runtime = new RuntimeManager();
