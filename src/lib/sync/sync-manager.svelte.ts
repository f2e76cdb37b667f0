import { connectivity } from '../pwa/connectivity.svelte';
import { storage } from '../storage/storage-manager.svelte';
import { loadActiveSet, readActiveRecord, readSyncState, runSync, SyncError } from './engine';
import type { ActiveSet, RefusedBlob, SyncErrorKind, SyncOptions, SyncPhase, SyncProgress, SyncResult } from './engine';
import type { ActiveSetRecord } from './plan';

/** How often a visible, online page checks for a new catalog or model (a 304 costs a few bytes). */
export const DEFAULT_REFRESH_MS = 15 * 60 * 1000;

/** What the active set is, without its bytes: enough for a status line. */
export interface ActiveSummary {
  catalogVersion: number;
  itemCount: number;
  /** `id@version` of each active model, the ranker first. */
  models: string[];
  /** Epoch ms of the switch. */
  activatedAt: number;
}

export interface SyncNowOptions {
  /** Download a blob that was refused (hash mismatch) earlier; for a person pressing "Sync now". */
  retryRefused?: boolean;
}

const EMPTY_PROGRESS: SyncProgress = { bytesDone: 0, bytesTotal: 0, itemsDone: 0, itemsTotal: 0, filesDone: 0, filesTotal: 0 };

function summarise(record: ActiveSetRecord | null): ActiveSummary | undefined {
  if (!record) return undefined;
  return {
    catalogVersion: record.catalog.version,
    itemCount: record.catalog.itemCount,
    models: record.models.map((m) => `${m.entry.id}@${m.entry.version}`),
    activatedAt: record.activatedAt,
  };
}

/**
 * Keeps the catalog and models on this device current, and tells the UI how that is going.
 * See `./index.ts` for the whole picture. One instance per page (`sync`); `runSync` serialises
 * runs across tabs (and across callers in one page) with the Web Locks API.
 */
class SyncManager {
  /** Busy: `checking`, `downloading`, `applying`. At rest: `idle` (not run yet), `up-to-date`, `offline`, `error`. */
  phase = $state<SyncPhase>('idle');
  /** The current (or last) run's progress. */
  progress = $state<SyncProgress>({ ...EMPTY_PROGRESS });
  /** Epoch ms when the device was last confirmed current (a 304 or a finished sync); survives reloads. */
  lastUpdated = $state<number | undefined>(undefined);
  /** What is active now. */
  active = $state<ActiveSummary | undefined>(undefined);
  /** Why the last run failed (the previous set stays active), or undefined. */
  error = $state<string | undefined>(undefined);
  errorKind = $state<SyncErrorKind | undefined>(undefined);
  /** Blobs refused because their bytes did not match their sha256. */
  refused = $state<RefusedBlob[]>([]);
  /** The last run's result. */
  lastResult = $state<SyncResult | undefined>(undefined);

  /**
   * Set by the app to run an A/B variant's ranker instead of the champion: called with each new
   * manifest; undefined keeps the champion (see src/lib/experiments).
   */
  chooseRanker: SyncOptions['chooseRanker'];

  private running: Promise<SyncResult | undefined> | undefined;
  private loaded: Promise<void> | undefined;
  private stopFns: (() => void)[] = [];
  private listeners = new Set<(active: ActiveSummary) => void>();
  private progressListeners = new Set<(phase: SyncPhase, progress: SyncProgress) => void>();

  get busy(): boolean {
    return this.phase === 'checking' || this.phase === 'downloading' || this.phase === 'applying';
  }

  /**
   * Loads the saved state, syncs now, and again whenever the page regains the server (the
   * `online` event or the connectivity check) and every `refreshMs` while visible. Idempotent.
   */
  start(options: { refreshMs?: number } = {}): Promise<SyncResult | undefined> {
    if (this.stopFns.length === 0) {
      const refresh = () => void this.syncNow();
      addEventListener('online', refresh);
      const timer = setInterval(() => {
        if (document.visibilityState === 'visible' && navigator.onLine) refresh();
      }, options.refreshMs ?? DEFAULT_REFRESH_MS);
      let wasOnline = connectivity.online;
      const stopEffect = $effect.root(() => {
        $effect(() => {
          const online = connectivity.online;
          if (online && !wasOnline) refresh();
          wasOnline = online;
        });
      });
      this.stopFns.push(
        () => removeEventListener('online', refresh),
        () => clearInterval(timer),
        stopEffect,
      );
    }
    return this.syncNow();
  }

