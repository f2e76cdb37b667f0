import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogItem, InteractionEvent } from '../../models/catalog/item';
import { ContentModel } from '../../models/content/content-model';
import { eventsByUser, fitFashion, recommendForHistory } from '../../models/hybrid/fashion-fit';
import type { IndexedEvent } from '../../models/hybrid/fashion-hybrid';
import { generateDemoCatalog } from '../demo/demo-catalog';
import type { Persona } from '../demo/shoppers';
import { importInteractions } from '../ingest/interactions';
import { importKaggleStyles } from '../ingest/kaggle-catalog';
import { aucOver, evaluateFashion, evaluationFingerprint, fashionEngine } from './fashion-eval';

describe('aucOver', () => {
  it('is the share of positive-over-negative pairs, ties one half', () => {
    // Positive 1 (score 2) beats negatives 2 and 3 but not 0 → 2/3.
    expect(aucOver([3, 2, 1, 0], [0, 1, 2, 3], new Set([1]))).toBeCloseTo(2 / 3, 12);
    expect(aucOver([1, 1, 1], [0, 1, 2], new Set([0]))).toBeCloseTo(0.5, 12);
    expect(aucOver([1, 2], [0, 1], new Set([0, 1]))).toBeUndefined();
  });
});

describe('evaluateFashion on the demo catalog (simulated shoppers)', () => {
  let dir: string;
  let items: CatalogItem[];
  let events: InteractionEvent[];
  let personas: Persona[];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fashion-eval-'));
    const demo = await generateDemoCatalog(dir, { items: 300, shoppers: 60, seed: 5 });
    items = (await importKaggleStyles(demo.stylesCsv)).accepted;
    events = (await importInteractions(demo.interactionsCsv, { knownItems: new Set(items.map((i) => i.id)) })).accepted;
    const parsed = JSON.parse(await readFile(demo.personasJson, 'utf8')) as Persona[] | { personas: Persona[] };
    personas = Array.isArray(parsed) ? parsed : parsed.personas;
  }, 120_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('the hybrid beats popularity and pure CF, ranks cold items, personalises, and its losses fall', async () => {
    const content = ContentModel.fit(items, { dim: 32 });
    const result = await evaluateFashion({ items, events, personas, content: { vectors: content.embedItems(items), dim: 32 }, options: { seed: 3 } });
    const m = result.metrics;
    expect(result.counts.testUsers).toBeGreaterThan(30);
    expect(m.ndcg10).toBeGreaterThan(m['popularity.ndcg10']!);
    expect(m.recall20).toBeGreaterThan(m['popularity.recall20']!);
    expect(m.coldAuc).toBeGreaterThan(0.7);
    expect(m.coldAuc).toBeGreaterThan(m['cf.coldAuc']! + 0.1);
    expect(m['personal.typeShareAfter']).toBeGreaterThan(m['personal.typeShareBefore']! + 0.2);
    expect(result.alsLosses.at(-1)).toBeLessThan(result.alsLosses[0]!);
    if (result.rerankLosses.length > 1) expect(result.rerankLosses.at(-1)).toBeLessThan(result.rerankLosses[0]!);
    for (const [name, value] of Object.entries(m)) expect(Number.isFinite(value), name).toBe(true);
  });

  it('ranks through the engine exactly as the trainer ranks with float32 vectors, and close to it with the published q8 ones', async () => {
    const row = new Map(items.map((item, i) => [item.id, i]));
    const users = new Map<string, number>();
    const indexed: IndexedEvent[] = events.map((e) => {
      if (!users.has(e.userId)) users.set(e.userId, users.size);
      return { user: users.get(e.userId)!, item: row.get(e.itemId)!, type: e.type, at: e.timestamp };
    });
    const content = ContentModel.fit(items, { dim: 16, seed: 2 });
    const fit = fitFashion({ items, events: indexed, nUsers: users.size, content: { vectors: content.embedItems(items), dim: 16 }, options: { seed: 2 } });
    const exact = fashionEngine(fit, items, { encoding: 'f32' });
    const exactScore = fashionEngine(fit, items, { encoding: 'f32', scoreOnly: true });
    const q8 = fashionEngine(fit, items);
    let compared = 0;
    let overlap = 0;
    for (const history of eventsByUser(indexed, users.size).slice(0, 30)) {
      if (history.length < 4) continue;
      // The evaluation's request: the first events as history, every one of their items left out.
      const seen = history.slice(0, Math.ceil(history.length * 0.8));
      const now = seen.at(-1)!.at;
      const exclude = new Set(seen.map((e) => e.item));
      const request = {
        history: seen.map((e) => ({ itemId: items[e.item]!.id, type: e.type, at: e.at })),
        now,
        k: 20,
        diversity: 0,
        filters: { excludePurchased: false, excludeItemIds: [...exclude].map((i) => items[i]!.id) },
      };
      const ids = (rows: Int32Array) => Array.from(rows, (i) => items[i]!.id);
      const top = async (engine: typeof exact) => (await engine.feed(request)).items.map((r) => r.itemId);
      expect(await top(exact)).toEqual(ids(recommendForHistory(fit, seen, now, 20, exclude)));
      expect(await top(exactScore)).toEqual(ids(recommendForHistory(fit, seen, now, 20, exclude, { rerank: false })));
      const quantised = new Set((await top(q8)).slice(0, 10));
      overlap += (await top(exact)).slice(0, 10).filter((id) => quantised.has(id)).length / 10;
      compared++;
    }
    expect(compared).toBeGreaterThan(20);
    // int8 vectors move scores by well under 1 %: the top 10 stays nearly the same.
    expect(overlap / compared).toBeGreaterThan(0.8);
  });

  it('fingerprints the evaluation data by catalog, events and split, not by anything else', () => {
    const base = { catalogContentHash: 'abc', events, seed: 42 };
    const fp = evaluationFingerprint(base);
    expect(fp).toMatch(/^fashion-eval\/\d+;catalog=abc;events=sha256:[0-9a-f]{64};seed=42;testShare=0\.2;coldShare=0\.1$/);
    expect(evaluationFingerprint({ ...base, events: events.map((e) => ({ ...e })) })).toBe(fp);
    expect(evaluationFingerprint({ ...base, events: events.slice(1) })).not.toBe(fp);
    expect(evaluationFingerprint({ ...base, events: [{ ...events[0]!, type: events[0]!.type === 'view' ? 'click' : 'view' }, ...events.slice(1)] })).not.toBe(fp);
    expect(evaluationFingerprint({ ...base, seed: 43 })).not.toBe(fp);
    expect(evaluationFingerprint({ ...base, catalogContentHash: 'abd' })).not.toBe(fp);
  });
});
