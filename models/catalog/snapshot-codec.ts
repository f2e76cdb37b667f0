/**
 * The catalog snapshot and delta format that sync carries from the registry to the device.
 *
 * Format 2 (`fashionml.catalog-snapshot/2`, `fashionml.catalog-delta/2`) is columnar JSON, gzip
 * compressed: one array per field instead of one object per item, so field names are written once;
 * low-cardinality fields (gender, categories, colour, season, usage, variant group) are
 * dictionary-encoded to small integer codes, and so are rendition sizes (`"512x768"`: a shop's photos
 * come in a few sizes); image paths that follow the catalog's own pattern (`images/<id>.jpg`) are
 * written as a flag. gzip then finds what is left (repeated title words, hex digits). For the 35k
 * Myntra catalog this is about a sixth of format 1 (see the sync benchmark), and it decodes with
 * nothing but `DecompressionStream` and `JSON.parse`, in Node and in a worker alike.
 *
 * Encoding is exact: every `CatalogItem` comes back as it went in (absent optional fields stay
 * absent). Format 1 (plain JSON of whole items, uncompressed) is still decoded, so a registry
 * published before format 2 keeps syncing.
 *
 * The encoders return the uncompressed payload; the registry gzips it with Node's zlib (level 9,
 * deterministic, so the same version gives the same blob) and anything else can use {@link gzip}.
 */
import type { CatalogItem } from './item';

export const SNAPSHOT_FORMAT = 'fashionml.catalog-snapshot/2';
export const DELTA_FORMAT = 'fashionml.catalog-delta/2';
const SNAPSHOT_FORMAT_V1 = 'fashionml.catalog-snapshot/1';
const DELTA_FORMAT_V1 = 'fashionml.catalog-delta/1';

/** One whole catalog version. */
export interface CatalogSnapshotData {
  version: number;
  contentHash: string;
  items: CatalogItem[];
}

/** What changed from catalog version `from` to version `to`. */
export interface CatalogDeltaData {
  from: number;
  to: number;
  /** Content hash of version `to`, when the publisher knows it. */
  contentHash?: string;
  added: CatalogItem[];
  changed: CatalogItem[];
  removed: string[];
}

export type DecodedCatalogBlob =
  | ({ kind: 'snapshot'; format: string } & CatalogSnapshotData)
  | ({ kind: 'delta'; format: string } & CatalogDeltaData);

/** A blob that is not a catalog snapshot or delta this code understands; the message says where. */
export class CatalogCodecError extends Error {
  override readonly name = 'CatalogCodecError';
}

// ---------------------------------------------------------------------------------------------
// Columnar item encoding

/** A dictionary-encoded column: `codes[i]` indexes `dict`, -1 for an absent optional value. */
interface DictColumn {
  dict: string[];
  codes: number[];
}

/** Image paths: 1 = the column's template with `{id}` replaced by the item id, null = absent. */
interface ImageColumn {
  template: string | null;
  values: (string | 1 | null)[];
}

interface AttributeColumn {
  keys: string[];
  /** Rows that have attributes, ascending. */
  rows: number[];
  /** Per listed row: key code, value, key code, value… */
  entries: (number | string)[][];
}

/** Items as columns; every array has `count` entries. Optional columns are null when no item has the field. */
export interface ItemColumns {
  count: number;
  id: string[];
  title: string[];
  gender: DictColumn;
  masterCategory: DictColumn;
  subCategory: DictColumn;
  articleType: DictColumn;
  colour: DictColumn;
  season: DictColumn | null;
  usage: DictColumn | null;
  /**
   * Left out, rather than null, when no item has one: blobs written before variant groups existed
   * lack it, and a catalog without groups keeps encoding to the same bytes (the same blob hash).
   */
  variantGroup?: DictColumn;
  /** Rendition sizes as `"<width>x<height>"`; left out when no item has one, as variantGroup is. */
  rendition?: DictColumn;
  year: (number | null)[] | null;
  price: (number | null)[] | null;
  description: (string | null)[] | null;
  image: ImageColumn | null;
  imageSha256: (string | null)[] | null;
  attributes: AttributeColumn | null;
}

