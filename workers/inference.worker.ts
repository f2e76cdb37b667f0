/**
 * The inference worker: the only place TF.js runs in the browser. It exposes plain-data methods
 * through comlink; tensors, GPU buffers and wasm objects never leave it.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as Comlink from 'comlink';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import type { BackendName, BackendRequest } from '../models/runtime/backends';
import { browserLoaders } from '../models/runtime/browser-loaders';
import type { CapabilityReport } from '../models/runtime/capabilities';
import { TfRuntime } from '../models/runtime/runtime';
import { runCnn, runMatmul } from '../models/probe/known-computation';
import type { CnnResult, MatmulResult } from '../models/probe/known-computation';
import type { CatalogItem } from '../models/catalog/item';
import { disposeEncoder, embed } from '../models/image/encoder';
import type { Encoder } from '../models/image/encoder';
import { letterboxRgb, rgbaOnWhite } from '../models/image/letterbox';
import { loadEncoder } from '../models/image/serialize';
import { RecommenderEngine } from '../models/recommend/engine';
import type { EngineParts } from '../models/recommend/engine';
import { matchingEncoderFiles, rankerPackParts } from '../models/recommend/model-files';
import type { EncoderFiles, ModelFiles } from '../models/recommend/model-files';
import { jsScorer, tfScorer } from '../models/recommend/scorer';
import type { Scorer } from '../models/recommend/scorer';
import type { FeedRequest, FeedResponse, ItemFilters, RgbaImage, SearchResponse, SimilarMode } from '../models/recommend/types';

export type { ModelFiles } from '../models/recommend/model-files';

export interface LoadModelsInput {
  catalogVersion: number;
  /** The synced catalog's items (filters, titles for text search). */
  items: CatalogItem[];
  /** The ranker pack (`fashion-ranker`): `ranker.json` plus its matrix files. */
  ranker: ModelFiles;
  /** The image encoder the pack's embeddings came from (`model.json` + `weights.bin`); photo search needs it. */
  imageEncoder?: ModelFiles;
}

export interface LoadModelsResult {
  ranker: string;
  imageEncoder?: string;
  catalogVersion: number;
  itemCount: number;
  /** Photo search is available (an encoder was given and matches the pack's embeddings). */
  photoSearch: boolean;
  /** Why photo search is unavailable, when it is. */
  photoSearchReason?: string;
  /** The same set was loaded already and was kept. */
  reused: boolean;
  elapsedMs: number;
}

/** A photo search: the matches, plus where the time went. */
export interface PhotoSearchResponse extends SearchResponse {
  /** Letterbox into the encoder's input square. */
  prepareMs: number;
  /** Encoder forward pass on the active backend. */
  embedMs: number;
  /** Nearest catalog items to the embedding. */
  searchMs: number;
}

export interface KnownComputationOptions {
  matmulSize: number;
  cnnBatch: number;
  runs?: number;
}

export interface KnownComputationResult {
  backend: BackendName;
  matmul: MatmulResult;
  cnn: CnnResult;
}

tf.env().set('PROD', true);
const runtime = new TfRuntime(
  tf,
  browserLoaders({ 'tfjs-backend-wasm.wasm': wasmPlainUrl, 'tfjs-backend-wasm-simd.wasm': wasmSimdUrl }),
);
let started: Promise<CapabilityReport> | undefined;

interface LoadedSet {
  key: string;
  engine: RecommenderEngine;
  /** The engine's parts less the scorer, kept so a backend fallback can rebuild the scoring matrices. */
  parts: Omit<EngineParts, 'scorer'>;
  /** Backend the scoring matrices live on. */
  scorerBackend: string;
  result: Omit<LoadModelsResult, 'reused' | 'elapsedMs'>;
  encoderFiles?: EncoderFiles;
  /** The encoder built on `backend`; rebuilt after a fallback moves to another backend. */
  encoder?: { backend: string; model: Encoder };
}
let loaded: LoadedSet | undefined;

function requireLoaded(): LoadedSet {
  if (!loaded) throw new Error('No catalog and models are loaded in the inference worker: call loadModels() after the first sync');
  return loaded;
}

