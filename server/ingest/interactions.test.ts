import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillPricesFromInteractions, importInteractions, loadInteractionMapping, parseTimestamp } from './interactions';
import { FatalImportError } from './types';
import type { CatalogItem, ImportResult, InteractionEvent } from './types';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fashionml-events-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function fixture(content: string | Buffer, ext = 'csv'): string {
  const path = join(dir, `events-${++counter}.${ext}`);
  writeFileSync(path, content);
  return path;
}

function expectAccounted<T>(result: ImportResult<T>): void {
  expect(result.accepted.length + result.quarantined.length).toBe(result.rowsRead);
}

const knownItems = new Set(['15970', '39386', '59263']);

describe('parseTimestamp', () => {
  it.each([
    ['2018-09-20', Date.UTC(2018, 8, 20)],
    ['2018-09-20T14:03:00Z', Date.UTC(2018, 8, 20, 14, 3)],
    ['2018-09-20T14:03:00', Date.UTC(2018, 8, 20, 14, 3)],
    ['2018-09-20 14:03', Date.UTC(2018, 8, 20, 14, 3)],
    ['2018-09-20T14:03:00.25+02:00', Date.UTC(2018, 8, 20, 12, 3, 0, 250)],
    ['2018-09-20T14:03:00-0530', Date.UTC(2018, 8, 20, 19, 33)],
    ['1537452180', Date.UTC(2018, 8, 20, 14, 3)],
    ['1537452180000', Date.UTC(2018, 8, 20, 14, 3)],
    ['1537452180.5', Date.UTC(2018, 8, 20, 14, 3, 0, 500)],
    [1537452180, Date.UTC(2018, 8, 20, 14, 3)],
    ['99999999999', 99_999_999_999_000],
    ['100000000000', 100_000_000_000],
  ] as const)('reads %s', (input, expected) => {
    expect(parseTimestamp(input)).toBe(expected);
  });

  it.each(['', 'yesterday', '2021-02-30', '2021-13-01', '2021-1-5', '20/09/2018', '2018-09-20T25:00', '-1537452180', '1537452180000000', '2018-09-20T10:00+25:00'])(
    'rejects %j',
    (input) => {
      expect(parseTimestamp(input)).toBeUndefined();
    },
  );
});

