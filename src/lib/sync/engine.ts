/**
 * One sync run, and reading back what it made active. Plain async functions over a
 * `FashionStore` and a `fetch`, so they run the same in the page and in unit tests.
 *
 * A run: GET the manifest (with `If-None-Match`; 304 → nothing to do) → plan (plan.ts) →
 * download the missing blobs, three at a time (download.ts: resumable, verified) → decode the
 * catalog snapshot, or apply the delta to the active items → ONE transaction that writes the new
 * version's item chunks (`catalog` store), the `sync.active` record naming the new set and the sync
 * state, and deletes what the old set alone needed (its chunks, model files, the catalog blob). Until that transaction commits, the
 * previous set is what `loadActiveSet` returns; a run that fails anywhere before it changes nothing
 * but the download chunks and verified blobs it kept for next time.
 *
 * Meta records: `sync.active` ({@link ActiveSetRecord}) and `sync.state` ({@link SyncStateRecord}).
 */
import pLimit from 'p-limit';
import { CatalogCodecError, decodeCatalogBlob } from '../../../models/catalog/snapshot-codec';
import type { CatalogItem } from '../../../models/catalog/item';
import { catalogChunksOf } from '../storage/schema';
import type { ItemRecord } from '../storage/schema';
import type { FashionStore, WriteOp } from '../storage/store';
import { DownloadError, downloadBlob, IntegrityError } from './download';
import { ManifestError, parseManifest } from './manifest';
import type { ManifestModel, SyncManifest } from './manifest';
import { neededBlobs, PlanError, planSync } from './plan';
import type { ActiveModelRef, ActiveSetRecord, ModelRole, PlannedBlob, RankerChoice, SyncPlan } from './plan';

export const ACTIVE_KEY = 'sync.active';
export const STATE_KEY = 'sync.state';

/** Blobs downloaded at the same time. */
export const DOWNLOAD_CONCURRENCY = 3;

/** Items per `catalog` record: a few dozen records for 35k items. */
export const CATALOG_CHUNK_ITEMS = 2000;

/** How long a refused blob is left alone before a background run tries it again. */
export const REFUSED_BACKOFF_MS = 6 * 60 * 60 * 1000;

/** A blob whose bytes did not match its sha256. */
export interface RefusedBlob {
  sha256: string;
  label: string;
  /** Manifest sequence it was refused under; a new manifest may name it again and gets a new try. */
  sequence: number;
  /** Epoch ms. */
  at: number;
  reason: string;
}

/** Sync bookkeeping kept in `meta` under {@link STATE_KEY}. */
export interface SyncStateRecord {
  /** ETag of the last manifest the device fully applied (sent as If-None-Match). */
  etag?: string;
  sequence?: number;
  /** Epoch ms of the last run that confirmed the device is current (a 304 or a finished sync). */
  lastUpdated?: number;
  refused: RefusedBlob[];
  /**
   * Blobs a run stored that did not become active (it failed after downloading them). The next
   * run uses them if it still needs them; the next switch deletes the rest, so failed runs do
   * not leave files behind for ever.
   */
  unused?: string[];
}

export type SyncPhase = 'idle' | 'checking' | 'downloading' | 'applying' | 'up-to-date' | 'offline' | 'error';

export interface SyncProgress {
  /** Bytes of this run's blobs on the device (resumed bytes count as done). */
  bytesDone: number;
  bytesTotal: number;
  /** Catalog items written in the final transaction. */
  itemsDone: number;
  itemsTotal: number;
  filesDone: number;
  filesTotal: number;
}

export interface SyncResult {
  /** `not-modified`: 304; `up-to-date`: manifest read, nothing to change; `updated`: a new set is active; `no-catalog`: nothing published yet. */
  outcome: 'not-modified' | 'up-to-date' | 'updated' | 'no-catalog';
  catalogVersion?: number;
  /** How the catalog came, when it changed. */
  via?: 'snapshot' | 'delta';
  /** Bytes downloaded by this run (resumed parts included once). */
  bytesFetched: number;
  filesFetched: number;
  elapsedMs: number;
}