const REQUIRED_DICT = ['gender', 'masterCategory', 'subCategory', 'articleType', 'colour'] as const;
const OPTIONAL_DICT = ['season', 'usage', 'variantGroup'] as const;
const OPTIONAL_NUMBER = ['year', 'price'] as const;

function dictEncode(values: readonly (string | undefined)[]): DictColumn {
  const index = new Map<string, number>();
  const dict: string[] = [];
  const codes = values.map((value) => {
    if (value === undefined) return -1;
    let code = index.get(value);
    if (code === undefined) {
      code = dict.length;
      index.set(value, code);
      dict.push(value);
    }
    return code;
  });
  return { dict, codes };
}

function anyDefined(values: readonly unknown[]): boolean {
  return values.some((v) => v !== undefined);
}

function imageColumn(items: readonly CatalogItem[]): ImageColumn | null {
  if (!items.some((item) => item.image !== undefined)) return null;
  // The pattern the first item with its id in the path follows, e.g. `images/{id}.jpg`.
  const model = items.find((item) => item.image?.includes(item.id));
  const template = model?.image ? model.image.replace(model.id, '{id}') : null;
  const values = items.map((item) => {
    if (item.image === undefined) return null;
    return template !== null && item.image === template.replace('{id}', item.id) ? 1 : item.image;
  });
  return { template, values };
}

/** Turns items into columns (the inverse of {@link decodeItemColumns}). */
export function encodeItemColumns(items: readonly CatalogItem[]): ItemColumns {
  const column = <K extends keyof CatalogItem>(key: K) => items.map((item) => item[key]);
  const optional = <T>(values: T[]): (NonNullable<T> | null)[] | null =>
    anyDefined(values) ? values.map((v) => (v === undefined ? null : (v as NonNullable<T>))) : null;

  const keyIndex = new Map<string, number>();
  const rows: number[] = [];
  const entries: (number | string)[][] = [];
  items.forEach((item, row) => {
    const pairs = Object.entries(item.attributes);
    if (pairs.length === 0) return;
    rows.push(row);
    entries.push(
      pairs.flatMap(([key, value]) => {
        let code = keyIndex.get(key);
        if (code === undefined) {
          code = keyIndex.size;
          keyIndex.set(key, code);
        }
        return [code, value];
      }),
    );
  });

  const out: ItemColumns = {
    count: items.length,
    id: column('id'),
    title: column('title'),
    gender: dictEncode(column('gender')),
    masterCategory: dictEncode(column('masterCategory')),
    subCategory: dictEncode(column('subCategory')),
    articleType: dictEncode(column('articleType')),
    colour: dictEncode(column('colour')),
    season: anyDefined(column('season')) ? dictEncode(column('season')) : null,
    usage: anyDefined(column('usage')) ? dictEncode(column('usage')) : null,
    ...(anyDefined(column('variantGroup')) ? { variantGroup: dictEncode(column('variantGroup')) } : {}),
    ...(anyDefined(column('rendition')) ? { rendition: dictEncode(items.map((item) => (item.rendition ? `${item.rendition.width}x${item.rendition.height}` : undefined))) } : {}),
    year: optional(column('year')),
    price: optional(column('price')),
    description: optional(column('description')),
    image: imageColumn(items),
    imageSha256: optional(column('imageSha256')),
    attributes: rows.length > 0 ? { keys: [...keyIndex.keys()], rows, entries } : null,
  };
  return out;
}

/** Reads and checks columns, naming the column and row of the first thing wrong. */
class ColumnReader {
  constructor(
    private readonly where: string,
    private readonly columns: Record<string, unknown>,
    readonly count: number,
  ) {}

  fail(column: string, message: string): never {
    throw new CatalogCodecError(`${this.where}: column "${column}" ${message}`);
  }

