/**
 * The engine on a pack trained by `server/train/fashion-ranker.ts` from the generated demo catalog
 * and simulated shoppers (every figure here comes from simulated shoppers): the files as the trainer
 * writes them, decoded as the device decodes them.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CatalogItem } from '../catalog/item';
import { generateDemoCatalog } from '../../server/demo/demo-catalog';
import { importKaggleStyles } from '../../server/ingest/kaggle-catalog';
import { simulateCatalogShoppers, trainFashionRanker } from '../../server/train/fashion-ranker';
import { ContentModel } from '../content/content-model';
import { eventsByUser, fitFashion, recommendForHistory } from '../hybrid/fashion-fit';
import type { IndexedEvent } from '../hybrid/fashion-hybrid';
import { decodePack, RecommenderEngine } from './engine';
import type { LoadedPack } from './engine';
import { RANKER_META_FILE, RANKER_PACK_FORMAT } from './pack';
import type { RankerPackMeta } from './pack';
import { jsScorer } from './scorer';
import type { HistoryEvent } from './types';

const NOW = Date.UTC(2024, 2, 1);

describe('RecommenderEngine on a pack trained from the demo catalog (simulated shoppers)', () => {
  let dir: string;
  let items: CatalogItem[];
  let engine: RecommenderEngine;
  let meta: RankerPackMeta;
  let pack: LoadedPack;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'engine-trained-'));
    const demo = await generateDemoCatalog(join(dir, 'demo'), { items: 300, shoppers: 10, seed: 5 });
    items = (await importKaggleStyles(demo.stylesCsv)).accepted;
    // A stand-in photo embedding: one axis per article type (the real encoder is trained elsewhere).
    const types = [...new Set(items.map((i) => i.articleType))];
    const dim = types.length;
    const vectors = new Float32Array(items.length * dim);
    items.forEach((item, i) => (vectors[i * dim + types.indexOf(item.articleType)] = 1));
    const out = join(dir, 'pack');
    await trainFashionRanker({
      items,
      catalog: { version: 1, contentHash: 'demo' },
      events: [],
      imageEmbeddings: { dim, vectors, encoder: 'image-encoder@1' },
      outDir: out,
      seed: 3,
      shoppers: 120,
      skipEvaluation: true,
    });
    meta = JSON.parse(await readFile(join(out, RANKER_META_FILE), 'utf8')) as RankerPackMeta;
    const files = new Map<string, Uint8Array>();
    for (const name of await readdir(out)) files.set(name, new Uint8Array(await readFile(join(out, name))));
    pack = decodePack(meta, (name) => files.get(name));
    engine = new RecommenderEngine({ pack, catalog: items, scorer: jsScorer() });
  }, 180_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('loads every part of the pack', () => {
    expect(engine.info).toMatchObject({ items: items.length, missingFromCatalog: 0, notInPack: 0, visual: true, content: true, contentQueries: true });
    expect(meta.contentModel).toBeDefined();
  });

  it('a rebuild with the same pack and catalog (a backend fallback) reuses the items’ content vectors', async () => {
    const query = items[0]!.title.split(' ').slice(0, 2).join(' ');
    const before = await engine.searchText(query, 5);
    const embedItems = vi.spyOn(pack.contentModel!, 'embedItems');
    engine.setModel({ pack, catalog: items, scorer: jsScorer() });
    expect(embedItems).not.toHaveBeenCalled();
    expect((await engine.searchText(query, 5)).items).toEqual(before.items);
    engine.setModel({ pack, catalog: [...items], scorer: jsScorer() }); // another catalog: embedded again
    expect(embedItems).toHaveBeenCalledTimes(1);
    embedItems.mockRestore();
  });

  it('moves the feed toward the article type and colour a new shopper likes', async () => {
    // The most common (article type, colour) pair with at least four items.
    const pairs = new Map<string, CatalogItem[]>();
    for (const item of items) pairs.set(`${item.articleType}|${item.colour}`, [...(pairs.get(`${item.articleType}|${item.colour}`) ?? []), item]);
    const [pair, group] = [...pairs].sort((a, b) => b[1].length - a[1].length)[0]!;
    expect(group.length).toBeGreaterThanOrEqual(4);
    const [articleType, colour] = pair.split('|');
    const share = (ids: string[], test: (i: CatalogItem) => boolean) => ids.filter((id) => test(items.find((i) => i.id === id)!)).length / ids.length;

    const before = await engine.feed({ history: [], now: NOW, k: 20, diversity: 0 });
    expect(before.mode).toBe('popular');
    const history: HistoryEvent[] = group.slice(0, 3).map((item, n) => ({ itemId: item.id, type: 'like', at: NOW - (3 - n) * 60_000 }));
    const after = await engine.feed({ history, now: NOW, k: 20, diversity: 0 });
    expect(after.mode).toBe('personal');
    const ids = (r: typeof before) => r.items.map((i) => i.itemId);
    const typeBefore = share(ids(before), (i) => i.articleType === articleType);
    const typeAfter = share(ids(after), (i) => i.articleType === articleType);
    const pairAfter = share(ids(after), (i) => i.articleType === articleType && i.colour === colour);
    const pairBefore = share(ids(before), (i) => i.articleType === articleType && i.colour === colour);
    expect(typeAfter).toBeGreaterThan(typeBefore);
    expect(typeAfter).toBeGreaterThanOrEqual(0.5);
    expect(pairAfter).toBeGreaterThan(pairBefore);
    // Every personal item is explained by the liked items.
    for (const rec of after.items) {
      expect(rec.explanation.kind).toBe('history');
      for (const b of rec.explanation.because) expect(history.map((h) => h.itemId)).toContain(b.itemId);
    }
    // More diversity, fewer items of the liked type at the top.
    const diverse = await engine.feed({ history, now: NOW, k: 20, diversity: 0.9 });
    expect(share(ids(diverse), (i) => i.articleType === articleType)).toBeLessThan(typeAfter);
  });

  it('explains the trained scores exactly', () => {
    const history: HistoryEvent[] = items.slice(0, 6).map((item, n) => ({ itemId: item.id, type: n % 2 ? 'view' : 'add_to_cart', at: NOW - n * 86_400_000 }));
    for (const item of items.slice(50, 60)) {
      const e = engine.explainItem(history, NOW, item.id);
      expect(e.terms).toHaveLength(6);
      expect(Math.abs(e.terms.reduce((s, t) => s + t.value, 0) - e.score)).toBeLessThan(1e-4 * Math.max(1, Math.abs(e.score)));
    }
  });

  it('finds similar items of the same article type and searches by words of the catalog', async () => {
    const item = items[0]!;
    for (const mode of ['visual', 'content', 'blend'] as const) {
      const similar = await engine.similar(item.id, 5, mode);
      expect(similar.items).toHaveLength(5);
      const same = similar.items.filter((r) => items.find((i) => i.id === r.itemId)!.articleType === item.articleType).length;
      expect(same, mode).toBeGreaterThanOrEqual(mode === 'content' ? 3 : 5);
    }
    const query = `${item.colour} ${item.articleType}`;
    const found = await engine.searchText(query, 10);
    const hits = found.items.filter((r) => {
      const i = items.find((x) => x.id === r.itemId)!;
      return i.articleType === item.articleType && i.colour === item.colour;
    }).length;
    expect(hits).toBeGreaterThanOrEqual(Math.min(3, items.filter((i) => i.articleType === item.articleType && i.colour === item.colour).length));
  });
});

describe('the engine ranks as the trainer evaluates (models/hybrid/fashion-fit.ts recommendForHistory)', () => {
  it('gives the same top 10 for simulated shoppers at diversity 0 with no filters', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'engine-parity-'));
    try {
      const demo = await generateDemoCatalog(join(dir, 'demo'), { items: 250, shoppers: 10, seed: 8 });
      const items = (await importKaggleStyles(demo.stylesCsv)).accepted;
      const { events } = simulateCatalogShoppers(items, 80, 5);
      const row = new Map(items.map((item, i) => [item.id, i]));
      const users = new Map<string, number>();
      const indexed: IndexedEvent[] = events.map((e) => {
        if (!users.has(e.userId)) users.set(e.userId, users.size);
        return { user: users.get(e.userId)!, item: row.get(e.itemId)!, type: e.type, at: e.timestamp };
      });
      const content = ContentModel.fit(items, { seed: 5, dim: 16 });
      const fit = fitFashion({ items, events: indexed, nUsers: users.size, content: { vectors: content.embedItems(items), dim: content.dim }, options: { seed: 5 } });
      const n = items.length;
      const f = fit.hybrid.factors;
      const engine = new RecommenderEngine({
        pack: {
          meta: {
            format: RANKER_PACK_FORMAT,
            catalog: { version: 1, contentHash: 'parity' },
            itemIds: items.map((i) => i.id),
            itemFactors: { file: 'f', rows: n, cols: f, encoding: 'f32' },
            contentVectors: { file: 'c', rows: n, cols: content.dim, encoding: 'f32' },
            itemStats: { file: 's', rows: n, cols: fit.stats.columns.length, encoding: 'f32', columns: fit.stats.columns },
            foldIn: { ...fit.hybrid.foldIn },
            rerank: fit.rerank,
          },
          itemFactors: fit.hybrid.itemFactors,
          contentVectors: Float32Array.from(fit.content.vectors),
          itemStats: fit.stats.values,
        },
        catalog: items,
        scorer: jsScorer(),
      });
      const byUser = eventsByUser(indexed, users.size);
      let compared = 0;
      for (const history of byUser.slice(0, 25)) {
        if (history.length === 0) continue;
        const now = history.at(-1)!.at + 3_600_000;
        const expected = Array.from(recommendForHistory(fit, history, now, 10, new Set(), { candidates: 100 }), (i) => items[i]!.id);
        const feed = await engine.feed({
          history: history.map((e) => ({ itemId: items[e.item]!.id, type: e.type, at: e.at })),
          now,
          k: 10,
          diversity: 0,
          filters: { excludePurchased: false },
        });
        expect(feed.items.map((i) => i.itemId)).toEqual(expected);
        compared++;
      }
      expect(compared).toBeGreaterThan(10);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
