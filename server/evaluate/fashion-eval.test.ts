import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogItem, InteractionEvent } from '../../models/catalog/item';
import { ContentModel } from '../../models/content/content-model';
import { generateDemoCatalog } from '../demo/demo-catalog';
import type { Persona } from '../demo/shoppers';
import { importInteractions } from '../ingest/interactions';
import { importKaggleStyles } from '../ingest/kaggle-catalog';
import { aucOver, evaluateFashion } from './fashion-eval';

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

  it('the hybrid beats popularity and pure CF, ranks cold items, personalises, and its losses fall', () => {
    const content = ContentModel.fit(items, { dim: 32 });
    const result = evaluateFashion({ items, events, personas, content: { vectors: content.embedItems(items), dim: 32 }, options: { seed: 3 } });
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
});