/** Frees an encoder's weights; on a lost GPU device they are gone already, which is fine. */
function disposeEncoderQuietly(model: Encoder): void {
  try {
    disposeEncoder(model);
  } catch {
    // The backend that held them was lost.
  }
}

function disposeLoaded(): void {
  if (loaded?.encoder) disposeEncoderQuietly(loaded.encoder.model);
  loaded?.engine.dispose();
  loaded = undefined;
}

/**
 * Below this many items a GPU backend's fixed cost per call (dispatch and read-back, ~4–5 ms on an
 * NVIDIA H200 through Dawn) outweighs its arithmetic: plain JS scores 35k items in ~2 ms and 100k
 * in ~6 ms, WebGPU takes ~5 ms at any size up to 1M (`bench-dist/ranker-gpu.js`). So on webgpu and
 * webgl, smaller catalogs are scored in JS; on wasm and cpu, TF.js's own kernels are used.
 */
const GPU_SCORING_MIN_ITEMS = 100_000;

function scorerFor(t: typeof tf, items: number): Scorer {
  const backend = t.getBackend();
  return (backend === 'webgpu' || backend === 'webgl') && items < GPU_SCORING_MIN_ITEMS ? jsScorer() : tfScorer(t);
}

/**
 * Runs an engine call on the active backend. The scoring matrices live on the backend they were
 * made on; after a fallback (a lost GPU) they are rebuilt on the new one before the call.
 */
async function onEngine<T>(work: (engine: RecommenderEngine) => Promise<T>): Promise<T> {
  await requireStarted();
  const set = requireLoaded();
  return runtime.run(async (t) => {
    const backend = t.getBackend();
    if (set.scorerBackend !== backend) {
      set.engine.setModel({ ...set.parts, scorer: scorerFor(t, set.result.itemCount) });
      set.scorerBackend = backend;
    }
    return work(set.engine);
  });
}

function requireK(k: number, what: string): number {
  if (!Number.isInteger(k) || k < 1 || k > 1000) throw new RangeError(`${what}: k must be an integer from 1 to 1000, got ${k}`);
  return k;
}

function requireStarted(): Promise<CapabilityReport> {
  if (!started) throw new Error('The inference worker has not been started: call start() first');
  return started;
}

