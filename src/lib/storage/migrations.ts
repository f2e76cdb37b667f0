import type { IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { FashionDB } from './schema';

/** The versionchange transaction an upgrade runs in. */
export type UpgradeTransaction = IDBPTransaction<FashionDB, StoreNames<FashionDB>[], 'versionchange'>;

/**
 * Upgrades the database by exactly one version. Runs synchronously inside the versionchange
 * transaction: it may create/delete stores and indexes and issue requests on `tx` (e.g. a cursor
 * backfill), but must not await anything else, or the transaction commits underneath it.
 */
export type Migration = (db: IDBPDatabase<FashionDB>, tx: UpgradeTransaction) => void;

/** v1: the base stores. */
const v1: Migration = (db) => {
  db.createObjectStore('meta', { keyPath: 'key' });

  const items = db.createObjectStore('items', { keyPath: 'id' });
  items.createIndex('byCategory', 'masterCategory');

  db.createObjectStore('embeddings', { keyPath: ['modelVersion', 'itemId'] });
  db.createObjectStore('blobs', { keyPath: 'sha256' });

  const interactions = db.createObjectStore('interactions', { keyPath: 'id', autoIncrement: true });
  interactions.createIndex('byTime', 'at');
  interactions.createIndex('byItem', 'itemId');

  db.createObjectStore('experiments', { keyPath: 'id' });
  db.createObjectStore('metrics', { keyPath: 'id', autoIncrement: true });
};

/**
 * v2: indexes the recommender filters by. `byType` lets training read only strong signals
 * (purchases, add-to-cart) without scanning every view; `byArticleType` serves "more like this"
 * candidate generation. Both fields are required since v1, so creating the indexes indexes every
 * existing row and no backfill is needed.
 */
const v2: Migration = (_db, tx) => {
  tx.objectStore('interactions').createIndex('byType', 'type');
  tx.objectStore('items').createIndex('byArticleType', 'articleType');
};

/**
 * v3: what sync needs. `downloads`: the chunks of blobs still being downloaded, so a sync cut off
 * mid-blob resumes with a Range request instead of starting over. `catalog`: the active catalog
 * in chunks of items (see `CatalogChunkRecord` for why not one record per item). New stores:
 * nothing to backfill (sync fills `catalog` on its next run).
 */
const v3: Migration = (db) => {
  db.createObjectStore('downloads', { keyPath: ['sha256', 'offset'] });
  db.createObjectStore('catalog', { keyPath: ['catalogVersion', 'chunk'] });
};

/** `MIGRATIONS[n - 1]` upgrades version n - 1 to version n. Append only; never edit a shipped one. */
export const MIGRATIONS: readonly Migration[] = [v1, v2, v3];

/** The latest schema version, the one `openFashionStore` opens by default. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Runs, in order, every migration that takes the database from `oldVersion` to `newVersion`
 * (i.e. versions `oldVersion + 1 … newVersion`). Called from `openDB`'s `upgrade` callback.
 * Throws `RangeError` if a version in that span has no migration.
 */
export function applyMigrations(
  db: IDBPDatabase<FashionDB>,
  tx: UpgradeTransaction,
  oldVersion: number,
  newVersion: number,
  migrations: readonly Migration[] = MIGRATIONS,
): void {
  for (let version = oldVersion + 1; version <= newVersion; version++) {
    const migrate = migrations[version - 1];
    if (!migrate) throw new RangeError(`No migration to schema version ${version}`);
    migrate(db, tx);
  }
}
