/**
 * Mapping-driven catalog importer: another shop's export (CSV, TSV or JSON Lines) is brought onto
 * the catalog item contract by a small JSON file that names the source column for each field.
 */
import { z } from 'zod';
import { detectFormat, invalidUtf8Note, readRows, readSource, sourceKind } from './csv-lines';
import type { SourceFormat, SourceRow } from './csv-lines';
import { columnSchema, delimiterSchema, formatSchema, loadMappingFile, validateMapping } from './mapping';
import type { CatalogItem, ImportResult, QuarantinedRow } from './types';

const column = columnSchema;
const text = z.string().trim().min(1, 'must not be empty');

/** Item fields that a row must end up with, from a column or a default. */
const REQUIRED_ITEM_FIELDS = ['gender', 'masterCategory', 'subCategory', 'articleType', 'colour'] as const;

/**
 * The mapping file's schema. Every `fields` value is a source column (CSV header name) or key
 * (JSON Lines; a dotted path reaches into nested objects).
 */
export const catalogMappingSchema = z
  .strictObject({
    /** `csv`, `tsv` or `jsonl`; by default decided from the file's extension. */
    format: formatSchema.optional(),
    /** CSV delimiter; by default guessed from the header line. */
    delimiter: delimiterSchema.optional(),
    fields: z.strictObject({
      id: column,
      title: column,
      gender: column.optional(),
      masterCategory: column.optional(),
      subCategory: column.optional(),
      articleType: column.optional(),
      colour: column.optional(),
      season: column.optional(),
      year: column.optional(),
      usage: column.optional(),
      price: column.optional(),
      description: column.optional(),
      /** The garment a variant belongs to (items with one value are colours or sizes of one product). */
      variantGroup: column.optional(),
      image: column.optional(),
    }),
    /** Source columns kept as free attributes, or `rest` for every column not mapped to a field. */
    attributes: z.union([z.array(column), z.literal('rest')]).optional(),
    /** Values used when a row has none (or the field is not mapped at all). */
    defaults: z
      .strictObject({
        gender: text.optional(),
        masterCategory: text.optional(),
        subCategory: text.optional(),
        articleType: text.optional(),
        colour: text.optional(),
        season: text.optional(),
        year: z.number().int().optional(),
        usage: text.optional(),
        price: z.number().nonnegative().optional(),
        description: text.optional(),
        image: text.optional(),
      })
      .optional(),
  })
  .superRefine((m, ctx) => {
    for (const f of REQUIRED_ITEM_FIELDS) {
      if (m.fields[f] === undefined && m.defaults?.[f] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['fields', f],
          message: `every item needs a ${f}: map it to a column or give defaults.${f}`,
        });
      }
    }
  });

/** A validated catalog mapping. */
export type CatalogMapping = z.output<typeof catalogMappingSchema>;
/** A catalog mapping as written in a mapping file. */
export type CatalogMappingInput = z.input<typeof catalogMappingSchema>;

/** Validates a mapping object; `where` names its origin in the error. */
export function parseMapping(value: unknown, where = 'mapping'): CatalogMapping {
  return validateMapping(catalogMappingSchema, value, where);
}

/**
 * Reads and validates a catalog mapping file. Throws `FatalImportError` naming the mapping file and
 * the bad field (or the JSON syntax error) when it cannot be used.
 */
export async function loadMapping(file: string): Promise<CatalogMapping> {
  return loadMappingFile(catalogMappingSchema, file);
}

/** The item fields a mapping can name, in contract order. */
type MappedField = keyof CatalogMapping['fields'];

/**
 * Imports a shop's catalog export through a mapping (an object, or the path of a mapping file).
 *
 * The format comes from `mapping.format` or the file's extension (.csv, .tsv, .jsonl, .ndjson). A
 * CSV header must contain every mapped column. Required item fields left empty fall back to the
 * mapping's defaults; rows are quarantined for a missing id (`missing_id`), a duplicate of an
 * accepted id (`duplicate_id`), an empty title or required field (`missing_field`), a price or year
 * that is not a number (`bad_number`, naming the field), bad UTF-8 (`invalid_utf8`), a malformed
 * JSON line (`malformed_json`, with the parser's message) and a wrong field count. Attributes are
 * the listed columns, or with `rest` (the default) every unmapped column with a value.
 */
