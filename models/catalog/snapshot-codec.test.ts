import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { CatalogItem } from './item';
import {
  CatalogCodecError,
  decodeCatalogBlob,
  decodeItemColumns,
  DELTA_FORMAT,
  encodeDeltaPayload,
  encodeItemColumns,
  encodeSnapshotPayload,
  gunzip,
  gzip,
  SNAPSHOT_FORMAT,
} from './snapshot-codec';

const shirt = (id: string, overrides: Partial<CatalogItem> = {}): CatalogItem => ({
  id,
  title: `Demo Shirt ${id}`,
  gender: 'Men',
  masterCategory: 'Apparel',
  subCategory: 'Topwear',
  articleType: 'Shirts',
  colour: 'Navy Blue',
  season: 'Fall',
  year: 2011,
  usage: 'Casual',
  image: `images/${id}.jpg`,
  imageSha256: id.padStart(64, '0'),
  attributes: {},
  ...overrides,
});

// Every optional field present, absent, and unusual (empty strings, a path off the pattern).
const ITEMS: CatalogItem[] = [
  shirt('15970'),
  shirt('39386', { colour: 'Blue', articleType: 'Jeans', subCategory: 'Bottomwear', year: 2012 }),
  { id: 'x-1', title: 'No extras', gender: 'Unisex', masterCategory: 'Accessories', subCategory: 'Bags', articleType: 'Backpacks', colour: '', attributes: {} },
  shirt('7', { price: 12.5, description: 'Soft cotton, "quoted"', image: 'photos/other.png', attributes: { fit: 'slim', material: 'linen' } }),
  shirt('8', { season: '', attributes: { material: 'wool' } }),
];
// Absent fields must come back absent, not as `undefined` keys.
delete ITEMS[4]!.usage;
delete ITEMS[4]!.imageSha256;

const REMOVE = Symbol('remove');
/** A deep copy of `value` with the field at the dot-separated `path` set to `to` (or removed). */
function edited(value: unknown, path: string, to: unknown): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  const keys = path.split('.');
  const parent = keys.slice(0, -1).reduce((o, k) => o[k] as Record<string, unknown>, copy);
  if (to === REMOVE) Reflect.deleteProperty(parent, keys.at(-1)!);
  else parent[keys.at(-1)!] = to;
  return copy;
}

const gz = (bytes: Uint8Array) => new Uint8Array(gzipSync(bytes, { level: 9 }));

