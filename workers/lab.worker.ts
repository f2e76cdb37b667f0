/**
 * The Model Lab's worker: a separate worker instance (its own TF.js runtime and engines) so that
 * loading, comparing and timing model versions here never touches what the shopper screens use —
 * the inference worker keeps its own loaded set. Two slots, `a` and `b`, each hold one
 * `fashion-ranker` version (and optionally the image encoder it names), built with the same engine
 * (models/recommend/engine.ts) and encoder loader the shopper's worker uses.
 *
 * Plain data only crosses the boundary; tensors stay here and are disposed with their slot.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as Comlink from 'comlink';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import { BACKENDS } from '../models/runtime/backends';
import type { BackendName, BackendRequest } from '../models/runtime/backends';
import { browserLoaders } from '../models/runtime/browser-loaders';
import type { CapabilityReport } from '../models/runtime/capabilities';
import { TfRuntime } from '../models/runtime/runtime';
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
import type { FeedRequest, FeedResponse, HistoryEvent } from '../models/recommend/types';
import { pca2d, sampleRows } from '../src/lib/lab/projection';

export type LabSlot = 'a' | 'b';
export const LAB_SLOTS: readonly LabSlot[] = ['a', 'b'];

export interface LabLoadInput {
  catalogVersion: number;
  items: CatalogItem[];
  /** The ranker version's files, fetched by sha256 and verified by the page. */
  ranker: ModelFiles;
  imageEncoder?: ModelFiles;
}

export interface LabVersionInfo {
  ref: string;
  items: number;
  factors: number;
  catalog: { version: number; contentHash: string };
  imageEncoder: string | null;
  visual: boolean;
  content: boolean;
  /** Photo-search timing is possible (the encoder the pack names was given). */
  photoSearch: boolean;
  missingFromCatalog: number;
  notInPack: number;
  /** Training curves the trainer recorded in ranker.json `extra.losses`, when it did. */
  losses: Record<string, number[]>;
  /** `extra` numbers and strings of ranker.json (seed, events, shoppers…), for the lineage panel. */
  extra: Record<string, string | number | boolean | null>;
  elapsedMs: number;
}

export type MapSource = 'factors' | 'image';

export interface LabProjection {
  source: MapSource;
  itemIds: string[];
  /** Row-major [itemIds.length, 2]. */
  xy: Float32Array;
  explained: [number, number];
  elapsedMs: number;
}

export const BENCH_OPS = ['feed', 'similar', 'search', 'photo-search'] as const;
export type BenchOp = (typeof BENCH_OPS)[number];

export interface BenchOptions {
  /** Timed calls per operation and backend (default 30), after 3 untimed warm-up calls. */
  runs?: number;
  /** Backends to time (default: every available one); `js` is the plain-JS scorer without TF.js. */
  backends?: (BackendName | 'js')[];
  ops?: BenchOp[];
}

export interface BenchRow {
  backend: BackendName | 'js';
  /** Milliseconds per timed call, in call order. */
  ops: Partial<Record<BenchOp, number[]>>;
  /** Why this backend (or one of its operations) could not be timed. */
  error?: string;
}

interface Slot {
  parts: Omit<EngineParts, 'scorer'>;
  engine: RecommenderEngine;
  scorerBackend: string;
  info: Omit<LabVersionInfo, 'elapsedMs'>;
  encoderFiles?: EncoderFiles;
}

tf.env().set('PROD', true);
const runtime = new TfRuntime(tf, browserLoaders({ 'tfjs-backend-wasm.wasm': wasmPlainUrl, 'tfjs-backend-wasm-simd.wasm': wasmSimdUrl }));
let started: Promise<CapabilityReport> | undefined;
const slots = new Map<LabSlot, Slot>();

function requireStarted(): Promise<CapabilityReport> {
  if (!started) throw new Error('The lab worker has not been started: call start() first');
  return started;
}

function requireSlot(slot: LabSlot): Slot {
  if (!LAB_SLOTS.includes(slot)) throw new RangeError(`Lab slot must be one of ${LAB_SLOTS.join(', ')}, got ${JSON.stringify(slot)}`);
  const loaded = slots.get(slot);
  if (!loaded) throw new Error(`Nothing is loaded in lab slot ${slot}: call loadVersion('${slot}', …) first`);
  return loaded;
}

function unload(slot: LabSlot): void {
  slots.get(slot)?.engine.dispose();
  slots.delete(slot);
}

/** Runs `work` with the slot's engine on the active backend, rebuilding its matrices after a fallback. */
async function onEngine<T>(slot: LabSlot, work: (engine: RecommenderEngine) => Promise<T>): Promise<T> {
  await requireStarted();
  const s = requireSlot(slot);
  return runtime.run(async (t) => {
    if (s.scorerBackend !== t.getBackend()) {
      s.engine.setModel({ ...s.parts, scorer: tfScorer(t) });
      s.scorerBackend = t.getBackend();
    }
    return work(s.engine);
  });
}

