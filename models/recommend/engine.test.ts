import { describe, expect, it } from 'vitest';
import { RecommenderEngine } from './engine';
import type { EngineParts } from './engine';
import { jsScorer } from './scorer';
import { splitFilterWords } from './search';
import { DAY, HAND_ITEMS, handContent, handPack, NOW } from './testing/hand-pack';
import type { FeedRequest, HistoryEvent } from './types';

const LIKE_DRESS_VIEW_SHOE: HistoryEvent[] = [
  { itemId: 'dress-red', type: 'like', at: NOW - 60_000 },
  { itemId: 'shoe-red', type: 'view', at: NOW },
];

function parts(overrides: Partial<EngineParts> = {}): EngineParts {
  return { pack: handPack(), catalog: HAND_ITEMS, content: handContent, scorer: jsScorer(), ...overrides };
}

function request(overrides: Partial<FeedRequest> = {}): FeedRequest {
  return { history: LIKE_DRESS_VIEW_SHOE, now: NOW, k: 7, diversity: 0, ...overrides };
}

const ids = (r: { items: { itemId: string }[] }): string[] => r.items.map((i) => i.itemId);

describe('RecommenderEngine feed', () => {
  it('scores the whole catalog by the fold-in, as computed by hand', async () => {
    const engine = new RecommenderEngine(parts());
    engine.warmUp();
    // One minute of decay on a 7-day half-life moves the like's weight by 7e-5: the hand figures hold to 1e-4.
    const feed = await engine.feed(request());
    expect(feed.mode).toBe('personal');
    expect(ids(feed)).toEqual(['dress-red', 'watch-gold', 'shoe-red', 'dress-blue', 'shoe-black', 'watch-steel', 'bag']);
    const explained = engine.explainItem(LIKE_DRESS_VIEW_SHOE, NOW, 'watch-gold');
    expect(explained.score).toBeCloseTo(0.5 * (2 / 3) + 0.5 * 0.6, 4);
    // At diversity 0 the MMR value is the re-rank score scaled to [0, 1] over the candidates (bag 0, dress-red 2/3).
    expect(feed.items.map((i) => i.score)).toEqual([1, 0.95, 0.9, 0.5, 0.45, 0.05, 0].map((v) => expect.closeTo(v, 3)));
  });

  it('decays an event to half its weight after one half-life', () => {
    const engine = new RecommenderEngine(parts());
    // w = 0.5: A = diag(2.5, 2), b = (1.5, 0), x = (0.6, 0).
    const old = engine.explainItem([{ itemId: 'dress-red', type: 'like', at: NOW - 7 * DAY }], NOW, 'dress-red');
    expect(old.score).toBeCloseTo(0.6, 6);
    const fresh = engine.explainItem([{ itemId: 'dress-red', type: 'like', at: NOW }], NOW, 'dress-red');
    expect(fresh.score).toBeCloseTo(2 / 3, 6);
  });

  it('explains each item by history terms that sum to its score', async () => {
    const engine = new RecommenderEngine(parts());
    const history = [...LIKE_DRESS_VIEW_SHOE, { itemId: 'watch-steel', type: 'add_to_cart' as const, at: NOW - 3 * DAY }];
    for (const item of HAND_ITEMS) {
      const e = engine.explainItem(history, NOW, item.id);
      const sum = e.terms.reduce((s, t) => s + t.value, 0);
      // The user vector is float32 (as the device holds it): the terms match to float32 precision.
      expect(Math.abs(sum - e.score)).toBeLessThan(1e-6);
    }
    // watch-gold by hand: u = A⁻¹y = (1/6, 0.2); dress-red 2·(1/6), shoe-red 1.5·0.2.
    const feed = await engine.feed(request());
    const watch = feed.items.find((i) => i.itemId === 'watch-gold')!;
    expect(watch.explanation.kind).toBe('history');
    expect(watch.explanation.because.map((b) => b.itemId)).toEqual(['dress-red', 'shoe-red']);
    expect(watch.explanation.because[0]!.share).toBeCloseTo(1 / 3 / (1 / 3 + 0.3), 4);
    expect(watch.explanation.because.reduce((s, b) => s + b.share, 0)).toBeCloseTo(1, 10);
  });

  it('applies attribute filters before taking candidates, so a narrow filter still fills the page', async () => {
    const engine = new RecommenderEngine(parts(), { candidates: 2 });
    expect(ids(await engine.feed(request({ filters: { colours: ['Red'] } })))).toEqual(['dress-red', 'shoe-red', 'bag']);
    expect(ids(await engine.feed(request({ filters: { genders: ['Men', 'Unisex'], masterCategories: ['Accessories'] } })))).toEqual(['watch-gold', 'watch-steel']);
    expect(ids(await engine.feed(request({ filters: { articleTypes: ['Dresses'], colours: ['Green'] } })))).toEqual([]);
    expect(ids(await engine.feed(request({ k: 3, filters: { excludeItemIds: ['dress-red', 'nope'] } })))).toEqual(['watch-gold', 'shoe-red', 'dress-blue']);
  });

  it('leaves out purchased items unless told not to', async () => {
    const engine = new RecommenderEngine(parts());
    const history: HistoryEvent[] = [{ itemId: 'dress-red', type: 'purchase', at: NOW }];
    expect(ids(await engine.feed(request({ history, k: 2 })))).not.toContain('dress-red');
    expect(ids(await engine.feed(request({ history, k: 2, filters: { excludePurchased: false } })))[0]).toBe('dress-red');
  });

  it('diversifies with MMR: diversity 1 trades the second dress for the unlike bag', async () => {
    const engine = new RecommenderEngine(parts());
    expect(ids(await engine.feed(request({ k: 4, diversity: 0 })))).toEqual(['dress-red', 'watch-gold', 'shoe-red', 'dress-blue']);
    expect(ids(await engine.feed(request({ k: 4, diversity: 1 })))).toEqual(['dress-red', 'watch-gold', 'shoe-red', 'bag']);
    const mid = await engine.feed(request({ diversity: 0.5 }));
    const scores = mid.items.map((i) => i.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('re-ranks with the pack\'s linear model over named features', async () => {
    // Popularity alone (dress-red 10, shoe-red 8, bag 5, dress-blue 2, shoe-black 1, watches 0).
    const engine = new RecommenderEngine(parts({ pack: handPack({ features: ['hybridScore', 'popularity'], weights: [0, 1], bias: 0 }) }));
    expect(ids(await engine.feed(request({ k: 5 })))).toEqual(['dress-red', 'shoe-red', 'bag', 'dress-blue', 'shoe-black']);
    // visualSim: cosine with the recent items (shoe-red, dress-red); ties keep the candidate order.
    const visual = new RecommenderEngine(parts({ pack: handPack({ features: ['visualSim'], weights: [1], bias: 0 }) }));
    expect(ids(await visual.feed(request({ k: 4 })))).toEqual(['dress-red', 'shoe-red', 'dress-blue', 'shoe-black']);
  });

  it('refuses a pack whose re-ranker names a feature it cannot compute', () => {
    expect(() => new RecommenderEngine(parts({ pack: handPack({ features: ['hybridScore', 'priceAffinity'], weights: [1, 1], bias: 0 }) }))).toThrow(/"priceAffinity"/);
    expect(() => new RecommenderEngine(parts({ pack: handPack({ features: ['hybridScore'], weights: [1, 2], bias: 0 }) }))).toThrow(/1 features but 2 weights/);
  });

  it('gives a new shopper popular and trending items', async () => {
    const engine = new RecommenderEngine(parts());
    const feed = await engine.feed(request({ history: [] }));
    expect(feed.mode).toBe('popular');
    expect(ids(feed)).toEqual(['dress-red', 'dress-blue', 'shoe-red', 'bag', 'watch-gold', 'shoe-black', 'watch-steel']);
    expect(feed.items.slice(0, 2).map((i) => i.explanation.kind)).toEqual(['popular', 'trending']);
    // Unknown items only (e.g. removed from the catalog) are no history, and are counted.
    const stale = await engine.feed(request({ history: [{ itemId: 'gone', type: 'like', at: NOW }] }));
    expect(stale.mode).toBe('popular');
    expect(stale.unknownHistoryItems).toBe(1);
    const fussy = new RecommenderEngine(parts(), { minHistoryItems: 3 });
    expect((await fussy.feed(request())).mode).toBe('popular');
  });

  it('serves a repeated request state from the cache and forgets it when the model changes', async () => {
    const engine = new RecommenderEngine(parts());
    const first = await engine.feed(request({ k: 3 }));
    expect(first.cached).toBe(false);
    const again = await engine.feed(request({ k: 3, now: NOW + 1000 })); // weights move by 1e-6: the same state
    expect(again.cached).toBe(true);
    expect(again.items).toEqual(first.items);
    again.items[0]!.itemId = 'tampered';
    expect((await engine.feed(request({ k: 3 }))).items[0]!.itemId).toBe('dress-red');
    expect((await engine.feed(request({ k: 3, diversity: 0.3 }))).cached).toBe(false);
    expect((await engine.feed(request({ k: 3, now: NOW + 2 * DAY }))).cached).toBe(false);
    engine.setModel(parts({ pack: handPack({ features: ['popularity'], weights: [1], bias: 0 }) }));
    const swapped = await engine.feed(request({ k: 3 }));
    expect(swapped.cached).toBe(false);
    expect(ids(swapped)).toEqual(['dress-red', 'shoe-red', 'bag']);
  });

  it('names the bad field of a bad request', async () => {
    const engine = new RecommenderEngine(parts());
    const bad = (r: unknown) => engine.feed(r as FeedRequest);
    await expect(bad(request({ k: 0 }))).rejects.toThrow(/k must be an integer/);
    await expect(bad(request({ diversity: 2 }))).rejects.toThrow(/diversity/);
    await expect(bad(request({ history: [{ itemId: 'bag', type: 'wishlist', at: NOW }] as never }))).rejects.toThrow(/history\[0\]\.type "wishlist"/);
    await expect(bad(request({ history: [{ itemId: 'bag', type: 'like', at: Number.NaN }] }))).rejects.toThrow(/history\[0\]\.at/);
    await expect(bad(request({ filters: { colour: ['Red'] } as never }))).rejects.toThrow(/unknown filter "colour"/);
    await expect(bad(request({ filters: { colours: 'Red' } as never }))).rejects.toThrow(/filters\.colours must be an array/);
  });
});

describe('RecommenderEngine similar items and search', () => {
  it('finds visually similar items, leaving out the item itself', async () => {
    const engine = new RecommenderEngine(parts());
    const visual = await engine.similar('dress-red', 2, 'visual');
    expect(ids(visual)).toEqual(['dress-blue', 'watch-steel']);
    expect(visual.items[0]!.score).toBeCloseTo(0.8, 6);
    expect(visual.items[0]!.explanation).toEqual({ kind: 'similar', because: [{ itemId: 'dress-red', share: 1 }] });
    expect(ids(await engine.similar('dress-red', 2, 'visual', { genders: ['Men'] }))).toEqual(['shoe-black', 'watch-gold']);
  });

  it('blends visual and content similarity, and uses content alone for an item without a photo', async () => {
    const engine = new RecommenderEngine(parts());
    // watch-gold: bag is 0 visually (no photo) but 0.8 by content → blend 0.4; watch-steel 0.8 both → 0.8.
    const blend = await engine.similar('watch-gold', 3, 'blend');
    expect(ids(blend)).toEqual(['watch-steel', 'shoe-black', 'bag']);
    expect(blend.items.map((i) => i.score)).toEqual([0.8, 0.6, 0.4].map((v) => expect.closeTo(v, 6)));
    // The bag has no photo: blend falls back to its content vector, which it shares with watch-steel.
    expect(ids(await engine.similar('bag', 1, 'blend'))).toEqual(['watch-steel']);
    await expect(engine.similar('bag', 1, 'visual')).rejects.toThrow(/"bag" has no photo embedding/);
    await expect(engine.similar('nope', 1, 'visual')).rejects.toThrow(/unknown item "nope"/);
    await expect(engine.similar('bag', 1, 'sideways' as never)).rejects.toThrow(/mode "sideways"/);
  });

  it('searches titles and attributes with prefixes and typos, blended with the content query vector', async () => {
    const engine = new RecommenderEngine(parts());
    const red = await engine.searchText('red dres', 3);
    expect(ids(red)[0]).toBe('dress-red');
    expect(red.items[0]!.explanation.kind).toBe('query');
    expect(ids(await engine.searchText('watsh', 2)).sort()).toEqual(['watch-gold', 'watch-steel']);
    expect(ids(await engine.searchText('red', 5, { masterCategories: ['Footwear'] }))).toEqual(['shoe-red']);
    expect((await engine.searchText('   ', 5)).items).toEqual([]);
    // "sundress" is no word of the catalog: only the content query vector finds the dresses.
    expect(ids(await engine.searchText('sundress', 2))).toEqual(['dress-red', 'dress-blue']);
    const keywordOnly = new RecommenderEngine(parts({ content: undefined }));
    expect(keywordOnly.info.contentQueries).toBe(false);
    expect((await keywordOnly.searchText('sundress', 2)).items).toEqual([]);
  });

  it('takes gender and colour words of a query as filters', async () => {
    const values = { genders: ['Men', 'Women', 'Unisex'], colours: ['Blue', 'Navy Blue', 'Black'] };
    expect(splitFilterWords('sports shoes MEN', values)).toEqual({ text: 'sports shoes', genders: ['Men', 'Unisex'], colours: [] });
    expect(splitFilterWords('navy blue shirt', values)).toEqual({ text: 'shirt', genders: [], colours: ['Navy Blue'] });
    expect(splitFilterWords('blue jeans', values)).toEqual({ text: 'jeans', genders: [], colours: ['Navy Blue', 'Blue'] });
    expect(splitFilterWords('women black', values)).toEqual({ text: 'women black', genders: [], colours: [] });
    const engine = new RecommenderEngine(parts({ content: undefined }));
    expect(ids(await engine.searchText('watch men', 5)).sort()).toEqual(['watch-gold', 'watch-steel']);
    expect(ids(await engine.searchText('watch women', 5))).toEqual(['watch-steel']);
    // Only attribute words: searched as keywords, all words first, then any word.
    expect(ids(await engine.searchText('red women', 3)).sort()).toEqual(['bag', 'dress-red', 'shoe-red']);
    expect(ids(await engine.searchText('red leather', 5))).toEqual(['bag']);
  });

  it('ranks the nearest photo embeddings to a query vector', async () => {
    const engine = new RecommenderEngine(parts());
    const near = await engine.nearestToEmbedding([0.1, 0.9, 0.05], 2);
    expect(ids(near)).toEqual(['shoe-red', 'shoe-black']);
    await expect(engine.nearestToEmbedding([1, 0], 2)).rejects.toThrow(/2 values, the pack's image embeddings have 3/);
  });

  it('reports pack items missing from the catalog and never shows them', async () => {
    const engine = new RecommenderEngine(parts({ catalog: HAND_ITEMS.filter((i) => i.id !== 'watch-gold').concat({ ...HAND_ITEMS[0]!, id: 'new-item' }) }));
    expect(engine.info).toMatchObject({ missingFromCatalog: 1, notInPack: 1, visual: true, content: true, contentQueries: true, imageEncoder: 'image-encoder@1' });
    expect(ids(await engine.feed(request()))).not.toContain('watch-gold');
    expect(ids(await engine.similar('watch-steel', 6, 'visual'))).not.toContain('watch-gold');
    expect(ids(await engine.feed(request({ history: [] })))).not.toContain('watch-gold');
  });
});

describe('RecommenderEngine repeat purchases', () => {
  const bought: HistoryEvent[] = [
    { itemId: 'watch-steel', type: 'purchase', at: NOW - DAY },
    { itemId: 'dress-red', type: 'like', at: NOW - 30 * DAY },
  ];

  it('ranks a bought item again only for a ranker with the repeat feature, and never in a feed that leaves purchases out', async () => {
    const withRepeat = new RecommenderEngine(parts({ pack: handPack({ features: ['hybridScore', 'repeat'], weights: [1, 10], bias: 0 }) }));
    const batch = await withRepeat.feed(request({ history: bought, k: 3, filters: { excludePurchased: false } }));
    expect(ids(batch)[0]).toBe('watch-steel');
    const feed = await withRepeat.feed(request({ history: bought, k: 7 }));
    expect(ids(feed)).not.toContain('watch-steel');
    const plain = new RecommenderEngine(parts());
    const plainBatch = await plain.feed(request({ history: bought, k: 3, filters: { excludePurchased: false } }));
    expect(ids(plainBatch)[0]).not.toBe('watch-steel');
  });

  it('refuses a pack whose trending-by-segment feature has no recentSales column to scale', () => {
    expect(() => new RecommenderEngine(parts({ pack: handPack({ features: ['typeTrending'], weights: [1], bias: 0 }) }))).toThrow(/typeTrending.*recentSales/);
  });
});

describe('RecommenderEngine variant groups', () => {
  // The two dresses and the two watches are each one garment in two colours.
  const grouped = HAND_ITEMS.map((item) => ({ ...item, variantGroup: item.id.startsWith('dress') ? 'dress' : item.id.startsWith('watch') ? 'watch' : undefined }));

  it('keeps at most the configured number of one garment\'s variants in a feed, personal or popular', async () => {
    const one = new RecommenderEngine(parts({ catalog: grouped }), { maxPerVariantGroup: 1 });
    const feed = ids(await one.feed(request()));
    expect(feed.filter((id) => id.startsWith('dress'))).toEqual(['dress-red']);
    expect(feed.filter((id) => id.startsWith('watch'))).toEqual(['watch-gold']);
    expect(feed).toHaveLength(5);
    const popular = ids(await one.feed(request({ history: [] })));
    expect(popular.filter((id) => id.startsWith('dress'))).toHaveLength(1);
    const uncapped = new RecommenderEngine(parts({ catalog: grouped }), { maxPerVariantGroup: 0 });
    expect(ids(await uncapped.feed(request()))).toHaveLength(7);
    expect(() => new RecommenderEngine(parts(), { maxPerVariantGroup: -1 })).toThrow(/maxPerVariantGroup/);
  });
});

describe('RecommenderEngine batch requests', () => {
  it('ranks the same with and without explanations, leaves them empty when asked, and caches nothing with cacheSize 0', async () => {
    const engine = new RecommenderEngine(parts(), { cacheSize: 0 });
    const explained = await engine.feed(request());
    const bare = await engine.feed(request({ explain: false }));
    expect(ids(bare)).toEqual(ids(explained));
    expect(bare.items.every((i) => i.explanation.because.length === 0)).toBe(true);
    expect(explained.items[0]!.explanation.because.length).toBeGreaterThan(0);
    expect((await engine.feed(request())).cached).toBe(false);
    expect(engine.cacheSize).toBe(0);
    await expect(engine.feed(request({ explain: 'no' as unknown as boolean }))).rejects.toThrow(/explain must be true or false/);
  });
});
