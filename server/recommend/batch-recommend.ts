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
 * (user_id, ts) gives that order without sorting) in chunks of a few hundred, each chunk's
 * histories read with one range query, and rows are written as chunks finish, strictly in order.
 * Chunks go round-robin to worker threads (batch-recommend.worker.ts), each with its own engine
 * and read connection, since the engine's arithmetic is all per shopper; small runs stay in this
 * thread. The CSV goes to a temporary file beside `out`, renamed over it at the end, so a failed
 * or interrupted run never leaves a half-written file in its place.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
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
import type { ModelVersion, Registry } from '../registry/registry';
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

/** The model version the `champion` alias names, checked to be a ranker pack. */
export function championRanker(registry: Registry): ModelVersion {
  const champion = championOf(registry.manifest());
  if (!champion) throw new Error(`No champion ${RANKER_ID} in ${registry.manifestPath}: train one first (fashionml pipeline, or fashionml start)`);
  if (champion.kind !== RANKER_ID) throw new Error(`The champion alias names ${champion.id}@${champion.version} of kind "${champion.kind}", not a ${RANKER_ID}`);
  return champion;
}

/**
 * A ranker version as the device runs it (default: the champion). The response cache is one
 * entry: every shopper's request differs, so a bigger cache would only cost memory and cloning.
 */
