import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ContentItem } from './content-model';
import { ContentModel, tokenize } from './content-model';

const STYLES = '/work/shared/data/myntra-fashion-small/styles.csv';

function item(title: string, articleType: string, colour: string, gender = 'Men'): ContentItem {
  const sub = articleType === 'Jeans' ? 'Bottomwear' : articleType === 'Watches' ? 'Watches' : 'Topwear';
  return { title, gender, masterCategory: sub === 'Watches' ? 'Accessories' : 'Apparel', subCategory: sub, articleType, colour, season: 'Summer', usage: 'Casual' };
}

const SMALL: ContentItem[] = [
  item('Roadster Men Navy Blue Shirt', 'Shirts', 'Navy Blue'),
  item('Arrow Men Navy Blue Check Shirt', 'Shirts', 'Navy Blue'),
  item('Arrow Men White Formal Shirt', 'Shirts', 'White'),
  item('Levis Men Blue Slim Jeans', 'Jeans', 'Blue'),
  item('Wrangler Men Blue Jeans', 'Jeans', 'Blue'),
  item('Titan Women Silver Watch', 'Watches', 'Silver', 'Women'),
  item('Fastrack Women Silver Dial Watch', 'Watches', 'Silver', 'Women'),
  item('Nike Men Black T-shirt', 'Tshirts', 'Black'),
  item('Puma Men Black T shirts', 'Tshirts', 'Black'),
];

function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

describe('tokenize', () => {
  it('lower-cases, drops apostrophes and stop words, joins hyphens and lone letters, stems plurals', () => {
    expect(tokenize("Men's Navy-Blue T-Shirt with Dresses, t shirts & Watches")).toEqual(['men', 'navyblue', 'tshirt', 'dress', 'tshirt', 'watch']);
    expect(tokenize('Crème Brûlée')).toEqual(['creme', 'brulee']);
    expect(tokenize('  ')).toEqual([]);
  });
});

describe('ContentModel', () => {
  const model = ContentModel.fit(SMALL, { dim: 8, minDf: 1 });

  it('embeds items as unit vectors, nearer within an article type than across', () => {
    const v = SMALL.map((i) => model.embedItem(i));
    for (const x of v) expect(cosine(x, x)).toBeCloseTo(1, 5);
    expect(cosine(v[0]!, v[1]!)).toBeGreaterThan(cosine(v[0]!, v[5]!));
    expect(cosine(v[3]!, v[4]!)).toBeGreaterThan(cosine(v[3]!, v[7]!));
  });

  it('matches a typed query to attribute phrases and title words', () => {
    const q = model.embedQuery('navy blue shirt');
    const scores = SMALL.map((i) => cosine(q, model.embedItem(i)));
    const best = scores.indexOf(Math.max(...scores));
    expect(SMALL[best]!.colour).toBe('Navy Blue');
    expect(model.queryTerms('navy blue').indices.length).toBeGreaterThan(1);
    expect([...model.embedQuery('zzzz qqqq')].every((x) => x === 0)).toBe(true);
  });

  it('round-trips through JSON with the same vectors', () => {
    const again = ContentModel.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
    for (const i of SMALL) expect([...again.embedItem(i)]).toEqual([...model.embedItem(i)]);
  });

  it('names the bad field of a malformed file', () => {
    const json = model.toJSON();
    expect(() => ContentModel.fromJSON({ ...json, format: 'x' })).toThrow(/format/);
    expect(() => ContentModel.fromJSON({ ...json, idf: json.idf.slice(1) })).toThrow(/idf/);
    expect(() => ContentModel.fromJSON({ ...json, projection: { encoding: 'q8-base64', data: 'AAAA' } })).toThrow(/projection/);
    expect(() => ContentModel.fromJSON({ ...json, fieldWeights: { ...json.fieldWeights, colour: -1 } })).toThrow(/fieldWeights\.colour/);
  });
});

describe.skipIf(!existsSync(STYLES))(`content model on the real catalog (needs ${STYLES})`, () => {
  it('retrieves the same article type for most of 3,000 items', () => {
    const lines = readFileSync(STYLES, 'utf8').split('\n').slice(1, 3001).filter((l) => l.length > 0);
    const items = lines.map((line) => {
      const f = line.split(',');
      return { title: f.slice(9).join(','), gender: f[1]!, masterCategory: f[2]!, subCategory: f[3]!, articleType: f[4]!, colour: f[5]!, season: f[6], usage: f[8] };
    });
    const model = ContentModel.fit(items, { dim: 32 });
    const e = model.embedItems(items);
    let hits = 0;
    const queries = 200;
    for (let q = 0; q < queries; q++) {
      const qi = q * 15;
      const scores = items.map((_, i) => (i === qi ? -Infinity : cosine(e.subarray(qi * 32, qi * 32 + 32), e.subarray(i * 32, i * 32 + 32))));
      const top = scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 10);
      hits += top.filter(([, i]) => items[i]!.articleType === items[qi]!.articleType).length;
    }
    expect(hits / queries / 10).toBeGreaterThan(0.8);
  });
});
