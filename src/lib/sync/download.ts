/**
 * Downloads one content-addressed blob into IndexedDB: resumable, verified, never half-stored.
 *
 * - Bytes arrive as a stream and are kept in the `downloads` store in chunks as they come (and at
 *   once when the connection fails), so the next attempt, or the next visit, asks only for the
 *   rest with `Range: bytes=<kept>-`.
 * - The whole blob's sha256 (crypto.subtle) must equal its name before it is written to `blobs`;
 *   the blob and the removal of its chunks are one transaction.
 * - A connection error is retried (resuming) a few times with backoff; a mismatch throws away
 *   what was kept and downloads once more from zero (a resumed part could be what was bad); a
 *   second mismatch is an {@link IntegrityError}: the blob is refused.
 */
import { chunksOf } from '../storage/schema';
import type { FashionStore } from '../storage/store';
import type { PlannedBlob } from './plan';

export interface DownloadOptions {
  fetch: typeof fetch;
  /** Prefix for `/v1/blobs/<sha256>` ('' for the page's own origin). */
  baseUrl: string;
  /** Called with each change of the bytes this blob has on the device (negative when discarded). */
  onBytes?: (delta: number) => void;
  signal?: AbortSignal;
  /** Keep received bytes in IndexedDB every this many bytes (default 1 MiB). */
  flushBytes?: number;
  /** Attempts for connection failures and 5xx answers (default 5). */
  maxAttempts?: number;
  /** First retry delay in ms, doubled each time (default 300). */
  retryDelayMs?: number;
  now?: () => number;
}

/** The blob's bytes do not hash to its name: refused, nothing of it kept. */
export class IntegrityError extends Error {
  override readonly name = 'IntegrityError';
  constructor(
    readonly blob: PlannedBlob,
    readonly actual: string,
    readonly receivedBytes: number,
  ) {
    super(
      `Refused ${blob.label}: its ${receivedBytes} bytes hash to ${actual.slice(0, 12)}…, not ${blob.sha256.slice(0, 12)}… ` +
        '(damaged or tampered with on the way); the version in use stays active',
    );
  }
}

/** The server or the network failed in a way retrying did not fix. */
export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  constructor(
    message: string,
    /** True when the network could not be reached (as opposed to an error answer). */
    readonly offline: boolean,
    /** HTTP status, when the server answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export async function sha256Hex(bytes: BufferSource): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** Start of a `Content-Range: bytes <start>-<end>/<size>` header, or undefined. */
export function contentRangeStart(header: string | null): number | undefined {
  const match = header ? /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header.trim()) : null;
  return match ? Number(match[1]) : undefined;
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

/** The kept chunks of a blob, contiguous from 0 (anything after a gap is dropped). */
async function keptChunks(store: FashionStore, sha256: string): Promise<{ chunks: Uint8Array[]; offset: number }> {
  const records = await store.getAll('downloads', chunksOf(sha256));
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const record of records) {
    if (record.offset !== offset) break;
    chunks.push(new Uint8Array(record.bytes));
    offset += record.bytes.byteLength;
  }
  return { chunks, offset };
}

type Attempt = { done: true; bytes: Uint8Array<ArrayBuffer> } | { done: false; error: unknown; retry: boolean };

/**
 * Fetches `blob` (resuming from kept chunks), verifies it and stores it in `blobs`. Resolves to
 * its bytes. Rejects with {@link IntegrityError}, {@link DownloadError}, the store's errors
 * (e.g. `StorageQuotaError`) or the signal's reason.
 */