  /** Stops background refresh (a run in flight finishes). */
  stop(): void {
    this.stopFns.splice(0).forEach((stop) => stop());
  }

  /** Reads what is saved (active set, last update, refused blobs) into the state above. */
  load(): Promise<void> {
    this.loaded ??= (async () => {
      try {
        const store = await storage.store();
        const [state, active] = await Promise.all([readSyncState(store), readActiveRecord(store)]);
        this.lastUpdated = state.lastUpdated;
        this.refused = state.refused;
        this.active = summarise(active);
      } catch (error) {
        this.loaded = undefined;
        this.fail(error);
      }
    })();
    return this.loaded;
  }

  /**
   * Runs a sync now, or joins the one already running. Never rejects: the outcome is in the
   * returned result (undefined on failure) and in `phase`, `error` and `progress`.
   */
  syncNow(options: SyncNowOptions = {}): Promise<SyncResult | undefined> {
    this.running ??= this.run(options).finally(() => (this.running = undefined));
    return this.running;
  }

  /** The active catalog and models with their bytes, for the inference worker; null before the first sync. */
  async loadActiveSet(): Promise<ActiveSet | null> {
    return loadActiveSet(await storage.store());
  }

  /** Calls `listener` after every switch to a new active set; returns the unsubscribe function. */
  onActivated(listener: (active: ActiveSummary) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls `listener` with every progress event of runs this manager starts; returns the unsubscribe function. */
  onProgress(listener: (phase: SyncPhase, progress: SyncProgress) => void): () => void {
    this.progressListeners.add(listener);
    return () => this.progressListeners.delete(listener);
  }

  /** Back to the initial state (tests). */
  reset(): void {
    this.stop();
    this.phase = 'idle';
    this.progress = { ...EMPTY_PROGRESS };
    this.lastUpdated = undefined;
    this.active = undefined;
    this.error = undefined;
    this.errorKind = undefined;
    this.refused = [];
    this.lastResult = undefined;
    this.loaded = undefined;
  }

  private async run(options: SyncNowOptions): Promise<SyncResult | undefined> {
    await this.load();
    let store;
    try {
      store = await storage.store();
    } catch (error) {
      this.fail(error);
      return undefined;
    }
    this.progress = { ...EMPTY_PROGRESS };
    const work = () =>
      runSync({
        store,
        ...(options.retryRefused ? { retryRefused: true } : {}),
        ...(this.chooseRanker ? { chooseRanker: this.chooseRanker } : {}),
        onProgress: (phase, progress) => {
          this.phase = phase;
          this.progress = progress;
          this.progressListeners.forEach((listener) => listener(phase, progress));
        },
      });
    try {
      const result = await work();
      this.lastResult = result;
      this.phase = 'up-to-date';
      this.error = undefined;
      this.errorKind = undefined;
      await this.reloadSaved(store);
      if (result.outcome === 'updated' && this.active) {
        const active = this.active;
        this.listeners.forEach((listener) => listener(active));
      }
      return result;
    } catch (error) {
      if (error instanceof SyncError && error.kind === 'offline') {
        this.phase = 'offline';
        this.error = undefined;
        this.errorKind = 'offline';
      } else {
        this.fail(error);
      }
      await this.reloadSaved(store).catch(() => undefined);
      return undefined;
    }
  }

  private async reloadSaved(store: Awaited<ReturnType<typeof storage.store>>): Promise<void> {
    const [state, active] = await Promise.all([readSyncState(store), readActiveRecord(store)]);
    this.lastUpdated = state.lastUpdated;
    this.refused = state.refused;
    this.active = summarise(active);
  }

  private fail(error: unknown): void {
    this.phase = 'error';
    this.error = error instanceof Error ? error.message : String(error);
    this.errorKind = error instanceof SyncError ? error.kind : 'storage';
  }
}

export const sync = new SyncManager();
