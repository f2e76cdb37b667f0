import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importGenericCatalog, loadMapping, parseMapping } from './generic-catalog';
import type { CatalogMappingInput } from './generic-catalog';
import { importInteractions } from './interactions';
import { FatalImportError } from './types';
import type { CatalogItem, ImportResult } from './types';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fashionml-generic-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function fixture(content: string | Buffer, ext = 'csv'): string {
  const path = join(dir, `file-${++counter}.${ext}`);
  writeFileSync(path, content);
  return path;
}

function expectAccounted<T>(result: ImportResult<T>): void {
  expect(result.accepted.length + result.quarantined.length).toBe(result.rowsRead);
}

/** An H&M-style articles table (ids keep their leading zero; descriptions quote their commas). */
const ARTICLES = [
  'article_id,prod_name,product_type_name,product_group_name,colour_group_name,index_group_name,garment_group_name,detail_desc,section_name',
  '0108775015,Strap top,Vest top,Garment Upper body,Black,Ladieswear,Jersey Basic,"Jersey top with narrow shoulder straps.",Womens Everyday Basics',
  '0110065001,OP T-shirt (Idro),Bra,Underwear,White,Ladieswear,"Under-, Nightwear","Microfibre T-shirt bra, underwired, moulded.",Womens Lingerie',
  '0111586001,Shape Up 30 den 1p Tights,Leggings/Tights,Garment Lower body,Black,Ladieswear,Socks and Tights,"Tights with built-in support to lift the bottom.",',
].join('\n');

/** The mapping an operator would write for that table. */
const HM_MAPPING: CatalogMappingInput = {
  fields: {
    id: 'article_id',
    title: 'prod_name',
    gender: 'index_group_name',
    masterCategory: 'product_group_name',
    subCategory: 'garment_group_name',
    articleType: 'product_type_name',
    colour: 'colour_group_name',
    description: 'detail_desc',
  },
  attributes: 'rest',
  defaults: { season: 'All season' },
};

