import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importKaggleStyles } from './kaggle-catalog';
import { FatalImportError } from './types';
import type { CatalogItem, ImportResult } from './types';

const HEADER = 'id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName';
const ROW_A = '15970,Men,Apparel,Topwear,Shirts,Navy Blue,Fall,2011,Casual,Turtle Check Men Navy Blue Shirt';
const ROW_B = '39386,Men,Apparel,Bottomwear,Jeans,Blue,Summer,2012,Casual,Peter England Men Party Blue Jeans';
const ROW_C = '59263,Women,Accessories,Watches,Watches,Silver,Winter,2016,Casual,Titan Women Silver Watch';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fashionml-kaggle-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
/** Writes a fixture file into the temp dir and returns its path. */
function fixture(content: string | Buffer, name = `styles-${++counter}.csv`): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Every row read is accepted or quarantined, never both, never neither. */
function expectAccounted<T>(result: ImportResult<T>): void {
  expect(result.accepted.length + result.quarantined.length).toBe(result.rowsRead);
}

function reasons<T>(result: ImportResult<T>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const q of result.quarantined) out[q.reason] = (out[q.reason] ?? 0) + 1;
  return out;
}

describe('importKaggleStyles on small files', () => {
  it('maps a clean file onto catalog items', async () => {
    const result = await importKaggleStyles(fixture([HEADER, ROW_A, ROW_B].join('\n') + '\n'));
    expect(result.rowsRead).toBe(2);
    expect(result.quarantined).toEqual([]);
    expect(result.accepted[0]).toEqual<CatalogItem>({
      id: '15970',
      title: 'Turtle Check Men Navy Blue Shirt',
      gender: 'Men',
      masterCategory: 'Apparel',
      subCategory: 'Topwear',
      articleType: 'Shirts',
      colour: 'Navy Blue',
      season: 'Fall',
      year: 2011,
      usage: 'Casual',
      image: 'images/15970.jpg',
      attributes: {},
    });
  });

  it('joins the fields after the ninth back into the name and says how many rows were repaired', async () => {
    const file = fixture(
      [
        HEADER,
        ROW_A,
        '23124,Unisex,Footwear,Flip Flops,Flip Flops,Navy Blue,Spring,2013,Casual,Converse Unisex Navy Blue Liv,Laugh,Love Flip-flops',
        '3413,Men,Apparel,Topwear,Tshirts,White,Summer,2011,Casual,Myntra Men\'s Yes, its all about me White T-shirt',
      ].join('\n') + '\n',
    );
    const result = await importKaggleStyles(file);
    expectAccounted(result);
    expect(result.quarantined).toEqual([]);
    expect(result.accepted.map((i) => i.title)).toEqual([
      'Turtle Check Men Navy Blue Shirt',
      'Converse Unisex Navy Blue Liv,Laugh,Love Flip-flops',
      "Myntra Men's Yes, its all about me White T-shirt",
    ]);
    expect(result.accepted[1]!.usage).toBe('Casual');
    expect(result.notes.some((n) => /^2 row\(s\) had unquoted commas in productDisplayName/.test(n))).toBe(true);
  });

  it('reads usage NA and empty season / year / usage as undefined', async () => {
    const file = fixture(
      [
        HEADER,
        '5389,Unisex,Footwear,Shoes,Sports Shoes,Yellow,,2011,Sports,Kalenji Kapteren 200 Yellow Fw',
        '28319,Men,Footwear,Sandal,Sandals,Brown,Winter,2018,,RTV_LoadTest',
        '1,Men,Apparel,Topwear,Shirts,Blue,Fall,,NA,Plain Shirt',
      ].join('\n') + '\n',
    );
    const result = await importKaggleStyles(file);
    expect(result.quarantined).toEqual([]);
    const [a, b, c] = result.accepted;
    expect(a).not.toHaveProperty('season');
    expect(a!.year).toBe(2011);
    expect(b).not.toHaveProperty('usage');
    expect(c).not.toHaveProperty('year');
    expect(c).not.toHaveProperty('usage');
    expect(result.notes).toContain('1 row(s) have usage "NA", read as no usage');
  });

  it('keeps a stray quote inside an unquoted name, and reads quoted names with commas', async () => {
    const file = fixture(
      [
        HEADER,
        '7491,Women,Apparel,Bottomwear,Shorts,Pink,Summer,2011,Sports,Nike Women\'s EM Tempo 3.5" Pink Short',
        '2,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,"Tie, Cufflink and ""Square"" Set"',
      ].join('\r\n') + '\r\n',
    );
    const result = await importKaggleStyles(file);
    expect(result.quarantined).toEqual([]);
    expect(result.accepted.map((i) => i.title)).toEqual([
      'Nike Women\'s EM Tempo 3.5" Pink Short',
      'Tie, Cufflink and "Square" Set',
    ]);
  });

  it('quarantines a truncated last line (cut mid-row, no newline) and keeps the rest', async () => {
    const file = fixture([HEADER, ROW_A, ROW_B, '59263,Women,Accessories,Watc'].join('\n'));
    const result = await importKaggleStyles(file);
    expectAccounted(result);
    expect(result.rowsRead).toBe(3);
    expect(result.accepted.map((i) => i.id)).toEqual(['15970', '39386']);
    expect(result.quarantined).toEqual([
      {
        file,
        line: 4,
        reason: 'truncated_row',
        message:
          'line 4 has 4 of 10 fields and the file ends without a newline: the file looks cut short (truncated) in the middle of this row',
        raw: '59263,Women,Accessories,Watc',
      },
    ]);
  });

  it('quarantines a short row in the middle as too_few_fields', async () => {
    const result = await importKaggleStyles(fixture([HEADER, ROW_A, '7,Men,Apparel', ROW_B].join('\n') + '\n'));
    expectAccounted(result);
    expect(result.quarantined).toHaveLength(1);
    expect(result.quarantined[0]).toMatchObject({ line: 3, reason: 'too_few_fields', message: 'line 3 has 3 fields, the header has 10' });
  });

  it('quarantines a line with Latin-1 bytes, naming the line and the encoding', async () => {
    const latin1 = Buffer.from('4242,Women,Apparel,Topwear,Tops,White,Summer,2012,Casual,Café Crème Top\n', 'latin1');
    const file = fixture(Buffer.concat([Buffer.from([HEADER, ROW_A, ''].join('\n')), latin1, Buffer.from(ROW_B + '\n')]));
    const result = await importKaggleStyles(file);
    expectAccounted(result);
    expect(result.accepted.map((i) => i.id)).toEqual(['15970', '39386']);
    expect(result.quarantined).toHaveLength(1);
    const q = result.quarantined[0]!;
    expect(q).toMatchObject({ line: 3, reason: 'invalid_utf8' });
    expect(q.message).toBe(
      'line 3 is not valid UTF-8 (byte 0xE9 at byte 61 of the line, "2,Casual,Café Crème Top" when read as Latin-1): ' +
        'the file looks Latin-1 / Windows-1252 encoded, not UTF-8; re-save it as UTF-8',
    );
    expect(q.raw).toContain('Café Crème Top');
    expect(result.notes).toContain(
      '1 line(s) are not valid UTF-8 (line 3) and were quarantined: the file looks Latin-1 / Windows-1252 encoded, not UTF-8',
    );
  });

  it('quarantines the second occurrence of an id, naming the first line', async () => {
    const dup = ROW_A.replace('Turtle Check', 'Other');
    const result = await importKaggleStyles(fixture([HEADER, ROW_A, ROW_B, dup].join('\n') + '\n'));
    expectAccounted(result);
    expect(result.accepted.map((i) => i.title)).toEqual(['Turtle Check Men Navy Blue Shirt', 'Peter England Men Party Blue Jeans']);
    expect(result.quarantined).toHaveLength(1);
    expect(result.quarantined[0]).toMatchObject({
      line: 4,
      field: 'id',
      reason: 'duplicate_id',
      message: 'id "15970" was already imported from line 2',
      raw: dup,
    });
  });

  it('quarantines missing ids, non-integer years and empty required fields', async () => {
    const rows = [
      ',Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,No Id Shirt',
      '10,Men,Apparel,Topwear,Shirts,Blue,Fall,2011.5,Casual,Half Year Shirt',
      '11,Men,Apparel,Topwear,Shirts,,Fall,2011,Casual,No Colour Shirt',
      '12,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,',
      '13,,Apparel,Topwear,Shirts,Blue,Fall,twenty,Casual,No Gender Shirt',
    ];
    const result = await importKaggleStyles(fixture([HEADER, ...rows, ROW_C].join('\n') + '\n'));
    expectAccounted(result);
    expect(result.accepted.map((i) => i.id)).toEqual(['59263']);
    expect(result.quarantined.map((q) => [q.line, q.field, q.reason, q.message])).toEqual([
      [2, 'id', 'missing_id', 'line 2 has no id'],
      [3, 'year', 'bad_number', 'id "10": year "2011.5" is not an integer year'],
      [4, 'baseColour', 'missing_field', 'id "11": required field baseColour (colour) is empty'],
      [5, 'productDisplayName', 'missing_field', 'id "12": required field productDisplayName (title) is empty'],
      [6, 'gender', 'missing_field', 'id "13": required field gender is empty'],
    ]);
  });

  it('quarantines an unclosed quote on its own line and reads the rows after it', async () => {
    const broken = '8,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,"Open Quote Shirt';
    const result = await importKaggleStyles(fixture([HEADER, ROW_A, broken, ROW_B, ROW_C].join('\n') + '\n'));
    expectAccounted(result);
    expect(result.rowsRead).toBe(4);
    expect(result.accepted.map((i) => i.id)).toEqual(['15970', '39386', '59263']);
    expect(result.quarantined[0]).toMatchObject({ line: 3, reason: 'unclosed_quote', raw: broken });
    expect(result.quarantined[0]!.message).toMatch(/^line 3 cannot be parsed: Quote Not Closed/);
  });

  it('counts lines right across quoted line breaks, blank lines, CRLF and a byte-order mark', async () => {
    const latin1 = Buffer.from('99,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,Garçon\r\n', 'latin1');
    const file = fixture(
      Buffer.concat([
        Buffer.from('\ufeff' + HEADER + '\r\n'),
        Buffer.from('1,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,"Two\r\nLines"\r\n\r\n'),
        latin1,
        Buffer.from(',,,,,,,,,\r\n' + ROW_B + '\r\n'),
      ]),
    );
    const result = await importKaggleStyles(file);
    expectAccounted(result);
    expect(result.rowsRead).toBe(3);
    expect(result.accepted.map((i) => i.title)).toEqual(['Two\r\nLines', 'Peter England Men Party Blue Jeans']);
    expect(result.quarantined.map((q) => [q.line, q.reason])).toEqual([[5, 'invalid_utf8']]);
    expect(result.notes).toContain('1 blank row(s) skipped');
  });

  it('accepts a header-only file with no rows and says so', async () => {
    const result = await importKaggleStyles(fixture(HEADER + '\n'));
    expect(result).toMatchObject({ rowsRead: 0, accepted: [], quarantined: [] });
    expect(result.notes).toContain('the file has a header but no data rows');
  });

  describe('fatal errors (nothing accepted)', () => {
    it('no such file', async () => {
      const file = join(dir, 'missing.csv');
      await expect(importKaggleStyles(file)).rejects.toThrow(`${file}: no such file`);
    });

    it('an empty file', async () => {
      const file = fixture('');
      await expect(importKaggleStyles(file)).rejects.toThrow(`${file}: empty file (0 bytes)`);
      await expect(importKaggleStyles(fixture('\n \r\n'))).rejects.toThrow(/empty file \(only whitespace\)$/);
    });

    it('a missing header column, naming the missing and the found columns', async () => {
      const header = HEADER.replace(',year', '').replace(',usage', '');
      const file = fixture([header, '1,Men,Apparel,Topwear,Shirts,Blue,Fall,Shirt'].join('\n') + '\n');
      const error = await importKaggleStyles(file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FatalImportError);
      expect((error as FatalImportError).file).toBe(file);
      expect((error as Error).message).toBe(
        `${file}: missing required columns year, usage; found: id, gender, masterCategory, subCategory, articleType, baseColour, season, productDisplayName`,
      );
    });

    it('a file without a header row', async () => {
      await expect(importKaggleStyles(fixture([ROW_A, ROW_B].join('\n')))).rejects.toThrow(
        /missing required columns .*; found: 15970, Men, .* \(the first line looks like data: is the header row missing\?\)$/,
      );
    });

    it('a semicolon- or tab-separated file, saying which delimiter it looks like', async () => {
      const semi = fixture([HEADER.replaceAll(',', ';'), ROW_A.replaceAll(',', ';')].join('\n') + '\n');
      await expect(importKaggleStyles(semi)).rejects.toThrow(
        /wrong delimiter: the header is one field that contains semicolon \(";"\); the file looks semicolon-separated, expected comma \(","\)/,
      );
      const tab = fixture([HEADER.replaceAll(',', '\t'), ROW_A.replaceAll(',', '\t')].join('\n') + '\n');
      await expect(importKaggleStyles(tab)).rejects.toThrow(/the file looks tab-separated/);
    });

    it('a binary file', async () => {
      const png = fixture(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), 'photo.csv');
      await expect(importKaggleStyles(png)).rejects.toThrow(`${png}: not a CSV file: it looks like a PNG image`);
      const bytes = Buffer.alloc(256);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 37 + 11) % 256;
      const noise = fixture(bytes);
      await expect(importKaggleStyles(noise)).rejects.toThrow(/not a CSV file: it is binary \(it contains NUL bytes\)$/);
      const utf16 = fixture(Buffer.from('\ufeff' + HEADER, 'utf16le'));
      await expect(importKaggleStyles(utf16)).rejects.toThrow(/UTF-16 \(little-endian\) text: save it as UTF-8$/);
    });
  });
});