export function loadRankerEngine(registry: Registry, store: FeatureStore, ranker: ModelVersion = championRanker(registry)): ChampionEngine {
  const ref = `${ranker.id}@${ranker.version}`;
  const files: Record<string, ArrayBuffer> = {};
  for (const file of ranker.files) {
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
  const engine = new RecommenderEngine({ ...parts, scorer: jsScorer() }, { candidates: 100, cacheSize: 0 });
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
  /**
   * Worker threads that rank (each with its own engine); 1 ranks in this thread. Default: the
   * machine's cores for {@link PARALLEL_MIN_USERS} users or more (below that, starting workers
   * costs more than it saves), else 1.
   */
  threads?: number;
  progress?: ProgressReporter;
  /** The benchmark's baseline: every user gets the empty-history (new-shopper) feed. */
  ignoreHistory?: boolean;
  /** Called after each user, in output order, with the milliseconds spent on them (see {@link ChunkResult.times}). */
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
  threads: number;
  /** Seconds loading the model, and recommending and writing. */
  loadSeconds: number;
  recommendSeconds: number;
}

/** Users per unit of work: large enough that messages and queries cost little per user, small enough to balance threads. */
const CHUNK_USERS = 256;
export const PARALLEL_MIN_USERS = 4000;

/** One unit of work: users in output order. */
export interface RecommendChunk {
  seq: number;
  users: string[];
  /** True when `users` is a run of the store's users in its id order: one range query reads them all. */
  fromStore: boolean;
}

export interface ChunkSetup {
  k: number;
  asOf?: number;
  /** The request time of a user without events and without as-of: the newest event in the store. */
  newest: number;
  ignoreHistory: boolean;
  timings: boolean;
}

export interface ChunkResult {
  seq: number;
  /** The chunk's CSV rows. */
  csv: string;
  rows: number;
  personal: number;
  popular: number;
  unknown: number;
  /**
   * Per user (with `timings`), milliseconds: the engine's feed and the user's rows, plus an equal
   * share of the chunk's history query.
   */
  times?: number[];
}

type RawRow = [user: string, item: string, type: string, ts: number];

/** Ranks chunks of users with one engine over one feature-store connection (in this thread or a worker). */
export class ChunkRecommender {
  private readonly range;
  private readonly events;
  private readonly any;
  private readonly cutoff: number;

  constructor(
    private readonly engine: RecommenderEngine,
    store: FeatureStore,
    private readonly setup: ChunkSetup,
  ) {
    this.cutoff = setup.asOf ?? Number.MAX_SAFE_INTEGER;
    // Both orders follow the (user_id, ts) index (rowid = id breaks ties), so SQLite reads without sorting.
    this.range = store.db.prepare('SELECT user_id, item_id, type, ts FROM interactions WHERE user_id >= ? AND user_id <= ? AND ts <= ? ORDER BY user_id, ts, id').raw(true);
    this.events = store.db.prepare('SELECT item_id, type, ts FROM interactions WHERE user_id = ? AND ts <= ? ORDER BY ts, id').raw(true);
    this.any = store.db.prepare('SELECT 1 FROM interactions WHERE user_id = ? LIMIT 1').pluck(true);
  }

  private histories(chunk: RecommendChunk): Map<string, HistoryEvent[]> {
    const out = new Map<string, HistoryEvent[]>();
    if (this.setup.ignoreHistory) return out;
    if (chunk.fromStore) {
      for (const [user, item, type, ts] of this.range.all(chunk.users[0], chunk.users.at(-1), this.cutoff) as RawRow[]) {
        let list = out.get(user);
        if (list === undefined) out.set(user, (list = []));
        list.push({ itemId: item, type: type as InteractionType, at: ts });
      }
    } else {
      for (const user of chunk.users) {
        const rows = this.events.all(user, this.cutoff) as [string, string, number][];
        if (rows.length > 0) out.set(user, rows.map(([item, type, ts]) => ({ itemId: item, type: type as InteractionType, at: ts })));
      }
    }
    return out;
  }

  async run(chunk: RecommendChunk): Promise<ChunkResult> {
    const { k, asOf, newest, timings } = this.setup;
    const t0 = performance.now();
    const histories = this.histories(chunk);
    const share = (performance.now() - t0) / chunk.users.length;
    const result: ChunkResult = { seq: chunk.seq, csv: '', rows: 0, personal: 0, popular: 0, unknown: 0, ...(timings ? { times: [] } : {}) };
    let csv = '';
    for (const user of chunk.users) {
      const started = timings ? performance.now() : 0;
      const history = histories.get(user) ?? [];
      const now = asOf ?? history.at(-1)?.at ?? newest;
      const response = await this.engine.feed(batchFeedRequest(history, now, k));
      const field = csvField(user);
      const items = response.items;
      for (let r = 0; r < items.length; r++) csv += `${field},${csvField(items[r]!.itemId)},${r + 1}\n`;
      result.rows += items.length;
      if (response.mode === 'personal') result.personal++;
      else result.popular++;
      // Store users are known by construction; a listed user without any event is unknown.
      if (!chunk.fromStore && history.length === 0 && this.any.get(user) === undefined) result.unknown++;
      result.times?.push(performance.now() - started + share);
    }
    result.csv = csv;
    return result;
  }
}

/** RFC 4180 quoting, only where a value needs it. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The chunks of a run, in output order. */
function* chunksOf(store: FeatureStore, listed: readonly string[] | undefined): Generator<RecommendChunk> {
  let seq = 0;
  if (listed) {
    for (let i = 0; i < listed.length; i += CHUNK_USERS) yield { seq: seq++, users: listed.slice(i, i + CHUNK_USERS), fromStore: false };
    return;
  }
  // An index-only scan: the user ids stream in id order without reading any event.
  const ids = store.db.prepare('SELECT DISTINCT user_id FROM interactions ORDER BY user_id').pluck(true).iterate() as IterableIterator<string>;
  let users: string[] = [];
  for (const id of ids) {
    users.push(id);
    if (users.length === CHUNK_USERS) {
      yield { seq: seq++, users, fromStore: true };
      users = [];
    }
  }
  if (users.length > 0) yield { seq: seq++, users, fromStore: true };
}

/** Something that ranks chunks: a {@link ChunkRecommender} here, or one in a worker thread. */
interface ChunkRunner {
  run(chunk: RecommendChunk): Promise<ChunkResult>;
  close(): Promise<void>;
}

export interface WorkerInit {
  featureStore: string;
  registry: string;
  ranker: ModelVersion;
  setup: ChunkSetup;
}

export type EngineSummary = Omit<ChampionEngine, 'engine'>;

export type WorkerReply = { type: 'ready'; info: EngineSummary } | { type: 'result'; result: ChunkResult } | { type: 'error'; message: string };

/** A {@link ChunkRecommender} in a worker thread (batch-recommend.worker.ts); replies come in request order. */
class WorkerRunner implements ChunkRunner {
  private readonly worker: Worker;
  private readonly waiting: { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void }[] = [];
  private failure: Error | undefined;

  constructor(init: WorkerInit) {
    this.worker = new Worker(new URL('./batch-recommend.worker.mjs', import.meta.url), { workerData: init });
    this.worker.on('message', (reply: WorkerReply) => {
      const next = this.waiting.shift();
      if (reply.type === 'error') this.fail(new Error(reply.message), next);
      else next?.resolve(reply);
    });
    this.worker.on('error', (error) => this.fail(error, this.waiting.shift()));
    this.worker.on('exit', (code) => {
      if (code !== 0) this.fail(new Error(`batch recommendation worker exited with code ${code}`), this.waiting.shift());
    });
  }

  private fail(error: Error, first: WorkerRunner['waiting'][number] | undefined): void {
    this.failure ??= error;
    first?.reject(error);
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
  }

  reply(): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  async run(chunk: RecommendChunk): Promise<ChunkResult> {
    const reply = this.reply();
    this.worker.postMessage(chunk);
    const answer = await reply;
    if (answer.type !== 'result') throw new Error(`batch recommendation worker answered ${answer.type} to a chunk`);
    return answer.result;
  }

  async close(): Promise<void> {
    this.failure ??= new Error('batch recommendation worker closed');
    await this.worker.terminate();
  }
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
  if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads >= 1)) throw new Error(`threads must be a positive integer, got ${String(options.threads)}`);
  const out = resolve(options.out);
  if (existsSync(out) && statSync(out).isDirectory()) throw new Error(`--out ${out} is a directory, not a file`);
  if (!existsSync(dirname(out))) throw new Error(`--out ${out}: the folder ${dirname(out)} does not exist`);
  const progress = options.progress ?? silent;
  // The users file is checked before the model loads, so a bad file fails fast.
  const listed = options.usersFile === undefined ? undefined : readUsersFile(options.usersFile);
  const total = listed ? listed.length : (store.db.prepare('SELECT count(DISTINCT user_id) FROM interactions').pluck(true).get() as number);
  const threads = options.threads ?? (total >= PARALLEL_MIN_USERS ? Math.max(1, availableParallelism()) : 1);
  const setup: ChunkSetup = {
    k,
    ...(options.asOf !== undefined ? { asOf: options.asOf } : {}),
    newest: (store.db.prepare('SELECT max(ts) FROM interactions').pluck(true).get() as number | null) ?? Date.now(),
    ignoreHistory: options.ignoreHistory ?? false,
    timings: options.onUser !== undefined,
  };

  const t0 = performance.now();
  // Every thread loads the same version, named here once: an alias moved mid-run changes nothing.
  const ranker = championRanker(registry);
  const runners: ChunkRunner[] = [];
  let info: EngineSummary | undefined;
  if (threads === 1) {
    const local = loadRankerEngine(registry, store, ranker);
    info = { ranker: local.ranker, catalogVersion: local.catalogVersion, items: local.items };
    const recommender = new ChunkRecommender(local.engine, store, setup);
    // One chunk at a time, as in a worker: interleaved at the engine's awaits, two chunks would
    // each look twice as slow per user.
    let queue: Promise<unknown> = Promise.resolve();
    const run = (chunk: RecommendChunk) => {
      const done = queue.then(() => recommender.run(chunk));
      queue = done.catch(() => undefined);
      return done;
    };
    runners.push({ run, close: async () => local.engine.dispose() });
  } else {
    for (let t = 0; t < threads; t++) runners.push(new WorkerRunner({ featureStore: store.file, registry: registry.root, ranker, setup }));
  }

  const temp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
  let fd: number | undefined;
  const discard = () => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
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
    ranker: `${ranker.id}@${ranker.version}`,
    catalogVersion: 0,
    items: 0,
    k,
    users: 0,
    rows: 0,
    personal: 0,
    popular: 0,
    unknownUsers: 0,
    threads,
    loadSeconds: 0,
    recommendSeconds: 0,
  };
  const bar = progress.start('recommend', total);
  let t1 = performance.now();
  try {
    if (runners[0] instanceof WorkerRunner) {
      const ready = await Promise.all(runners.map((r) => (r as WorkerRunner).reply()));
      if (ready[0]?.type === 'ready') info = ready[0].info;
    }
    result.catalogVersion = info!.catalogVersion;
    result.items = info!.items;
    t1 = performance.now();
    result.loadSeconds = (t1 - t0) / 1000;
    fd = openSync(temp, 'w');
    const writer = new BufferedWriter(fd);
    writer.write('user,item,rank\n');
    const write = (chunk: RecommendChunk, done: ChunkResult) => {
      writer.write(done.csv);
      result.users += chunk.users.length;
      result.rows += done.rows;
      result.personal += done.personal;
      result.popular += done.popular;
      result.unknownUsers += done.unknown;
      if (options.onUser) chunk.users.forEach((user, i) => options.onUser!(user, done.times![i]!));
      bar.update(result.users);
    };
    // Chunk i goes to runner i mod n; at most two chunks per runner are in flight, so memory stays
    // bounded, and results are written strictly in chunk order.
    const inFlight: { chunk: RecommendChunk; done: Promise<ChunkResult> }[] = [];
    let lastYield = performance.now();
    for (const chunk of chunksOf(store, listed)) {
      const done = runners[chunk.seq % runners.length]!.run(chunk);
      done.catch(() => undefined); // awaited below, in order; an early failure must not go unhandled
      inFlight.push({ chunk, done });
      if (inFlight.length >= 2 * runners.length) {
        const head = inFlight.shift()!;
        write(head.chunk, await head.done);
      }
      if (performance.now() - lastYield > 50) {
        // In this thread the engine's promises settle at once: give timers (progress bar, signals) a turn.
        await new Promise((next) => setImmediate(next));
        lastYield = performance.now();
      }
    }
    for (const head of inFlight.splice(0)) write(head.chunk, await head.done);
    writer.flush();
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, out);
  } catch (error) {
    discard();
    throw error;
  } finally {
    bar.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await Promise.all(runners.map((r) => r.close()));
  }
  result.recommendSeconds = (performance.now() - t1) / 1000;
  return result;
}