describe('catalog columns', () => {
  it('round-trip every item exactly, absent fields staying absent', () => {
    const columns = encodeItemColumns(ITEMS);
    const back = decodeItemColumns(JSON.parse(JSON.stringify(columns)), 'test');
    expect(back).toEqual(ITEMS);
    expect(back.map((item) => Object.keys(item).sort())).toEqual(ITEMS.map((item) => Object.keys(item).sort()));
  });

  it('dictionary-encode repeated values and write pattern image paths as a flag', () => {
    const columns = encodeItemColumns(ITEMS);
    expect(columns.gender.dict).toEqual(['Men', 'Unisex']);
    expect(columns.gender.codes).toEqual([0, 0, 1, 0, 0]);
    expect(columns.usage?.codes).toEqual([0, 0, -1, 0, -1]);
    expect(columns.image).toEqual({ template: 'images/{id}.jpg', values: [1, 1, null, 'photos/other.png', 1] });
    expect(columns.attributes).toEqual({ keys: ['fit', 'material'], rows: [3, 4], entries: [[0, 'slim', 1, 'linen'], [1, 'wool']] });
  });

  it('leave out optional columns no item uses', () => {
    const columns = encodeItemColumns([ITEMS[2]!]);
    expect([columns.season, columns.year, columns.image, columns.imageSha256, columns.attributes]).toEqual([null, null, null, null, null]);
    expect(decodeItemColumns(columns, 'test')).toEqual([ITEMS[2]]);
  });

  it('dictionary-encode variant groups, and leave the column out when no item has one', () => {
    const items = [
      shirt('0108775015', { variantGroup: '0108775' }),
      shirt('0108775044', { variantGroup: '0108775' }),
      shirt('0110065001', { variantGroup: '0110065' }),
      ITEMS[2]!,
    ];
    const columns = encodeItemColumns(items);
    expect(columns.variantGroup).toEqual({ dict: ['0108775', '0110065'], codes: [0, 0, 1, -1] });
    const back = decodeItemColumns(JSON.parse(JSON.stringify(columns)), 'test');
    expect(back).toEqual(items);
    expect(back[3]).not.toHaveProperty('variantGroup');
    // Without groups the payload is what it was before the column existed (same bytes, same blob hash).
    expect(Object.keys(encodeItemColumns(ITEMS))).not.toContain('variantGroup');
    expect(() => decodeItemColumns(edited(columns, 'variantGroup.codes.2', 5), 'blob v items')).toThrow(
      'blob v items: column "variantGroup" row 2: code 5 is outside the dictionary (2 values)',
    );
  });

  it('decode columns written before variant groups existed (no column, or null)', () => {
    const columns = encodeItemColumns(ITEMS) as unknown as Record<string, unknown>;
    expect(decodeItemColumns({ ...columns, variantGroup: null }, 'test')).toEqual(ITEMS);
    expect(decodeItemColumns(columns, 'test')).toEqual(ITEMS);
  });

  it('dictionary-encode rendition sizes, and leave the column out when no item has one', () => {
    const items = [
      shirt('0108775015', { rendition: { width: 128, height: 192 } }),
      shirt('0108775044', { rendition: { width: 128, height: 192 } }),
      shirt('big', { rendition: { width: 341, height: 512 } }),
      ITEMS[2]!,
    ];
    const columns = encodeItemColumns(items);
    expect(columns.rendition).toEqual({ dict: ['128x192', '341x512'], codes: [0, 0, 1, -1] });
    const back = decodeItemColumns(JSON.parse(JSON.stringify(columns)), 'test');
    expect(back).toEqual(items);
    expect(back[3]).not.toHaveProperty('rendition');
    // A catalog without renditions (older data, or small photos) keeps the bytes it had.
    const before = JSON.stringify(encodeItemColumns(ITEMS));
    expect(before).not.toContain('rendition');
    expect(JSON.stringify(encodeItemColumns(structuredClone(ITEMS)))).toBe(before);
    // Columns written before renditions existed decode as items without one.
    expect(decodeItemColumns({ ...(columns as unknown as Record<string, unknown>), rendition: null }, 'test').every((item) => !('rendition' in item))).toBe(true);
    expect(() => decodeItemColumns(edited(columns, 'rendition.dict.1', '341 by 512'), 'blob r items')).toThrow(
      'blob r items: column "rendition" row 2: expected "<width>x<height>", got "341 by 512"',
    );
    expect(() => decodeItemColumns(edited(columns, 'rendition.dict.0', '0x192'), 'blob r items')).toThrow('column "rendition" row 0');
    expect(() => decodeItemColumns(edited(columns, 'rendition.codes.1', 7), 'blob r items')).toThrow(
      'column "rendition" row 1: code 7 is outside the dictionary (2 values)',
    );
  });

  it('name the column and row of a fault', () => {
    const columns = encodeItemColumns(ITEMS);
    const broken = (path: string, to: unknown) => () => decodeItemColumns(edited(columns, path, to), 'blob abc items');
    expect(broken('colour.codes.3', 9)).toThrow('blob abc items: column "colour" row 3: code 9 is outside the dictionary (3 values)');
    expect(broken('title', columns.title.slice(0, -1))).toThrow('column "title" has 4 entries for 5 items');
    expect(broken('id', REMOVE)).toThrow('column "id" is missing');
    expect(broken('year.1', '2012')).toThrow('column "year" row 1: expected a number or null, got "2012"');
    expect(broken('image.values.0', 2)).toThrow('column "image" row 0: expected a path, 1 or null, got 2');
    expect(broken('count', -1)).toThrow('"count" must be a non-negative integer');
    expect(broken('count', -1)).toThrow(CatalogCodecError);
  });
});