  array(name: string, optional: boolean): unknown[] | null {
    const value = this.columns[name];
    if (value === null || value === undefined) {
      if (optional) return null;
      this.fail(name, 'is missing');
    }
    if (!Array.isArray(value)) this.fail(name, 'is not an array');
    if (value.length !== this.count) this.fail(name, `has ${value.length} entries for ${this.count} items`);
    return value;
  }

  strings(name: string): string[] {
    const values = this.array(name, false)!;
    values.forEach((v, row) => {
      if (typeof v !== 'string') this.fail(name, `row ${row}: expected a string, got ${JSON.stringify(v)}`);
    });
    return values as string[];
  }

  optional<T>(name: string, type: 'string' | 'number'): (T | undefined)[] | null {
    const values = this.array(name, true);
    if (!values) return null;
    return values.map((v, row) => {
      if (v === null) return undefined;
      if (typeof v !== type || (type === 'number' && !Number.isFinite(v))) {
        this.fail(name, `row ${row}: expected a ${type} or null, got ${JSON.stringify(v)}`);
      }
      return v as T;
    });
  }

  dict(name: string, optional: boolean): (string | undefined)[] | null {
    const value = this.columns[name];
    if (value === null || value === undefined) {
      if (optional) return null;
      this.fail(name, 'is missing');
    }
    const column = value as Partial<DictColumn>;
    if (!Array.isArray(column.dict) || !column.dict.every((d) => typeof d === 'string')) this.fail(name, 'has no string dictionary');
    if (!Array.isArray(column.codes)) this.fail(name, 'has no codes');
    if (column.codes.length !== this.count) this.fail(name, `has ${column.codes.length} codes for ${this.count} items`);
    const dict = column.dict;
    return column.codes.map((code, row) => {
      if (code === -1 && optional) return undefined;
      if (!Number.isInteger(code) || code < 0 || code >= dict.length) {
        this.fail(name, `row ${row}: code ${JSON.stringify(code)} is outside the dictionary (${dict.length} values)`);
      }
      return dict[code];
    });
  }
}

