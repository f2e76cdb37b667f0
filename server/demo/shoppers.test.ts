import { describe, expect, it } from 'vitest';
import { createRandom } from './random';
import { simulateShoppers } from './shoppers';
import type { ShopperItem } from './shoppers';

const OPTIONS = { start: Date.UTC(2024, 0, 1), days: 30 };

/** A catalog cut across every attribute, `n` items, drawn from `seed`. */
function catalog(n: number, seed: number, genders = ['Men', 'Women', 'Unisex', 'Boys', 'Girls']): ShopperItem[] {
  const random = createRandom(seed);
  const types = ['Tshirts', 'Shirts', 'Jeans', 'Kurtas', 'Watches', 'Sports Shoes', 'Handbags', 'Tops'];
  const colours = ['Black', 'White', 'Blue', 'Red', 'Green', 'Navy Blue', 'Grey'];
  const usages = ['Casual', 'Formal', 'Sports', 'Ethnic'];
  const seasons = ['Summer', 'Fall', 'Winter', 'Spring'];
  return Array.from({ length: n }, (_, i) => ({
    id: `i${i}`,
    gender: random.pick(genders),
    articleType: random.pick(types),
    colour: random.pick(colours),
    usage: random.pick(usages),
    season: random.pick(seasons),
  }));
}

describe('simulateShoppers (simulated data)', () => {
  it('gives the same personas and events for the same seed, others for another', () => {
    const items = catalog(600, 1);
    const a = simulateShoppers(createRandom(7), items, { ...OPTIONS, shoppers: 25 });
    const b = simulateShoppers(createRandom(7), items, { ...OPTIONS, shoppers: 25 });
    const c = simulateShoppers(createRandom(8), items, { ...OPTIONS, shoppers: 25 });
    expect(b).toEqual(a);
    expect(c.events).not.toEqual(a.events);
    // Shopper p depends only on its own stream: more shoppers leave the first ones as they were.
    const more = simulateShoppers(createRandom(7), items, { ...OPTIONS, shoppers: 40 });
    expect(more.personas.slice(0, 25)).toEqual(a.personas);
    expect(more.events.filter((e) => a.personas.some((p) => p.user === e.userId))).toEqual(a.events);
  });

  it('shows each persona only items of its genders, and mostly its article types', () => {
    const items = catalog(2000, 2);
    const byId = new Map(items.map((item) => [item.id, item]));
    const { personas, events } = simulateShoppers(createRandom(3), items, { ...OPTIONS, shoppers: 30 });
    for (const p of personas) {
      const seen = events.filter((e) => e.userId === p.user).map((e) => byId.get(e.itemId)!);
      expect(seen.length).toBeGreaterThan(0);
      for (const item of seen) expect(p.genders as string[]).toContain(item.gender);
      const inTypes = seen.filter((item) => p.articleTypes.includes(item.articleType)).length;
      expect(inTypes / seen.length).toBeGreaterThan(0.5);
    }
  });

  // Regression: a catalog spelling genders its own way (no Men, Women, Unisex, Boys or Girls) left
  // every item ineligible, and the first browsing session threw "browse is not a function".
  it('lets shoppers of a catalog with other gender names browse every item', () => {
    const items = catalog(300, 4, ['F', 'M']);
    const { personas, events } = simulateShoppers(createRandom(5), items, { ...OPTIONS, shoppers: 12 });
    expect(personas).toHaveLength(12);
    expect(new Set(events.map((e) => e.userId)).size).toBe(12);
    const ids = new Set(items.map((item) => item.id));
    for (const e of events) expect(ids.has(e.itemId)).toBe(true);
  });

  it('refuses an empty catalog', () => {
    expect(() => simulateShoppers(createRandom(1), [], { ...OPTIONS, shoppers: 1 })).toThrow(/no items/);
  });
});