describe('snapshot and delta blobs', () => {
  it('a gzip snapshot decodes to the same version, hash and items', async () => {
    const blob = gz(encodeSnapshotPayload({ version: 3, contentHash: 'h3', items: ITEMS }));
    expect(blob[0]).toBe(0x1f);
    const back = await decodeCatalogBlob(blob);
    expect(back).toEqual({ kind: 'snapshot', format: SNAPSHOT_FORMAT, version: 3, contentHash: 'h3', items: ITEMS });
  });

  it('a gzip delta keeps added, changed and removed apart', async () => {
    const blob = gz(encodeDeltaPayload({ from: 2, to: 3, contentHash: 'h3', added: [ITEMS[0]!], changed: ITEMS.slice(1, 3), removed: ['old-1', 'old-2'] }));
    expect(await decodeCatalogBlob(blob)).toEqual({
      kind: 'delta',
      format: DELTA_FORMAT,
      from: 2,
      to: 3,
      contentHash: 'h3',
      added: [ITEMS[0]],
      changed: ITEMS.slice(1, 3),
      removed: ['old-1', 'old-2'],
    });
  });

  it('a snapshot and a delta carry variant groups', async () => {
    const items = [shirt('1', { variantGroup: 'g1' }), shirt('2', { variantGroup: 'g1' }), shirt('3')];
    const snapshot = await decodeCatalogBlob(gz(encodeSnapshotPayload({ version: 1, contentHash: 'h', items })));
    expect(snapshot).toMatchObject({ kind: 'snapshot', items });
    const delta = await decodeCatalogBlob(gz(encodeDeltaPayload({ from: 1, to: 2, added: [items[0]!], changed: [items[2]!], removed: [] })));
    expect(delta).toMatchObject({ kind: 'delta', added: [items[0]], changed: [items[2]] });
  });

  it('a snapshot and a delta carry rendition sizes', async () => {
    const items = [shirt('1', { rendition: { width: 512, height: 384 } }), shirt('2')];
    const snapshot = await decodeCatalogBlob(gz(encodeSnapshotPayload({ version: 1, contentHash: 'h', items })));
    expect(snapshot).toMatchObject({ kind: 'snapshot', items });
    const delta = await decodeCatalogBlob(gz(encodeDeltaPayload({ from: 1, to: 2, added: [], changed: [items[0]!], removed: [] })));
    expect(delta).toMatchObject({ kind: 'delta', changed: [items[0]] });
  });

  it('still reads format 1 (plain JSON) published before format 2', async () => {
    const v1 = new TextEncoder().encode(JSON.stringify({ format: 'fashionml.catalog-snapshot/1', version: 1, contentHash: 'h1', items: ITEMS }));
    expect(await decodeCatalogBlob(v1)).toMatchObject({ kind: 'snapshot', version: 1, items: ITEMS });
    const d1 = new TextEncoder().encode(JSON.stringify({ format: 'fashionml.catalog-delta/1', from: 1, to: 2, added: [], changed: [ITEMS[1]], removed: ['a'] }));
    expect(await decodeCatalogBlob(d1)).toMatchObject({ kind: 'delta', from: 1, to: 2, changed: [ITEMS[1]], removed: ['a'] });
  });

  it('is much smaller than format 1 for a catalog-like set of items', () => {
    const colours = ['Navy Blue', 'Black', 'White', 'Red', 'Grey'];
    const items = Array.from({ length: 2000 }, (_, i) =>
      shirt(String(10000 + i), { colour: colours[i % 5]!, title: `Brand${i % 40} Men ${colours[i % 5]} Shirt` }),
    );
    const v1 = gz(new TextEncoder().encode(JSON.stringify({ format: 'fashionml.catalog-snapshot/1', version: 1, contentHash: 'h', items })));
    const v2 = gz(encodeSnapshotPayload({ version: 1, contentHash: 'h', items }));
    expect(v2.length).toBeLessThan(v1.length * 0.7);
  });

  it('gzip and gunzip from the platform streams agree with zlib', async () => {
    const payload = encodeSnapshotPayload({ version: 1, contentHash: 'h', items: ITEMS });
    expect(await gunzip(gz(payload))).toEqual(payload);
    expect(await decodeCatalogBlob(await gzip(payload))).toMatchObject({ kind: 'snapshot', items: ITEMS });
  });

  it('refuses damaged, foreign and unknown blobs with a message naming the blob', async () => {
    const blob = gz(encodeSnapshotPayload({ version: 1, contentHash: 'h', items: ITEMS }));
    const truncated = blob.slice(0, blob.length - 20);
    await expect(decodeCatalogBlob(truncated, 'blob 1234')).rejects.toThrow(/^blob 1234: the gzip data is damaged/);
    await expect(decodeCatalogBlob(new Uint8Array([0xff, 0xd8, 0xff]), 'blob 1234')).rejects.toThrow('blob 1234: not a catalog snapshot or delta');
    const other = gz(new TextEncoder().encode(JSON.stringify({ format: 'something/9' })));
    await expect(decodeCatalogBlob(other, 'blob 1234')).rejects.toThrow('blob 1234: unknown format "something/9"');
    const badVersion = gz(new TextEncoder().encode(JSON.stringify({ format: SNAPSHOT_FORMAT, version: 0, contentHash: 'h', items: encodeItemColumns([]) })));
    await expect(decodeCatalogBlob(badVersion, 'blob 1234')).rejects.toThrow('blob 1234: "version" must be a positive integer, got 0');
    expect(() => encodeSnapshotPayload({ version: 1.5, contentHash: 'h', items: [] })).toThrow('snapshot version must be a positive integer');
  });
});
