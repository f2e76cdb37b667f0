import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processImages } from '../ingest/images';
import { importInteractions } from '../ingest/interactions';
import { importKaggleStyles } from '../ingest/kaggle-catalog';
import { INTERACTION_TYPES } from '../ingest/types';
import { DEMO_DAYS, DEMO_START, generateDemoCatalog, STYLES_COLUMNS } from './demo-catalog';
import type { DemoCatalogResult } from './demo-catalog';
import type { Persona } from './shoppers';

let dir: string;
let demo: DemoCatalogResult;

interface Row {
  id: string;
  gender: string;
  articleType: string;
  colour: string;
  season: string;
  usage: string;
  title: string;
}
let rows: Row[];
let events: { user: string; item: string; type: string; timestamp: string; weight: string }[];
let personas: Persona[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fashionml-demo-'));
  demo = await generateDemoCatalog(join(dir, 'default'));
  const records = parse(readFileSync(demo.stylesCsv), { columns: true }) as Record<string, string>[];
  rows = records.map((r) => ({
    id: r.id!,
    gender: r.gender!,
    articleType: r.articleType!,
    colour: r.baseColour!,
    season: r.season!,
    usage: r.usage!,
    title: r.productDisplayName!,
  }));
  events = parse(readFileSync(demo.interactionsCsv), { columns: true }) as typeof events;
  personas = (JSON.parse(readFileSync(demo.personasJson, 'utf8')) as { personas: Persona[] }).personas;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every file under `root`, with its sha256, by relative path. */
function fingerprint(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (sub: string) => {
    for (const entry of readdirSync(join(root, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else out[rel] = createHash('sha256').update(readFileSync(join(root, rel))).digest('hex');
    }
  };
  walk('');
  return out;
}

describe('generateDemoCatalog', () => {
  it('gives the same bytes for the same seed, and other bytes for another', async () => {
    const again = await generateDemoCatalog(join(dir, 'again'));
    expect(fingerprint(join(dir, 'again'))).toEqual(fingerprint(join(dir, 'default')));
    expect(again).toEqual({ ...demo, stylesCsv: again.stylesCsv, imagesDir: again.imagesDir, interactionsCsv: again.interactionsCsv, personasJson: again.personasJson, readme: again.readme });
    const other = await generateDemoCatalog(join(dir, 'other'), { seed: 7 });
    expect(readFileSync(other.stylesCsv).equals(readFileSync(demo.stylesCsv))).toBe(false);
  });

  it('says everywhere that the data is generated', () => {
    const readme = readFileSync(demo.readme, 'utf8');
    expect(readme).toContain('GENERATED DATA, NOT REAL PRODUCTS OR SHOPPERS');
    expect(readme).toContain('simulated shoppers');
    for (const row of rows) expect(row.title).toMatch(/^Demo /);
    expect(JSON.parse(readFileSync(demo.personasJson, 'utf8'))).toMatchObject({ generated: expect.stringContaining('not real people') });
  });

  it('writes the counts asked for', async () => {
    expect(demo.items).toBe(400);
    expect(rows).toHaveLength(400);
    expect(new Set(rows.map((r) => r.id)).size).toBe(400);
    expect(personas).toHaveLength(60);
    expect(new Set(events.map((e) => e.user)).size).toBe(60);
    expect(events).toHaveLength(demo.events);
    const small = await generateDemoCatalog(join(dir, 'small'), { items: 50, shoppers: 5, seed: 3 });
    expect(small.items).toBe(50);
    expect(readFileSync(small.stylesCsv, 'utf8').trim().split('\n')).toHaveLength(51);
    expect(new Set(readFileSync(small.interactionsCsv, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0])).size).toBe(5);
    await expect(generateDemoCatalog(join(dir, 'bad'), { items: 0 })).rejects.toThrow(/items must be an integer from 1/);
  });

  it('writes styles.csv in the Kaggle layout, which the Kaggle importer accepts whole', async () => {
    const text = readFileSync(demo.stylesCsv, 'utf8');
    expect(text.split('\n')[0]).toBe(STYLES_COLUMNS.join(','));
    for (const record of parse(text) as string[][]) expect(record).toHaveLength(10);
    const imported = await importKaggleStyles(demo.stylesCsv);
    expect(imported.quarantined).toEqual([]);
    expect(imported.accepted).toHaveLength(400);
    expect(imported.accepted[0]!.image).toBe(`images/${rows[0]!.id}.jpg`);
  });

  it('spreads items over genders, categories, colours, seasons and usages', () => {
    const distinct = (key: keyof Row) => new Set(rows.map((r) => r[key])).size;
    expect(distinct('gender')).toBe(5);
    expect(distinct('articleType')).toBeGreaterThanOrEqual(14);
    expect(distinct('colour')).toBe(12);
    expect(distinct('season')).toBe(4);
    expect(distinct('usage')).toBeGreaterThanOrEqual(5);
    const tshirts = rows.filter((r) => r.articleType === 'Tshirts').length;
    expect(tshirts).toBeGreaterThan(rows.filter((r) => r.articleType === 'Sarees').length);
  });

  it('draws a 60×80 JPEG for every item with a photo, with deliberate gaps and byte-identical relistings', async () => {
    const files = readdirSync(demo.imagesDir).sort();
    const withPhoto = rows.filter((r) => !demo.missingPhotoIds.includes(r.id));
    expect(files).toEqual(withPhoto.map((r) => `${r.id}.jpg`).sort());
    expect(demo.images).toBe(withPhoto.length);
    expect(demo.missingPhotoIds.length).toBeGreaterThan(0);
    for (const file of files) {
      const m = await sharp(join(demo.imagesDir, file)).metadata();
      expect([m.format, m.width, m.height, m.channels]).toEqual(['jpeg', 60, 80, 3]);
    }
    expect(demo.duplicatePhotoIds.length).toBeGreaterThanOrEqual(5);
    const bytes = (id: string) => readFileSync(join(demo.imagesDir, `${id}.jpg`));
    for (const group of demo.duplicatePhotoIds) {
      for (const id of group.slice(1)) expect(bytes(id).equals(bytes(group[0]!))).toBe(true);
      const [first, ...rest] = group.map((id) => rows.find((r) => r.id === id)!);
      for (const row of rest) expect({ ...row, id: first!.id }).toEqual(first);
    }
    // Apart from the relistings, every picture differs.
    const hashes = new Set(files.map((f) => createHash('sha256').update(readFileSync(join(demo.imagesDir, f))).digest('hex')));
    expect(hashes.size).toBe(files.length - demo.duplicatePhotoIds.reduce((n, g) => n + g.length - 1, 0));
  });

  it('draws the same type and colour alike, and different types apart', async () => {
    const pixels = new Map<string, Buffer>();
    for (const r of rows.filter((row) => !demo.missingPhotoIds.includes(row.id))) {
      pixels.set(r.id, await sharp(join(demo.imagesDir, `${r.id}.jpg`)).raw().toBuffer());
    }
    const distance = (a: string, b: string) => {
      const x = pixels.get(a)!;
      const y = pixels.get(b)!;
      let sum = 0;
      for (let i = 0; i < x.length; i++) sum += Math.abs(x[i]! - y[i]!);
      return sum / x.length;
    };
    const relisted = new Set(demo.duplicatePhotoIds.flatMap((g) => g.slice(1)));
    const ids = [...pixels.keys()].filter((id) => !relisted.has(id));
    const row = (id: string) => rows.find((r) => r.id === id)!;
    const same: number[] = [];
    const otherType: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) {
        const a = row(ids[i]!);
        const b = row(ids[j]!);
        if (a.articleType === b.articleType && a.colour === b.colour) same.push(distance(a.id, b.id));
        else if (a.articleType !== b.articleType && a.colour === b.colour) otherType.push(distance(a.id, b.id));
      }
    }
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(same.length).toBeGreaterThan(20);
    // Same colour in both sets: only the silhouette differs.
    expect(mean(same)).toBeLessThan(mean(otherType) * 0.7);
  });

  it('writes events that reference only existing items and shoppers, within the 60 days, in time order', async () => {
    expect(readFileSync(demo.interactionsCsv, 'utf8').split('\n')[0]).toBe('user,item,type,timestamp,weight');
    const ids = new Set(rows.map((r) => r.id));
    const users = new Set(personas.map((p) => p.user));
    let previous = 0;
    for (const e of events) {
      expect(ids.has(e.item)).toBe(true);
      expect(users.has(e.user)).toBe(true);
      expect(INTERACTION_TYPES).toContain(e.type);
      const t = Date.parse(e.timestamp);
      expect(t).toBeGreaterThanOrEqual(DEMO_START);
      expect(t).toBeLessThan(DEMO_START + (DEMO_DAYS + 1) * 86_400_000);
      expect(t).toBeGreaterThanOrEqual(previous);
      previous = t;
      expect(['1', '2']).toContain(e.weight);
    }
    const imported = await importInteractions(demo.interactionsCsv, { knownItems: ids });
    expect(imported.quarantined).toEqual([]);
    expect(imported.accepted).toHaveLength(events.length);
  });

  it('follows a shopping funnel: each step after the one before, fewer at each step', () => {
    const n = demo.eventsByType;
    expect(n.view).toBeGreaterThan(n.click);
    expect(n.click).toBeGreaterThan(n.like);
    expect(n.click).toBeGreaterThan(n.add_to_cart);
    expect(n.add_to_cart).toBeGreaterThan(n.purchase);
    expect(n.purchase / n.view).toBeGreaterThan(0.01);
    expect(n.purchase / n.view).toBeLessThan(0.06);
    // Every click follows a view of the item, every purchase an add to cart, by the same shopper.
    const seen = new Set<string>();
    for (const e of events) {
      const key = (type: string) => `${e.user}|${e.item}|${type}`;
      if (e.type === 'click') expect(seen.has(key('view'))).toBe(true);
      if (e.type === 'like' || e.type === 'add_to_cart') expect(seen.has(key('click'))).toBe(true);
      if (e.type === 'purchase') expect(seen.has(key('add_to_cart'))).toBe(true);
      seen.add(key(e.type));
    }
  });

  it("lets every persona's preferences be read back from its events by counting", () => {
    const byId = new Map(rows.map((r) => [r.id, r]));
    const ranked = (list: Row[], key: keyof Row) => {
      const counts = new Map<string, number>();
      for (const r of list) counts.set(r[key], (counts.get(r[key]) ?? 0) + 1);
      return [...counts].sort((a, b) => b[1] - a[1]).map(([value]) => value);
    };
    const seasonLifts: number[] = [];
    let topColourIsPreferred = 0;
    for (const p of personas) {
      const genders: readonly string[] = p.genders;
      const seen = events.filter((e) => e.user === p.user).map((e) => byId.get(e.item)!);
      expect(seen.length).toBeGreaterThan(20);
      // Exact for every persona: gender line, both article types, usage.
      for (const r of seen) expect(genders).toContain(r.gender);
      expect(ranked(seen, 'articleType').slice(0, 2).sort()).toEqual([...p.articleTypes].sort());
      expect(ranked(seen, 'usage')[0]).toBe(p.usage);
      // Colours, among what it looked at in its types: a preferred colour in the top two for every
      // persona, on top for nearly all (a type may barely come in the persona's colours).
      const inTypes = seen.filter((r) => p.articleTypes.includes(r.articleType));
      expect(ranked(inTypes, 'colour').slice(0, 2).some((c) => p.colours.includes(c))).toBe(true);
      if (p.colours.includes(ranked(inTypes, 'colour')[0]!)) topColourIsPreferred++;
      // Season: over-represented against the items of its types (a weaker lean, since most
      // type-and-colour combinations exist in one season only in a catalog this small).
      const offered = rows.filter((r) => genders.includes(r.gender) && p.articleTypes.includes(r.articleType));
      const share = (list: Row[]) => list.filter((r) => r.season === p.season).length / list.length;
      seasonLifts.push(share(seen) / share(offered));
    }
    expect(topColourIsPreferred / personas.length).toBeGreaterThanOrEqual(0.95);
    expect(seasonLifts.filter((lift) => lift > 1).length / personas.length).toBeGreaterThanOrEqual(0.9);
    expect(seasonLifts.sort((a, b) => a - b)[seasonLifts.length >> 1]).toBeGreaterThan(1.5);
  });

  it('goes through the image step of ingest as the real catalog does', async () => {
    const items = rows.map((r) => ({ id: r.id, image: `images/${r.id}.jpg` }));
    const result = await processImages(items, { catalogDir: join(dir, 'default'), outDir: join(dir, 'ingested') });
    expect(result.problems.map((p) => [p.id, p.reason])).toEqual(demo.missingPhotoIds.map((id) => [id, 'missing_image']));
    expect(result.duplicateGroups.map((g) => g.itemIds)).toEqual(demo.duplicatePhotoIds);
    expect(result.encoderInput.count).toBe(demo.images);
    expect(existsSync(result.encoderInput.file)).toBe(true);
  });
});