describe('importGenericCatalog', () => {
  it('brings an H&M-style articles.csv in through a mapping file, and its transactions after it', async () => {
    const mappingFile = fixture(JSON.stringify(HM_MAPPING, null, 2), 'json');
    const articles = fixture(ARTICLES + '\n');
    const catalog = await importGenericCatalog(articles, await loadMapping(mappingFile));
    expectAccounted(catalog);
    expect(catalog.quarantined).toEqual([]);
    expect(catalog.accepted).toEqual<CatalogItem[]>([
      {
        id: '0108775015',
        title: 'Strap top',
        gender: 'Ladieswear',
        masterCategory: 'Garment Upper body',
        subCategory: 'Jersey Basic',
        articleType: 'Vest top',
        colour: 'Black',
        season: 'All season',
        description: 'Jersey top with narrow shoulder straps.',
        attributes: { section_name: 'Womens Everyday Basics' },
      },
      {
        id: '0110065001',
        title: 'OP T-shirt (Idro)',
        gender: 'Ladieswear',
        masterCategory: 'Underwear',
        subCategory: 'Under-, Nightwear',
        articleType: 'Bra',
        colour: 'White',
        season: 'All season',
        description: 'Microfibre T-shirt bra, underwired, moulded.',
        attributes: { section_name: 'Womens Lingerie' },
      },
      {
        id: '0111586001',
        title: 'Shape Up 30 den 1p Tights',
        gender: 'Ladieswear',
        masterCategory: 'Garment Lower body',
        subCategory: 'Socks and Tights',
        articleType: 'Leggings/Tights',
        colour: 'Black',
        season: 'All season',
        description: 'Tights with built-in support to lift the bottom.',
        attributes: {},
      },
    ]);

    // The same catalog's transactions: type fixed to purchase by a mapping default; `price` is a
    // standard column name, so it is read without being mapped.
    const transactions = fixture(
      [
        't_dat,customer_id,article_id,price,sales_channel_id',
        '2018-09-20,000058a12d5b43e67d225668fa1f8d618c13dc232df0cad8ffe7ad4a1091e318,0108775015,0.050830508474576264,2',
        '2018-09-20,000058a12d5b43e67d225668fa1f8d618c13dc232df0cad8ffe7ad4a1091e318,0663713001,0.05083050847457626,2',
        '2018-09-21,00007d2de826758b65a93dd24ce629ed66842531df6699338c5570910a014cc2,0111586001,0.020320338983050847,1',
      ].join('\n') + '\n',
    );
    const events = await importInteractions(transactions, {
      knownItems: new Set(catalog.accepted.map((i) => i.id)),
      mapping: { fields: { user: 'customer_id', item: 'article_id', timestamp: 't_dat' }, defaults: { type: 'purchase' } },
    });
    expectAccounted(events);
    expect(events.accepted).toEqual([
      {
        userId: '000058a12d5b43e67d225668fa1f8d618c13dc232df0cad8ffe7ad4a1091e318',
        itemId: '0108775015',
        type: 'purchase',
        timestamp: Date.UTC(2018, 8, 20),
        price: 0.050830508474576264,
      },
      {
        userId: '00007d2de826758b65a93dd24ce629ed66842531df6699338c5570910a014cc2',
        itemId: '0111586001',
        type: 'purchase',
        timestamp: Date.UTC(2018, 8, 21),
        price: Number('0.020320338983050847'), // as the CSV spells it (more digits than a double keeps)
      },
    ]);
    expect(events.quarantined.map((q) => [q.line, q.reason, q.message])).toEqual([
      [3, 'unknown_item', 'item "0663713001" is not in the catalog'],
    ]);
  });

  it('maps a variant group column, leaving it out of the attributes, and takes partial descriptions', async () => {
    const file = fixture(
      [
        'article_id,product_code,prod_name,product_type_name,colour_group_name,detail_desc,image',
        '0108775015,0108775,Strap top,Vest top,Black,,images/010/0108775015.jpg',
        '0108775044,0108775,Strap top,Vest top,White,"Jersey top with narrow shoulder straps.",images/010/0108775044.jpg',
        '0110065001,,OP T-shirt (Idro),Bra,White,  ,',
      ].join('\n') + '\n',
    );
    const result = await importGenericCatalog(file, {
      fields: {
        id: 'article_id',
        title: 'prod_name',
        articleType: 'product_type_name',
        colour: 'colour_group_name',
        description: 'detail_desc',
        variantGroup: 'product_code',
        image: 'image',
      },
      defaults: { gender: 'Unisex', masterCategory: 'Apparel', subCategory: 'Apparel' },
    });
    expectAccounted(result);
    expect(result.quarantined).toEqual([]);
    expect(result.accepted.map((i) => [i.id, i.variantGroup, i.description, i.image, i.attributes])).toEqual([
      ['0108775015', '0108775', undefined, 'images/010/0108775015.jpg', {}],
      ['0108775044', '0108775', 'Jersey top with narrow shoulder straps.', 'images/010/0108775044.jpg', {}],
      ['0110065001', undefined, undefined, undefined, {}],
    ]);
    // Empty values are absent, not empty strings or undefined keys.
    expect(Object.keys(result.accepted[0]!)).not.toContain('description');
    for (const key of ['variantGroup', 'description', 'image']) expect(result.accepted[2]).not.toHaveProperty(key);
    expect(() => parseMapping({ ...HM_MAPPING, defaults: { variantGroup: 'all' } })).toThrow(/defaults: Unrecognized key: "variantGroup"/);
  });

  it('lists attributes explicitly and reads price and year with their defaults', async () => {
    const file = fixture(
      [
        'sku;name;cat;color;price;yr;brand;fit',
        'A1;Linen Shirt;Shirts;White;49.90;2023;Acme;slim',
        'A2;Wool Coat;Coats;Grey;;;Acme;',
      ].join('\n') + '\n',
    );
    const result = await importGenericCatalog(file, {
      fields: { id: 'sku', title: 'name', articleType: 'cat', colour: 'color', price: 'price', year: 'yr' },
      attributes: ['brand', 'fit'],
      defaults: { gender: 'Unisex', masterCategory: 'Apparel', subCategory: 'Topwear', price: 0, year: 2020 },
    });
    expect(result.quarantined).toEqual([]);
    expect(result.accepted.map((i) => [i.id, i.gender, i.subCategory, i.price, i.year, i.attributes])).toEqual([
      ['A1', 'Unisex', 'Topwear', 49.9, 2023, { brand: 'Acme', fit: 'slim' }],
      ['A2', 'Unisex', 'Topwear', 0, 2020, { brand: 'Acme' }],
    ]);
  });

  it('quarantines missing and duplicate ids, bad numbers and empty required fields, naming the field', async () => {
    const file = fixture(
      [
        'sku,name,colour,price,year',
        'A1,Linen Shirt,White,49.90,2023',
        ',No Id,White,1,2023',
        'A1,Second A1,White,1,2023',
        'A2,Comma Price,White,"12,50",2023',
        'A3,Bad Year,White,5,MMXXIII',
        'A4,,White,5,2023',
        'A5,No Colour,,5,2023',
        'A6,Negative,Red,-3,2023',
      ].join('\n') + '\n',
    );
    const result = await importGenericCatalog(file, {
      fields: { id: 'sku', title: 'name', colour: 'colour', price: 'price', year: 'year' },
      attributes: [],
      defaults: { gender: 'Unisex', masterCategory: 'Apparel', subCategory: 'Topwear', articleType: 'Shirts' },
    });
    expectAccounted(result);
    expect(result.accepted.map((i) => i.id)).toEqual(['A1']);
    expect(result.quarantined.map((q) => [q.line, q.field, q.reason, q.message])).toEqual([
      [3, 'sku', 'missing_id', 'line 3 has no id (column "sku")'],
      [4, 'sku', 'duplicate_id', 'id "A1" was already imported from line 2'],
      [5, 'price', 'bad_number', 'id "A2": price "12,50" is not a non-negative number'],
      [6, 'year', 'bad_number', 'id "A3": year "MMXXIII" is not an integer year'],
      [7, 'name', 'missing_field', 'id "A4": title (column "name") is empty'],
      [8, 'colour', 'missing_field', 'id "A5": colour (column "colour") is empty and has no default'],
      [9, 'price', 'bad_number', 'id "A6": price "-3" is not a non-negative number'],
    ]);
  });

  it('reads JSON Lines, quarantining a malformed line with the parser message and a non-object', async () => {
    const file = fixture(
      [
        '{"article_id": 108775015, "prod_name": "Strap top", "product_type_name": "Vest top", "product_group_name": "Garment Upper body", "colour_group_name": "Black", "index_group_name": "Ladieswear", "garment_group_name": "Jersey Basic", "extra": {"fabric": "cotton"}}',
        '{"article_id": "2", "prod_name": "Broken", "product_type_name": ',
        '',
        '[1, 2, 3]',
        '{"article_id": "3", "prod_name": "Tee", "product_type_name": "T-shirt", "product_group_name": "Garment Upper body", "colour_group_name": "Red", "index_group_name": "Menswear", "garment_group_name": "Jersey Fancy", "detail_desc": null}',
        '{"article_id": "4", "prod_name": "Cut',
      ].join('\n'),
      'jsonl',
    );
    const result = await importGenericCatalog(file, HM_MAPPING);
    expectAccounted(result);
    expect(result.rowsRead).toBe(5);
    expect(result.accepted.map((i) => [i.id, i.title, i.attributes])).toEqual([
      ['108775015', 'Strap top', { extra: '{"fabric":"cotton"}' }],
      ['3', 'Tee', {}],
    ]);
    expect(result.accepted[1]).not.toHaveProperty('description');
    const [broken, array, cut] = result.quarantined;
    expect(broken).toMatchObject({ line: 2, reason: 'malformed_json', raw: '{"article_id": "2", "prod_name": "Broken", "product_type_name": ' });
    let parserMessage = '';
    try {
      JSON.parse('{"article_id": "2", "prod_name": "Broken", "product_type_name":');
    } catch (error) {
      parserMessage = (error as Error).message;
    }
    expect(broken!.message).toBe(`malformed JSON on line 2: ${parserMessage}`);
    expect(array).toMatchObject({ line: 4, reason: 'not_an_object', message: 'line 4 is an array, not a JSON object' });
    expect(cut).toMatchObject({ line: 6, reason: 'malformed_json' });
    expect(cut!.message).toMatch(/ \(the last line has no newline: the file may be cut short\)$/);
  });

  it('quarantines a JSON line with Latin-1 bytes', async () => {
    const good = '{"id": "1", "name": "Plain"}\n';
    const bad = Buffer.from('{"id": "2", "name": "Crème"}\n', 'latin1');
    const file = fixture(Buffer.concat([Buffer.from(good), bad]), 'ndjson');
    const result = await importGenericCatalog(file, {
      fields: { id: 'id', title: 'name' },
      defaults: { gender: 'Unisex', masterCategory: 'Apparel', subCategory: 'Topwear', articleType: 'Tops', colour: 'Blue' },
    });
    expectAccounted(result);
    expect(result.accepted.map((i) => i.id)).toEqual(['1']);
    expect(result.quarantined[0]).toMatchObject({ line: 2, reason: 'invalid_utf8', raw: '{"id": "2", "name": "Crème"}' });
    expect(result.quarantined[0]!.message).toMatch(/^line 2 is not valid UTF-8 \(byte 0xE8 .*the file looks Latin-1/);
  });

  it('reads a .tsv by its extension and honours an explicit delimiter', async () => {
    const mapping: CatalogMappingInput = {
      fields: { id: 'id', title: 'name' },
      defaults: { gender: 'Unisex', masterCategory: 'Apparel', subCategory: 'Topwear', articleType: 'Tops', colour: 'Blue' },
    };
    const tsv = await importGenericCatalog(fixture('id\tname\n1\tA, B and C\n', 'tsv'), mapping);
    expect(tsv.accepted.map((i) => i.title)).toEqual(['A, B and C']);
    const piped = await importGenericCatalog(fixture('id|name\n1|Pipe Tee\n', 'txt'), { ...mapping, delimiter: '|' });
    expect(piped.accepted.map((i) => i.title)).toEqual(['Pipe Tee']);
  });

  it('fails when the file lacks a mapped column, or uses another delimiter than the mapping says', async () => {
    const file = fixture(ARTICLES.replace('colour_group_name', 'colour') + '\n');
    await expect(importGenericCatalog(file, HM_MAPPING)).rejects.toThrow(
      `${file}: missing required column colour_group_name; found: article_id, prod_name, product_type_name, product_group_name, colour, index_group_name, garment_group_name, detail_desc, section_name`,
    );
    const semi = fixture('id;name\n1;Tee\n');
    await expect(
      importGenericCatalog(semi, { delimiter: ',', fields: { id: 'id', title: 'name' }, defaults: { gender: 'U', masterCategory: 'A', subCategory: 'T', articleType: 'T', colour: 'B' } }),
    ).rejects.toThrow(/wrong delimiter: .* the file looks semicolon-separated, expected comma/);
  });

  it('refuses a JSON array (not JSON Lines)', async () => {
    const file = fixture('[{"article_id": "1"}]\n', 'json');
    await expect(importGenericCatalog(file, HM_MAPPING)).rejects.toThrow(
      `${file}: looks like a JSON array; JSON Lines needs one object per line`,
    );
  });

  it('fails on an empty or binary file', async () => {
    await expect(importGenericCatalog(fixture('', 'jsonl'), HM_MAPPING)).rejects.toThrow(/empty file \(0 bytes\)$/);
    await expect(importGenericCatalog(fixture(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0]), 'csv'), HM_MAPPING)).rejects.toThrow(
      /not a CSV file: it looks like a ZIP archive \(or an Excel \.xlsx workbook: export it as CSV\)$/,
    );
  });
});

