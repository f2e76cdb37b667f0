import { openDB } from 'idb';
import type { IDBPDatabase, IDBPObjectStore, IDBPTransaction } from 'idb';
import { applyMigrations, SCHEMA_VERSION } from './migrations';
import { isQuotaExceededError, storageQuotaError } from './quota';
import { DB_NAME } from './schema';
import type { FashionDB, IndexKeyOf, IndexOf, KeyOf, RecordOf, StoreName } from './schema';

/** Why a store stopped working before `close()` was called. */
export type CloseReason = 'versionchange' | 'terminated';

export interface OpenFashionStoreOptions {
  /** Database name; defaults to `fashionml`. */
  name?: string;
  /**
   * Schema version to open, 1…`SCHEMA_VERSION` (default: latest). Older versions exist for
   * migration tests; indexes added after that version are then missing.
   */
  version?: number;
  /**
   * Another connection (usually another tab running older code) is still open on an older version,
   * so the upgrade waits. The open promise settles once that connection closes.
   */
  onBlocked?: (event: { currentVersion: number; requestedVersion: number }) => void;
  /**
   * This connection was closed for the caller: `versionchange` when another tab upgrades or deletes
   * the database (closed here so that tab is not blocked; reload to get the new code),
   * `terminated` when the browser closed it (e.g. the user cleared site data).
   */
  onClose?: (reason: CloseReason) => void;
}

/** Key or key range accepted by reads and `delete`. */
export type KeyQuery<S extends StoreName> = KeyOf<S> | IDBKeyRange;

/** One write of a {@link FashionStore.batch}: put a record, delete a key or range, or clear a store. */
export type WriteOp = {
  [S in StoreName]: { store: S; put: RecordOf<S> } | { store: S; delete: KeyQuery<S> } | { store: S; clear: true };
}[StoreName];

/**
 * The app's storage, typed by store name (`FashionDB`). Business logic depends on this interface,
 * never on idb.
 *
 * Errors: every method rejects with a `DOMException` named `InvalidStateError` once the store is
 * closed (by `close()` or by `onClose`), and with the browser's `DOMException`s otherwise
 * (`DataError` for a record without its key, `NotFoundError` for an unknown store or index).
 * Every write that the browser refuses for lack of space rejects with `StorageQuotaError`.
 * A rejected write has written nothing: each call is one transaction, aborted as a whole.
 */
export interface FashionStore {
  /** Database name. */
  readonly name: string;
  /** Schema version this connection opened. */
  readonly version: number;

  /** The record with this primary key, or `undefined`. */
  get<S extends StoreName>(store: S, key: KeyOf<S>): Promise<RecordOf<S> | undefined>;
  /** Records in key order, optionally limited to a key/range and to `count` records. */
  getAll<S extends StoreName>(store: S, query?: KeyQuery<S>, count?: number): Promise<RecordOf<S>[]>;
  /** Records whose index key matches `query`, in index order. */
  getAllFromIndex<S extends StoreName, I extends IndexOf<S>>(
    store: S,
    index: I,
    query?: IndexKeyOf<S, I> | IDBKeyRange,
    count?: number,
  ): Promise<RecordOf<S>[]>;
  /** Number of records, optionally within a key/range. */
  count<S extends StoreName>(store: S, query?: KeyQuery<S>): Promise<number>;

  /** Inserts or replaces one record; resolves to its key (assigned, for autoIncrement stores). */
  put<S extends StoreName>(store: S, record: RecordOf<S>): Promise<KeyOf<S>>;
  /**
   * Inserts or replaces `records` in one transaction: all are written or none are. Resolves to the
   * keys in input order.
   */
  putMany<S extends StoreName>(store: S, records: readonly RecordOf<S>[]): Promise<KeyOf<S>[]>;
  /** Deletes the record with this key, or every record in the range. Missing keys are not an error. */
  delete<S extends StoreName>(store: S, query: KeyQuery<S>): Promise<void>;
  /** Deletes every record of one store. */
  clear(store: StoreName): Promise<void>;
  /**
   * Runs puts, deletes and clears across several stores, in the given order, in one transaction:
   * all of them take effect or none do (e.g. a new catalog's items and the record that makes it
   * active). `onProgress(done, total)` is called as each operation completes inside the
   * transaction; nothing is visible to readers until the whole batch commits.
   */
  batch(ops: readonly WriteOp[], onProgress?: (done: number, total: number) => void): Promise<void>;
  /** Deletes every record of every store in one transaction; the schema stays. */
  clearAll(): Promise<void>;
  /** Closes the connection; later calls reject. Idempotent. */
  close(): void;
}

type Db = IDBPDatabase<FashionDB>;
type WriteStore<S extends StoreName> = IDBPObjectStore<FashionDB, [S], S, 'readwrite'>;
type AnyWriteTx = IDBPTransaction<FashionDB, StoreName[], 'readwrite'>;

