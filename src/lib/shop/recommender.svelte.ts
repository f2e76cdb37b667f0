import * as Comlink from 'comlink';
import type { CatalogItem } from '../../../models/catalog/item';
import type { FeedRequest, FeedResponse, ItemFilters, RgbaImage, SearchResponse, SimilarMode } from '../../../models/recommend/types';
import type { LoadModelsResult, PhotoSearchResponse } from '../../../workers/inference.worker';
import { recordError, recordLatency } from '../monitoring';
import type { MonitoredOp } from '../monitoring';
import { runtime } from '../runtime/runtime-manager.svelte';
import { catalog } from './catalog.svelte';

/** Model ids the shopper app runs (see the registry contract). */
export const RANKER_MODEL = 'fashion-ranker';
export const IMAGE_ENCODER_MODEL = 'image-encoder';

/** What the device holds after a sync, as the recommender needs it. */
export interface DeviceSet {
  catalogVersion: number;
  items: CatalogItem[];
  ranker: { ref: string; files: Record<string, ArrayBuffer> };
  imageEncoder?: { ref: string; files: Record<string, ArrayBuffer> };
}

export type RecommenderStatus = 'waiting' | 'loading' | 'ready' | 'error';

/** The worker's API as a call sees it. */
type EngineApi = Parameters<Parameters<typeof runtime.engine.call>[0]>[0];

/** The worker's answer when it holds no models (workers/inference.worker.ts `requireLoaded`). */
const NOT_LOADED = 'No catalog and models are loaded';

/**
 * The recommender as the screens see it: loads what the sync stored into the worker (files are
 * transferred, not copied) and runs feed / similar / search there. Every call is plain data.
 */
class RecommenderState {
  status = $state<RecommenderStatus>('waiting');
  error = $state<string | undefined>(undefined);
  loaded = $state.raw<LoadModelsResult | undefined>(undefined);
  /** Bumped on every successful load, so screens can re-query. */
  generation = $state(0);

  private loading: Promise<void> | undefined;
  private reloader: (() => Promise<boolean>) | undefined;

  /**
   * How to load the stored set again. The worker can be replaced under the page (a backend chosen
   * on Diagnostics, an aborted call): a call that finds it empty reloads through this and retries once.
   */
  setReloader(reload: () => Promise<boolean>): void {
    this.reloader = reload;
  }

  private async call<T>(task: (api: EngineApi) => Promise<T>): Promise<T> {
    try {
      return await runtime.engine.call(task);
    } catch (error) {
      if (!this.reloader || !(error instanceof Error) || !error.message.includes(NOT_LOADED)) throw error;
      this.status = 'waiting';
      if (!(await this.reloader())) throw error;
      return runtime.engine.call(task);
    }
  }

  /** Loads a synced set: the catalog into the page, the models into the worker. */
  load(set: DeviceSet): Promise<void> {
    const run = async () => {
      this.status = 'loading';
      this.error = undefined;
      try {
        catalog.set(set.catalogVersion, set.items);
        const buffers = [...Object.values(set.ranker.files), ...Object.values(set.imageEncoder?.files ?? {})];
        const input = {
          catalogVersion: set.catalogVersion,
          items: set.items,
          ranker: set.ranker,
          ...(set.imageEncoder ? { imageEncoder: set.imageEncoder } : {}),
        };
        this.loaded = await runtime.engine.call((api) => api.loadModels(Comlink.transfer(input, buffers)));
        this.status = 'ready';
        this.generation++;
      } catch (error) {
        this.status = 'error';
        this.error = error instanceof Error ? error.message : String(error);
      }
    };
    this.loading = (this.loading ?? Promise.resolve()).then(run);
    return this.loading;
  }

  /** Marks that nothing is synced yet (a new device before its first sync). */
  waiting(): void {
    if (this.status !== 'ready') this.status = 'waiting';
  }

  get ready(): boolean {
    return this.status === 'ready';
  }

  /** One monitored call: the page → worker → page round trip as the shopper feels it, or its error. */
  private async timed<T>(op: MonitoredOp, task: (api: EngineApi) => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await this.call(task);
      recordLatency(op, runtime.report?.active ?? 'unknown', performance.now() - started);
      return result;
    } catch (error) {
      recordError(op, error);
      throw error;
    }
  }

  feed(request: FeedRequest): Promise<FeedResponse> {
    return this.timed('feed', (api) => api.feed(request));
  }

  similar(itemId: string, k: number, mode: SimilarMode, filters?: ItemFilters): Promise<SearchResponse> {
    return this.timed('similar', (api) => api.similar(itemId, k, mode, filters));
  }

  searchText(query: string, k: number, filters?: ItemFilters): Promise<SearchResponse> {
    return this.timed('search', (api) => api.searchText(query, k, filters));
  }

  /** The picture's pixels go to the worker and stay on the device. */
  searchPhoto(image: RgbaImage, k: number, filters?: ItemFilters): Promise<PhotoSearchResponse> {
    // Copied, not transferred (a few ms at most): a retry after a reload must be able to send them again.
    return this.timed('photo-search', (api) => api.searchPhoto(image, k, filters));
  }

  reset(): void {
    this.status = 'waiting';
    this.error = undefined;
    this.loaded = undefined;
  }
}

export const recommender = new RecommenderState();
