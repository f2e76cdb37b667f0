/**
 * Batch recommendations on a data directory small enough to check by hand: the seven-item hand
 * pack (models/recommend/testing/hand-pack.ts, scores worked out in its header) registered as the
 * champion, its catalog and a few shoppers in a real feature store. Every user's rows are checked
 * against the engine's own feed for the same request, and `--as-of`, `--users`, bad input and the
 * never-half-written output file against what they promise.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogItem, InteractionEvent } from '../../models/catalog/item';
import { batchFeedRequest } from '../../models/recommend/batch';
import { RecommenderEngine } from '../../models/recommend/engine';
import { RANKER_META_FILE } from '../../models/recommend/pack';
import { jsScorer } from '../../models/recommend/scorer';
import { DAY, HAND_ITEMS, handMeta, handPack, NOW } from '../../models/recommend/testing/hand-pack';
import type { HistoryEvent } from '../../models/recommend/types';
import { dataPaths } from '../config';
import { Registry } from '../registry/registry';
import { FeatureStore } from '../store/feature-store';
import { batchRecommend, readUsersFile } from './batch-recommend';

const BIN = resolve('bin/fashionml.mjs');
/** A spawned command loads tsx and compiles on a loaded two-core machine: allow minutes. */
const SPAWN_TIMEOUT = 180_000;
let root: string;
let dataDir: string;

const EVENTS: InteractionEvent[] = [
  // u1: the hand pack's worked example (like dress-red, view shoe-red, both "now").
  { userId: 'u1', itemId: 'dress-red', type: 'like', timestamp: NOW },
  { userId: 'u1', itemId: 'shoe-red', type: 'view', timestamp: NOW },
  // u2: the same, then a purchase two days later (after the as-of time below).
  { userId: 'u2', itemId: 'dress-red', type: 'like', timestamp: NOW },
  { userId: 'u2', itemId: 'shoe-red', type: 'view', timestamp: NOW },
  { userId: 'u2', itemId: 'watch-steel', type: 'purchase', timestamp: NOW + 2 * DAY },
  // u3: only events after the as-of time.
  { userId: 'u3', itemId: 'bag', type: 'view', timestamp: NOW + 5 * DAY },
  // A user id that needs CSV quoting, with an event on an item the pack does not know.
  { userId: 'shop, "north"', itemId: 'watch-gold', type: 'add_to_cart', timestamp: NOW - DAY },
  { userId: 'shop, "north"', itemId: 'retired-item', type: 'view', timestamp: NOW - 2 * DAY },
];

function fashionml(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: SPAWN_TIMEOUT, env: { ...process.env, ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Parses our CSV (quoted fields included) into user → item ids in rank order. */
function readRecs(file: string): Map<string, string[]> {
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  expect(lines[0]).toBe('user,item,rank');
  const out = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const fields = [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(?:,|$)/g)].map((m) => m[1]!).slice(0, 3);
    const [user, item, rank] = fields.map((f) => (f.startsWith('"') ? f.slice(1, -1).replaceAll('""', '"') : f));
    const list = out.get(user!) ?? [];
    expect(Number(rank)).toBe(list.length + 1);
    list.push(item!);
    out.set(user!, list);
  }
  return out;
}

function open() {
  const paths = dataPaths(dataDir);
  return { store: FeatureStore.open(paths.featureStore), registry: new Registry(paths.registry) };
}

async function run(out: string, options: { k?: number; usersFile?: string; asOf?: number; threads?: number } = {}) {
  const { store, registry } = open();
  try {
    return await batchRecommend({ store, registry, out, ...options });
  } finally {
    store.close();
  }
}

