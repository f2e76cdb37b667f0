/**
 * `fashionml recommend` throughput: batch recommendations for N shoppers on a 16k-item catalog.
 *
 * Data: a synthetic catalog (models/recommend/testing/synthetic.ts rows, 64-d photo embeddings
 * clustered by type and colour as the encoder's are) in a fresh data directory's feature store,
 * simulated shoppers' events beside it (server/train/fashion-ranker.ts `simulateCatalogShoppers`,
 * the trainer's own simulator), and a ranker pack trained on them by the trainer
 * (`trainFashionRanker`, held-out evaluation skipped) registered as the `champion` — what the
 * command reads in a real data directory. Cached under `.data/bench-recommend/<key>`
 * (BENCH_FRESH=1 rebuilds).
 *
 * Timed, in the same run:
 * - `champion`: the command's function (server/recommend/batch-recommend.ts) in this process, with
 *   each user's time (history read from SQLite, engine feed, rows written) recorded, on its default
 *   threads (one worker per core) and on one thread;
 * - `popularity` (baseline): the same loop where every user gets the empty-history feed;
 * - the command itself as a user runs it (`fashionml recommend`, a new process: start-up, model
 *   load, every user, the file renamed into place), wall-clock.
 *
 *   npm run bench:recommend
 *   BENCH_ITEMS=16000 BENCH_USERS=5000 BENCH_K=12 npm run bench:recommend
 *
 * Prints a table and writes bench-results/recommend.json. Target: 1,000 users/s or more on two cores.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import type { CatalogItem } from '../models/catalog/item';
import { summarise } from '../models/probe/stats';
import type { Summary } from '../models/probe/stats';
import { syntheticCatalog } from '../models/recommend/testing/synthetic';
import { dataPaths } from '../server/config';
import { batchRecommend } from '../server/recommend/batch-recommend';
import type { BatchRecommendResult } from '../server/recommend/batch-recommend';
import { Registry } from '../server/registry/registry';
import { FeatureStore } from '../server/store/feature-store';
import { simulateCatalogShoppers, trainFashionRanker } from '../server/train/fashion-ranker';

const ITEMS = Number(process.env.BENCH_ITEMS ?? 16_000);
const USERS = Number(process.env.BENCH_USERS ?? 4_000);
const K = Number(process.env.BENCH_K ?? 12);
const IMAGE_DIM = 64;
/** Bumped when what the data directory holds changes. */
const DATA_VERSION = 1;
const TARGET_USERS_PER_S = 1000;

interface DataDir {
  dir: string;
  events: number;
  historyMedian: number;
  buildSeconds: number | null;
}

