import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CATEGORICAL_COLUMNS,
  MISSING_KEY,
  PSI_EPSILON,
  buildQualityReport,
  populationStabilityIndex,
  previousFromReport,
  renderQualityReportHtml,
  renderQualityReportMarkdown,
} from './quality-report';
import type { QualityReport, QualityReportInput } from './quality-report';
import type { CatalogItem, QuarantinedRow } from './types';

let nextId = 0;
function item(overrides: Partial<CatalogItem> = {}): CatalogItem {
  nextId += 1;
  return {
    id: `i${nextId}`,
    title: `Item number ${nextId}`,
    gender: 'Men',
    masterCategory: 'Apparel',
    subCategory: 'Topwear',
    articleType: 'Tshirts',
    colour: 'Blue',
    season: 'Summer',
    year: 2012,
    usage: 'Casual',
    image: `images/${nextId}.jpg`,
    attributes: {},
    ...overrides,
  };
}

function many(n: number, overrides: Partial<CatalogItem> = {}): CatalogItem[] {
  return Array.from({ length: n }, () => item(overrides));
}

function quarantinedRow(reason: string, field?: string, line = 2): QuarantinedRow {
  return { file: 'styles.csv', line, reason, message: `bad row at ${line}`, raw: `raw,${line}`, ...(field ? { field } : {}) };
}

function report(input: Partial<QualityReportInput> & { items: CatalogItem[] }): QualityReport {
  return buildQualityReport({
    catalogVersion: 2,
    quarantined: [],
    rowsRead: input.items.length + (input.quarantined?.length ?? 0),
    generatedAt: '2025-03-01T12:00:00.000Z',
    ...input,
  });
}

function drift(r: QualityReport, column: string) {
  const c = r.drift?.columns.find((d) => d.column === column);
  if (!c) throw new Error(`no drift for ${column}`);
  return c;
}

describe('population stability index', () => {
  it('matches a hand-computed case on three categories', () => {
    // shares now 0.5 / 0.3 / 0.2, before 0.4 / 0.4 / 0.2
    const expected = (0.5 - 0.4) * Math.log(0.5 / 0.4) + (0.3 - 0.4) * Math.log(0.3 / 0.4) + (0.2 - 0.2) * Math.log(0.2 / 0.2);
    expect(populationStabilityIndex({ a: 50, b: 30, c: 20 }, { a: 40, b: 40, c: 20 })).toBeCloseTo(expected, 12);
    expect(expected).toBeCloseTo(0.051083, 5);
  });

  it('uses epsilon for a category present on one side only, without renormalising', () => {
    const expected =
      (0.6 - 0.5) * Math.log(0.6 / 0.5) + (0.4 - 0.3) * Math.log(0.4 / 0.3) + (1e-4 - 0.2) * Math.log(1e-4 / 0.2);
    expect(PSI_EPSILON).toBe(1e-4);
    expect(populationStabilityIndex({ a: 60, b: 40 }, { a: 50, b: 30, c: 20 })).toBeCloseTo(expected, 12);
  });

  it('is 0 for identical shares and null for an empty side', () => {
    expect(populationStabilityIndex({ a: 2, b: 6 }, { a: 1, b: 3 })).toBeCloseTo(0, 15);
    expect(populationStabilityIndex({}, { a: 1 })).toBeNull();
  });
});