export type SyncErrorKind = 'offline' | 'server' | 'manifest' | 'integrity' | 'catalog' | 'storage';

/** Why a run stopped; the previous set stays active. */
export class SyncError extends Error {
  override readonly name = 'SyncError';
  constructor(
    readonly kind: SyncErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface SyncOptions {
  store: FashionStore;
  fetch?: typeof fetch;
  /** Prefix of the API ('' = the page's own origin). */
  baseUrl?: string;
  now?: () => number;
  signal?: AbortSignal;
  /** Download a blob refused earlier even within its backoff (a person asked for it). */
  retryRefused?: boolean;
  /** Progress as the run goes; `phase` is one of the busy phases. */
  onProgress?: (phase: SyncPhase, progress: SyncProgress) => void;
  /**
   * Picks the ranker this device runs when it is not the champion (its A/B experiment variant),
   * given the new manifest; undefined keeps the champion.
   */
  chooseRanker?: (manifest: SyncManifest) => Promise<RankerChoice | undefined>;
  /** Blobs downloaded at the same time (default {@link DOWNLOAD_CONCURRENCY}). */
  concurrency?: number;
  /** Passed on to downloads (tests make them small / fast). */
  flushBytes?: number;
  retryDelayMs?: number;
  maxAttempts?: number;
}

/** Reads the sync state (empty before the first run). */
export async function readSyncState(store: FashionStore): Promise<SyncStateRecord> {
  const record = await store.get('meta', STATE_KEY);
  return (record?.value as SyncStateRecord | undefined) ?? { refused: [] };
}

/** Reads the record naming the active set, or null before the first finished sync. */
export async function readActiveRecord(store: FashionStore): Promise<ActiveSetRecord | null> {
  const record = await store.get('meta', ACTIVE_KEY);
  return (record?.value as ActiveSetRecord | undefined) ?? null;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Name of the Web Lock that lets one sync run at a time on this origin. */
export const SYNC_LOCK = 'fashionml-sync';

/**
 * Runs one sync. Resolves with what happened; rejects with {@link SyncError} (or the signal's
 * reason). Runs on one origin take turns (a Web Lock, where the browser has them): two at once
 * would download the same blobs and race to switch; the second then finds the work done.
 */
export function runSync(options: SyncOptions): Promise<SyncResult> {
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks;
  // The lock's callback result is awaited by `request`; its typing wraps the promise once more.
  return locks ? (locks.request(SYNC_LOCK, () => runSyncUnlocked(options)) as Promise<unknown> as Promise<SyncResult>) : runSyncUnlocked(options);
}

async function runSyncUnlocked(options: SyncOptions): Promise<SyncResult> {
  const { store } = options;
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const baseUrl = options.baseUrl ?? '';
  const now = options.now ?? Date.now;
  const started = now();
  const progress: SyncProgress = { bytesDone: 0, bytesTotal: 0, itemsDone: 0, itemsTotal: 0, filesDone: 0, filesTotal: 0 };
  const emit = (phase: SyncPhase) => options.onProgress?.(phase, { ...progress });

  emit('checking');
  const [state, active] = await Promise.all([readSyncState(store), readActiveRecord(store)]);

  let response: Response;
  try {
    response = await fetchFn(`${baseUrl}/v1/manifest`, {
      cache: 'no-store',
      headers: state.etag && active ? { 'If-None-Match': state.etag } : {},
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw new SyncError('offline', `Could not reach the server for the manifest: ${errorText(error)}`, { cause: error });
  }
  const saveState = (change: Partial<SyncStateRecord>) => store.put('meta', { key: STATE_KEY, value: { ...state, ...change }, updatedAt: now() });

  if (response.status === 304) {
    await saveState({ lastUpdated: now() });
    return { outcome: 'not-modified', ...(active ? { catalogVersion: active.catalog.version } : {}), bytesFetched: 0, filesFetched: 0, elapsedMs: now() - started };
  }
  if (!response.ok) throw new SyncError('server', `GET /v1/manifest answered ${response.status} ${response.statusText}`.trim());

  let plan: SyncPlan;
  let etag: string | undefined;
  try {
    const manifest = parseManifest(await response.json());
    etag = response.headers.get('ETag') ?? undefined;
    const choice = await options.chooseRanker?.(manifest);
    const needed = neededBlobs(manifest, choice);
    const present = new Set<string>();
    await Promise.all(needed.map(async (sha) => ((await store.count('blobs', sha)) > 0 ? present.add(sha) : undefined)));
    plan = planSync(manifest, active, (sha) => present.has(sha), choice);
  } catch (error) {
    if (error instanceof ManifestError || error instanceof PlanError || error instanceof SyntaxError) {
      throw new SyncError('manifest', errorText(error), { cause: error });
    }
    throw error;
  }

  if (!plan.catalog) {
    await saveState({ lastUpdated: now() });
    return { outcome: 'no-catalog', bytesFetched: 0, filesFetched: 0, elapsedMs: now() - started };
  }
  if (!plan.changes) {
    await saveState({ ...(etag ? { etag } : {}), sequence: plan.sequence, lastUpdated: now() });
    return { outcome: 'up-to-date', catalogVersion: plan.catalog.version, bytesFetched: 0, filesFetched: 0, elapsedMs: now() - started };
  }

  // A refused blob is not fetched again for the same manifest until its backoff ends.
  for (const blob of plan.fetch) {
    const refused = state.refused.find((r) => r.sha256 === blob.sha256 && r.sequence === plan.sequence);
    if (refused && !options.retryRefused && now() - refused.at < REFUSED_BACKOFF_MS) {
      throw new SyncError('integrity', `${refused.reason} (not retried until the server publishes again or you sync by hand)`);
    }
  }

  progress.bytesTotal = plan.fetch.reduce((sum, b) => sum + b.size, 0);
  progress.filesTotal = plan.fetch.length;
  progress.itemsTotal = plan.catalogSource?.kind === 'snapshot' ? plan.catalog.itemCount : 0;
  emit('downloading');
  const fetched = new Map<string, ArrayBuffer>();
  // A few at once: on a real network each blob's round trips overlap the others' transfer.
  const limit = pLimit(options.concurrency ?? DOWNLOAD_CONCURRENCY);
  // The first failure stops the other downloads (what they received is kept for next time).
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const outcomes = await Promise.allSettled(
    plan.fetch.map((blob) =>
      limit(async () => {
        if (signal.aborted) return;
        try {
          fetched.set(
            blob.sha256,
            await downloadBlob(store, blob, {
              fetch: fetchFn,
              baseUrl,
              now,
              signal,
              onBytes: (delta) => {
                progress.bytesDone += delta;
                emit('downloading');
              },
              ...(options.flushBytes ? { flushBytes: options.flushBytes } : {}),
              ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
              ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
            }),
          );
        } catch (error) {
          if (stop.signal.aborted && !options.signal?.aborted) return; // stopped because another one failed
          stop.abort();
          throw error;
        }
        progress.filesDone++;
        emit('downloading');
      }),
    ),
  );
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failure) {
    const error: unknown = failure.reason;
    const unused = [...new Set([...(state.unused ?? []), ...fetched.keys()])];
    const refused =
      error instanceof IntegrityError
        ? [
            ...state.refused.filter((r) => r.sha256 !== error.blob.sha256),
            { sha256: error.blob.sha256, label: error.blob.label, sequence: plan.sequence, at: now(), reason: error.message },
          ]
        : state.refused;
    await saveState({ unused, refused });
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof IntegrityError) throw new SyncError('integrity', error.message, { cause: error });
    if (error instanceof DownloadError) throw new SyncError(error.offline ? 'offline' : 'server', error.message, { cause: error });
    throw new SyncError('storage', errorText(error), { cause: error });
  }

  emit('applying');
  const ops: WriteOp[] = [];
  const staleBlobs = new Set<string>();
  let via: SyncResult['via'];
  let leadingOps = 0;
  let chunkOps = 0;
  if (plan.catalogSource) {
    const source = plan.catalogSource;
    via = source.kind;
    const bytes = fetched.get(source.blob.sha256) ?? (await store.get('blobs', source.blob.sha256))?.bytes;
    if (!bytes) throw new SyncError('storage', `${source.blob.label} went missing from the device before it was applied`);
    const items = await catalogItems(store, plan, source, new Uint8Array(bytes), active);
    if (active) {
      // First, so that a same-numbered version (a reset server) is replaced, not mixed.
      ops.push({ store: 'catalog', delete: catalogChunksOf(active.catalog.version) });
      leadingOps = 1;
    }
    for (let start = 0, chunk = 0; start < items.length; start += CATALOG_CHUNK_ITEMS, chunk++) {
      ops.push({ store: 'catalog', put: { catalogVersion: plan.catalog.version, chunk, items: items.slice(start, start + CATALOG_CHUNK_ITEMS) } });
      chunkOps++;
    }
    staleBlobs.add(source.blob.sha256);
    progress.itemsTotal = items.length;
  }
  const wanted = new Set(plan.models.flatMap((m) => m.entry.files.map((f) => f.sha256)));
  for (const model of active?.models ?? []) model.entry.files.forEach((f) => staleBlobs.add(f.sha256));
  (state.unused ?? []).forEach((sha) => staleBlobs.add(sha));
  for (const sha of staleBlobs) if (!wanted.has(sha)) ops.push({ store: 'blobs', delete: sha });

  const record: ActiveSetRecord = {
    catalog: { version: plan.catalog.version, contentHash: plan.catalog.contentHash, itemCount: plan.catalog.itemCount },
    models: plan.models,
    manifestSequence: plan.sequence,
    activatedAt: now(),
  };
  const newState: SyncStateRecord = {
    ...state,
    ...(etag ? { etag } : {}),
    sequence: plan.sequence,
    lastUpdated: now(),
    refused: state.refused.filter((r) => r.sequence >= plan.sequence && !fetched.has(r.sha256)),
    unused: [],
  };
  ops.push(
    { store: 'downloads', clear: true },
    { store: 'meta', put: { key: ACTIVE_KEY, value: record, updatedAt: now() } },
    { store: 'meta', put: { key: STATE_KEY, value: newState, updatedAt: now() } },
  );
  const itemsTotal = progress.itemsTotal;
  try {
    await store.batch(ops, (done) => {
      const chunks = Math.max(0, Math.min(done - leadingOps, chunkOps));
      const items = Math.min(itemsTotal, chunks * CATALOG_CHUNK_ITEMS);
      if (items !== progress.itemsDone) {
        progress.itemsDone = items;
        emit('applying');
      }
    });
  } catch (error) {
    throw new SyncError('storage', `Could not switch to catalog v${plan.catalog.version}: ${errorText(error)}`, { cause: error });
  }
  return {
    outcome: 'updated',
    catalogVersion: plan.catalog.version,
    ...(via ? { via } : {}),
    bytesFetched: progress.bytesTotal,
    filesFetched: plan.fetch.length,
    elapsedMs: now() - started,
  };
}

function toRecord(item: CatalogItem, catalogVersion: number): ItemRecord {
  return { ...item, catalogVersion };
}

/** Sorts records by id (the order snapshots and the feature store use). */
function byId(a: ItemRecord, b: ItemRecord): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The active catalog's items, in id order (empty before the first sync). */
async function activeItems(store: FashionStore, active: ActiveSetRecord | null): Promise<ItemRecord[]> {
  if (!active) return [];
  const chunks = await store.getAll('catalog', catalogChunksOf(active.catalog.version));
  return chunks.flatMap((chunk) => chunk.items);
}

/**
 * The items of the plan's catalog version: the snapshot's, or the active catalog with the delta
 * applied; checked against the manifest (version, count) before anything is written.
 */
async function catalogItems(
  store: FashionStore,
  plan: SyncPlan,
  source: NonNullable<SyncPlan['catalogSource']>,
  bytes: Uint8Array,
  active: ActiveSetRecord | null,
): Promise<ItemRecord[]> {
  const catalog = plan.catalog!;
  let decoded;
  try {
    decoded = await decodeCatalogBlob(bytes, source.blob.label);
  } catch (error) {
    if (error instanceof CatalogCodecError) throw new SyncError('catalog', error.message, { cause: error });
    throw error;
  }
  const mismatch = (what: string) => new SyncError('catalog', `${source.blob.label} does not match the manifest: ${what}`);
  if (source.kind === 'snapshot') {
    if (decoded.kind !== 'snapshot') throw mismatch(`it is a ${decoded.kind}, not a snapshot`);
    if (decoded.version !== catalog.version) throw mismatch(`it holds version ${decoded.version}`);
    if (decoded.items.length !== catalog.itemCount) throw mismatch(`${decoded.items.length} items, the manifest says ${catalog.itemCount}`);
    return decoded.items.map((item) => toRecord(item, catalog.version)).sort(byId);
  }
  if (decoded.kind !== 'delta') throw mismatch(`it is a ${decoded.kind}, not a delta`);
  if (decoded.from !== source.from || decoded.to !== catalog.version) throw mismatch(`it goes from v${decoded.from} to v${decoded.to}`);
  const byItem = new Map((await activeItems(store, active)).map((item) => [item.id, item]));
  for (const id of decoded.removed) {
    if (!byItem.delete(id)) throw mismatch(`it removes ${JSON.stringify(id)}, which v${source.from} does not have`);
  }
  for (const item of decoded.added) byItem.set(item.id, toRecord(item, catalog.version));
  for (const item of decoded.changed) byItem.set(item.id, toRecord(item, catalog.version));
  if (byItem.size !== catalog.itemCount) throw mismatch(`applied to v${source.from} it gives ${byItem.size} items, the manifest says ${catalog.itemCount}`);
  return [...byItem.values()].sort(byId);
}

/** A model of the active set with its files' bytes. */
export interface ActiveModel {
  role: ModelRole;
  /** The manifest entry: id, version, kind, inputs, metrics, lineage, files (name, sha256, size). */
  entry: ManifestModel;
  /** Every file of the model version by name (e.g. `ranker.json`, `item-factors.q8`). */
  files: Record<string, ArrayBuffer>;
}

/** What the inference worker needs: the active catalog and models, all from IndexedDB. */
export interface ActiveSet {
  catalogVersion: number;
  contentHash: string;
  /** Every item of the active catalog, in id order. */
  items: ItemRecord[];
  /** The active models (the champion ranker first, then its image encoder), possibly none. */
  models: ActiveModel[];
  /** The champion `fashion-ranker`, when the registry has one. */
  ranker?: ActiveModel;
  /** The image encoder the ranker was built with, when it names one. */
  imageEncoder?: ActiveModel;
  manifestSequence: number;
  /** Epoch ms of the switch to this set. */
  activatedAt: number;
}

/** Reads the active set, or null before the first finished sync. Never returns a partial set. */
export async function loadActiveSet(store: FashionStore): Promise<ActiveSet | null> {
  const record = await readActiveRecord(store);
  if (!record) return null;
  const [items, models] = await Promise.all([activeItems(store, record), Promise.all(record.models.map((m) => loadModel(store, m)))]);
  const set: ActiveSet = {
    catalogVersion: record.catalog.version,
    contentHash: record.catalog.contentHash,
    items,
    models,
    manifestSequence: record.manifestSequence,
    activatedAt: record.activatedAt,
  };
  const ranker = models.find((m) => m.role === 'ranker');
  const imageEncoder = models.find((m) => m.role === 'image-encoder');
  if (ranker) set.ranker = ranker;
  if (imageEncoder) set.imageEncoder = imageEncoder;
  return set;
}

async function loadModel(store: FashionStore, ref: ActiveModelRef): Promise<ActiveModel> {
  const files: Record<string, ArrayBuffer> = {};
  for (const file of ref.entry.files) {
    const blob = await store.get('blobs', file.sha256);
    if (!blob) {
      throw new Error(`${ref.entry.id}@${ref.entry.version} ${file.name} (blob ${file.sha256.slice(0, 12)}…) is missing from this device; sync again`);
    }
    files[file.name] = blob.bytes;
  }
  return { role: ref.role, entry: ref.entry, files };
}

export type { PlannedBlob };