/** The engine's own feed for one user's events as `batchRecommend` reads them. */
async function engineFeed(events: InteractionEvent[], k: number, asOf?: number): Promise<string[]> {
  const engine = new RecommenderEngine({ pack: handPack(), catalog: HAND_ITEMS, scorer: jsScorer() });
  const history: HistoryEvent[] = events
    .filter((e) => asOf === undefined || e.timestamp <= asOf)
    .sort((a, b) => a.timestamp - b.timestamp)
    .map((e) => ({ itemId: e.itemId, type: e.type, at: e.timestamp }));
  const now = asOf ?? history.at(-1)?.at ?? Math.max(...EVENTS.map((e) => e.timestamp));
  return (await engine.feed(batchFeedRequest(history, now, k))).items.map((r) => r.itemId);
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'fashionml-recommend-'));
  dataDir = join(root, 'data');
  const paths = dataPaths(dataDir);
  const store = FeatureStore.open(paths.featureStore);
  const items: CatalogItem[] = HAND_ITEMS.map((item) => ({ ...item, attributes: {} }));
  store.addCatalogVersion({ items, source: 'hand', rowsRead: items.length, quarantined: [], interactions: { events: EVENTS, quarantined: [] } });
  store.close();
  // The hand pack as a registered model folder: f32 matrices and ranker.json.
  const pack = handPack();
  const meta = handMeta();
  const dir = join(root, 'pack');
  mkdirSync(dir);
  const bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  writeFileSync(join(dir, meta.itemFactors.file), bytes(pack.itemFactors));
  writeFileSync(join(dir, meta.imageEmbeddings!.file), bytes(pack.imageEmbeddings!));
  writeFileSync(join(dir, meta.contentVectors!.file), bytes(pack.contentVectors!));
  writeFileSync(join(dir, meta.itemStats.file), bytes(pack.itemStats));
  writeFileSync(join(dir, RANKER_META_FILE), JSON.stringify(meta));
  const registry = new Registry(paths.registry);
  const ranker = registry.registerModel({ id: 'fashion-ranker', kind: 'fashion-ranker', dir, dataVersion: 1, codeVersion: 'test' });
  registry.setAlias('champion', ranker.id, ranker.version);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('batchRecommend on the hand pack', () => {
  it("writes every stored user's top k in id order, as the engine ranks them", async () => {
    const out = join(root, 'all.csv');
    const result = await run(out, { k: 3 });
    expect(result).toMatchObject({ ranker: 'fashion-ranker@1', catalogVersion: 1, items: 7, users: 4, personal: 4, popular: 0, unknownUsers: 0 });
    const recs = readRecs(out);
    expect([...recs.keys()]).toEqual(['shop, "north"', 'u1', 'u2', 'u3']);
    // The hand pack's header: x = (2/3, 0.6), scores dress-red 0.667, watch-gold 0.633, shoe-red 0.6.
    expect(recs.get('u1')).toEqual(['dress-red', 'watch-gold', 'shoe-red']);
    for (const [user, items] of recs) {
      expect(items, user).toEqual(await engineFeed(EVENTS.filter((e) => e.userId === user), 3));
    }
    // A purchased item stays eligible (batchFeedRequest keeps bought items).
    expect(result.rows).toBe(12);
  });

  it('writes the same file from worker threads, each with its own engine', async () => {
    const one = join(root, 'one-thread.csv');
    const two = join(root, 'two-threads.csv');
    const users = join(root, 'threads-users.csv');
    writeFileSync(users, 'user\nu2\nnobody\nu1\n');
    expect((await run(one, { k: 4, threads: 1 })).threads).toBe(1);
    const threaded = await run(two, { k: 4, threads: 2 });
    expect(threaded).toMatchObject({ threads: 2, users: 4, catalogVersion: 1, items: 7, ranker: 'fashion-ranker@1' });
    expect(readFileSync(two, 'utf8')).toBe(readFileSync(one, 'utf8'));
    await run(one, { k: 4, usersFile: users, asOf: NOW, threads: 1 });
    expect(await run(two, { k: 4, usersFile: users, asOf: NOW, threads: 2 })).toMatchObject({ users: 3, unknownUsers: 1 });
    expect(readFileSync(two, 'utf8')).toBe(readFileSync(one, 'utf8'));
  }, SPAWN_TIMEOUT);

  it('counts only events up to --as-of, measures recency from it, and ignores later events', async () => {
    const asOf = NOW;
    const out = join(root, 'as-of.csv');
    await run(out, { k: 5, asOf });
    const recs = readRecs(out);
    // u2's purchase comes after as-of: u2 is u1 again.
    expect(recs.get('u2')).toEqual(recs.get('u1'));
    // u3 has only later events: the new-shopper feed (popularity 10, trending 4/4, popularity 8 lead).
    expect(recs.get('u3')?.slice(0, 3)).toEqual(['dress-red', 'dress-blue', 'shoe-red']);
    for (const [user, items] of recs) {
      expect(items, user).toEqual(await engineFeed(EVENTS.filter((e) => e.userId === user), 5, asOf));
    }

    // Another event after as-of changes nothing.
    const { store } = open();
    store.addInteractions('later', [{ userId: 'u1', itemId: 'watch-steel', type: 'purchase', timestamp: NOW + 10 * DAY }]);
    store.close();
    const again = join(root, 'as-of-again.csv');
    await run(again, { k: 5, asOf });
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(out, 'utf8'));
  });

  it('recommends for the users a users file lists, in its order, with new-shopper feeds for unknown ones', async () => {
    const users = join(root, 'users.csv');
    writeFileSync(users, 'segment,user\na,u3\nb,nobody\nc,u3\n');
    const out = join(root, 'listed.csv');
    const result = await run(out, { k: 3, usersFile: users });
    expect(result).toMatchObject({ users: 2, unknownUsers: 1, popular: 1, personal: 1 });
    const recs = readRecs(out);
    expect([...recs.keys()]).toEqual(['u3', 'nobody']);
    expect(recs.get('nobody')).toEqual(['dress-red', 'dress-blue', 'shoe-red']);
  });

  it('rejects a bad users file naming the file and line', () => {
    const bad = (name: string, text: string) => {
      const file = join(root, name);
      writeFileSync(file, text);
      return () => readUsersFile(file);
    };
    expect(bad('no-column.csv', 'customer\nu1\n')).toThrow(/no-column\.csv: line 1: missing column "user" \(header: customer\)/);
    expect(bad('empty.csv', '')).toThrow(/empty\.csv: line 1: .*empty/);
    expect(bad('blank-user.csv', 'user,segment\nu1,a\n,b\n')).toThrow(/blank-user\.csv: line 3: empty "user"/);
    expect(bad('ragged.csv', 'user,segment\nu1,a\nu2,b,extra\n')).toThrow(/ragged\.csv: line 3:/);
    expect(() => readUsersFile(join(root, 'nowhere.csv'))).toThrow(/nowhere\.csv: cannot read/);
  });

  it('never leaves a half-written file: a failed run keeps the old file and removes its temporary one', async () => {
    const dir = join(root, 'keep');
    mkdirSync(dir);
    const out = join(dir, 'recs.csv');
    writeFileSync(out, 'old\n');
    const { store, registry } = open();
    try {
      await expect(batchRecommend({ store, registry, out, k: 0 })).rejects.toThrow(/k must be an integer from 1 to 500/);
      await expect(batchRecommend({ store, registry, out, k: 501 })).rejects.toThrow(/k must be an integer from 1 to 500/);
      let seen = 0;
      const failing = batchRecommend({
        store,
        registry,
        out,
        onUser: () => {
          if (++seen === 2) throw new Error('disk full');
        },
      });
      await expect(failing).rejects.toThrow('disk full');
    } finally {
      store.close();
    }
    expect(readFileSync(out, 'utf8')).toBe('old\n');
    expect(readdirSync(dir)).toEqual(['recs.csv']);
    await expect(run(join(root, 'no-such-folder', 'recs.csv'))).rejects.toThrow(/does not exist/);
  });

  it('says what to do when there is no champion', async () => {
    const empty = join(root, 'empty-data');
    const paths = dataPaths(empty);
    const store = FeatureStore.open(paths.featureStore);
    try {
      await expect(batchRecommend({ store, registry: new Registry(paths.registry), out: join(root, 'x.csv') })).rejects.toThrow(/No champion fashion-ranker.*fashionml pipeline/);
    } finally {
      store.close();
    }
    expect(existsSync(join(root, 'x.csv'))).toBe(false);
  });
});