describe('drift against the previous version', () => {
  it('reports no drift and no warning when distributions are identical', () => {
    const before = [...many(30), ...many(20, { gender: 'Women', colour: 'Red' })];
    const now = [...many(60), ...many(40, { gender: 'Women', colour: 'Red' })];
    const r = report({ items: now, previous: { catalogVersion: 1, items: before } });
    expect(r.drift).not.toBeNull();
    for (const column of CATEGORICAL_COLUMNS) {
      expect(drift(r, column).psi).toBeCloseTo(0, 12);
      expect(drift(r, column).overThreshold).toBe(false);
      expect(drift(r, column).level).toBe('stable');
    }
    expect(r.warnings.filter((w) => w.includes('PSI'))).toEqual([]);
  });

  it('warns about a shifted column by name and lists new and vanished categories', () => {
    const before = [...many(50, { colour: 'Blue' }), ...many(30, { colour: 'Red' }), ...many(20, { colour: 'Green' })];
    const now = [...many(20, { colour: 'Blue' }), ...many(30, { colour: 'Red' }), ...many(50, { colour: 'Black' })];
    const r = report({ items: now, previous: { catalogVersion: 1, items: before } });
    const colour = drift(r, 'colour');
    const expected =
      (0.2 - 0.5) * Math.log(0.2 / 0.5) + 0 + (1e-4 - 0.2) * Math.log(1e-4 / 0.2) + (0.5 - 1e-4) * Math.log(0.5 / 1e-4);
    expect(colour.psi).toBeCloseTo(expected, 10);
    expect(colour.overThreshold).toBe(true);
    expect(colour.level).toBe('significant');
    expect(colour.newCategories).toEqual([{ value: 'Black', count: 50, share: 0.5 }]);
    expect(colour.vanishedCategories).toEqual([{ value: 'Green', count: 20, share: 0.2 }]);
    expect(drift(r, 'gender').overThreshold).toBe(false);
    const psiWarnings = r.warnings.filter((w) => w.includes('PSI'));
    expect(psiWarnings).toHaveLength(1);
    expect(psiWarnings[0]).toContain('colour');
    expect(r.warnings.some((w) => w.includes('New colour values') && w.includes('Black'))).toBe(true);
    expect(r.warnings.some((w) => w.includes('colour values gone') && w.includes('Green'))).toBe(true);
  });

  it('flags at a caller-chosen threshold', () => {
    const before = [...many(40, { colour: 'a' }), ...many(40, { colour: 'b' }), ...many(20, { colour: 'c' })];
    const now = [...many(50, { colour: 'a' }), ...many(30, { colour: 'b' }), ...many(20, { colour: 'c' })];
    const previous = { catalogVersion: 1, items: before };
    expect(drift(report({ items: now, previous }), 'colour').overThreshold).toBe(false);
    const strict = report({ items: now, previous, psiWarnThreshold: 0.05 });
    expect(drift(strict, 'colour').overThreshold).toBe(true);
    expect(drift(strict, 'colour').level).toBe('stable');
    expect(strict.limits.psiWarn).toBe(0.05);
  });

  it('computes the same drift from the saved distributions of the previous report', () => {
    const before = [...many(30), ...many(10, { season: undefined, articleType: 'Shirts' })];
    const now = [...many(25), ...many(15, { articleType: 'Jeans', usage: 'Sports' })];
    const first = report({ items: before, catalogVersion: 1 });
    const saved = JSON.parse(JSON.stringify(first)) as QualityReport;
    const fromItems = report({ items: now, previous: { catalogVersion: 1, items: before } });
    const fromReport = report({ items: now, previous: previousFromReport(saved) });
    expect(fromReport.drift?.columns).toEqual(fromItems.drift?.columns);
    expect(fromReport.drift?.previousDistributions).toEqual(first.distributions);
    // Missing values are a category of their own.
    expect(first.distributions.season[MISSING_KEY]).toBe(10);
  });

  it('says why when there is no previous version', () => {
    const r = report({ items: many(5) });
    expect(r.drift).toBeNull();
    expect(r.driftUnavailableReason).toMatch(/no previous catalog version/i);
    const empty = report({ items: many(5), previous: { catalogVersion: 1, distributions: {} } });
    expect(empty.drift).toBeNull();
    expect(empty.driftUnavailableReason).toContain('version (1)');
  });
});

