import { describe, expect, it } from 'vitest';
import type { CatalogItem, InteractionEvent } from '../../models/catalog/item';
import { DAY_MS } from '../../models/hybrid/fashion-hybrid';
import { SeededRandom } from '../../models/random';
import { averagePrecision, catalogAtCut, evaluateRealShop, hasTemporalSplit, lastWindowCut, rankingMetrics, realShopMetrics } from './real-shop-eval';

const START = Date.UTC(2024, 0, 1);
const TYPES = ['Trousers', 'Sweater', 'Dress', 'T-shirt'];
const COLOURS = ['Black', 'White', 'Blue', 'Red', 'Green'];

/** 40 garments in 1–3 colours each; shoppers who favour one type, buy again and buy other colours. */
function shop(): { items: CatalogItem[]; events: InteractionEvent[] } {
  const random = new SeededRandom(3);
  const items: CatalogItem[] = [];
  for (let g = 0; g < 40; g++) {
    const colours = 1 + random.int(3);
    for (let c = 0; c < colours; c++) {
      const type = TYPES[g % TYPES.length]!;
      items.push({
        id: `a${g}-${c}`,
        title: `${type} ${g}`,
        gender: g % 2 === 0 ? 'Ladieswear' : 'Menswear',
        masterCategory: 'Garment',
        subCategory: `Dept ${g % 5}`,
        articleType: type,
        colour: COLOURS[(g + c) % COLOURS.length]!,
        variantGroup: `g${g}`,
        attributes: {},
      });
    }
  }
  const events: InteractionEvent[] = [];
  for (let u = 0; u < 60; u++) {
    const type = TYPES[u % TYPES.length]!;
    const liked = items.filter((item) => item.articleType === type);
    let day = random.int(30);
    while (day < 196) {
      const item = random.next() < 0.3 && events.length > 0 ? events[events.length - 1]!.itemId : liked[random.int(liked.length)]!.id;
      events.push({ userId: `u${u}`, itemId: item, type: 'purchase', timestamp: START + day * DAY_MS + u * 1000 });
      day += 3 + random.int(12);
    }
  }
  return { items, events };
}

describe('the real-shop metrics', () => {
  it("computes Kaggle's MAP@12 (over min(relevant, 12)), recall, NDCG and hit rate by hand", () => {
    // Hits at ranks 2 and 3 of 3 relevant: (1/2 + 2/3) / 3.
    expect(averagePrecision([7, 1, 2, 9], new Set([1, 2, 5]), 12)).toBeCloseTo((1 / 2 + 2 / 3) / 3, 12);
    // 13 relevant: the denominator is 12.
    const many = new Set(Array.from({ length: 13 }, (_, i) => i));
    expect(averagePrecision([0], many, 12)).toBeCloseTo(1 / 12, 12);
    // A repeated item counts once.
    expect(averagePrecision([1, 1], new Set([1, 2]), 12)).toBeCloseTo(1 / 2, 12);
    const m = rankingMetrics([Int32Array.from([7, 1]), Int32Array.from([3])], [new Set([1]), new Set([4, 5])], 12);
    expect(m.users).toBe(2);
    expect(m.map12).toBeCloseTo((1 / 2 + 0) / 2, 12);
    expect(m.recall12).toBeCloseTo((1 + 0) / 2, 12);
    expect(m.hr12).toBeCloseTo(0.5, 12);
    expect(m.ndcg12).toBeCloseTo((1 / Math.log2(3) / 1 + 0) / 2, 12);
  });
});