/** Git's object ids at HEAD of the files whose formats the data depends on, so a format change rebuilds it. */
function committedIds(): string {
  const files = ['models/recommend/pack.ts', 'models/content/content-model.ts', 'server/store/feature-store.ts', 'server/registry/registry.ts'];
  const r = spawnSync('git', ['rev-parse', ...files.map((f) => `HEAD:${f}`)], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : '';
}

async function prepare(): Promise<DataDir> {
  const key = createHash('sha256').update(`${DATA_VERSION}|${ITEMS}|${USERS}|${committedIds()}`).digest('hex').slice(0, 12);
  const dir = resolve('.data', 'bench-recommend', `${ITEMS}-${USERS}-${key}`);
  const done = join(dir, 'bench-data.json');
  if (existsSync(done) && process.env.BENCH_FRESH !== '1') {
    console.log(`Using ${dir}`);
    return { ...(JSON.parse(readFileSync(done, 'utf8')) as DataDir), buildSeconds: null };
  }
  rmSync(dir, { recursive: true, force: true });
  const started = performance.now();
  const paths = dataPaths(dir);
  const synthetic = syntheticCatalog(ITEMS, { seed: 11, imageDim: IMAGE_DIM, contentDim: 0 });
  const items: CatalogItem[] = synthetic.items.map((item) => ({ ...item, attributes: {} }));
  const image = synthetic.pack.imageEmbeddings!;
  for (let o = 0; o < image.length; o += IMAGE_DIM) {
    let s = 0;
    for (let a = 0; a < IMAGE_DIM; a++) s += image[o + a]! ** 2;
    for (let a = 0; a < IMAGE_DIM; a++) image[o + a]! /= Math.sqrt(s) || 1;
  }
  const { events } = simulateCatalogShoppers(items, USERS, 42);
  console.log(`${items.length} synthetic items, ${USERS} simulated shoppers with ${events.length} events`);
  const store = FeatureStore.open(paths.featureStore);
  try {
    const version = store.addCatalogVersion({ items, source: 'synthetic', rowsRead: items.length, quarantined: [], interactions: { events, quarantined: [] } });
    const trained = await trainFashionRanker({
      items,
      catalog: { version: version.version, contentHash: version.contentHash },
      events,
      imageEmbeddings: { dim: IMAGE_DIM, vectors: image, encoder: 'image-encoder@1' },
      outDir: join(dir, 'pack'),
      skipEvaluation: true,
      onProgress: (p) => console.log(`  ranker ${p.stage}: ${p.message}`),
    });
    const registry = new Registry(paths.registry);
    const ranker = registry.registerModel({ id: 'fashion-ranker', kind: 'fashion-ranker', dir: trained.dir, dataVersion: version.version, codeVersion: 'bench' });
    registry.setAlias('champion', ranker.id, ranker.version);
    rmSync(trained.dir, { recursive: true, force: true });
  } finally {
    store.close();
  }
  const perUser = new Map<string, number>();
  for (const e of events) perUser.set(e.userId, (perUser.get(e.userId) ?? 0) + 1);
  const data: DataDir = { dir, events: events.length, historyMedian: summarise([...perUser.values()]).median, buildSeconds: (performance.now() - started) / 1000 };
  writeFileSync(done, JSON.stringify(data, null, 2));
  console.log(`Data directory ready in ${data.buildSeconds!.toFixed(1)} s`);
  return data;
}

interface Row {
  model: string;
  users: number;
  items: number;
  k: number;
  /** Per-user milliseconds (history read, engine, rows written). */
  perUser: Summary;
  usersPerSecond: number;
  threads: number;
  /** This process's CPU seconds (all threads, model loading included) per 1,000 users: steadier than wall-clock on shared cores. */
  cpuSecondsPer1000: number;
  loadSeconds: number;
  personal: number;
  backend: string;
}

async function timed(data: DataDir, model: string, ignoreHistory: boolean, threads?: number): Promise<Row> {
  const paths = dataPaths(data.dir);
  const store = FeatureStore.open(paths.featureStore);
  const times: number[] = [];
  const out = join(data.dir, 'timed.csv');
  let result: BatchRecommendResult;
  const cpu = process.cpuUsage();
  try {
    result = await batchRecommend({ store, registry: new Registry(paths.registry), out, k: K, ignoreHistory, ...(threads ? { threads } : {}), onUser: (_user, ms) => times.push(ms) });
  } finally {
    store.close();
  }
  const used = process.cpuUsage(cpu);
  rmSync(out, { force: true });
  return {
    model,
    threads: result.threads,
    users: result.users,
    items: result.items,
    k: result.k,
    perUser: summarise(times),
    usersPerSecond: result.users / result.recommendSeconds,
    cpuSecondsPer1000: (((used.user + used.system) / 1e6) / result.users) * 1000,
    loadSeconds: result.loadSeconds,
    personal: result.personal,
    backend: 'js',
  };
}

/** The command as a user runs it, wall-clock from spawn to exit. */
function command(data: DataDir): { wallSeconds: number; stdout: string } {
  const out = join(data.dir, 'command.csv');
  const started = performance.now();
  const r = spawnSync(process.execPath, [resolve('bin/fashionml.mjs'), '--data-dir', data.dir, 'recommend', '--out', out, '--k', String(K)], { encoding: 'utf8' });
  const wallSeconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`fashionml recommend failed (${r.status}): ${r.stderr}`);
  rmSync(out, { force: true });
  return { wallSeconds, stdout: r.stdout.trim() };
}

async function main(): Promise<void> {
  const data = await prepare();
  const rows = [await timed(data, 'champion', false), await timed(data, 'champion', false, 1), await timed(data, 'popularity', true)];
  const cli = command(data);
  console.log(cli.stdout);
  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', memoryGB: Math.round(totalmem() / 1e9), loadAverageAtEnd: loadavg() };
  console.table(
    rows.map((r) => ({
      model: r.model,
      threads: r.threads,
      users: r.users,
      items: r.items,
      k: r.k,
      'per user ms (median)': r.perUser.median.toFixed(3),
      'per user ms (p95)': r.perUser.p95.toFixed(3),
      'users/s': Math.round(r.usersPerSecond),
      'CPU s / 1k users': r.cpuSecondsPer1000.toFixed(2),
      'load s': r.loadSeconds.toFixed(2),
      personal: r.personal,
      backend: r.backend,
    })),
  );
  const champion = rows[0]!;
  console.log(
    `Command end to end: ${cli.wallSeconds.toFixed(1)} s for ${champion.users} users (start-up and model load included). ` +
      `Machine: ${machine.cpus} × ${machine.model}. Target ${TARGET_USERS_PER_S} users/s: ${champion.usersPerSecond >= TARGET_USERS_PER_S ? 'met' : 'not met'}.`,
  );
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(
    'bench-results/recommend.json',
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine,
        node: process.version,
        data: {
          items: ITEMS,
          users: USERS,
          events: data.events,
          historyMedian: data.historyMedian,
          catalog: 'synthetic rows (models/recommend/testing/synthetic.ts), 64-d clustered photo embeddings',
          shoppers: 'simulated (server/train/fashion-ranker.ts simulateCatalogShoppers)',
          pack: 'trainFashionRanker on those events (evaluation skipped), registered as champion',
          buildSeconds: data.buildSeconds,
        },
        request: { k: K, diversity: 0, candidates: 100, definition: 'models/recommend/batch.ts batchFeedRequest' },
        timing: "per-user wall-clock ms (history read, engine feed, rows written); users/s over the whole loop; this process's CPU beside it (the cores are shared)",
        baseline: 'popularity: the same loop with every user on the empty-history feed',
        rows,
        command: { wallSeconds: cli.wallSeconds, summary: cli.stdout },
        target: { usersPerSecond: TARGET_USERS_PER_S, met: champion.usersPerSecond >= TARGET_USERS_PER_S },
      },
      null,
      2,
    ),
  );
  console.log('wrote bench-results/recommend.json');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
