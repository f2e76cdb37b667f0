/**
 * Batch recommendations (`fashionml recommend`): the champion `fashion-ranker`'s top k for every
 * shopper in the feature store (or every one listed in a users file), written as `user,item,rank`
 * CSV for e-mails and outside evaluation.
 *
 * The ranking is the device's: the champion pack's files read from the registry (each checked
 * against its sha256) and decoded as the workers decode them (models/recommend/model-files.ts),
 * with the catalog rows of the version the pack was trained on, in one `RecommenderEngine` on the
 * plain-JS scorer; each shopper's request is `batchFeedRequest` (models/recommend/batch.ts), the
 * one definition the real-shop evaluation scores.
 *
 * Memory stays bounded: shoppers are streamed in id order from SQLite (the interactions index on
 * (user_id, ts) gives that order without sorting), one history at a time, and rows are written
 * as they are made. The CSV goes to a temporary file beside `out`, renamed over it at the end, so
 * a failed or interrupted run never leaves a half-written file in its place.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CsvError, parse } from 'csv-parse/sync';
import type { InteractionType } from '../../models/catalog/item';
import { batchFeedRequest } from '../../models/recommend/batch';
import { RecommenderEngine } from '../../models/recommend/engine';
import { rankerPackParts } from '../../models/recommend/model-files';
import { RANKER_META_FILE } from '../../models/recommend/pack';
import type { RankerPackMeta } from '../../models/recommend/pack';
import { jsScorer } from '../../models/recommend/scorer';
import type { HistoryEvent } from '../../models/recommend/types';
import type { ProgressReporter } from '../ingest/ingest-catalog';
import { championOf } from '../pipeline/pipeline';
import type { Registry } from '../registry/registry';
import type { FeatureStore } from '../store/feature-store';

/** The engine's own limit on k. */
export const MAX_BATCH_K = 500;
export const DEFAULT_BATCH_K = 12;
const RANKER_ID = 'fashion-ranker';

export interface ChampionEngine {
  engine: RecommenderEngine;
  /** `fashion-ranker@N`. */
  ranker: string;
  /** The catalog version the pack was trained on, whose rows the engine holds. */
  catalogVersion: number;
  items: number;
}

/**
 * The champion ranker as the device runs it. The response cache is one entry: every shopper's
 * request differs, so a bigger cache would only cost memory and cloning.
 */
export function loadChampionEngine(registry: Registry, store: FeatureStore): ChampionEngine {
  const champion = championOf(registry.manifest());
  if (!champion) throw new Error(`No champion ${RANKER_ID} in ${registry.manifestPath}: train one first (fashionml pipeline, or fashionml start)`);
  const ref = `${champion.id}@${champion.version}`;
  if (champion.kind !== RANKER_ID) throw new Error(`The champion alias names ${ref} of kind "${champion.kind}", not a ${RANKER_ID}`);
  const files: Record<string, ArrayBuffer> = {};
  for (const file of champion.files) {
    let bytes: Buffer;
    try {
      bytes = registry.blobs.read(file.sha256);
    } catch (error) {
      throw new Error(`${ref}: cannot read ${file.name} (blob ${file.sha256}): ${(error as Error).message}`);
    }
    if (createHash('sha256').update(bytes).digest('hex') !== file.sha256) throw new Error(`${ref}: ${file.name} does not match its sha256 ${file.sha256} (corrupt blob)`);
    files[file.name] = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }
  const metaBytes = files[RANKER_META_FILE];
  if (!metaBytes) throw new Error(`${ref} has no ${RANKER_META_FILE}`);
  let version: unknown;
  try {
    version = (JSON.parse(new TextDecoder().decode(metaBytes)) as Partial<RankerPackMeta>).catalog?.version;
  } catch (error) {
    throw new Error(`${ref}: ${RANKER_META_FILE} is not valid JSON (${(error as Error).message})`);
  }
  if (typeof version !== 'number' || !Number.isInteger(version)) throw new Error(`${ref}: ${RANKER_META_FILE} names no catalog version`);
  if (!store.version(version)) throw new Error(`${ref} was trained on catalog version ${version}, which is not in the feature store ${store.file}`);
  const items = store.items(version);
  const { parts } = rankerPackParts({ ref, files }, items, version);
  const engine = new RecommenderEngine({ ...parts, scorer: jsScorer() }, { candidates: 100, cacheSize: 1 });
  // The fold-in gram once, up front, so the first shopper's time is not the catalog's.
  engine.warmUp();
  return { engine, ranker: ref, catalogVersion: version, items: items.length };
}