function plainExtra(extra: Record<string, unknown> | undefined): LabVersionInfo['extra'] {
  const out: LabVersionInfo['extra'] = {};
  for (const [key, value] of Object.entries(extra ?? {})) {
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) out[key] = value as string | number | boolean | null;
  }
  return out;
}

function lossCurves(extra: Record<string, unknown> | undefined): Record<string, number[]> {
  const losses = extra?.losses;
  const out: Record<string, number[]> = {};
  if (typeof losses !== 'object' || losses === null) return out;
  for (const [name, values] of Object.entries(losses)) {
    if (Array.isArray(values) && values.every((v) => typeof v === 'number' && Number.isFinite(v))) out[name] = values as number[];
  }
  return out;
}

/** A deterministic generator for benchmark inputs (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Times `runs` calls of each operation on one engine; every call gets a new input, so none is served from the LRU cache. */
async function timeOps(t: typeof tf, engine: RecommenderEngine, s: Slot, ops: readonly BenchOp[], runs: number): Promise<BenchRow['ops']> {
  // Items both the pack and the catalog know (the only ones the engine shows).
  const inPack = new Set(s.parts.pack.meta.itemIds);
  const ids = s.parts.catalog.map((item) => item.id).filter((id) => inPack.has(id));
  if (ids.length === 0) throw new Error(`${s.info.ref}: no catalog item is in the pack, nothing to time`);
  const titles = s.parts.catalog.map((item) => item.title.split(/\s+/).slice(0, 2).join(' ')).filter((q) => q.length > 1);
  const out: BenchRow['ops'] = {};
  const rng = seeded(2024);
  const now = Date.UTC(2025, 0, 1);
  const warm = 3;
  let encoder: Encoder | undefined;
  try {
    for (const op of ops) {
      if (op === 'photo-search' && !s.encoderFiles) continue;
      if (op === 'photo-search' && s.encoderFiles) encoder = loadEncoder(t, s.encoderFiles.modelJson, s.encoderFiles.weights);
      const times: number[] = [];
      for (let run = 0; run < warm + runs; run++) {
        const call = run;
        const t0 = performance.now();
        if (op === 'feed') {
          const history: HistoryEvent[] = Array.from({ length: 10 }, (_, e) => ({ itemId: ids[Math.floor(rng() * ids.length)]!, type: e % 3 === 2 ? 'like' : 'view', at: now - (10 - e) * 60_000 }));
          await engine.feed({ history, now, k: 20, diversity: 0.3 });
        } else if (op === 'similar') {
          await engine.similar(ids[(call * 7919) % ids.length]!, 12, 'blend');
        } else if (op === 'search') {
          await engine.searchText(`${titles[(call * 104_729) % Math.max(1, titles.length)] ?? 'shirt'} ${call}`, 20);
        } else if (encoder) {
          const size = 160;
          const rgba = new Uint8ClampedArray(size * size * 4);
          for (let i = 0; i < rgba.length; i++) rgba[i] = i % 4 === 3 ? 255 : Math.floor(rng() * 256);
          const input = letterboxRgb(rgbaOnWhite(rgba, size, size), size, size, s.encoderFiles!.modelJson.config.inputSize);
          const vector = await embed(t, encoder, input, 1);
          await engine.nearestToEmbedding(vector, 20);
        }
        if (run >= warm) times.push(performance.now() - t0);
      }
      out[op] = times;
    }
  } finally {
    if (encoder) disposeEncoder(encoder);
  }
  return out;
}