export async function downloadBlob(store: FashionStore, blob: PlannedBlob, options: DownloadOptions): Promise<ArrayBuffer> {
  const maxAttempts = options.maxAttempts ?? 5;
  const now = options.now ?? Date.now;
  let mismatches = 0;
  let failures = 0;
  // The bytes of this blob on the device (kept + received), reported to onBytes as changes.
  let reported = 0;
  const report = (bytes: number) => {
    if (bytes !== reported) options.onBytes?.(bytes - reported);
    reported = bytes;
  };
  for (;;) {
    const attempt = await attemptDownload(store, blob, options, now, report);
    if (attempt.done) {
      const actual = await sha256Hex(attempt.bytes);
      if (actual === blob.sha256) {
        await store.batch([
          { store: 'blobs', put: { sha256: blob.sha256, bytes: attempt.bytes.buffer, size: attempt.bytes.byteLength, contentType: blob.contentType, storedAt: now() } },
          { store: 'downloads', delete: chunksOf(blob.sha256) },
        ]);
        return attempt.bytes.buffer;
      }
      await store.delete('downloads', chunksOf(blob.sha256));
      report(0);
      if (++mismatches > 1) throw new IntegrityError(blob, actual, attempt.bytes.byteLength);
      continue;
    }
    if (options.signal?.aborted) throw options.signal.reason;
    if (!attempt.retry || ++failures >= maxAttempts) throw attempt.error;
    await delay((options.retryDelayMs ?? 300) * 2 ** (failures - 1), options.signal);
  }
}

async function attemptDownload(
  store: FashionStore,
  blob: PlannedBlob,
  options: DownloadOptions,
  now: () => number,
  report: (bytesOnDevice: number) => void,
): Promise<Attempt> {
  const flushBytes = options.flushBytes ?? 1 << 20;
  let { chunks, offset } = await keptChunks(store, blob.sha256);
  const discardKept = async () => {
    await store.delete('downloads', chunksOf(blob.sha256));
    chunks = [];
    offset = 0;
    report(0);
  };
  report(offset);
  if (offset > blob.size) await discardKept();
  if (offset === blob.size && offset > 0) return { done: true, bytes: concat(chunks, offset) };

  const url = `${options.baseUrl}/v1/blobs/${blob.sha256}`;
  let response: Response;
  try {
    response = await options.fetch(url, {
      // IndexedDB keeps the copy; the HTTP cache would hold a second one.
      cache: 'no-store',
      headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    return { done: false, retry: true, error: new DownloadError(`Could not download ${blob.label}: ${error instanceof Error ? error.message : String(error)}`, true) };
  }

  if (response.status === 416) {
    // What was kept does not fit this blob any more: start over.
    await discardKept();
    return { done: false, retry: true, error: new DownloadError(`${url} answered 416 to a resume`, false, 416) };
  }
  if (!response.ok) {
    const error = new DownloadError(`Could not download ${blob.label}: ${url} answered ${response.status} ${response.statusText}`.trim(), false, response.status);
    await response.body?.cancel().catch(() => undefined);
    return { done: false, retry: response.status >= 500, error };
  }
  if (offset > 0 && (response.status !== 206 || contentRangeStart(response.headers.get('Content-Range')) !== offset)) {
    // The server sent the whole blob (or another range): keep that instead.
    await discardKept();
  }

  const reader = response.body?.getReader();
  if (!reader) return { done: false, retry: true, error: new DownloadError(`${url} answered without a body`, false, response.status) };
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const bytes = concat(pending, pendingBytes);
    await store.put('downloads', { sha256: blob.sha256, offset, bytes: bytes.buffer, storedAt: now() });
    chunks.push(bytes);
    offset += pendingBytes;
    pending = [];
    pendingBytes = 0;
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      pending.push(value);
      pendingBytes += value.byteLength;
      report(offset + pendingBytes);
      if (offset + pendingBytes > blob.size) {
        // More than the blob holds: stop here; the hash check refuses it.
        await reader.cancel().catch(() => undefined);
        break;
      }
      if (pendingBytes >= flushBytes) await flush();
    }
  } catch (error) {
    // Keep what arrived so the retry (or the next visit) resumes after it.
    await flush();
    return { done: false, retry: true, error: new DownloadError(`Connection lost while downloading ${blob.label} at byte ${offset}: ${error instanceof Error ? error.message : String(error)}`, true) };
  }
  const total = offset + pendingBytes;
  if (total < blob.size) {
    await flush();
    return { done: false, retry: true, error: new DownloadError(`Download of ${blob.label} ended at byte ${total} of ${blob.size}`, true) };
  }
  return { done: true, bytes: concat([...chunks, ...pending], total) };
}