const DATA = resolve(process.cwd(), '../shared/data/myntra-fashion-small');
const STYLES = join(DATA, 'styles.csv');
const exists = existsSync(STYLES);
if (!exists) console.warn(`skipping the real-catalog tests: ${STYLES} is not there`);

describe.skipIf(!exists)('importKaggleStyles on the real Myntra styles.csv (needs ../shared/data)', () => {
  let result: ImportResult<CatalogItem>;
  let lines: string[];
  let ms: number;

  beforeAll(async () => {
    lines = readFileSync(STYLES, 'utf8').split('\n').filter((l) => l.trim() !== '');
    const t0 = performance.now();
    result = await importKaggleStyles(STYLES);
    ms = performance.now() - t0;
    console.info(`styles.csv: ${result.rowsRead} rows in ${ms.toFixed(0)} ms; quarantined by reason: ${JSON.stringify(reasons(result))}`);
  });

  it('reads every data line and loses none', () => {
    expect(result.rowsRead).toBe(lines.length - 1);
    expect(result.rowsRead).toBe(35_605);
    expectAccounted(result);
    const known = ['missing_id', 'duplicate_id', 'too_few_fields', 'truncated_row', 'bad_number', 'missing_field', 'invalid_utf8', 'unclosed_quote', 'too_many_fields'];
    expect(Object.keys(reasons(result)).filter((r) => !known.includes(r))).toEqual([]);
    for (const q of result.quarantined) expect(q.line).toBeGreaterThan(1);
  });

  it('repairs exactly the 17 rows with commas in the name', () => {
    const overlong = lines.filter((l) => l.split(',').length > 10);
    expect(overlong).toHaveLength(17);
    const byId = new Map(result.accepted.map((i) => [i.id, i]));
    for (const line of overlong) {
      const fields = line.split(',');
      const item = byId.get(fields[0]!);
      expect(item?.title).toBe(fields.slice(9).join(','));
      expect(item?.title).toContain(',');
      expect(item?.usage).toBe(fields[8]);
    }
    const converse = lines.find((l) => l.startsWith('23124,'))!;
    expect(converse.split(',').slice(9).join(',')).toBe('Converse Unisex Navy Blue Liv,Laugh,Love Flip-flops');
    expect(byId.get('23124')?.title).toBe('Converse Unisex Navy Blue Liv,Laugh,Love Flip-flops');
    expect(result.notes).toContain(
      '17 row(s) had unquoted commas in productDisplayName (more than 10 fields) and were repaired: the fields from the name on were joined back with commas',
    );
  });

  it('matches the facts in the data README', () => {
    const distinct = (f: (i: CatalogItem) => string | number | undefined): number =>
      new Set(result.accepted.map(f).filter((v) => v !== undefined)).size;
    expect(distinct((i) => i.gender)).toBe(5);
    expect(distinct((i) => i.masterCategory)).toBe(7);
    expect(distinct((i) => i.subCategory)).toBe(45);
    expect(distinct((i) => i.articleType)).toBe(142);
    expect(distinct((i) => i.colour)).toBe(47);
    expect(distinct((i) => i.season)).toBe(4);
    const years = result.accepted.map((i) => i.year).filter((y): y is number => y !== undefined);
    expect([Math.min(...years), Math.max(...years)]).toEqual([2007, 2019]);
    const na = lines.filter((l) => l.split(',')[8] === 'NA').length;
    expect(na).toBeGreaterThan(200);
    expect(result.notes).toContain(`${na} row(s) have usage "NA", read as no usage`);
    expect(result.accepted.some((i) => i.usage === 'NA')).toBe(false);
    expect(result.accepted.filter((i) => i.articleType === 'Tshirts')).toHaveLength(5_635);
    expect(new Set(result.accepted.map((i) => i.id)).size).toBe(result.accepted.length);
    expect(result.accepted.every((i) => i.image === `images/${i.id}.jpg`)).toBe(true);
  });
});