describe('evaluateRealShop', () => {
  const { items, events } = shop();
  const cut = lastWindowCut(events, 28);

  it('ranks only the catalog as it stood at the cut, and an article first sold after it is never ranked', async () => {
    const late: CatalogItem = { ...items[0]!, id: 'late', variantGroup: 'g0', title: 'Trousers late' };
    // Bought by everyone in the test window: it would top every list if the model could see it.
    const lateSales = Array.from({ length: 60 }, (_, u): InteractionEvent => ({ userId: `u${u}`, itemId: 'late', type: 'purchase', timestamp: cut + DAY_MS }));
    const all = [...events, ...lateSales];
    expect(catalogAtCut([...items, late], all, cut).map((i) => i.id)).not.toContain('late');
    const r = await evaluateRealShop({ items: [...items, late], events: all, cut, days: 28, baselines: ['repurchaseVariants'] });
    expect(r.counts.catalogAtCut).toBe(catalogAtCut(items, events, cut).length);
    expect(r.counts.unreachablePairs).toBeGreaterThanOrEqual(r.counts.testCustomers);
    for (const list of r.served) expect(list.items).not.toContain('late');
  }, 120_000);

  it('cannot see the future: events after the cut change no list, only what is counted as relevant', async () => {
    const before = await evaluateRealShop({ items, events, cut, days: 28, baselines: ['popularityWeek', 'repurchase'] });
    // Every customer with a test purchase buys one more item in the window, and more after it.
    const extra: InteractionEvent[] = before.served.map((s, n) => ({ userId: s.customer, itemId: items[n % items.length]!.id, type: 'purchase', timestamp: cut + 2 * DAY_MS }));
    const afterWindow: InteractionEvent[] = items.slice(0, 20).map((item, n) => ({ userId: `u${n}`, itemId: item.id, type: 'purchase', timestamp: cut + 40 * DAY_MS }));
    const after = await evaluateRealShop({ items, events: [...events, ...extra, ...afterWindow], cut, days: 28, baselines: ['popularityWeek', 'repurchase'] });
    expect(after.served).toEqual(before.served);
    expect(after.counts.trainEvents).toBe(before.counts.trainEvents);
    expect(after.rerank).toEqual(before.rerank);
    expect(after.counts.testPairs).toBeGreaterThan(before.counts.testPairs);
  }, 180_000);

  it('serves repeat purchases and other colours of known garments, and beats popularity on this shop', async () => {
    const r = await evaluateRealShop({ items, events, cut, days: 28 });
    expect(r.rerank.features).toContain('repeat');
    expect(r.rerank.features).toContain('variantOwned');
    const served = r.models.served!;
    expect(served.all.users).toBe(r.counts.testCustomers);
    expect(served.all.map12).toBeGreaterThan(r.models.popularity!.all.map12);
    // Test customers' lists hold items they bought before the cut, and other variants of them.
    const group = new Map(items.map((i) => [i.id, i.variantGroup]));
    const had = new Map<string, Set<string>>();
    for (const e of events) if (e.timestamp < cut) (had.get(e.userId) ?? had.set(e.userId, new Set()).get(e.userId)!).add(e.itemId);
    let repeats = 0;
    let variants = 0;
    for (const s of r.served) {
      const own = had.get(s.customer) ?? new Set();
      const groups = new Set([...own].map((id) => group.get(id)));
      for (const id of s.items) {
        if (own.has(id)) repeats++;
        else if (groups.has(group.get(id))) variants++;
      }
    }
    expect(repeats).toBeGreaterThan(0);
    expect(variants).toBeGreaterThan(0);
    const metrics = realShopMetrics(r);
    expect(metrics.map12).toBe(served.all.map12);
    expect(metrics['popularity.map12']).toBe(r.models.popularity!.all.map12);
    expect(r.alsTuned?.factors).toBeGreaterThan(0);
  }, 180_000);

  it('knows when a log is too short for the protocol', () => {
    expect(hasTemporalSplit(events, cut, 28)).toBe(true);
    const recent = events.filter((e) => e.timestamp >= cut - 28 * DAY_MS);
    expect(hasTemporalSplit(recent, cut, 28)).toBe(false);
    expect(hasTemporalSplit(events.filter((e) => e.timestamp < cut), cut, 28)).toBe(false);
  });
});
