/**
 * The Model Lab's state: the registry's versions, two versions loaded side by side in the lab
 * worker, the profile they are compared on, the embedding map, the backend benchmark and the
 * device's monitoring summary. Nothing here writes to the shopper's active set: model files go to
 * the lab's own cache and the lab's own worker (see lab-files.ts, workers/lab.worker.ts).
 */
import type { FeedResponse, HistoryEvent } from '../../../models/recommend/types';
import { monitoring } from '../monitoring';
import type { MonitoringSummary } from '../monitoring';
import { runtime } from '../runtime/runtime-manager.svelte';
import { storage } from '../storage/storage-manager.svelte';
import type { ItemRecord } from '../storage/schema';
import type { ManifestModel, SyncManifest } from '../sync/manifest';
import type { BenchRow, LabProjection, LabSlot, LabVersionInfo, MapSource } from '../../../workers/lab.worker';
import { diffRankings } from './diff';
import type { FeedDiff } from './diff';
import { LabClient } from './lab-client';
import { fetchManifest, fetchModelFiles, findModel, readDeviceCatalog, readDeviceHistory, refOf } from './lab-files';
import { makePersonas } from './personas';
import type { Persona } from './personas';

export const RANKER_KIND = 'fashion-ranker';
export const DEVICE_PROFILE = 'device';
/** Items per compared feed. */
export const FEED_K = 20;

