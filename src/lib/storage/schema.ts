import type { DBSchema, IndexKey, IndexNames, StoreKey, StoreNames, StoreValue } from 'idb';
import type { CatalogItem, InteractionType } from '../../../models/catalog/item';

/** Name of the on-device database. Tests pass their own name or a fresh `IDBFactory`. */
export const DB_NAME = 'fashionml';

/**
 * A setting or piece of sync state. Stored under its own `key` (keyPath) rather than as an
 * out-of-line key so every store is written the same way and several settings can be saved
 * atomically with `putMany`.
 */
export interface MetaRecord {
  key: string;
  /** Any structured-cloneable value; JSON-shaped by convention. */
  value: unknown;
  /** Epoch ms of the last write, when the writer records it. */
  updatedAt?: number;
}

/**
 * One catalog item as synced from the server: the shared catalog contract, plus the catalog version
 * that last wrote it, so a sync can find stale rows. Sync keeps the active catalog in the `catalog`
 * store (v3), in chunks; the `items` store (v1, one record per item, `masterCategory` indexed as
 * `byCategory` and `articleType` as `byArticleType` from v2) holds this same shape for code that
 * wants per-item lookups, and sync does not fill it.
 */
export interface ItemRecord extends CatalogItem {
  catalogVersion: number;
}

/**
 * One item's vector for one model version, keyed by `[modelVersion, itemId]`.
 *
 * One row per item (rather than one matrix per model version) because catalog syncs add and remove
 * single items, a write stays small enough that a quota failure never costs the whole matrix, and a
 * model version's vectors are still one request away: `getAll('embeddings', embeddingsOf(v))`
 * returns them in item-id order, ready to be copied into one tensor.
 */
export interface EmbeddingRecord {
  modelVersion: string;
  itemId: string;
  /** Stored compact: the store copies views of larger buffers so only this vector is written. */
  vector: Float32Array;
}

/** A content-addressed binary blob (model weights, snapshots), keyed by its SHA-256 hex digest. */
export interface BlobRecord {
  sha256: string;
  bytes: ArrayBuffer;
  /** Byte length of `bytes`. */
  size: number;
  contentType: string;
  /** Epoch ms. */
  storedAt: number;
}

/**
 * A slice of one catalog version's items, in id order (from schema v3), keyed by
 * `[catalogVersion, chunk]`. Sync stores the active catalog this way rather than one record per
 * item: Chromium pays per IndexedDB request, so 35k single-item puts took ~5 s to write and ~2 s to
 * read back, where a few dozen chunks take a small fraction of that. `getAll('catalog',
 * catalogChunksOf(v))` returns one version's chunks in order.
 */
export interface CatalogChunkRecord {
  catalogVersion: number;
  chunk: number;
  items: ItemRecord[];
}

/**
 * Part of a blob being downloaded (from schema v3), keyed by `[sha256, offset]`: what an interrupted
 * download already received, so the next attempt asks only for the rest (an HTTP Range request).
 * The chunks of one blob are contiguous from offset 0; they are deleted once the blob is verified.
 */
export interface DownloadChunkRecord {
  sha256: string;
  /** Where `bytes` start within the blob. */
  offset: number;
  bytes: ArrayBuffer;
  /** Epoch ms. */
  storedAt: number;
}

export type { InteractionType };

/** A shopper event. `id` is assigned by the store (autoIncrement) when absent. */
export interface InteractionRecord {
  id?: number;
  itemId: string;
  type: InteractionType;
  /** Epoch ms; indexed as `byTime`. */
  at: number;
  /** Optional training weight; readers fall back to a per-type default. */
  weight?: number;
}

/** This device's assignment to an experiment. */
export interface ExperimentRecord {
  id: string;
  variant: string;
  /** Epoch ms. */
  assignedAt: number;
  endsAt?: number;
  params?: Record<string, unknown>;
}

/** One on-device monitoring sample. `id` is assigned by the store (autoIncrement) when absent. */
export interface MetricSample {
  id?: number;
  name: string;
  value: number;
  /** Epoch ms. */
  at: number;
  tags?: Record<string, string>;
}

/**
 * The latest schema (see `migrations.ts` for how each version is built). Indexes added after v1
 * are listed here too; on a database opened at an older version they do not exist yet.
 */
export interface FashionDB extends DBSchema {
  meta: { key: string; value: MetaRecord };
  items: {
    key: string;
    value: ItemRecord;
    indexes: { byCategory: string; byArticleType: string };
  };
  embeddings: { key: [modelVersion: string, itemId: string]; value: EmbeddingRecord };
  blobs: { key: string; value: BlobRecord };
  downloads: { key: [sha256: string, offset: number]; value: DownloadChunkRecord };
  catalog: { key: [catalogVersion: number, chunk: number]; value: CatalogChunkRecord };
  interactions: {
    key: number;
    value: InteractionRecord;
    indexes: { byTime: number; byItem: string; byType: InteractionType };
  };
  experiments: { key: string; value: ExperimentRecord };
  metrics: { key: number; value: MetricSample };
}

export type StoreName = StoreNames<FashionDB>;
/** The record type held by store `S`. */
export type RecordOf<S extends StoreName> = StoreValue<FashionDB, S>;
/** The primary key type of store `S`. */
export type KeyOf<S extends StoreName> = StoreKey<FashionDB, S>;
export type IndexOf<S extends StoreName> = IndexNames<FashionDB, S>;
export type IndexKeyOf<S extends StoreName, I extends IndexOf<S>> = IndexKey<FashionDB, S, I>;

/** Every store, in creation order. */
export const STORE_NAMES: readonly StoreName[] = [
  'meta',
  'items',
  'embeddings',
  'blobs',
  'interactions',
  'experiments',
  'metrics',
  'downloads',
  'catalog',
];

/** Key range covering every chunk of one catalog version, in order. */
export function catalogChunksOf(catalogVersion: number): IDBKeyRange {
  return IDBKeyRange.bound([catalogVersion], [catalogVersion, []]);
}

/** Key range covering every kept chunk of one blob's download, in offset order. */
export function chunksOf(sha256: string): IDBKeyRange {
  return IDBKeyRange.bound([sha256], [sha256, []]);
}

/**
 * Key range covering every embedding of one model version. Array keys sort after strings, so
 * `[v, []]` is above `[v, anyItemId]` and below `[nextVersion]`.
 */
export function embeddingsOf(modelVersion: string): IDBKeyRange {
  return IDBKeyRange.bound([modelVersion], [modelVersion, []]);
}