/** Items back from columns; throws {@link CatalogCodecError} naming the column and row of a fault. */
export function decodeItemColumns(value: unknown, where: string): CatalogItem[] {
  if (typeof value !== 'object' || value === null) throw new CatalogCodecError(`${where}: items are not an object of columns`);
  const columns = value as Record<string, unknown>;
  const count = columns.count;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    throw new CatalogCodecError(`${where}: "count" must be a non-negative integer, got ${JSON.stringify(count)}`);
  }
  // Annotated so that `read.fail(...)` (returning never) narrows types after it.
  const read: ColumnReader = new ColumnReader(where, columns, count);
  const id = read.strings('id');
  const title = read.strings('title');
  const dicts = Object.fromEntries(REQUIRED_DICT.map((name) => [name, read.dict(name, false)!]));
  const optionalDicts = Object.fromEntries(OPTIONAL_DICT.map((name) => [name, read.dict(name, true)]));
  const numbers = Object.fromEntries(OPTIONAL_NUMBER.map((name) => [name, read.optional<number>(name, 'number')]));
  const description = read.optional<string>('description', 'string');
  const imageSha256 = read.optional<string>('imageSha256', 'string');
  const rendition = read.dict('rendition', true)?.map((size, row) => {
    if (size === undefined) return undefined;
    const match = /^([1-9]\d{0,4})x([1-9]\d{0,4})$/.exec(size);
    if (!match) read.fail('rendition', `row ${row}: expected "<width>x<height>", got ${JSON.stringify(size)}`);
    return { width: Number(match[1]), height: Number(match[2]) };
  });

  let image: (string | undefined)[] | null = null;
  if (columns.image !== null && columns.image !== undefined) {
    const column = columns.image as Partial<ImageColumn>;
    const template = column.template ?? null;
    if (template !== null && (typeof template !== 'string' || !template.includes('{id}'))) {
      read.fail('image', 'has a template without "{id}"');
    }
    const values = new ColumnReader(where, { image: column.values }, count).array('image', false)!;
    image = values.map((v, row) => {
      if (v === null) return undefined;
      if (v === 1 && template !== null) return template.replace('{id}', id[row]!);
      if (typeof v !== 'string') read.fail('image', `row ${row}: expected a path, 1 or null, got ${JSON.stringify(v)}`);
      return v;
    });
  }

  const attributes: Record<string, string>[] = Array.from({ length: count }, () => ({}));
  if (columns.attributes !== null && columns.attributes !== undefined) {
    const column = columns.attributes as Partial<AttributeColumn>;
    const keys = column.keys;
    if (!Array.isArray(keys) || !Array.isArray(column.rows) || !Array.isArray(column.entries) || column.rows.length !== column.entries.length) {
      read.fail('attributes', 'needs "keys", and "rows" and "entries" of the same length');
    }
    column.rows.forEach((row, i) => {
      const entry = column.entries![i]!;
      if (!Number.isInteger(row) || row < 0 || row >= count) read.fail('attributes', `lists row ${JSON.stringify(row)}, outside 0…${count - 1}`);
      if (!Array.isArray(entry) || entry.length % 2 !== 0) read.fail('attributes', `row ${row}: entries must be key code / value pairs`);
      for (let k = 0; k < entry.length; k += 2) {
        const key = keys[entry[k] as number];
        const text = entry[k + 1];
        if (typeof key !== 'string' || typeof text !== 'string') read.fail('attributes', `row ${row}: bad key code or value at pair ${k / 2}`);
        attributes[row]![key] = text;
      }
    });
  }

  const items: CatalogItem[] = new Array(count);
  for (let row = 0; row < count; row++) {
    const item: CatalogItem = {
      id: id[row]!,
      title: title[row]!,
      gender: dicts.gender![row]!,
      masterCategory: dicts.masterCategory![row]!,
      subCategory: dicts.subCategory![row]!,
      articleType: dicts.articleType![row]!,
      colour: dicts.colour![row]!,
      attributes: attributes[row]!,
    };
    const season = optionalDicts.season?.[row];
    if (season !== undefined) item.season = season;
    const usage = optionalDicts.usage?.[row];
    if (usage !== undefined) item.usage = usage;
    const group = optionalDicts.variantGroup?.[row];
    if (group !== undefined) item.variantGroup = group;
    const year = numbers.year?.[row];
    if (year !== undefined) item.year = year;
    const price = numbers.price?.[row];
    if (price !== undefined) item.price = price;
    const text = description?.[row];
    if (text !== undefined) item.description = text;
    const path = image?.[row];
    if (path !== undefined) item.image = path;
    const sha = imageSha256?.[row];
    if (sha !== undefined) item.imageSha256 = sha;
    const size = rendition?.[row];
    if (size !== undefined) item.rendition = size;
    items[row] = item;
  }
  return items;
}

// ---------------------------------------------------------------------------------------------
// Snapshots and deltas

const utf8 = new TextEncoder();

/** The uncompressed format-2 payload of a snapshot (gzip it before publishing). */
export function encodeSnapshotPayload(snapshot: CatalogSnapshotData): Uint8Array {
  checkVersion('snapshot version', snapshot.version);
  return utf8.encode(
    JSON.stringify({
      format: SNAPSHOT_FORMAT,
      version: snapshot.version,
      contentHash: snapshot.contentHash,
      items: encodeItemColumns(snapshot.items),
    }),
  );
}

/** The uncompressed format-2 payload of a delta (gzip it before publishing). */
export function encodeDeltaPayload(delta: CatalogDeltaData): Uint8Array {
  checkVersion('delta "from"', delta.from);
  checkVersion('delta "to"', delta.to);
  return utf8.encode(
    JSON.stringify({
      format: DELTA_FORMAT,
      from: delta.from,
      to: delta.to,
      ...(delta.contentHash === undefined ? {} : { contentHash: delta.contentHash }),
      added: encodeItemColumns(delta.added),
      changed: encodeItemColumns(delta.changed),
      removed: delta.removed,
    }),
  );
}