/** Bytes of binary payload (ArrayBuffers and typed arrays) directly on a record. */
function binaryBytes(record: unknown): number {
  if (typeof record !== 'object' || record === null) return 0;
  let bytes = 0;
  for (const value of Object.values(record)) {
    if (value instanceof ArrayBuffer) bytes += value.byteLength;
    else if (ArrayBuffer.isView(value)) bytes += value.byteLength;
  }
  return bytes;
}

/**
 * Structured clone copies a typed array's whole buffer, so a vector that is a view into a larger
 * matrix (e.g. `matrix.subarray(i * d, (i + 1) * d)`) would store the entire matrix per row.
 */
function compactRecord<S extends StoreName>(store: S, record: RecordOf<S>): RecordOf<S> {
  if (store !== 'embeddings') return record;
  const embedding = record as RecordOf<'embeddings'>;
  const { vector } = embedding;
  if (vector instanceof Float32Array && vector.byteLength !== vector.buffer.byteLength) {
    return { ...embedding, vector: vector.slice() } as RecordOf<S>;
  }
  return record;
}

function closedError(name: string, reason: string): DOMException {
  return new DOMException(
    `The "${name}" database connection is closed (${reason}); reload the app to reopen it.`,
    'InvalidStateError',
  );
}

/** Picks the error to report: a quota error wins over the `AbortError`s it causes. */
function rootCause(error: unknown, tx: { error: DOMException | null }): unknown {
  if (isQuotaExceededError(error)) return error;
  let txError: DOMException | null = null;
  try {
    txError = tx.error;
  } catch {
    // Reading `error` of an unfinished transaction throws in some engines.
  }
  return isQuotaExceededError(txError) ? txError : error;
}

function abortQuietly(tx: { abort(): void }): void {
  try {
    tx.abort();
  } catch {
    // Already finished (committed or aborted).
  }
}

class IdbFashionStore implements FashionStore {
  private closedBy: string | undefined;

  constructor(
    private readonly db: Db,
    readonly name: string,
    readonly version: number,
  ) {}

  /** Marks the store closed (from `close()`, `versionchange` or `terminated`). */
  markClosed(reason: string): void {
    if (this.closedBy) return;
    this.closedBy = reason;
    this.db.close();
  }

  private open(): Db {
    if (this.closedBy) throw closedError(this.name, this.closedBy);
    return this.db;
  }

  async get<S extends StoreName>(store: S, key: KeyOf<S>): Promise<RecordOf<S> | undefined> {
    return this.open().get(store, key);
  }

  async getAll<S extends StoreName>(store: S, query?: KeyQuery<S>, count?: number): Promise<RecordOf<S>[]> {
    return this.open().getAll(store, query, count);
  }

  async getAllFromIndex<S extends StoreName, I extends IndexOf<S>>(
    store: S,
    index: I,
    query?: IndexKeyOf<S, I> | IDBKeyRange,
    count?: number,
  ): Promise<RecordOf<S>[]> {
    return this.open().getAllFromIndex(store, index, query, count);
  }

  async count<S extends StoreName>(store: S, query?: KeyQuery<S>): Promise<number> {
    return this.open().count(store, query);
  }

  async put<S extends StoreName>(store: S, record: RecordOf<S>): Promise<KeyOf<S>> {
    const compact = compactRecord(store, record);
    return this.write(store, { recordCount: 1, bytes: binaryBytes(compact) }, (os) => os.put(compact));
  }

  async putMany<S extends StoreName>(store: S, records: readonly RecordOf<S>[]): Promise<KeyOf<S>[]> {
    if (records.length === 0) {
      this.open();
      return [];
    }
    const compact = records.map((r) => compactRecord(store, r));
    const bytes = compact.reduce((sum, r) => sum + binaryBytes(r), 0);
    return this.write(store, { recordCount: compact.length, bytes }, (os) => {
      const pending: Promise<KeyOf<S>>[] = [];
      for (const record of compact) {
        const request = os.put(record);
        // If a later put throws synchronously, these reject with AbortError after the abort;
        // the caller gets the first error instead.
        request.catch(() => undefined);
        pending.push(request);
      }
      return Promise.all(pending);
    });
  }

  async delete<S extends StoreName>(store: S, query: KeyQuery<S>): Promise<void> {
    await this.write(store, { recordCount: 0 }, (os) => os.delete(query));
  }

  async clear(store: StoreName): Promise<void> {
    await this.write(store, { recordCount: 0 }, (os) => os.clear());
  }