describe('mapping files', () => {
  it('names the mapping file and the bad fields', async () => {
    const file = fixture(JSON.stringify({ feilds: {}, fields: { id: 'article_id', title: '' }, delimiter: ';;' }), 'json');
    const error = await loadMapping(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FatalImportError);
    expect((error as FatalImportError).file).toBe(file);
    const message = (error as Error).message;
    expect(message.startsWith(`${file}: invalid mapping: `)).toBe(true);
    expect(message).toContain('(top level): Unrecognized key: "feilds"');
    expect(message).toContain('fields.title: must name a source column');
    expect(message).toContain('delimiter: must be one character (or "tab"), not a quote or a line break');
    expect(message).toContain('fields.gender: every item needs a gender: map it to a column or give defaults.gender');
  });

  it('rejects JSON that does not parse, a missing file, and wrongly typed defaults', async () => {
    const bad = fixture('{ "fields": { "id": "a", }', 'json');
    await expect(loadMapping(bad)).rejects.toThrow(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: mapping file is not valid JSON: `));
    await expect(loadMapping(join(dir, 'nope.json'))).rejects.toThrow(/nope\.json: no such mapping file$/);
    expect(() => parseMapping({ ...HM_MAPPING, defaults: { year: '2020', format: 'xml' } })).toThrow(
      /^mapping: invalid mapping: defaults\.year: .*; defaults: Unrecognized key: "format"$/,
    );
    expect(() => parseMapping({ ...HM_MAPPING, format: 'xml' })).toThrow(/format: Invalid option: expected one of "csv"\|"tsv"\|"jsonl"/);
  });

  it('accepts "tab" as a delimiter', () => {
    expect(parseMapping({ ...HM_MAPPING, delimiter: 'tab' }).delimiter).toBe('\t');
  });
});