describe('counts and checks', () => {
  it('counts missing values per column, blanks included', () => {
    const items = [
      item({ season: undefined, usage: '  ', price: 10 }),
      item({ season: '', year: undefined, image: undefined }),
      item({ title: '', description: 'nice' }),
      item({ price: Number.NaN }),
    ];
    const r = report({ items });
    const missing = Object.fromEntries(r.missing.map((m) => [m.column, m.missing]));
    expect(r.missing.map((m) => m.column)).toEqual([
      'id', 'title', 'gender', 'masterCategory', 'subCategory', 'articleType', 'colour',
      'season', 'year', 'usage', 'price', 'description', 'image',
    ]);
    expect(missing).toMatchObject({ id: 0, title: 1, season: 2, year: 1, usage: 1, price: 3, description: 3, image: 1 });
    expect(r.missing.find((m) => m.column === 'season')?.share).toBe(0.5);
    expect(r.distributions.season).toEqual({ Summer: 2, [MISSING_KEY]: 2 });
    expect(r.warnings.some((w) => w.startsWith('season is missing in 50.0%'))).toBe(true);
    expect(r.warnings.some((w) => w.includes('price'))).toBe(true);
  });

  it('names columns that no item has in one warning', () => {
    const r = report({ items: many(10) });
    expect(r.warnings.filter((w) => w.startsWith('No item has'))).toEqual([
      'No item has price, description (expected when the source has no such field; features that need it will be empty).',
    ]);
  });

  it('counts quarantined rows by reason and by field, and warns on a high share', () => {
    const quarantined = [
      quarantinedRow('missing_id', 'id', 3),
      quarantinedRow('missing_id', 'id', 4),
      quarantinedRow('missing_id', 'id', 5),
      quarantinedRow('missing_id', 'id', 6),
      quarantinedRow('duplicate_id', 'id', 7),
      quarantinedRow('bad_row', undefined, 8),
    ];
    const r = report({ items: many(14), quarantined });
    expect(r.rows).toEqual({ read: 20, accepted: 14, quarantined: 6, unaccounted: 0, quarantineShare: 0.3 });
    expect(r.quarantine.byReason).toEqual({ missing_id: 4, bad_row: 1, duplicate_id: 1 });
    expect(Object.keys(r.quarantine.byReason)[0]).toBe('missing_id');
    expect(r.quarantine.byField).toEqual({ id: 5, '(row)': 1 });
    expect(r.quarantine.examples.filter((e) => e.reason === 'missing_id')).toHaveLength(3);
    expect(r.warnings.some((w) => w.includes('30.0% of rows were quarantined') && w.includes('missing_id 4'))).toBe(true);
  });

  it('warns when rows are unaccounted for', () => {
    const r = buildQualityReport({ catalogVersion: 1, items: many(3), quarantined: [], rowsRead: 5 });
    expect(r.rows.unaccounted).toBe(2);
    expect(r.warnings[0]).toMatch(/do not add up/);
  });

  it('finds duplicate titles across ids, ignoring case and repeated spaces', () => {
    const items = [
      item({ id: 'a', title: 'Blue Shirt' }),
      item({ id: 'b', title: 'blue  shirt' }),
      item({ id: 'c', title: 'Blue Shirt' }),
      item({ id: 'd', title: 'Red Shirt' }),
      item({ id: 'e', title: 'Red Shirt' }),
      item({ id: 'f', title: 'Green Shirt' }),
    ];
    const d = report({ items }).titles.duplicates;
    expect(d.groups).toBe(2);
    expect(d.itemsInvolved).toBe(5);
    expect(d.examples[0]).toEqual({ title: 'Blue Shirt', count: 3, itemIds: ['a', 'b', 'c'] });
    expect(d.examples[1]).toEqual({ title: 'Red Shirt', count: 2, itemIds: ['d', 'e'] });
  });

  it('reports repeated ids, which an importer should have quarantined', () => {
    const r = report({ items: [item({ id: 'x' }), item({ id: 'x' }), item()] });
    expect(r.duplicateIds).toEqual({ count: 1, examples: ['x'] });
    expect(r.warnings.some((w) => w.includes('ids occur more than once'))).toBe(true);
  });

  it('builds a year histogram with empty years and keeps implausible years out', () => {
    const items = [
      item({ year: 2010 }),
      item({ year: 2012 }),
      item({ year: 2012 }),
      item({ year: undefined }),
      item({ year: 1800 }),
      item({ year: 2012.5 }),
    ];
    const y = report({ items }).years;
    expect(y.histogram).toEqual([
      { year: 2010, count: 1 },
      { year: 2011, count: 0 },
      { year: 2012, count: 2 },
    ]);
    expect([y.min, y.max, y.missing]).toEqual([2010, 2012, 1]);
    expect(y.implausible).toEqual({ count: 2, examples: [1800, 2012.5] });
  });

  it('computes title length statistics', () => {
    const titles = ['ab', 'abcd', 'abcdef', 'abcdefgh', 'abcdefghij'];
    const r = report({ items: titles.map((title) => item({ title })) });
    // Linear interpolation between order statistics: p95 = 8 + 0.8 * (10 - 8).
    expect(r.titles.length).toEqual({ count: 5, min: 2, median: 6, p95: 9.6, max: 10, mean: 6 });
    expect(report({ items: [item({ title: 'Café ✓' })] }).titles.length?.max).toBe(6);
  });

  it('summarises image problems and byte-identical photo groups', () => {
    const items = many(10);
    const imageProblems = [
      { ...quarantinedRow('unreadable_image', 'image'), file: 'images/1.jpg' },
      { ...quarantinedRow('missing_image', 'image'), file: 'images/2.jpg' },
      { ...quarantinedRow('missing_image', 'image'), file: 'images/3.jpg' },
    ];
    const duplicateImageGroups = [
      { sha256: 'aa', itemIds: ['i1', 'i2'] },
      { sha256: 'bb', itemIds: ['i3', 'i4', 'i5'] },
      { sha256: 'cc', itemIds: ['i6'] },
    ];
    const im = report({ items, imageProblems, duplicateImageGroups }).images;
    expect(im.checked).toBe(true);
    expect(im.processed).toBe(10);
    expect(im.problems).toBe(3);
    expect(im.problemsByReason).toEqual({ missing_image: 2, unreadable_image: 1 });
    expect(im.duplicates.groups).toBe(2);
    expect(im.duplicates.itemsInvolved).toBe(5);
    expect(im.duplicates.largest.map((g) => g.sha256)).toEqual(['bb', 'aa']);
    expect(report({ items }).images.checked).toBe(false);
  });

  it('notices labels that differ only in case or spaces', () => {
    const r = report({ items: [item({ colour: 'Blue' }), item({ colour: 'blue' }), item({ colour: 'Blue ' })] });
    expect(r.categoryVariants).toEqual([{ column: 'colour', variants: [['Blue', 'Blue ', 'blue']] }]);
    expect(r.warnings.some((w) => w.startsWith('colour has labels that differ only in case'))).toBe(true);
  });

  it('is plain JSON', () => {
    const r = report({
      items: many(4),
      quarantined: [quarantinedRow('missing_id', 'id')],
      previous: { catalogVersion: 1, items: many(3, { gender: 'Women' }) },
    });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});

describe('rendering', () => {
  const before = [...many(40), ...many(30, { gender: 'Women', colour: 'Red' }), ...many(5, { masterCategory: 'Footwear' })];
  const now = [
    ...many(30, { title: 'Same title' }),
    ...many(30, { gender: 'Women', colour: 'Red', year: 2016 }),
    ...many(20, { masterCategory: 'Accessories', title: 'Watch <b>&' }),
    item({ season: undefined }),
  ];
  const r = report({
    items: now,
    catalogVersion: 7,
    quarantined: [quarantinedRow('missing_id', 'id')],
    imageProblems: [quarantinedRow('missing_image', 'image')],
    duplicateImageGroups: [{ sha256: 'f'.repeat(64), itemIds: ['i1', 'i2'] }],
    previous: { catalogVersion: 6, items: before },
  });
  const html = renderQualityReportHtml(r);

  it('renders a self-contained HTML page with every section', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<title>Catalog quality report — version 7</title>');
    expect(html).toContain('compared with version 6');
    for (const heading of ['Summary', 'Rows and quarantine', 'Missing values', 'Distributions', 'Years', 'Titles', 'Images', 'Drift']) {
      expect(html).toContain(`>${heading}</h2>`);
    }
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script|<link|@import/i);
    expect(html).toContain('<th scope="col">');
    // Titles from the data are escaped.
    expect(html).toContain('Watch &lt;b&gt;&amp;');
    expect(html).not.toContain('Watch <b>');
  });

  it('draws every chart as an SVG with a title', () => {
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    // missing values, seven distributions, years, PSI
    expect(svgs).toHaveLength(1 + CATEGORICAL_COLUMNS.length + 1 + 1);
    for (const svg of svgs) expect(svg).toMatch(/^<svg[^>]*role="img"[^>]*><title id="[^"]+">[^<]+<\/title>/);
    expect(html).toContain('id="chart-psi"');
    expect(html).toContain('warn ≥ 0.2');
    // Current and previous side by side.
    expect(html).toContain('version 6</text>');
  });

  it('puts warnings in the summary box', () => {
    expect(r.warnings.length).toBeGreaterThan(0);
    for (const w of r.warnings) expect(html).toContain(w.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'));
  });

  it('says so when there is no previous version', () => {
    const first = renderQualityReportHtml(report({ items: now, catalogVersion: 1 }));
    expect(first).toContain('Drift not computed');
    expect(first).not.toContain('id="chart-psi"');
    expect(first.match(/<svg/g)).toHaveLength(1 + CATEGORICAL_COLUMNS.length + 1);
  });

  it('renders Markdown with the summary and tables', () => {
    const md = renderQualityReportMarkdown(r);
    expect(md).toContain('# Catalog quality report — version 7');
    expect(md).toContain('| measure | value |');
    expect(md).toContain('| column | missing | share |');
    expect(md).toContain('| reason | rows | share |');
    expect(md).toContain('| column | PSI | level | new values | vanished values |');
    expect(md).toContain('### masterCategory (2 values)');
    expect(md).toContain('| year | items |');
    for (const w of r.warnings) expect(md).toContain(`- ${w}`);
  });
});

const stylesPath = resolve(process.cwd(), '../shared/data/myntra-fashion-small/styles.csv');
const haveStyles = existsSync(stylesPath);

/** Only for this test: the first nine fields are fixed, the rest (commas included) is the name. */
function parseStyles(text: string): { items: CatalogItem[]; rowsRead: number } {
  const items: CatalogItem[] = [];
  let rowsRead = 0;
  for (const line of text.split('\n').slice(1)) {
    const row = line.replace(/\r$/, '');
    if (row === '') continue;
    rowsRead += 1;
    const f = row.split(',');
    const [id = '', gender = '', masterCategory = '', subCategory = '', articleType = '', colour = '', season = '', year = '', usage = ''] = f;
    items.push({
      id,
      title: f.slice(9).join(','),
      gender,
      masterCategory,
      subCategory,
      articleType,
      colour,
      ...(season ? { season } : {}),
      ...(year ? { year: Number(year) } : {}),
      ...(usage ? { usage } : {}),
      attributes: {},
    });
  }
  return { items, rowsRead };
}

function seededShuffle<T>(values: T[], seed: number): T[] {
  const out = [...values];
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function distinct(r: QualityReport, column: (typeof CATEGORICAL_COLUMNS)[number]): number {
  return Object.keys(r.distributions[column]).filter((k) => k !== MISSING_KEY).length;
}

describe.skipIf(!haveStyles)(`real data: ${stylesPath}${haveStyles ? '' : ' (not found: skipped)'}`, () => {
  const { items, rowsRead } = haveStyles ? parseStyles(readFileSync(stylesPath, 'utf8')) : { items: [], rowsRead: 0 };

  it('counts the values the data README gives', () => {
    const r = buildQualityReport({ catalogVersion: 1, items, quarantined: [], rowsRead });
    expect(r.rows.read).toBe(35_605);
    expect(r.rows.accepted).toBe(35_605);
    expect(distinct(r, 'gender')).toBe(5);
    expect(distinct(r, 'masterCategory')).toBe(7);
    expect(distinct(r, 'subCategory')).toBe(45);
    expect(distinct(r, 'articleType')).toBe(142);
    expect(distinct(r, 'colour')).toBe(47);
    expect(distinct(r, 'season')).toBe(4);
    expect([r.years.min, r.years.max]).toEqual([2007, 2019]);
    expect(r.years.histogram).toHaveLength(13);
    expect(r.distributions.articleType.Tshirts).toBe(5_635);
    expect(r.drift).toBeNull();
  });

  it('sees no drift between two random halves', () => {
    const shuffled = seededShuffle(items, 42);
    const half = Math.floor(shuffled.length / 2);
    const r = buildQualityReport({
      catalogVersion: 2,
      items: shuffled.slice(0, half),
      quarantined: [],
      rowsRead: half,
      previous: { catalogVersion: 1, items: shuffled.slice(half) },
    });
    for (const c of r.drift!.columns) expect(c.psi!, c.column).toBeLessThan(r.drift!.threshold);
    expect(r.warnings.filter((w) => w.includes('PSI'))).toEqual([]);
  });

  it('sees drift between "Apparel only" and "Footwear only"', () => {
    const apparel = items.filter((i) => i.masterCategory === 'Apparel');
    const footwear = items.filter((i) => i.masterCategory === 'Footwear');
    const r = buildQualityReport({
      catalogVersion: 2,
      items: footwear,
      quarantined: [],
      rowsRead: footwear.length,
      previous: { catalogVersion: 1, items: apparel },
    });
    const master = r.drift!.columns.find((c) => c.column === 'masterCategory')!;
    expect(master.psi!).toBeGreaterThan(r.drift!.threshold);
    expect(master.newCategories.map((n) => n.value)).toEqual(['Footwear']);
    expect(master.vanishedCategories.map((n) => n.value)).toEqual(['Apparel']);
    expect(r.warnings.some((w) => w.startsWith('Drift in masterCategory'))).toBe(true);
    expect(r.warnings.some((w) => w.startsWith('Drift in articleType'))).toBe(true);
  });
});