const api = {
  /** Picks and warms up a backend (the page passes the same request as the shopper's worker). */
  start(request: BackendRequest): Promise<CapabilityReport> {
    started ??= runtime.start(request);
    started.catch(() => (started = undefined));
    return started;
  },

  async report(): Promise<CapabilityReport> {
    await requireStarted();
    return runtime.report();
  },

  async availableBackends(): Promise<BackendName[]> {
    await requireStarted();
    return runtime.availableBackends();
  },

  /** Builds an engine for one ranker version in a slot (replacing what the slot held). */
  async loadVersion(slot: LabSlot, input: LabLoadInput): Promise<LabVersionInfo> {
    await requireStarted();
    if (!LAB_SLOTS.includes(slot)) throw new RangeError(`Lab slot must be one of ${LAB_SLOTS.join(', ')}, got ${JSON.stringify(slot)}`);
    const t0 = performance.now();
    const { parts, meta } = rankerPackParts(input.ranker, input.items, input.catalogVersion);
    const { engine, backend } = await runtime.run(async (t) => ({ engine: new RecommenderEngine({ ...parts, scorer: tfScorer(t) }), backend: t.getBackend() }));
    engine.warmUp();
    const e = engine.info;
    const encoder = matchingEncoderFiles(input.ranker.ref, e.imageEncoder, input.imageEncoder);
    const encoderFiles = 'files' in encoder ? encoder.files : undefined;
    const info: Slot['info'] = {
      ref: input.ranker.ref,
      items: e.items,
      factors: e.factors,
      catalog: e.catalog,
      imageEncoder: e.imageEncoder,
      visual: e.visual,
      content: e.content,
      photoSearch: encoderFiles !== undefined,
      missingFromCatalog: e.missingFromCatalog,
      notInPack: e.notInPack,
      losses: lossCurves(meta.extra),
      extra: plainExtra(meta.extra),
    };
    unload(slot);
    slots.set(slot, { parts, engine, scorerBackend: backend, info, ...(encoderFiles ? { encoderFiles } : {}) });
    return { ...info, elapsedMs: performance.now() - t0 };
  },

  /** What each slot holds. */
  loaded(): Partial<Record<LabSlot, string>> {
    return Object.fromEntries([...slots].map(([slot, s]) => [slot, s.info.ref]));
  },

  unload(slot: LabSlot): void {
    unload(slot);
  },

  /** The same feed request on both loaded slots (a slot that is empty is left out). */
  async compareFeeds(request: FeedRequest): Promise<Partial<Record<LabSlot, FeedResponse>>> {
    const out: Partial<Record<LabSlot, FeedResponse>> = {};
    for (const slot of LAB_SLOTS) if (slots.has(slot)) out[slot] = await onEngine(slot, (engine) => engine.feed(request));
    return out;
  },

  /** A 2-D PCA map of one slot's item vectors (`factors`: the hybrid space; `image`: photo embeddings). */
  async projection(slot: LabSlot, source: MapSource, maxPoints = 6000): Promise<LabProjection> {
    await requireStarted();
    const s = requireSlot(slot);
    const t0 = performance.now();
    const meta = s.parts.pack.meta;
    const matrix = source === 'image' ? s.parts.pack.imageEmbeddings : s.parts.pack.itemFactors;
    const cols = source === 'image' ? meta.imageEmbeddings?.cols : meta.itemFactors.cols;
    if (!matrix || !cols) throw new Error(`${s.info.ref} has no ${source === 'image' ? 'image embeddings' : 'item factors'} to map`);
    const rows = sampleRows(meta.itemIds.length, maxPoints);
    const values = new Float32Array(rows.length * cols);
    rows.forEach((row, i) => values.set(matrix.subarray(row * cols, (row + 1) * cols), i * cols));
    const { xy, explained } = pca2d(values, rows.length, cols);
    return Comlink.transfer({ source, itemIds: Array.from(rows, (row) => meta.itemIds[row]!), xy, explained, elapsedMs: performance.now() - t0 }, [xy.buffer]);
  },

  /**
   * Times feed, similar items, text search and photo search with one slot's model on each backend
   * (a fresh engine per backend; the plain-JS scorer as `js`). Backends that fail are reported, not thrown.
   */
  async benchmark(slot: LabSlot, options: BenchOptions = {}): Promise<BenchRow[]> {
    await requireStarted();
    const s = requireSlot(slot);
    const runs = options.runs ?? 30;
    if (!Number.isInteger(runs) || runs < 1 || runs > 1000) throw new RangeError(`benchmark: runs must be an integer from 1 to 1000, got ${runs}`);
    const ops = options.ops ?? [...BENCH_OPS];
    for (const op of ops) if (!BENCH_OPS.includes(op)) throw new RangeError(`benchmark: operation ${JSON.stringify(op)} is not one of ${BENCH_OPS.join(', ')}`);
    const available = runtime.availableBackends();
    const backends = options.backends ?? [...available, 'js'];
    const rows: BenchRow[] = [];
    for (const backend of backends) {
      if (backend !== 'js' && !(BACKENDS as readonly string[]).includes(backend)) {
        rows.push({ backend, ops: {}, error: `not one of ${[...BACKENDS, 'js'].join(', ')}` });
        continue;
      }
      try {
        const work = async (t: typeof tf) => {
          const engine = new RecommenderEngine({ ...s.parts, scorer: backend === 'js' ? jsScorer() : tfScorer(t) });
          try {
            engine.warmUp();
            return await timeOps(t, engine, s, ops, runs);
          } finally {
            engine.dispose();
          }
        };
        // The plain-JS scorer needs no backend of its own; photo search still embeds on the active one.
        const timed = backend === 'js' ? await runtime.run(work) : await runtime.runOn(backend, work);
        rows.push({ backend, ops: timed });
      } catch (error) {
        rows.push({ backend, ops: {}, error: error instanceof Error ? error.message : String(error) });
      }
    }
    return rows;
  },

  /** Live tensor count, to check that the lab does not leak. */
  async tensorCount(): Promise<number> {
    await requireStarted();
    return tf.memory().numTensors;
  },
};

export type LabApi = typeof api;
Comlink.expose(api);