export async function importGenericCatalog(
  file: string,
  mapping: CatalogMapping | CatalogMappingInput | string,
): Promise<ImportResult<CatalogItem>> {
  const m = typeof mapping === 'string' ? await loadMapping(mapping) : parseMapping(mapping);
  const src = await readSource(file, sourceKind(file, m.format));
  const format: SourceFormat = detectFormat(src, m.format);
  const mappedColumns = Object.values(m.fields).filter((c): c is string => c !== undefined);
  const attributeColumns = m.attributes === undefined || m.attributes === 'rest' ? [] : m.attributes;
  const { items, notes } = readRows(src, format, [...new Set([...mappedColumns, ...attributeColumns])], m.delimiter);

  const accepted: CatalogItem[] = [];
  const quarantined: QuarantinedRow[] = [];
  const firstLineOf = new Map<string, number>();
  const ctx: MapContext = {
    m,
    file,
    firstLineOf,
    mapped: new Set(mappedColumns),
    attributes: m.attributes === undefined || m.attributes === 'rest' ? 'rest' : m.attributes,
  };

  for (const entry of items) {
    if ('problem' in entry) {
      quarantined.push(entry.problem);
      continue;
    }
    const outcome = mapRow(entry.row, ctx);
    if ('problem' in outcome) {
      quarantined.push(outcome.problem);
    } else {
      accepted.push(outcome.item);
      firstLineOf.set(outcome.item.id, entry.row.line);
    }
  }

  const utf8 = invalidUtf8Note(src);
  if (utf8) notes.push(utf8);
  if (items.length === 0) notes.push('the file has no data rows');
  return { file, rowsRead: items.length, accepted, quarantined, notes };
}

/** What mapping a row needs besides the row. */
interface MapContext {
  m: CatalogMapping;
  file: string;
  /** Line of each accepted id, to name it when the id comes again. */
  firstLineOf: ReadonlyMap<string, number>;
  /** Source columns mapped onto item fields (left out of `rest` attributes). */
  mapped: ReadonlySet<string>;
  attributes: 'rest' | readonly string[];
}

/** Maps one source row onto an item, or says why it cannot be one. */
function mapRow(row: SourceRow, ctx: MapContext): { item: CatalogItem } | { problem: QuarantinedRow } {
  const { m, file, firstLineOf } = ctx;
  const problem = (reason: string, message: string, field?: string): { problem: QuarantinedRow } => {
    const raw = row.raw();
    return { problem: field === undefined ? { file, line: row.line, reason, message, raw } : { file, line: row.line, field, reason, message, raw } };
  };
  const value = (f: MappedField): string => {
    const c = m.fields[f];
    return c === undefined ? '' : row.get(c);
  };
  const withDefault = (f: Exclude<MappedField, 'id' | 'title' | 'year' | 'price' | 'variantGroup'>): string => {
    const v = value(f);
    return v !== '' ? v : (m.defaults?.[f] ?? '');
  };

  const id = value('id');
  if (id === '') return problem('missing_id', `line ${row.line} has no id (column ${JSON.stringify(m.fields.id)})`, m.fields.id);
  const first = firstLineOf.get(id);
  if (first !== undefined) {
    return problem('duplicate_id', `id ${JSON.stringify(id)} was already imported from line ${first}`, m.fields.id);
  }
  const title = value('title');
  if (title === '') return problem('missing_field', `id ${JSON.stringify(id)}: title (column ${JSON.stringify(m.fields.title)}) is empty`, m.fields.title);
  const required: Record<(typeof REQUIRED_ITEM_FIELDS)[number], string> = {
    gender: withDefault('gender'),
    masterCategory: withDefault('masterCategory'),
    subCategory: withDefault('subCategory'),
    articleType: withDefault('articleType'),
    colour: withDefault('colour'),
  };
  for (const f of REQUIRED_ITEM_FIELDS) {
    if (required[f] === '') {
      return problem('missing_field', `id ${JSON.stringify(id)}: ${f} (column ${JSON.stringify(m.fields[f])}) is empty and has no default`, m.fields[f] ?? f);
    }
  }

  const item: CatalogItem = { id, title, ...required, attributes: {} };
  const yearText = value('year');
  if (yearText !== '') {
    if (!/^\d{1,4}$/.test(yearText)) {
      return problem('bad_number', `id ${JSON.stringify(id)}: year ${JSON.stringify(yearText)} is not an integer year`, m.fields.year);
    }
    item.year = Number(yearText);
  } else if (m.defaults?.year !== undefined) {
    item.year = m.defaults.year;
  }
  const priceText = value('price');
  if (priceText !== '') {
    const price = Number(priceText);
    if (!/^[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(priceText) || !Number.isFinite(price)) {
      return problem('bad_number', `id ${JSON.stringify(id)}: price ${JSON.stringify(priceText)} is not a non-negative number`, m.fields.price);
    }
    item.price = price;
  } else if (m.defaults?.price !== undefined) {
    item.price = m.defaults.price;
  }
  for (const f of ['season', 'usage', 'description', 'image'] as const) {
    const v = withDefault(f);
    if (v !== '') item[f] = v;
  }
  // No default: a group shared by every item would say they are all one garment.
  const group = value('variantGroup');
  if (group !== '') item.variantGroup = group;

  const attrColumns = ctx.attributes === 'rest' ? row.columns().filter((c) => !ctx.mapped.has(c)) : ctx.attributes;
  for (const c of attrColumns) {
    const v = row.get(c);
    if (v !== '') item.attributes[c] = v;
  }
  return { item };
}