/** The users a users file lists (column `user`), in file order, repeats dropped; errors name the file and line. */
export function readUsersFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${path}: cannot read the users file (${(error as Error).message})`);
  }
  if (text.replace(/^\uFEFF/, '').trim() === '') throw new Error(`${path}: line 1: the users file is empty (expected a header with a "user" column)`);
  const header = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0]!.split(',').map((c) => c.trim().toLowerCase());
  if (!header.includes('user')) throw new Error(`${path}: line 1: missing column "user" (header: ${header.join(',')})`);
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, trim: true, bom: true, info: true }) as typeof records;
  } catch (error) {
    if (error instanceof CsvError) throw new Error(`${path}: line ${(error as CsvError & { lines?: number }).lines ?? '?'}: ${error.message}`);
    throw error;
  }
  const seen = new Set<string>();
  const users: string[] = [];
  for (const { record, info } of records) {
    const user = record.user ?? '';
    if (user === '') throw new Error(`${path}: line ${info.lines}: empty "user"`);
    if (seen.has(user)) continue;
    seen.add(user);
    users.push(user);
  }
  return users;
}

/** `--as-of`: an ISO 8601 date or date-time (a date alone is 00:00 UTC), as epoch milliseconds. */
export function parseAsOf(value: string): number {
  const t = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim()) ? Date.parse(value.trim()) : NaN;
  if (!Number.isFinite(t)) throw new Error(`must be an ISO 8601 date or date-time such as 2024-03-01 or 2024-03-01T12:00:00Z, not ${JSON.stringify(value)}`);
  return t;
}

export function checkBatchK(k: number): void {
  if (!Number.isInteger(k) || k < 1 || k > MAX_BATCH_K) throw new Error(`k must be an integer from 1 to ${MAX_BATCH_K}, got ${String(k)}`);
}

export interface BatchRecommendOptions {
  store: FeatureStore;
  registry: Registry;
  /** Where the CSV goes (replaced only when the run succeeds). */
  out: string;
  /** Recommendations per user, 1 to {@link MAX_BATCH_K} (default {@link DEFAULT_BATCH_K}). */
  k?: number;
  /** A CSV with a `user` column; without it, every user with stored interactions. */
  usersFile?: string;
  /** Epoch milliseconds: only events at or before it count, and it is every request's `now`. */
  asOf?: number;
  progress?: ProgressReporter;
  /** The benchmark's baseline: every user gets the empty-history (new-shopper) feed. */
  ignoreHistory?: boolean;
  /** Called after each user with the milliseconds spent on them (history read, engine, rows written). */
  onUser?: (user: string, ms: number) => void;
}

export interface BatchRecommendResult {
  out: string;
  ranker: string;
  catalogVersion: number;
  items: number;
  k: number;
  users: number;
  rows: number;
  /** Users whose feed was personal, and those who got the new-shopper feed (no usable history). */
  personal: number;
  popular: number;
  /** Users from the users file with no stored interactions at all. */
  unknownUsers: number;
  /** Seconds loading the model, and recommending and writing. */
  loadSeconds: number;
  recommendSeconds: number;
}

interface UserHistory {
  user: string;
  /** Events at or before as-of, oldest first. */
  history: HistoryEvent[];
  /** False when the store has no event of this user at all. */
  known: boolean;
}

type RawRow = [user: string, item: string, type: string, ts: number];

/** Every user with stored interactions, in id order, each with their events up to `asOf`. */
function* storeUsers(store: FeatureStore, asOf: number): Generator<UserHistory> {
  // ORDER BY matches the (user_id, ts) index (rowid = id breaks ties), so SQLite streams it without a sort.
  const rows = store.db.prepare('SELECT user_id, item_id, type, ts FROM interactions ORDER BY user_id, ts, id').raw(true).iterate() as IterableIterator<RawRow>;
  let current: UserHistory | undefined;
  for (const [user, item, type, ts] of rows) {
    if (current?.user !== user) {
      if (current) yield current;
      current = { user, history: [], known: true };
    }
    if (ts <= asOf) current.history.push({ itemId: item, type: type as InteractionType, at: ts });
  }
  if (current) yield current;
}

/** The listed users, in list order, each with their events up to `asOf`. */
function* listedUsers(store: FeatureStore, users: readonly string[], asOf: number): Generator<UserHistory> {
  const events = store.db.prepare('SELECT item_id, type, ts FROM interactions WHERE user_id = ? AND ts <= ? ORDER BY ts, id').raw(true);
  const any = store.db.prepare('SELECT 1 FROM interactions WHERE user_id = ? LIMIT 1').pluck(true);
  for (const user of users) {
    const rows = events.all(user, asOf) as [string, string, number][];
    const history = rows.map(([item, type, ts]): HistoryEvent => ({ itemId: item, type: type as InteractionType, at: ts }));
    yield { user, history, known: history.length > 0 || any.get(user) !== undefined };
  }
}

/** RFC 4180 quoting, only where a value needs it. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Appends text to a file descriptor in large writes. */
class BufferedWriter {
  private chunk = '';
  constructor(private readonly fd: number) {}
  write(text: string): void {
    this.chunk += text;
    if (this.chunk.length >= 1 << 16) this.flush();
  }
  flush(): void {
    if (this.chunk === '') return;
    writeSync(this.fd, this.chunk);
    this.chunk = '';
  }
}

const silent: ProgressReporter = { start: () => ({ update: () => undefined, stop: () => undefined }), log: () => undefined };

/** Writes the champion's top k for every user; see the module comment. */
export async function batchRecommend(options: BatchRecommendOptions): Promise<BatchRecommendResult> {
  const { store, registry } = options;
  const k = options.k ?? DEFAULT_BATCH_K;
  checkBatchK(k);
  if (options.asOf !== undefined && !Number.isFinite(options.asOf)) throw new Error(`as-of must be epoch milliseconds, got ${String(options.asOf)}`);
  const out = resolve(options.out);
  if (existsSync(out) && statSync(out).isDirectory()) throw new Error(`--out ${out} is a directory, not a file`);
  if (!existsSync(dirname(out))) throw new Error(`--out ${out}: the folder ${dirname(out)} does not exist`);
  const progress = options.progress ?? silent;
  // The users file is checked before the model loads, so a bad file fails fast.
  const listed = options.usersFile === undefined ? undefined : readUsersFile(options.usersFile);

  const t0 = performance.now();
  const model = loadChampionEngine(registry, store);
  const loadSeconds = (performance.now() - t0) / 1000;
  const cutoff = options.asOf ?? Number.MAX_SAFE_INTEGER;
  const newest = (store.db.prepare('SELECT max(ts) FROM interactions').pluck(true).get() as number | null) ?? Date.now();
  const total = listed ? listed.length : (store.db.prepare('SELECT count(DISTINCT user_id) FROM interactions').pluck(true).get() as number);
  const source = listed ? listedUsers(store, listed, cutoff) : storeUsers(store, cutoff);

  const temp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
  const fd = openSync(temp, 'w');
  let open = true;
  const discard = () => {
    if (open) closeSync(fd);
    open = false;
    rmSync(temp, { force: true });
  };
  // An interrupted run removes its temporary file instead of leaving it beside `out`.
  const onSignal = (signal: NodeJS.Signals) => {
    discard();
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const result: BatchRecommendResult = {
    out,
    ranker: model.ranker,
    catalogVersion: model.catalogVersion,
    items: model.items,
    k,
    users: 0,
    rows: 0,
    personal: 0,
    popular: 0,
    unknownUsers: 0,
    loadSeconds,
    recommendSeconds: 0,
  };
  const bar = progress.start('recommend', total);
  const t1 = performance.now();
  try {
    const writer = new BufferedWriter(fd);
    writer.write('user,item,rank\n');
    let lastYield = performance.now();
    for (const { user, history, known } of source) {
      const started = options.onUser ? performance.now() : 0;
      const events = options.ignoreHistory ? [] : history;
      const now = options.asOf ?? events.at(-1)?.at ?? newest;
      const response = await model.engine.feed(batchFeedRequest(events, now, k));
      const field = csvField(user);
      let rows = '';
      for (let r = 0; r < response.items.length; r++) rows += `${field},${csvField(response.items[r]!.itemId)},${r + 1}\n`;
      writer.write(rows);
      result.rows += response.items.length;
      result.users++;
      if (response.mode === 'personal') result.personal++;
      else result.popular++;
      if (!known) result.unknownUsers++;
      options.onUser?.(user, performance.now() - started);
      if ((result.users & 63) === 0) {
        bar.update(result.users);
        // The engine's promises settle at once: give timers (the progress bar, signals) a turn now and then.
        if (performance.now() - lastYield > 50) {
          await new Promise((done) => setImmediate(done));
          lastYield = performance.now();
        }
      }
    }
    writer.flush();
    fsyncSync(fd);
    closeSync(fd);
    open = false;
    renameSync(temp, out);
  } catch (error) {
    discard();
    throw error;
  } finally {
    bar.update(result.users);
    bar.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    model.engine.dispose();
  }
  result.recommendSeconds = (performance.now() - t1) / 1000;
  return result;
}
