/**
 * Storage persistence and quota. Works in the main thread and in workers: it only touches
 * `navigator.storage`, and copes with it (or any of its methods) being absent, e.g. in insecure
 * contexts or in workers, where `persist()` is not exposed.
 */

/** The parts of `StorageManager` used here, all optional because availability varies. */
interface StorageManagerLike {
  persist?: () => Promise<boolean>;
  persisted?: () => Promise<boolean>;
  estimate?: () => Promise<{ usage?: number; quota?: number }>;
}

function storageManager(): StorageManagerLike | undefined {
  const nav = (globalThis as { navigator?: { storage?: StorageManagerLike } }).navigator;
  return nav?.storage ?? undefined;
}

export interface PersistenceResult {
  /** Whether the origin's storage is now persistent (exempt from eviction under pressure). */
  persisted: boolean;
  /** Whether this context can ask for persistence (`navigator.storage.persist` exists). */
  supported: boolean;
}

/**
 * Asks the browser to keep this origin's data under storage pressure. Never throws: where
 * `persist()` is missing (e.g. in a worker) it reports the current state from `persisted()`
 * with `supported: false`; a failing call reports `persisted: false`.
 */
export async function requestPersistence(): Promise<PersistenceResult> {
  const storage = storageManager();
  if (typeof storage?.persist === 'function') {
    try {
      return { persisted: await storage.persist(), supported: true };
    } catch {
      return { persisted: false, supported: true };
    }
  }
  let persisted = false;
  if (typeof storage?.persisted === 'function') {
    try {
      persisted = await storage.persisted();
    } catch {
      // Treated as not persisted.
    }
  }
  return { persisted, supported: false };
}

export interface StorageEstimateResult {
  /** Bytes used by this origin. */
  usage: number;
  /** Bytes this origin may use. */
  quota: number;
  /** `usage / quota * 100`, 0–100. */
  percentUsed: number;
}

/**
 * The origin's usage and quota in bytes, or `undefined` when `navigator.storage.estimate` is
 * unavailable, fails, or reports no usable quota. Never throws.
 */
export async function estimateStorage(): Promise<StorageEstimateResult | undefined> {
  const storage = storageManager();
  if (typeof storage?.estimate !== 'function') return undefined;
  let estimate: { usage?: number; quota?: number };
  try {
    estimate = await storage.estimate();
  } catch {
    return undefined;
  }
  const quota = estimate.quota;
  if (typeof quota !== 'number' || !Number.isFinite(quota) || quota <= 0) return undefined;
  const usage = typeof estimate.usage === 'number' && Number.isFinite(estimate.usage) ? estimate.usage : 0;
  return { usage, quota, percentUsed: (usage / quota) * 100 };
}

/**
 * Whether `error` is the browser refusing a write for lack of space: a `DOMException` named
 * `QuotaExceededError` (older Firefox: `NS_ERROR_DOM_QUOTA_REACHED`), matched by name because
 * errors from other realms or polyfills fail `instanceof`.
 */
export function isQuotaExceededError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const name = (error as { name?: unknown }).name;
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED';
}

/** What `StorageQuotaError` knows about the failed write. */
export interface StorageQuotaDetails {
  /** Object store the write targeted. */
  storeName: string;
  /** Number of records in the failed write (all of them were rolled back). */
  recordCount: number;
  /** Binary payload size in bytes (ArrayBuffers, typed arrays), when there was any. */
  bytes?: number;
  /** Origin usage in bytes at the time of failure, when the browser reports it. */
  usage?: number;
  /** Origin quota in bytes at the time of failure, when the browser reports it. */
  quota?: number;
}

/** Noun for one record of each store, for messages a shopper may see. */
const RECORD_NOUNS: Record<string, [singular: string, plural: string]> = {
  meta: ['setting', 'settings'],
  items: ['item', 'items'],
  embeddings: ['embedding', 'embeddings'],
  blobs: ['blob', 'blobs'],
  interactions: ['interaction', 'interactions'],
  experiments: ['experiment', 'experiments'],
  metrics: ['metric sample', 'metric samples'],
};

/** `1234567` → `1.2 MB`; decimal units, as browsers report storage. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function quotaMessage(d: StorageQuotaDetails): string {
  const [one, many] = RECORD_NOUNS[d.storeName] ?? ['record', 'records'];
  let what = `${d.recordCount} ${d.recordCount === 1 ? one : many}`;
  if (d.bytes !== undefined && d.bytes > 0) what += ` of ${formatBytes(d.bytes)}`;
  const usage =
    d.usage !== undefined && d.quota !== undefined
      ? ` (using ${formatBytes(d.usage)} of ${formatBytes(d.quota)})`
      : '';
  return (
    `Storage is full: could not save ${what} to "${d.storeName}"${usage}. ` +
    'Free space or clear the catalog cache in Settings.'
  );
}

/**
 * Thrown by every store write that the browser refused for lack of space. The write was rolled back
 * as a whole. `message` is fit to show the shopper, e.g.
 * `Storage is full: could not save 12 items to "items" (using 48.0 MB of 50.0 MB). Free space or
 * clear the catalog cache in Settings.`; `cause` is the original `QuotaExceededError`.
 */
export class StorageQuotaError extends Error {
  override readonly name = 'StorageQuotaError';
  readonly storeName: string;
  readonly recordCount: number;
  readonly bytes: number | undefined;
  readonly usage: number | undefined;
  readonly quota: number | undefined;

  constructor(details: StorageQuotaDetails, options?: { cause?: unknown }) {
    super(quotaMessage(details), options);
    this.storeName = details.storeName;
    this.recordCount = details.recordCount;
    this.bytes = details.bytes;
    this.usage = details.usage;
    this.quota = details.quota;
  }
}

/**
 * Builds a `StorageQuotaError` for a failed write, adding the current usage/quota when the browser
 * reports them.
 */
export async function storageQuotaError(
  details: Omit<StorageQuotaDetails, 'usage' | 'quota'>,
  cause: unknown,
): Promise<StorageQuotaError> {
  const estimate = await estimateStorage();
  return new StorageQuotaError(
    { ...details, ...(estimate ? { usage: estimate.usage, quota: estimate.quota } : {}) },
    { cause },
  );
}