describe('fashionml recommend', () => {
  it('writes the same CSV as the module, reading FASHIONML_DATA_DIR like every command', async () => {
    const viaModule = join(root, 'module.csv');
    await run(viaModule, { k: 4 });
    const out = join(root, 'cli.csv');
    const cli = fashionml(['recommend', '--out', out, '--k', '4'], { FASHIONML_DATA_DIR: dataDir });
    expect(cli.stderr).not.toMatch(/Error:|at .*\.ts/);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/Wrote 16 recommendations \(top 4\) for 4 users to .*cli\.csv: fashion-ranker@1 on catalog version 1 \(7 items\)/);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(viaModule, 'utf8'));
  }, SPAWN_TIMEOUT);

  it('refuses bad arguments with one clear message and exit code 1, leaving --out alone', () => {
    const out = join(root, 'untouched.csv');
    writeFileSync(out, 'old\n');
    const cases: [string[], RegExp][] = [
      [['--k', '0'], /--k.*must be an integer from 1 to 500/],
      [['--k', '501'], /--k.*must be an integer from 1 to 500/],
      [['--k', 'ten'], /--k.*must be an integer from 1 to 500/],
      [['--as-of', 'yesterday'], /--as-of.*ISO 8601/],
      [['--users', join(root, 'nowhere.csv')], /^fashionml: .*nowhere\.csv: cannot read/],
    ];
    for (const [args, message] of cases) {
      const r = fashionml(['--data-dir', dataDir, 'recommend', '--out', out, ...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/at .*\.ts/);
    }
    const missingOut = fashionml(['--data-dir', dataDir, 'recommend']);
    expect(missingOut.code).toBe(1);
    expect(missingOut.stderr).toMatch(/--out/);
    expect(readFileSync(out, 'utf8')).toBe('old\n');
  }, SPAWN_TIMEOUT * 2);
});
