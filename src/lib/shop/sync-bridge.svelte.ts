/**
 * The sync as the shopper screens see it: phase, progress, "last updated", errors, and a way to
 * run it now. It drives the sync engine (src/lib/sync/engine.ts) against the page's own origin and
 * tells the caller when a new set became active, so the worker can load it.
 */
import { readSyncState, runSync } from '../sync/engine';
import type { SyncPhase, SyncProgress, SyncResult } from '../sync/engine';
import { storage } from '../storage/storage-manager.svelte';

/** Background refresh while the page is open and online. */
export const REFRESH_EVERY_MS = 15 * 60 * 1000;

class SyncBridge {
  phase = $state<SyncPhase>('idle');
  progress = $state.raw<SyncProgress | undefined>(undefined);
  lastUpdated = $state<number | undefined>(undefined);
  error = $state<string | undefined>(undefined);
  lastResult = $state.raw<SyncResult | undefined>(undefined);

  private running: Promise<SyncResult | undefined> | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  get busy(): boolean {
    return this.phase === 'checking' || this.phase === 'downloading' || this.phase === 'applying';
  }

  /** Reads "last updated" from the device (before any run, e.g. offline). */
  async readState(): Promise<void> {
    try {
      this.lastUpdated = (await readSyncState(await storage.store())).lastUpdated;
    } catch {
      // Storage errors are shown by the storage manager.
    }
  }

  /** Runs one sync unless one is running; resolves to its result (undefined when it failed). */
  syncNow(options: { retryRefused?: boolean } = {}): Promise<SyncResult | undefined> {
    this.running ??= this.run(options).finally(() => (this.running = undefined));
    return this.running;
  }

  /** Syncs again every {@link REFRESH_EVERY_MS} while the page is open; `onUpdated` runs after each new set. */
  startBackgroundRefresh(onUpdated: () => void): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      if (navigator.onLine) void this.syncNow().then((r) => r?.outcome === 'updated' && onUpdated());
    }, REFRESH_EVERY_MS);
  }

  private async run(options: { retryRefused?: boolean }): Promise<SyncResult | undefined> {
    this.error = undefined;
    this.phase = 'checking';
    try {
      const result = await runSync({
        store: await storage.store(),
        ...(options.retryRefused ? { retryRefused: true } : {}),
        onProgress: (phase, progress) => {
          this.phase = phase;
          this.progress = { ...progress };
        },
      });
      this.lastResult = result;
      this.phase = 'up-to-date';
      await this.readState();
      void storage.refreshUsage();
      return result;
    } catch (error) {
      const kind = (error as { kind?: string }).kind;
      this.phase = kind === 'offline' ? 'offline' : 'error';
      this.error = error instanceof Error ? error.message : String(error);
      return undefined;
    }
  }
}

export const syncBridge = new SyncBridge();
