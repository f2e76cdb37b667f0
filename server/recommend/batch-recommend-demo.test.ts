/**
 * `fashionml recommend` on the generated demo catalog as a user gets there: ingest, `fashionml
 * pipeline` (a short encoder budget) makes a real champion, then the command writes every
 * shopper's top k. Each user's rows are checked against the device engine's own feed, built here
 * straight from the registry's blobs; `--as-of` and `--users` (with an unknown user) as well.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchFeedRequest } from '../../models/recommend/batch';
import { decodePack, RecommenderEngine } from '../../models/recommend/engine';
import type { RankerPackMeta } from '../../models/recommend/pack';
import { jsScorer } from '../../models/recommend/scorer';
import type { HistoryEvent } from '../../models/recommend/types';
import { generateDemoCatalog } from '../demo/demo-catalog';
import { championOf } from '../pipeline/pipeline';
import { Registry } from '../registry/registry';
import { FeatureStore } from '../store/feature-store';

const BIN = resolve('bin/fashionml.mjs');
/** Training and spawned commands on a loaded two-core machine: minutes. */
const SLOW = 600_000;
let root: string;
let dataDir: string;

function fashionml(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, '--data-dir', dataDir, ...args], { encoding: 'utf8', timeout: SLOW });
  return { code: result.status, out: `${result.stdout}${result.stderr}`, stdout: result.stdout };
}

function readRecs(file: string): Map<string, string[]> {
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  expect(lines[0]).toBe('user,item,rank');
  const out = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const [user, item, rank] = line.split(',');
    const list = out.get(user!) ?? [];
    expect(Number(rank)).toBe(list.length + 1);
    list.push(item!);
    out.set(user!, list);
  }
  return out;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'fashionml-recommend-demo-'));
  dataDir = join(root, 'data');
  const demo = await generateDemoCatalog(join(root, 'demo'), { items: 160, shoppers: 40 });
  const ingest = fashionml('ingest', '--catalog', join(root, 'demo'), '--interactions', demo.interactionsCsv);
  expect(ingest.code, ingest.out).toBe(0);
  const pipeline = fashionml('pipeline', '--encoder-budget', '3');
  expect(pipeline.code, pipeline.out).toBe(0);
}, SLOW);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('fashionml recommend on the demo catalog', () => {
  it("writes the champion's top k for every shopper, as the device engine ranks them", async () => {
    const out = join(root, 'recs.csv');
    const run = fashionml('recommend', '--out', out, '--k', '10');
    expect(run.code, run.out).toBe(0);
    expect(run.stdout).toMatch(/for 40 users to .*recs\.csv: fashion-ranker@1 on catalog version 1 \(160 items\)/);
    const recs = readRecs(out);

    const store = FeatureStore.open(join(dataDir, 'features.sqlite'));
    const registry = new Registry(join(dataDir, 'registry'));
    try {
      const events = store.interactions();
      const users = [...new Set(events.map((e) => e.userId))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      expect([...recs.keys()]).toEqual(users);
      // The reference: the champion's blobs decoded as the device decodes them, its catalog's rows.
      const champion = championOf(registry.manifest())!;
      const file = (name: string) => {
        const ref = champion.files.find((f) => f.name === name);
        return ref && new Uint8Array(registry.blobs.read(ref.sha256));
      };
      const meta = JSON.parse(new TextDecoder().decode(file('ranker.json'))) as RankerPackMeta;
      const items = store.items(meta.catalog.version);
      const engine = new RecommenderEngine({ pack: decodePack(meta, file), catalog: items, scorer: jsScorer() });
      const known = new Set(items.map((i) => i.id));
      for (const user of users) {
        const history: HistoryEvent[] = events.filter((e) => e.userId === user).map((e) => ({ itemId: e.itemId, type: e.type, at: e.timestamp }));
        const expected = (await engine.feed(batchFeedRequest(history, history.at(-1)!.at, 10))).items.map((r) => r.itemId);
        expect(recs.get(user), user).toEqual(expected);
        expect(recs.get(user)!.every((id) => known.has(id))).toBe(true);
      }

      // --as-of before everyone's last event: later events change nothing, and --users adds an unknown shopper.
      const times = events.map((e) => e.timestamp).sort((a, b) => a - b);
      const asOf = times[Math.floor(times.length / 2)]!;
      const listed = join(root, 'users.csv');
      writeFileSync(listed, `user\n${users[0]}\nnot-a-shopper\n${users[1]}\n`);
      const cut = join(root, 'cut.csv');
      const asOfRun = fashionml('recommend', '--out', cut, '--k', '5', '--users', listed, '--as-of', new Date(asOf).toISOString());
      expect(asOfRun.code, asOfRun.out).toBe(0);
      expect(asOfRun.stdout).toMatch(/for 3 users .*\(1 unknown to the feature store\)/);
      const cutRecs = readRecs(cut);
      expect([...cutRecs.keys()]).toEqual([users[0], 'not-a-shopper', users[1]]);
      const popular = (await engine.feed(batchFeedRequest([], asOf, 5))).items.map((r) => r.itemId);
      expect(cutRecs.get('not-a-shopper')).toEqual(popular);
      for (const user of [users[0]!, users[1]!]) {
        const history: HistoryEvent[] = events
          .filter((e) => e.userId === user && e.timestamp <= asOf)
          .map((e) => ({ itemId: e.itemId, type: e.type, at: e.timestamp }));
        expect(cutRecs.get(user), user).toEqual((await engine.feed(batchFeedRequest(history, asOf, 5))).items.map((r) => r.itemId));
      }
    } finally {
      store.close();
    }
  }, SLOW);
});