describe('importInteractions', () => {
  it('reads the standard columns, optional weight included', async () => {
    const file = fixture(
      [
        'user,item,type,timestamp,weight',
        'u1,15970,view,2024-03-01T10:00:00Z,',
        'u1,39386,Add-To-Cart,1709287200,2',
        'u2,59263,PURCHASE,1709287200000,0.5',
      ].join('\n') + '\n',
    );
    const result = await importInteractions(file, { knownItems });
    expect(result.quarantined).toEqual([]);
    expect(result.accepted).toEqual([
      { userId: 'u1', itemId: '15970', type: 'view', timestamp: Date.UTC(2024, 2, 1, 10) },
      { userId: 'u1', itemId: '39386', type: 'add_to_cart', timestamp: Date.UTC(2024, 2, 1, 10), weight: 2 },
      { userId: 'u2', itemId: '59263', type: 'purchase', timestamp: Date.UTC(2024, 2, 1, 10), weight: 0.5 },
    ]);
    expect(result.notes).toEqual([
      '1 numeric timestamp(s) read as epoch seconds (below 1e11)',
      '1 numeric timestamp(s) read as epoch milliseconds (1e11 or more)',
    ]);
  });

  it('quarantines unknown items, unknown types, bad timestamps, missing users and bad weights', async () => {
    const file = fixture(
      [
        'user,item,type,timestamp,weight',
        'u1,15970,like,2024-03-01,1',
        'u1,99999,view,2024-03-01,',
        'u1,15970,share,2024-03-01,',
        'u1,15970,view,2024-02-30,',
        ',15970,view,2024-03-01,',
        'u1,15970,view,2024-03-01,-1',
        'u1,15970,view,2024-03-01,lots',
        'u1,,view,2024-03-01,',
        'u1,15970,,2024-03-01,',
      ].join('\n') + '\n',
    );
    const result = await importInteractions(file, { knownItems });
    expectAccounted(result);
    expect(result.accepted).toHaveLength(1);
    expect(result.quarantined.map((q) => [q.line, q.field, q.reason, q.message])).toEqual([
      [3, 'item', 'unknown_item', 'item "99999" is not in the catalog'],
      [4, 'type', 'unknown_type', 'type "share" is not one of view, click, like, add_to_cart, purchase (map it with "types" in the mapping)'],
      [5, 'timestamp', 'bad_timestamp', 'timestamp "2024-02-30" is neither an ISO-8601 date / date-time nor epoch seconds or milliseconds'],
      [6, 'user', 'missing_user', 'line 6 has no user (column "user")'],
      [7, 'weight', 'bad_weight', 'weight "-1" is not a non-negative number'],
      [8, 'weight', 'bad_weight', 'weight "lots" is not a non-negative number'],
      [9, 'item', 'missing_item', 'line 9 has no item (column "item")'],
      [10, 'type', 'unknown_type', 'line 10 has no type; valid types: view, click, like, add_to_cart, purchase'],
    ]);
    expect(result.quarantined[0]!.raw).toBe('u1,99999,view,2024-03-01,');
    expect(result.notes).toContain('1 event(s) name items that are not in the catalog');
  });

  it('renames columns, maps source type values and applies defaults', async () => {
    const file = fixture(
      ['visitorid;itemid;event;ts', 'v9;15970;transaction;1433221332117', 'v9;39386;addtocart;1433221332', 'v9;59263;;1433221332'].join('\n') + '\n',
    );
    const result = await importInteractions(file, {
      knownItems,
      mapping: {
        fields: { user: 'visitorid', item: 'itemid', type: 'event', timestamp: 'ts' },
        types: { transaction: 'purchase', addtocart: 'add_to_cart' },
        defaults: { type: 'view', weight: 1 },
      },
    });
    expect(result.quarantined).toEqual([]);
    expect(result.accepted.map((e) => [e.type, e.weight, e.timestamp])).toEqual([
      ['purchase', 1, 1433221332117],
      ['add_to_cart', 1, 1433221332000],
      ['view', 1, 1433221332000],
    ]);
  });

  it('reads JSON Lines with numeric ids and timestamps, quarantining malformed and Latin-1 lines', async () => {
    const file = fixture(
      Buffer.concat([
        Buffer.from('{"user": 7, "item": 15970, "type": "click", "timestamp": 1709287200}\n'),
        Buffer.from('{"user": "u8", "item": "39386", "type": "click", "timestamp": \n'),
        Buffer.from('{"user": "Zoë", "item": "39386", "type": "click", "timestamp": "2024-03-01"}\n', 'latin1'),
      ]),
      'jsonl',
    );
    const result = await importInteractions(file, { knownItems });
    expectAccounted(result);
    expect(result.accepted).toEqual([{ userId: '7', itemId: '15970', type: 'click', timestamp: Date.UTC(2024, 2, 1, 10) }]);
    expect(result.quarantined.map((q) => [q.line, q.reason])).toEqual([
      [2, 'malformed_json'],
      [3, 'invalid_utf8'],
    ]);
    expect(result.quarantined[0]!.message).toMatch(/^malformed JSON on line 2: /);
    expect(result.quarantined[1]!.raw).toContain('Zoë');
  });

  it('reads a mapped price column, quarantining prices that are not non-negative numbers', async () => {
    const file = fixture(
      [
        't_dat,customer_id,article_id,price',
        '2018-09-20,c1,15970,0.0508',
        '2018-09-21,c1,39386,',
        '2018-09-22,c2,15970,-0.01',
        '2018-09-22,c2,15970,"1,5"',
        '2018-09-23,c2,59263,3e-2',
      ].join('\n') + '\n',
    );
    const mapping = { fields: { user: 'customer_id', item: 'article_id', timestamp: 't_dat', price: 'price' }, defaults: { type: 'purchase' as const } };
    const result = await importInteractions(file, { knownItems, mapping });
    expectAccounted(result);
    expect(result.accepted.map((e) => [e.itemId, e.price])).toEqual([
      ['15970', 0.0508],
      ['39386', undefined],
      ['59263', 0.03],
    ]);
    expect(result.accepted[1]).not.toHaveProperty('price');
    expect(result.quarantined.map((q) => [q.line, q.field, q.reason, q.message])).toEqual([
      [4, 'price', 'bad_price', 'price "-0.01" is not a non-negative number'],
      [5, 'price', 'bad_price', 'price "1,5" is not a non-negative number'],
    ]);
    // A mapped price column the file lacks is fatal, named like any other.
    const noPrice = fixture('t_dat,customer_id,article_id\n2018-09-20,c1,15970\n');
    await expect(importInteractions(noPrice, { knownItems, mapping })).rejects.toThrow(`${noPrice}: missing required column price`);
  });

  it('fails when a needed column is missing, naming it', async () => {
    const file = fixture('user,item,timestamp\nu1,15970,2024-03-01\n');
    const error = await importInteractions(file, { knownItems }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FatalImportError);
    expect((error as Error).message).toBe(`${file}: missing required column type; found: user, item, timestamp`);
    // With a default type the same file is fine.
    const ok = await importInteractions(file, { knownItems, mapping: { defaults: { type: 'view' } } });
    expect(ok.accepted).toHaveLength(1);
  });

  it('fails on an empty file, a missing file and an invalid mapping', async () => {
    await expect(importInteractions(fixture(''), { knownItems })).rejects.toThrow(/empty file \(0 bytes\)$/);
    await expect(importInteractions(join(dir, 'none.csv'), { knownItems })).rejects.toThrow(/none\.csv: no such file$/);
    const mappingFile = fixture(JSON.stringify({ fields: { user: 'customer_id' }, types: { buy: 'order' } }), 'json');
    await expect(loadInteractionMapping(mappingFile)).rejects.toThrow(
      `${mappingFile}: invalid mapping: types.buy: Invalid option: expected one of "view"|"click"|"like"|"add_to_cart"|"purchase"`,
    );
  });
});

