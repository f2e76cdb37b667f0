/**
 * What the Model Lab reads from the server and the device, kept apart from the shopper's set:
 *
 * - the registry manifest (`GET /v1/manifest`, read through the sync's parser);
 * - a model version's files, fetched by sha256 from `/v1/blobs/<sha256>`, each verified against
 *   its name and kept in the Cache Storage cache `fashionml-lab` — never in the IndexedDB `blobs`
 *   store the sync switches atomically, so loading a version here cannot change (or be swept
 *   away with) the shopper's active set;
 * - the device's active catalog, read-only.
 */
import { catalogChunksOf } from '../storage/schema';
import type { FashionStore } from '../storage/store';
import type { InteractionRecord, ItemRecord } from '../storage/schema';
import { sha256Hex } from '../sync/download';
import { readActiveRecord } from '../sync/engine';
import { parseManifest } from '../sync/manifest';
import type { ManifestModel, SyncManifest } from '../sync/manifest';

/** Cache Storage name of the lab's model files. */
export const LAB_CACHE = 'fashionml-lab';
/** Files kept in the lab cache at most; the oldest go first. */
const MAX_CACHED_FILES = 60;

export interface LabFetchOptions {
  fetch?: typeof fetch;
  /** Prefix for `/v1/…` ('' for the page's own origin). */
  baseUrl?: string;
  /** Cache Storage to use (default `caches` when the browser has it). */
  caches?: CacheStorage;
}

export async function fetchManifest(options: LabFetchOptions = {}): Promise<SyncManifest> {
  const doFetch = options.fetch ?? fetch;
  const response = await doFetch(`${options.baseUrl ?? ''}/v1/manifest`, { cache: 'no-cache' });
  if (!response.ok) throw new Error(`GET /v1/manifest answered ${response.status} ${response.statusText}`);
  return parseManifest(await response.json());
}

/** `id@version`. */
export function refOf(model: Pick<ManifestModel, 'id' | 'version'>): string {
  return `${model.id}@${model.version}`;
}

/** Finds `id@version` in the manifest or says which versions of that id exist. */
export function findModel(manifest: SyncManifest, ref: string): ManifestModel {
  const match = /^(.+)@(\d+)$/.exec(ref);
  const found = match && manifest.models.find((m) => m.id === match[1] && m.version === Number(match[2]));
  if (!found) {
    const id = match?.[1] ?? ref;
    const known = manifest.models.filter((m) => m.id === id).map(refOf);
    throw new Error(`The registry has no model ${JSON.stringify(ref)}${known.length ? ` (it has ${known.join(', ')})` : ''}`);
  }
  return found;
}

async function openCache(options: LabFetchOptions): Promise<Cache | undefined> {
  const storage = options.caches ?? (typeof caches === 'undefined' ? undefined : caches);
  try {
    return await storage?.open(LAB_CACHE);
  } catch {
    // Cache Storage blocked (e.g. a private window): fetch every time.
    return undefined;
  }
}

/**
 * Every file of a model version, each verified by its sha256 (from the lab cache when it is there
 * and still hashes right, else from `/v1/blobs`). Rejects naming the file when a blob is missing
 * or its bytes do not match.
 */
export async function fetchModelFiles(model: ManifestModel, options: LabFetchOptions = {}): Promise<Record<string, ArrayBuffer>> {
  const doFetch = options.fetch ?? fetch;
  const cache = await openCache(options);
  const files: Record<string, ArrayBuffer> = {};
  for (const file of model.files) {
    const url = `${options.baseUrl ?? ''}/v1/blobs/${file.sha256}`;
    const cached = await cache?.match(url);
    if (cached) {
      const bytes = await cached.arrayBuffer();
      if ((await sha256Hex(bytes)) === file.sha256) {
        files[file.name] = bytes;
        continue;
      }
      await cache?.delete(url);
    }
    const response = await doFetch(url);
    if (!response.ok) throw new Error(`${refOf(model)} ${file.name}: GET ${url} answered ${response.status}`);
    const bytes = await response.arrayBuffer();
    const actual = await sha256Hex(bytes);
    if (actual !== file.sha256) {
      throw new Error(`${refOf(model)} ${file.name}: the ${bytes.byteLength} bytes received hash to ${actual.slice(0, 12)}…, not ${file.sha256.slice(0, 12)}…; refused`);
    }
    files[file.name] = bytes;
    await cache?.put(url, new Response(bytes.slice(0), { headers: { 'Content-Type': 'application/octet-stream' } })).catch(() => undefined);
  }
  if (cache) await trimCache(cache);
  return files;
}

async function trimCache(cache: Cache): Promise<void> {
  // Cache keys come back in insertion order, so the first ones are the oldest.
  const keys = await cache.keys();
  for (const request of keys.slice(0, Math.max(0, keys.length - MAX_CACHED_FILES))) await cache.delete(request);
}

/** The device's active catalog (read-only), or null before the first sync. */
export async function readDeviceCatalog(store: FashionStore): Promise<{ version: number; items: ItemRecord[] } | null> {
  const active = await readActiveRecord(store);
  if (!active) return null;
  const chunks = await store.getAll('catalog', catalogChunksOf(active.catalog.version));
  return { version: active.catalog.version, items: chunks.flatMap((chunk) => chunk.items) };
}

/** The shopper's own history on this device, oldest first (it stays on the device: the lab worker is local). */
export async function readDeviceHistory(store: FashionStore): Promise<InteractionRecord[]> {
  return store.getAllFromIndex('interactions', 'byTime');
}