function checkVersion(what: string, version: number): void {
  if (!Number.isInteger(version) || version < 1) throw new CatalogCodecError(`The ${what} must be a positive integer, got ${version}`);
}

/** True when `bytes` start with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

async function pipeBytes(bytes: Uint8Array, transform: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(transform);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** gzip with the platform's `CompressionStream` (Node 18+, browsers, workers). */
export function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  return pipeBytes(bytes, new CompressionStream('gzip'));
}

/** gunzip with the platform's `DecompressionStream`; a damaged stream rejects with a named error. */
export async function gunzip(bytes: Uint8Array, where = 'blob'): Promise<Uint8Array> {
  try {
    return await pipeBytes(bytes, new DecompressionStream('gzip'));
  } catch (error) {
    throw new CatalogCodecError(`${where}: the gzip data is damaged (${error instanceof Error ? error.message : String(error)})`);
  }
}

function positive(value: unknown, where: string, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new CatalogCodecError(`${where}: "${field}" must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function v1Items(value: unknown, where: string): CatalogItem[] {
  if (!Array.isArray(value)) throw new CatalogCodecError(`${where}: items are not an array`);
  value.forEach((item: unknown, row) => {
    const it = item as Partial<CatalogItem> | null;
    if (typeof it !== 'object' || it === null || typeof it.id !== 'string' || typeof it.title !== 'string') {
      throw new CatalogCodecError(`${where}: item ${row} has no string "id" and "title"`);
    }
  });
  return value as CatalogItem[];
}

/**
 * Decodes a catalog blob: a format-2 snapshot or delta (gzip) or a format-1 one (plain JSON).
 * `where` names the blob in error messages (e.g. its sha256). Rejects with {@link CatalogCodecError}.
 */
export async function decodeCatalogBlob(bytes: Uint8Array, where = 'catalog blob'): Promise<DecodedCatalogBlob> {
  const payload = isGzip(bytes) ? await gunzip(bytes, where) : bytes;
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload)) as Record<string, unknown>;
  } catch (error) {
    throw new CatalogCodecError(`${where}: not a catalog snapshot or delta (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof doc !== 'object' || doc === null) throw new CatalogCodecError(`${where}: not a JSON object`);
  const format = doc.format;
  const hash = (field: string): string => {
    if (typeof doc[field] !== 'string') throw new CatalogCodecError(`${where}: "${field}" must be a string`);
    return doc[field];
  };
  const removed = (): string[] => {
    if (!Array.isArray(doc.removed) || !doc.removed.every((id) => typeof id === 'string')) {
      throw new CatalogCodecError(`${where}: "removed" must be an array of item ids`);
    }
    return doc.removed as string[];
  };
  switch (format) {
    case SNAPSHOT_FORMAT:
    case SNAPSHOT_FORMAT_V1: {
      const items = format === SNAPSHOT_FORMAT ? decodeItemColumns(doc.items, `${where} items`) : v1Items(doc.items, `${where} items`);
      return { kind: 'snapshot', format, version: positive(doc.version, where, 'version'), contentHash: hash('contentHash'), items };
    }
    case DELTA_FORMAT:
    case DELTA_FORMAT_V1: {
      const decode = format === DELTA_FORMAT ? decodeItemColumns : v1Items;
      const out: DecodedCatalogBlob = {
        kind: 'delta',
        format,
        from: positive(doc.from, where, 'from'),
        to: positive(doc.to, where, 'to'),
        added: decode(doc.added, `${where} added`),
        changed: decode(doc.changed, `${where} changed`),
        removed: removed(),
      };
      if (doc.contentHash !== undefined) out.contentHash = hash('contentHash');
      return out;
    }
    default:
      throw new CatalogCodecError(
        `${where}: unknown format ${JSON.stringify(format)} (this app reads ${SNAPSHOT_FORMAT}, ${DELTA_FORMAT} and their format-1 forms)`,
      );
  }
}
