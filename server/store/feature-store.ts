import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { CatalogItem, InteractionEvent, QuarantinedRow } from '../ingest/types';

/**
 * The feature store: one SQLite file holding immutable catalog snapshots (with the delta between
 * any two), item embeddings per model version, interactions and quarantined rows. Every ingest is
 * one transaction, so a crash mid-ingest leaves the last good version as it was.
 *
 * Item rows are stored once per distinct content (`item_rows`, keyed by the hash of the row) and a
 * version is the set of (item id → row hash) pairs, so unchanged items cost nothing per version
 * and a delta is a join on hashes.
 */

const SCHEMA = `
CREATE TABLE IF NOT EXISTS catalog_versions (
  version       INTEGER PRIMARY KEY,
  created_at    TEXT    NOT NULL,
  content_hash  TEXT    NOT NULL,
  item_count    INTEGER NOT NULL,
  source        TEXT    NOT NULL,
  parent        INTEGER REFERENCES catalog_versions(version),
  rows_read     INTEGER NOT NULL,
  rows_quarantined INTEGER NOT NULL,
  report_json   TEXT
);
CREATE TABLE IF NOT EXISTS item_rows (
  row_hash TEXT PRIMARY KEY,
  data     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS version_items (
  version  INTEGER NOT NULL REFERENCES catalog_versions(version),
  item_id  TEXT    NOT NULL,
  row_hash TEXT    NOT NULL REFERENCES item_rows(row_hash),
  PRIMARY KEY (version, item_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS quarantine (
  id       INTEGER PRIMARY KEY,
  batch    TEXT    NOT NULL,
  file     TEXT    NOT NULL,
  line     INTEGER NOT NULL,
  field    TEXT,
  reason   TEXT    NOT NULL,
  message  TEXT    NOT NULL,
  raw      TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS quarantine_by_batch ON quarantine(batch, reason);
CREATE TABLE IF NOT EXISTS embeddings (
  model_version TEXT NOT NULL,
  item_id       TEXT NOT NULL,
  vector        BLOB NOT NULL,
  PRIMARY KEY (model_version, item_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS interactions (
  id        INTEGER PRIMARY KEY,
  user_id   TEXT    NOT NULL,
  item_id   TEXT    NOT NULL,
  type      TEXT    NOT NULL,
  ts        INTEGER NOT NULL,
  weight    REAL,
  batch     TEXT    NOT NULL,
  price     REAL
);
CREATE INDEX IF NOT EXISTS interactions_by_user ON interactions(user_id, ts);
CREATE INDEX IF NOT EXISTS interactions_by_item ON interactions(item_id);
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

/**
 * Bumped when SCHEMA changes in a way that needs a migration (see `MIGRATIONS`).
 * 2: `interactions.price`.
 */
export const FEATURE_STORE_SCHEMA_VERSION = 2;

/**
 * What brings a file written at schema version `from` up to `from + 1`. SCHEMA creates missing
 * tables in their newest form, so a step only changes tables an older file already has, and checks
 * first (a file created by SCHEMA at this version needs nothing).
 */
const MIGRATIONS: Record<number, (db: Database.Database) => void> = {
  1: (db) => {
    const columns = db.prepare('PRAGMA table_info(interactions)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'price')) db.exec('ALTER TABLE interactions ADD COLUMN price REAL');
  },
};

export interface CatalogVersionInfo {
  version: number;
  createdAt: string;
  contentHash: string;
  itemCount: number;
  source: string;
  parent: number | null;
  rowsRead: number;
  rowsQuarantined: number;
}

export interface NewCatalogVersion {
  items: CatalogItem[];
  source: string;
  rowsRead: number;
  quarantined: QuarantinedRow[];
  /** The data-quality report, stored with the version (JSON-serialisable). */
  report?: unknown;
  /** Called after every `progressEvery` rows written. */
  onProgress?: (written: number, total: number) => void;
  /**
   * Interactions that came with this catalog, written in the same transaction (batch
   * `interactions:catalog-<version>`), so a crash never leaves the version without its events.
   */
  interactions?: { events: InteractionEvent[]; quarantined: QuarantinedRow[] };
}

export interface CatalogDelta {
  from: number;
  to: number;
  added: CatalogItem[];
  changed: CatalogItem[];
  removed: string[];
}

type Row = Record<string, unknown>;

/** Hash of an item's content, independent of property order. */
export function itemRowHash(item: CatalogItem): string {
  return createHash('sha256').update(canonicalJson(item)).digest('hex');
}

/** JSON with object keys sorted, so equal content gives equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export class FeatureStore {
  readonly db: Database.Database;

  private constructor(readonly file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    // WAL: readers (the server) never block the writer (an ingest), and a crash rolls back cleanly.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    try {
      this.db.exec(SCHEMA);
      this.migrate();
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  /** Brings an older file up to FEATURE_STORE_SCHEMA_VERSION in one transaction; refuses a newer one. */
  private migrate(): void {
    const stored = (): number | undefined => {
      const row = this.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
      if (row === undefined) return undefined;
      const version = Number(row.value);
      if (!Number.isInteger(version) || version < 1) {
        throw new Error(`${this.file}: unreadable feature store schema version ${JSON.stringify(row.value)} in table meta`);
      }
      return version;
    };
    // Read first: a current file (the usual case) needs no write lock, so opening never waits on an ingest.
    if (stored() === FEATURE_STORE_SCHEMA_VERSION) return;
    this.db.transaction(() => {
      // No key: SCHEMA has just created the file, at the current version.
      let version = stored() ?? FEATURE_STORE_SCHEMA_VERSION;
      if (version > FEATURE_STORE_SCHEMA_VERSION) {
        throw new Error(
          `${this.file}: feature store schema version ${version} is newer than this code's (${FEATURE_STORE_SCHEMA_VERSION}); update FashionML`,
        );
      }
      for (; version < FEATURE_STORE_SCHEMA_VERSION; version++) MIGRATIONS[version]?.(this.db);
      this.db
        .prepare("INSERT INTO meta(key, value) VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
        .run(String(version));
    }).immediate();
  }

  /** The schema version of the open file (FEATURE_STORE_SCHEMA_VERSION once opened). */
  schemaVersion(): number {
    return Number((this.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value);
  }

  static open(file: string): FeatureStore {
    return new FeatureStore(file);
  }

  close(): void {
    this.db.close();
  }

  /**
   * Writes a new immutable catalog version in one transaction and returns it. Nothing is visible
   * to readers until the transaction commits; an error or a crash leaves the store as it was.
   */
  addCatalogVersion(input: NewCatalogVersion): CatalogVersionInfo {
    const insertRow = this.db.prepare('INSERT INTO item_rows(row_hash, data) VALUES (?, ?) ON CONFLICT(row_hash) DO NOTHING');
    const insertMember = this.db.prepare('INSERT INTO version_items(version, item_id, row_hash) VALUES (?, ?, ?)');
    const insertQuarantine = this.db.prepare(
      'INSERT INTO quarantine(batch, file, line, field, reason, message, raw) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const write = this.db.transaction((): CatalogVersionInfo => {
      const parent = this.latestVersion();
      const version = (parent?.version ?? 0) + 1;
      const hashes: [string, string][] = [];
      for (const item of input.items) hashes.push([item.id, itemRowHash(item)]);
      hashes.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const contentHash = createHash('sha256')
        .update(hashes.map(([id, hash]) => `${id}\t${hash}`).join('\n'))
        .digest('hex');
      const info: CatalogVersionInfo = {
        version,
        createdAt: new Date().toISOString(),
        contentHash,
        itemCount: input.items.length,
        source: input.source,
        parent: parent?.version ?? null,
        rowsRead: input.rowsRead,
        rowsQuarantined: input.quarantined.length,
      };
      this.db
        .prepare(
          `INSERT INTO catalog_versions(version, created_at, content_hash, item_count, source, parent, rows_read, rows_quarantined, report_json)
           VALUES (@version, @createdAt, @contentHash, @itemCount, @source, @parent, @rowsRead, @rowsQuarantined, @report)`,
        )
        .run({ ...info, report: input.report === undefined ? null : JSON.stringify(input.report) });
      const byId = new Map(hashes);
      let written = 0;
      for (const item of input.items) {
        const hash = byId.get(item.id) as string;
        insertRow.run(hash, canonicalJson(item));
        insertMember.run(version, item.id, hash);
        if (++written % 2000 === 0) input.onProgress?.(written, input.items.length);
      }
      input.onProgress?.(written, input.items.length);
      for (const q of input.quarantined) {
        insertQuarantine.run(`catalog:${version}`, q.file, q.line, q.field ?? null, q.reason, q.message, q.raw);
      }
      if (input.interactions) {
        this.addInteractions(`interactions:catalog-${version}`, input.interactions.events, input.interactions.quarantined);
      }
      return info;
    });
    return write.immediate();
  }

  latestVersion(): CatalogVersionInfo | undefined {
    const row = this.db.prepare('SELECT * FROM catalog_versions ORDER BY version DESC LIMIT 1').get() as Row | undefined;
    return row && toVersionInfo(row);
  }

  versions(): CatalogVersionInfo[] {
    return (this.db.prepare('SELECT * FROM catalog_versions ORDER BY version').all() as Row[]).map(toVersionInfo);
  }

  version(version: number): CatalogVersionInfo | undefined {
    const row = this.db.prepare('SELECT * FROM catalog_versions WHERE version = ?').get(version) as Row | undefined;
    return row && toVersionInfo(row);
  }

  /** The quality report stored with a version, if any. */
  report(version: number): unknown {
    const row = this.db.prepare('SELECT report_json FROM catalog_versions WHERE version = ?').get(version) as
      | { report_json: string | null }
      | undefined;
    return row?.report_json ? (JSON.parse(row.report_json) as unknown) : undefined;
  }

  /** Every item of a version, ordered by id. */
  items(version: number): CatalogItem[] {
    this.requireVersion(version);
    const rows = this.db
      .prepare(
        `SELECT r.data FROM version_items v JOIN item_rows r ON r.row_hash = v.row_hash
         WHERE v.version = ? ORDER BY v.item_id`,
      )
      .all(version) as { data: string }[];
    return rows.map((r) => JSON.parse(r.data) as CatalogItem);
  }

  /** What changed from version `from` to version `to`. */
  delta(from: number, to: number): CatalogDelta {
    this.requireVersion(from);
    this.requireVersion(to);
    const rowsOf = (sql: string, ...params: unknown[]) =>
      (this.db.prepare(sql).all(...params) as { data: string }[]).map((r) => JSON.parse(r.data) as CatalogItem);
    const added = rowsOf(
      `SELECT r.data FROM version_items b JOIN item_rows r ON r.row_hash = b.row_hash
       WHERE b.version = ? AND NOT EXISTS (SELECT 1 FROM version_items a WHERE a.version = ? AND a.item_id = b.item_id)
       ORDER BY b.item_id`,
      to,
      from,
    );
    const changed = rowsOf(
      `SELECT r.data FROM version_items b JOIN version_items a ON a.item_id = b.item_id AND a.version = ?
       JOIN item_rows r ON r.row_hash = b.row_hash
       WHERE b.version = ? AND a.row_hash <> b.row_hash ORDER BY b.item_id`,
      from,
      to,
    );
    const removed = (
      this.db
        .prepare(
          `SELECT a.item_id FROM version_items a WHERE a.version = ?
           AND NOT EXISTS (SELECT 1 FROM version_items b WHERE b.version = ? AND b.item_id = a.item_id) ORDER BY a.item_id`,
        )
        .all(from, to) as { item_id: string }[]
    ).map((r) => r.item_id);
    return { from, to, added, changed, removed };
  }

  quarantined(batch: string): QuarantinedRow[] {
    return (
      this.db.prepare('SELECT * FROM quarantine WHERE batch = ? ORDER BY file, line').all(batch) as Row[]
    ).map((r) => ({
      file: r.file as string,
      line: r.line as number,
      ...(r.field === null ? {} : { field: r.field as string }),
      reason: r.reason as string,
      message: r.message as string,
      raw: r.raw as string,
    }));
  }

  /**
   * Appends interactions (and their quarantined rows) as one batch, in one transaction (a savepoint
   * when called inside another, as {@link addCatalogVersion} does).
   */
  addInteractions(batch: string, events: InteractionEvent[], quarantined: QuarantinedRow[] = []): void {
    const insert = this.db.prepare('INSERT INTO interactions(user_id, item_id, type, ts, weight, price, batch) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const insertQuarantine = this.db.prepare(
      'INSERT INTO quarantine(batch, file, line, field, reason, message, raw) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      for (const e of events) insert.run(e.userId, e.itemId, e.type, e.timestamp, e.weight ?? null, e.price ?? null, batch);
      for (const q of quarantined) insertQuarantine.run(batch, q.file, q.line, q.field ?? null, q.reason, q.message, q.raw);
    }).immediate();
  }

  interactions(): InteractionEvent[] {
    return (this.db.prepare('SELECT * FROM interactions ORDER BY ts, id').all() as Row[]).map((r) => ({
      userId: r.user_id as string,
      itemId: r.item_id as string,
      type: r.type as InteractionEvent['type'],
      timestamp: r.ts as number,
      ...(r.weight === null ? {} : { weight: r.weight as number }),
      ...(r.price === null ? {} : { price: r.price as number }),
    }));
  }

  interactionCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM interactions').get() as { n: number }).n;
  }

  /** Stores item vectors of one model version (replacing earlier ones), in one transaction. */
  putEmbeddings(modelVersion: string, vectors: ReadonlyMap<string, Float32Array>): void {
    const insert = this.db.prepare(
      'INSERT INTO embeddings(model_version, item_id, vector) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET vector = excluded.vector',
    );
    this.db.transaction(() => {
      for (const [itemId, vector] of vectors) {
        insert.run(modelVersion, itemId, Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength));
      }
    }).immediate();
  }

  embeddings(modelVersion: string): Map<string, Float32Array> {
    const rows = this.db
      .prepare('SELECT item_id, vector FROM embeddings WHERE model_version = ? ORDER BY item_id')
      .all(modelVersion) as { item_id: string; vector: Buffer }[];
    return new Map(
      rows.map((r) => [r.item_id, new Float32Array(r.vector.buffer.slice(r.vector.byteOffset, r.vector.byteOffset + r.vector.byteLength))]),
    );
  }

  private requireVersion(version: number): void {
    if (!this.version(version)) {
      const known = this.versions().map((v) => v.version);
      throw new Error(`No catalog version ${version} (known: ${known.length > 0 ? known.join(', ') : 'none'})`);
    }
  }
}

function toVersionInfo(row: Row): CatalogVersionInfo {
  return {
    version: row.version as number,
    createdAt: row.created_at as string,
    contentHash: row.content_hash as string,
    itemCount: row.item_count as number,
    source: row.source as string,
    parent: (row.parent as number | null) ?? null,
    rowsRead: row.rows_read as number,
    rowsQuarantined: row.rows_quarantined as number,
  };
}