  async batch(ops: readonly WriteOp[], onProgress?: (done: number, total: number) => void): Promise<void> {
    const db = this.open();
    if (ops.length === 0) return;
    const names = [...new Set(ops.map((op) => op.store))];
    const prepared = ops.map((op) => ('put' in op ? { ...op, put: compactRecord(op.store, op.put as RecordOf<typeof op.store>) } : op));
    const puts = prepared.filter((op) => 'put' in op);
    const bytes = puts.reduce((sum, op) => sum + binaryBytes(op.put), 0);
    const tx = db.transaction(names, 'readwrite') as unknown as AnyWriteTx;
    await this.settle(tx, names.join(', '), { recordCount: puts.length, ...(bytes ? { bytes } : {}) }, () => {
      let done = 0;
      const pending = prepared.map((op) => {
        // Each operation is typed by its store above; across stores the handle cannot be.
        const os = tx.objectStore(op.store) as unknown as IDBPObjectStore<FashionDB, [StoreName], StoreName, 'readwrite'>;
        const request: Promise<unknown> = 'put' in op ? os.put(op.put as never) : 'delete' in op ? os.delete(op.delete as never) : os.clear();
        const counted = request.then(() => onProgress?.(++done, prepared.length));
        // If a later request throws synchronously these reject after the abort; the caller gets the first error.
        counted.catch(() => undefined);
        return counted;
      });
      return Promise.all(pending);
    });
  }

  async clearAll(): Promise<void> {
    const db = this.open();
    // Whatever stores this version has (fewer when opened at an older version).
    const names = Array.from(db.objectStoreNames);
    if (names.length === 0) return;
    const tx = db.transaction(names, 'readwrite');
    await this.settle(tx, names.join(', '), { recordCount: 0 }, () =>
      Promise.all(names.map((n) => tx.objectStore(n).clear())),
    );
  }

  close(): void {
    this.markClosed('closed by the app');
  }

  /** Runs `work` in one readwrite transaction on `store`, mapping failures (see `settle`). */
  private async write<S extends StoreName, T>(
    store: S,
    what: { recordCount: number; bytes?: number },
    work: (os: WriteStore<S>) => Promise<T>,
  ): Promise<T> {
    const tx = this.open().transaction(store, 'readwrite');
    return this.settle(tx as unknown as AnyWriteTx, store, what, () => work(tx.store));
  }

  /**
   * Resolves once `tx` has committed. On any failure (a request throwing synchronously, a request
   * error, an abort at commit) the transaction is aborted as a whole and the error rethrown, as
   * `StorageQuotaError` when the browser ran out of space.
   */
  private async settle<T>(
    tx: AnyWriteTx,
    storeName: string,
    what: { recordCount: number; bytes?: number },
    work: () => Promise<T>,
  ): Promise<T> {
    // idb creates `done` with the transaction; it must always be awaited or its rejection goes unhandled.
    const done = tx.done;
    try {
      const result = await work();
      await done;
      return result;
    } catch (error) {
      abortQuietly(tx);
      await done.catch(() => undefined);
      const cause = rootCause(error, tx);
      if (isQuotaExceededError(cause)) {
        throw await storageQuotaError(
          { storeName, recordCount: what.recordCount, ...(what.bytes ? { bytes: what.bytes } : {}) },
          cause,
        );
      }
      throw cause;
    }
  }
}

/**
 * Opens (creating or upgrading as needed) the on-device database and returns the store.
 * Upgrades run every migration from the database's version to `options.version`.
 *
 * Rejects with `RangeError` for a version outside 1…`SCHEMA_VERSION` (before touching the
 * database), with a `DOMException` named `VersionError` when the database is already newer than
 * requested (an older build running after a newer one), and with a failing migration's error
 * (the upgrade is then rolled back and the database stays at its old version).
 * Stays pending while `onBlocked` applies.
 */
export async function openFashionStore(options: OpenFashionStoreOptions = {}): Promise<FashionStore> {
  const name = options.name ?? DB_NAME;
  const version = options.version ?? SCHEMA_VERSION;
  if (!Number.isInteger(version) || version < 1 || version > SCHEMA_VERSION) {
    throw new RangeError(`Schema version must be an integer from 1 to ${SCHEMA_VERSION}, got ${version}`);
  }

  let migrationError: unknown;
  // Set once the open succeeds; the callbacks below may fire later and need it.
  const opened: { store?: IdbFashionStore } = {};
  let db: Db;
  try {
    db = await openDB<FashionDB>(name, version, {
      upgrade(database, oldVersion, newVersion, tx) {
        // An aborted upgrade is reported through the open request; idb's `done` would go unhandled.
        tx.done.catch(() => undefined);
        try {
          applyMigrations(database, tx, oldVersion, newVersion ?? version);
        } catch (error) {
          // Thrown inside an event handler the error would be lost; keep it and roll back.
          migrationError = error;
          abortQuietly(tx);
        }
      },
      blocked(currentVersion, blockedVersion) {
        options.onBlocked?.({ currentVersion, requestedVersion: blockedVersion ?? version });
      },
      blocking(_currentVersion, _blockedVersion, event) {
        // Close so the other tab's upgrade can proceed; this tab's code is now out of date.
        if (opened.store) opened.store.markClosed('the database was upgraded by another tab');
        else (event.target as IDBDatabase | null)?.close();
        options.onClose?.('versionchange');
      },
      terminated() {
        if (opened.store) {
          opened.store.markClosed('the browser closed the connection');
          options.onClose?.('terminated');
        }
      },
    });
  } catch (error) {
    throw migrationError ?? error;
  }
  opened.store = new IdbFashionStore(db, name, version);
  return opened.store;
}