describe('fillPricesFromInteractions', () => {
  const item = (id: string, price?: number): CatalogItem => ({
    id,
    title: id,
    gender: 'Unisex',
    masterCategory: 'Apparel',
    subCategory: 'Topwear',
    articleType: 'Tops',
    colour: 'Blue',
    attributes: {},
    ...(price === undefined ? {} : { price }),
  });
  const event = (itemId: string, day: number, price?: number): InteractionEvent => ({
    userId: 'u',
    itemId,
    type: 'purchase',
    timestamp: Date.UTC(2020, 0, day),
    ...(price === undefined ? {} : { price }),
  });

  it('gives an item without a price the price of its latest interaction that has one', () => {
    const items = [item('a'), item('b', 9.5), item('c'), item('d'), item('e')];
    const events = [
      event('a', 3, 30), // the latest for a, though not last in the log
      event('a', 1, 10),
      event('a', 4), // later, but without a price
      event('a', 2, 20),
      event('b', 5, 1), // b has its own price
      event('c', 7, 70),
      event('c', 7, 71), // same instant: the later row wins
      event('d', 1), // no priced event at all
    ];
    expect(fillPricesFromInteractions(items, events)).toBe(2);
    expect(items.map((i) => [i.id, i.price])).toEqual([
      ['a', 30],
      ['b', 9.5],
      ['c', 71],
      ['d', undefined],
      ['e', undefined],
    ]);
    expect(items[3]).not.toHaveProperty('price');
  });

  it('takes a price of 0 as a price', () => {
    const items = [item('a')];
    expect(fillPricesFromInteractions(items, [event('a', 1, 5), event('a', 2, 0)])).toBe(1);
    expect(items[0]!.price).toBe(0);
  });
});

describe('the H&M sample interactions mapping (examples/hm-sample)', () => {
  it('validates against the schema: customer_id, article_id, t_dat and price as purchases', async () => {
    const mapping = await loadInteractionMapping(resolve(process.cwd(), 'examples/hm-sample/interactions-mapping.json'));
    expect(mapping).toMatchObject({
      fields: { user: 'customer_id', item: 'article_id', timestamp: 't_dat', price: 'price' },
      defaults: { type: 'purchase' },
    });
    // The 10-digit ids keep their leading zero: they are read as strings.
    const file = fixture('t_dat,customer_id,article_id,price,sales_channel_id\n2018-09-20,c1,0108775015,0.0508,2\n');
    const result = await importInteractions(file, { knownItems: new Set(['0108775015']), mapping });
    expect(result.accepted).toEqual([{ userId: 'c1', itemId: '0108775015', type: 'purchase', timestamp: Date.UTC(2018, 8, 20), price: 0.0508 }]);
  });
});
