import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogItem } from '../../models/catalog/item';
import { ContentModel } from '../../models/content/content-model';
import { decodeMatrix } from '../../models/recommend/pack';
import type { RankerPackMeta } from '../../models/recommend/pack';
import { ITEM_STAT_COLUMNS, RERANK_FEATURE_NAMES } from '../../models/recommend/rerank-features';
import { generateDemoCatalog } from '../demo/demo-catalog';
import { importKaggleStyles } from '../ingest/kaggle-catalog';
import { trainFashionRanker } from './fashion-ranker';

describe('trainFashionRanker on the demo catalog with no interaction log', () => {
  let dir: string;
  let items: CatalogItem[];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fashion-ranker-'));
    const demo = await generateDemoCatalog(join(dir, 'demo'), { items: 240, shoppers: 10, seed: 9 });
    items = (await importKaggleStyles(demo.stylesCsv)).accepted;
  }, 120_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('simulates shoppers, says so, and writes a pack the device can read', async () => {
    const dim = 8;
    const vectors = new Float32Array(items.length * dim);
    items.forEach((item, i) => (vectors[i * dim + (item.articleType.length % dim)] = 1));
    const stages: string[] = [];
    const out = join(dir, 'pack');
    const result = await trainFashionRanker({
      items,
      catalog: { version: 3, contentHash: 'abc' },
      events: [],
      imageEmbeddings: { dim, vectors, encoder: 'image-encoder@2' },
      outDir: out,
      seed: 4,
      shoppers: 60,
      onProgress: (p) => stages.push(p.stage),
    });
    expect(result.simulated).toBe(true);
    expect(result.metrics.simulated).toBe(1);
    expect(stages).toEqual(['simulate', 'content', 'evaluate', 'fit', 'write']);
    expect(result.metrics.ndcg10).toBeGreaterThan(result.metrics['popularity.ndcg10']!);
    expect(result.losses.als.at(-1)).toBeLessThan(result.losses.als[0]!);

    const meta = JSON.parse(await readFile(join(out, 'ranker.json'), 'utf8')) as RankerPackMeta;
    expect(meta).toEqual(result.meta);
    expect(meta.itemIds).toEqual(items.map((i) => i.id));
    expect(meta.catalog).toEqual({ version: 3, contentHash: 'abc' });
    expect(meta.extra?.simulated).toBe(true);
    expect(meta.imageEmbeddings?.encoder).toBe('image-encoder@2');
    for (const name of meta.rerank.features) expect(RERANK_FEATURE_NAMES).toContain(name);
    expect(meta.rerank.weights).toHaveLength(meta.rerank.features.length);
    const factors = decodeMatrix(meta.itemFactors, new Uint8Array(await readFile(join(out, meta.itemFactors.file))));
    expect(factors.length).toBe(items.length * meta.itemFactors.cols);
    expect(factors.some((v) => v !== 0)).toBe(true);
    const stats = decodeMatrix(meta.itemStats, new Uint8Array(await readFile(join(out, meta.itemStats.file))));
    expect(meta.itemStats.columns).toEqual([...ITEM_STAT_COLUMNS]);
    for (const v of stats) expect(v >= 0 && v <= 1).toBe(true);
    const content = ContentModel.fromJSON(JSON.parse(await readFile(join(out, meta.contentModel!.file), 'utf8')));
    expect(content.dim).toBe(meta.contentModel!.dim);
    expect(result.evaluationData).toMatch(/^fashion-eval\/\d+;catalog=abc;events=sha256:[0-9a-f]{64};seed=42;/);
    expect(meta.extra).toMatchObject({ seed: 4, evaluationSeed: 42, evaluationData: result.evaluationData });
  }, 120_000);

  it('evaluates every model seed on the same simulated shoppers and split, and another evaluation seed on others', async () => {
    const base = { items, catalog: { version: 1, contentHash: 'same' }, events: [], shoppers: 40 };
    const a = await trainFashionRanker({ ...base, outDir: join(dir, 'seed-a'), seed: 11 });
    const b = await trainFashionRanker({ ...base, outDir: join(dir, 'seed-b'), seed: 12 });
    expect(b.evaluationData).toBe(a.evaluationData);
    expect(b.personas).toEqual(a.personas);
    for (const key of ['eval.testUsers', 'eval.coldItems', 'eval.coldUsers', 'popularity.ndcg10', 'popularity.recall20']) expect(b.metrics[key], key).toBe(a.metrics[key]);
    // The models differ (factor initialisation, content model), so the gate has something to compare.
    const factors = (r: typeof a) => readFile(join(r.dir, r.meta.itemFactors.file));
    expect((await factors(b)).equals(await factors(a))).toBe(false);
    const other = await trainFashionRanker({ ...base, outDir: join(dir, 'seed-c'), seed: 11, evaluationSeed: 7, skipEvaluation: true });
    expect(other.evaluationData).not.toBe(a.evaluationData);
    expect(other.metrics).toEqual({});
  }, 180_000);

  it('refuses bad input with the field named', async () => {
    const base = { items, catalog: { version: 1, contentHash: 'x' }, events: [], outDir: join(dir, 'bad') };
    await expect(trainFashionRanker({ ...base, items: [] })).rejects.toThrow(/items is empty/);
    await expect(trainFashionRanker({ ...base, evaluationSeed: 1.5 })).rejects.toThrow(/evaluationSeed must be a non-negative integer/);
    await expect(trainFashionRanker({ ...base, shoppers: 0 })).rejects.toThrow(/shoppers must be a positive integer/);
    await expect(trainFashionRanker({ ...base, items: [items[0]!, items[0]!] })).rejects.toThrow(/items\[1\] repeats id/);
    await expect(trainFashionRanker({ ...base, imageEmbeddings: { dim: 4, vectors: new Float32Array(3), encoder: 'image-encoder@1' } })).rejects.toThrow(/imageEmbeddings\.vectors/);
    await expect(trainFashionRanker({ ...base, imageEmbeddings: { dim: 1, vectors: new Float32Array(items.length), encoder: 'enc' } })).rejects.toThrow(/imageEmbeddings\.encoder/);
    await expect(
      trainFashionRanker({ ...base, events: [{ userId: 'u', itemId: items[0]!.id, type: 'stare' as 'view', timestamp: 0 }] }),
    ).rejects.toThrow(/events\[0\]\.type/);
  });
});