export type LabStatus = 'idle' | 'busy' | 'ready' | 'error';

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class LabManager {
  status = $state<LabStatus>('idle');
  /** What the lab is doing now, for the busy line. */
  doing = $state('');
  error = $state<string | undefined>(undefined);
  manifest = $state.raw<SyncManifest | null>(null);
  catalogVersion = $state<number | null>(null);
  /** `id@version` picked for each side. */
  picked = $state<Record<LabSlot, string>>({ a: '', b: '' });
  loaded = $state.raw<Partial<Record<LabSlot, LabVersionInfo>>>({});
  profile = $state<string>(DEVICE_PROFILE);
  personas = $state.raw<Persona[]>([]);
  deviceHistory = $state.raw<HistoryEvent[]>([]);
  feeds = $state.raw<Partial<Record<LabSlot, FeedResponse>>>({});
  diff = $state.raw<FeedDiff | null>(null);
  mapSource = $state<MapSource>('factors');
  map = $state.raw<LabProjection | null>(null);
  bench = $state.raw<BenchRow[] | null>(null);
  benchRuns = $state(30);
  monitor = $state.raw<MonitoringSummary | null>(null);

  /** The device's catalog, by id (not reactive: read once, large). */
  items = new Map<string, ItemRecord>();
  private itemList: ItemRecord[] = [];
  private readonly client = new LabClient(() => runtime.request);

  /** Every registered ranker version, newest first. */
  get rankers(): ManifestModel[] {
    return (this.manifest?.models ?? []).filter((m) => m.kind === RANKER_KIND).sort((a, b) => b.version - a.version);
  }

  /** Aliases pointing at each `id@version`. */
  aliasesOf(ref: string): string[] {
    return Object.entries(this.manifest?.aliases ?? {})
      .filter(([, target]) => `${target.model}@${target.version}` === ref)
      .map(([alias]) => alias);
  }

  /** Reads the manifest, the device catalog and history, and picks champion vs challenger (or the newest two). */
  async open(): Promise<void> {
    await this.step('Reading the registry and this device’s catalog', async () => {
      const store = await storage.store();
      const [manifest, catalog, history] = await Promise.all([fetchManifest(), readDeviceCatalog(store), readDeviceHistory(store)]);
      this.manifest = manifest;
      if (!catalog) throw new Error('This device has no catalog yet: open the shop once so it syncs, then come back');
      this.catalogVersion = catalog.version;
      this.itemList = catalog.items;
      this.items = new Map(catalog.items.map((item) => [item.id, item]));
      this.deviceHistory = history.map((e) => ({ itemId: e.itemId, type: e.type, at: e.at }));
      this.personas = makePersonas(catalog.items, { now: Date.now(), count: 4 });
      if (this.deviceHistory.length === 0 && this.personas[0]) this.profile = this.personas[0].id;
      const alias = (name: string) => {
        const target = manifest.aliases[name];
        return target && manifest.models.some((m) => m.id === target.model && m.version === target.version && m.kind === RANKER_KIND)
          ? `${target.model}@${target.version}`
          : undefined;
      };
      const refs = this.rankers.map(refOf);
      const a = alias('champion') ?? refs[0] ?? '';
      const b = alias('challenger') ?? refs.find((r) => r !== a) ?? a;
      this.picked = { a, b };
    });
    await this.refreshMonitoring();
  }

  /** Loads the picked versions into the lab worker (only what changed), then compares and maps. */
  async compare(): Promise<void> {
    await this.step('Loading the two versions', async () => {
      if (!this.manifest) throw new Error('The registry manifest has not been read yet');
      for (const slot of ['a', 'b'] as const) {
        const ref = this.picked[slot];
        if (!ref) throw new Error(`Pick a ${RANKER_KIND} version for side ${slot.toUpperCase()}`);
        if (this.loaded[slot]?.ref === ref) continue;
        this.doing = `Fetching and verifying ${ref}`;
        const model = findModel(this.manifest, ref);
        const files = await fetchModelFiles(model);
        const encoderRef = typeof model.inputs.imageEncoder === 'string' ? model.inputs.imageEncoder : undefined;
        const encoderModel = encoderRef ? this.manifest.models.find((m) => refOf(m) === encoderRef) : undefined;
        const encoder = encoderModel ? { ref: refOf(encoderModel), files: await fetchModelFiles(encoderModel) } : undefined;
        this.doing = `Building ${ref} in the lab worker`;
        const input = { catalogVersion: this.catalogVersion ?? 0, items: this.itemList, ranker: { ref, files }, ...(encoder ? { imageEncoder: encoder } : {}) };
        const info = await this.client.call((api) => api.loadVersion(slot, input));
        this.loaded = { ...this.loaded, [slot]: info };
      }
      this.doing = 'Ranking both feeds';
      await this.runFeeds();
      this.doing = 'Projecting the catalog';
      await this.runMap();
    });
  }

  /** The history of the chosen profile. */
  get history(): HistoryEvent[] {
    if (this.profile === DEVICE_PROFILE) return this.deviceHistory;
    const persona = this.personas.find((p) => p.id === this.profile);
    if (!persona) throw new Error(`Unknown profile ${JSON.stringify(this.profile)}`);
    return persona.history;
  }

  async setProfile(profile: string): Promise<void> {
    this.profile = profile;
    if (this.loaded.a || this.loaded.b) await this.step('Ranking both feeds', () => this.runFeeds());
  }

  async setMapSource(source: MapSource): Promise<void> {
    this.mapSource = source;
    if (this.loaded.a) await this.step('Projecting the catalog', () => this.runMap());
  }

  /** Times every backend with version A's model. */
  async benchmark(): Promise<void> {
    await this.step('Timing each backend on this device', async () => {
      if (!this.loaded.a) throw new Error('Load a version first (Compare)');
      this.bench = await this.client.call((api) => api.benchmark('a', { runs: this.benchRuns }));
    });
  }

  async refreshMonitoring(): Promise<void> {
    try {
      this.monitor = await monitoring.summary({ catalogSize: this.items.size || undefined });
    } catch (error) {
      this.error = `Monitoring summary: ${message(error)}`;
    }
  }

  async clearMonitoring(): Promise<void> {
    await monitoring.clear();
    await this.refreshMonitoring();
  }

  /** Frees the lab worker (and everything loaded in it). */
  close(): void {
    this.client.terminate();
    this.loaded = {};
    this.feeds = {};
    this.diff = null;
    this.map = null;
    this.status = 'idle';
  }

  /** Worker-side state, for tests: which refs each slot holds. */
  workerSlots(): Promise<Partial<Record<LabSlot, string>>> {
    return this.client.running ? this.client.call((api) => api.loaded()) : Promise.resolve({});
  }

  private async runFeeds(): Promise<void> {
    const request = { history: this.history, now: Date.now(), k: FEED_K, diversity: 0.3 };
    const feeds = await this.client.call((api) => api.compareFeeds(request));
    this.feeds = feeds;
    this.diff = feeds.a && feeds.b ? diffRankings(feeds.a.items.map((r) => r.itemId), feeds.b.items.map((r) => r.itemId)) : null;
  }

  private async runMap(): Promise<void> {
    const source = this.mapSource === 'image' && !this.loaded.a?.visual ? 'factors' : this.mapSource;
    this.map = await this.client.call((api) => api.projection('a', source));
  }

  private async step(what: string, work: () => Promise<void>): Promise<void> {
    this.status = 'busy';
    this.doing = what;
    this.error = undefined;
    try {
      await work();
      this.status = 'ready';
    } catch (error) {
      this.status = 'error';
      this.error = message(error);
    } finally {
      this.doing = '';
    }
  }
}

export const lab = new LabManager();