const api = {
  /** Picks and warms up a backend; later calls return the first call's report. */
  start(request: BackendRequest): Promise<CapabilityReport> {
    started ??= runtime.start(request);
    // A failed start may be retried (e.g. with another backend after the user changes it).
    started.catch(() => (started = undefined));
    return started;
  },

  async report(): Promise<CapabilityReport> {
    await requireStarted();
    return runtime.report();
  },

  /** The matmul and CNN probes on the active backend, or on `backend` when given. */
  async runKnownComputation(
    options: KnownComputationOptions,
    backend?: BackendName,
  ): Promise<KnownComputationResult> {
    await requireStarted();
    const work = async (t: typeof tf): Promise<KnownComputationResult> => ({
      backend: t.getBackend() as BackendName,
      matmul: await runMatmul(t, options.matmulSize, { runs: options.runs ?? 5 }),
      cnn: await runCnn(t, options.cnnBatch, 64, { runs: options.runs ?? 5 }),
    });
    return backend === undefined ? runtime.run(work) : runtime.runOn(backend, work);
  },

  async availableBackends(): Promise<BackendName[]> {
    await requireStarted();
    return runtime.availableBackends();
  },

  /** Destroys the WebGPU device, as a GPU reset would (diagnostics and tests of the fallback). */
  async simulateDeviceLoss(): Promise<boolean> {
    await requireStarted();
    return runtime.simulateDeviceLoss();
  },

  /**
   * Builds the recommender from the synced catalog and model files. The same catalog, ranker and
   * encoder versions are kept rather than rebuilt, so a page may call this on every sync.
   */
  async loadModels(input: LoadModelsInput): Promise<LoadModelsResult> {
    await requireStarted();
    const started = performance.now();
    const key = `${input.catalogVersion}|${input.ranker.ref}|${input.imageEncoder?.ref ?? ''}`;
    if (loaded?.key === key) return { ...loaded.result, reused: true, elapsedMs: performance.now() - started };

    const { parts } = rankerPackParts(input.ranker, input.items, input.catalogVersion);
    const { engine, backend } = await runtime.run(async (t) => ({
      engine: new RecommenderEngine({ ...parts, scorer: scorerFor(t, parts.catalog.length) }),
      backend: t.getBackend(),
    }));
    const encoder = matchingEncoderFiles(input.ranker.ref, engine.info.imageEncoder, input.imageEncoder);
    const encoderFiles = 'files' in encoder ? encoder.files : undefined;
    const photoSearchReason = 'reason' in encoder ? encoder.reason : undefined;
    disposeLoaded();
    const result: LoadedSet['result'] = {
      ranker: input.ranker.ref,
      ...(encoderFiles && input.imageEncoder ? { imageEncoder: input.imageEncoder.ref } : {}),
      catalogVersion: input.catalogVersion,
      itemCount: engine.info.items,
      photoSearch: encoderFiles !== undefined,
      ...(photoSearchReason ? { photoSearchReason } : {}),
    };
    loaded = { key, engine, parts, scorerBackend: backend, result, ...(encoderFiles ? { encoderFiles } : {}) };
    // The fold-in's gram is needed by the first personal feed, not by the first (popular) one:
    // compute it between calls, right after this answer, so the first like does not pay for it.
    const set = loaded;
    setTimeout(() => {
      if (loaded === set) set.engine.warmUp();
    }, 0);
    return { ...result, reused: false, elapsedMs: performance.now() - started };
  },

  /** What is loaded, if anything. */
  loadedModels(): Omit<LoadModelsResult, 'reused' | 'elapsedMs'> | undefined {
    return loaded?.result;
  },

  /** The personal "For you" feed (or popular items for a new shopper). */
  async feed(request: FeedRequest): Promise<FeedResponse> {
    requireK(request.k, 'feed');
    return onEngine((engine) => engine.feed(request));
  },

  /** Items like `itemId`: by photo (`visual`), by title and attributes (`content`), or both. */
  async similar(itemId: string, k: number, mode: SimilarMode, filters?: ItemFilters): Promise<SearchResponse> {
    requireK(k, 'similar');
    return onEngine((engine) => engine.similar(itemId, k, mode, filters));
  },

  /** Text search over titles and attributes. */
  async searchText(query: string, k: number, filters?: ItemFilters): Promise<SearchResponse> {
    requireK(k, 'searchText');
    return onEngine((engine) => engine.searchText(query, k, filters));
  },

  /**
   * Photo search: the picture is letterboxed into the encoder's input square here, embedded on the
   * active backend, and matched against the catalog's image embeddings. The photo never leaves
   * this worker.
   */
  async searchPhoto(image: RgbaImage, k: number, filters?: ItemFilters): Promise<PhotoSearchResponse> {
    await requireStarted();
    requireK(k, 'searchPhoto');
    const set = requireLoaded();
    if (!set.encoderFiles) throw new Error(`Photo search is unavailable: ${set.result.photoSearchReason ?? 'no image encoder'}`);
    const { modelJson, weights } = set.encoderFiles;
    const t0 = performance.now();
    const size = modelJson.config.inputSize;
    const input = letterboxRgb(rgbaOnWhite(image.data, image.width, image.height), image.width, image.height, size);
    const t1 = performance.now();
    const embedding = await runtime.run(async (t) => {
      // Weights live on one backend; after a fallback the encoder is rebuilt on the new one.
      const backend = t.getBackend();
      if (set.encoder?.backend !== backend) {
        if (set.encoder) disposeEncoderQuietly(set.encoder.model);
        set.encoder = { backend, model: loadEncoder(t, modelJson, weights) };
      }
      return embed(t, set.encoder.model, input, 1);
    });
    const t2 = performance.now();
    const found = await onEngine((engine) => engine.nearestToEmbedding(embedding, k, filters));
    const t3 = performance.now();
    return { ...found, prepareMs: t1 - t0, embedMs: t2 - t1, searchMs: t3 - t2, elapsedMs: t3 - t0 };
  },

  /** Live tensor count, to check that calls do not leak. */
  async tensorCount(): Promise<number> {
    await requireStarted();
    return tf.memory().numTensors;
  },
};

export type InferenceApi = typeof api;
Comlink.expose(api);
