/**
 * Importer for shopper events (`user,item,type,timestamp[,weight][,price]`), CSV or JSON Lines,
 * with the column names overridable so another shop's log (an H&M-style transactions table, say)
 * fits.
 */
import { z } from 'zod';
import { detectFormat, invalidUtf8Note, readRows, readSource, sourceKind } from './csv-lines';
import type { SourceRow } from './csv-lines';
import { columnSchema, delimiterSchema, formatSchema, loadMappingFile, validateMapping } from './mapping';
import { INTERACTION_TYPES } from './types';
import type { CatalogItem, ImportResult, InteractionEvent, InteractionType, QuarantinedRow } from './types';

const typeSchema = z.enum(INTERACTION_TYPES);

/** How to read an events file whose columns are not `user,item,type,timestamp,weight,price`. */
export const interactionMappingSchema = z.strictObject({
  format: formatSchema.optional(),
  delimiter: delimiterSchema.optional(),
  /** Source column for each event field; each defaults to the field's own name. */
  fields: z
    .strictObject({
      user: columnSchema.optional(),
      item: columnSchema.optional(),
      type: columnSchema.optional(),
      timestamp: columnSchema.optional(),
      weight: columnSchema.optional(),
      /** Price paid per unit (a purchase log's); items without a catalog price take their latest. */
      price: columnSchema.optional(),
    })
    .optional(),
  /** Values for events that have none: `type` also lets a file have no type column at all. */
  defaults: z
    .strictObject({
      type: typeSchema.optional(),
      weight: z.number().nonnegative().optional(),
    })
    .optional(),
  /** Source type values mapped onto event types, e.g. `{ "transaction": "purchase" }`. */
  types: z.record(z.string(), typeSchema).optional(),
});

/** A validated interaction mapping. */
export type InteractionMapping = z.output<typeof interactionMappingSchema>;
/** An interaction mapping as written. */
export type InteractionMappingInput = z.input<typeof interactionMappingSchema>;

/** Reads and validates an interaction mapping file (errors name the file and the bad field). */
export async function loadInteractionMapping(file: string): Promise<InteractionMapping> {
  return loadMappingFile(interactionMappingSchema, file);
}

export interface ImportInteractionsOptions {
  /** Ids of the catalog's items: events for any other item are quarantined as `unknown_item`. */
  knownItems: ReadonlySet<string>;
  /** Column names and defaults, when the file does not use the standard ones. */
  mapping?: InteractionMapping | InteractionMappingInput;
}

/** Epoch numbers below this are seconds, from it on milliseconds (see `parseTimestamp`). */
export const EPOCH_MILLIS_FROM = 1e11;
/** The latest accepted instant: the end of year 9999 (a larger number is a unit mistake). */
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * Parses a timestamp into epoch milliseconds, or returns undefined.
 *
 * - ISO-8601 date (`2018-09-20`, read as midnight UTC) or date-time (`2018-09-20T14:03:00`, `T` or a
 *   space, optional fraction, optional `Z` / `±hh:mm` offset; without an offset it is read as UTC,
 *   so the result never depends on the importing machine's time zone).
 * - A plain non-negative number is Unix epoch time, decided by magnitude: below 1e11 it is seconds
 *   (1e11 s is the year 5138), from 1e11 on milliseconds (1e11 ms is 3 March 1973). So seconds and
 *   milliseconds from 1973 on are both read right; a result after the year 9999 (microseconds,
 *   for instance) is rejected.
 */
export function parseTimestamp(value: string | number): number | undefined {
  const s = typeof value === 'number' ? String(value) : value.trim();
  if (/^\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    const ms = n < EPOCH_MILLIS_FROM ? n * 1000 : n;
    return Number.isFinite(ms) && ms <= MAX_TIME ? Math.round(ms) : undefined;
  }
  const m = ISO.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(sec);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC rolls 31 February over into March: a day that changes is not a real date.
  if (new Date(t).getUTCDate() !== day) return undefined;
  let offset = 0;
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2) || '0');
    if (oh > 23 || om > 59) return undefined;
    offset = sign * (oh * 60 + om) * 60_000;
  }
  return t - offset;
}

/** Normalises a source type value: case and separators (`Add-To-Cart` → `add_to_cart`). */
function normaliseType(value: string): string {
  return value.trim().toLowerCase().replace(/[\s-]+/g, '_');
}

/**
 * Imports shopper events from a CSV / TSV / JSON Lines file.
 *
 * Columns default to `user,item,type,timestamp,weight,price` (weight and price optional);
 * `options.mapping` renames them, maps source type values (`types`) and gives defaults — a
 * `defaults.type` lets a file without a type column in, e.g. an H&M `transactions.csv` as `purchase`
 * events. Timestamps are read by `parseTimestamp`. Rows are quarantined for: no user
 * (`missing_user`), no item (`missing_item`), an item not in `knownItems` (`unknown_item`), a type
 * outside the contract (`unknown_type`, naming the valid ones), an unreadable timestamp
 * (`bad_timestamp`), a negative or non-numeric weight (`bad_weight`) or price (`bad_price`), bad
 * UTF-8 (`invalid_utf8`), a malformed JSON line (`malformed_json`) or a wrong field count. Throws
 * `FatalImportError` for a missing, empty or binary file, a CSV header without the needed columns,
 * or an invalid mapping.
 */
export async function importInteractions(
  file: string,
  options: ImportInteractionsOptions,
): Promise<ImportResult<InteractionEvent>> {
  const m = options.mapping === undefined ? {} : validateMapping(interactionMappingSchema, options.mapping, 'mapping');
  const col = {
    user: m.fields?.user ?? 'user',
    item: m.fields?.item ?? 'item',
    type: m.fields?.type ?? 'type',
    timestamp: m.fields?.timestamp ?? 'timestamp',
    weight: m.fields?.weight ?? 'weight',
    price: m.fields?.price ?? 'price',
  };
  const src = await readSource(file, sourceKind(file, m.format));
  const format = detectFormat(src, m.format);
  const required = [col.user, col.item, col.timestamp];
  if (m.defaults?.type === undefined) required.push(col.type);
  if (m.fields?.weight !== undefined) required.push(col.weight);
  if (m.fields?.price !== undefined) required.push(col.price);
  const { items, notes } = readRows(src, format, required, m.delimiter);

  const accepted: InteractionEvent[] = [];
  const quarantined: QuarantinedRow[] = [];
  const epoch = { seconds: 0, millis: 0 };
  const typeMap = new Map<string, InteractionType>();
  for (const [from, to] of Object.entries(m.types ?? {})) typeMap.set(normaliseType(from), to);
  const valid = new Set<string>(INTERACTION_TYPES);

  const readRow = (row: SourceRow): { event: InteractionEvent } | { problem: QuarantinedRow } => {
    const problem = (reason: string, field: string, message: string): { problem: QuarantinedRow } => ({
      problem: { file, line: row.line, field, reason, message, raw: row.raw() },
    });
    const userId = row.get(col.user);
    if (userId === '') return problem('missing_user', col.user, `line ${row.line} has no user (column ${JSON.stringify(col.user)})`);
    const itemId = row.get(col.item);
    if (itemId === '') return problem('missing_item', col.item, `line ${row.line} has no item (column ${JSON.stringify(col.item)})`);
    if (!options.knownItems.has(itemId)) {
      return problem('unknown_item', col.item, `item ${JSON.stringify(itemId)} is not in the catalog`);
    }

    const typeText = row.get(col.type);
    let type: InteractionType | undefined;
    if (typeText === '') {
      type = m.defaults?.type;
      if (type === undefined) {
        return problem('unknown_type', col.type, `line ${row.line} has no type; valid types: ${INTERACTION_TYPES.join(', ')}`);
      }
    } else {
      const t = normaliseType(typeText);
      type = typeMap.get(t) ?? (valid.has(t) ? (t as InteractionType) : undefined);
      if (type === undefined) {
        return problem(
          'unknown_type',
          col.type,
          `type ${JSON.stringify(typeText)} is not one of ${INTERACTION_TYPES.join(', ')} (map it with "types" in the mapping)`,
        );
      }
    }

    const tsText = row.get(col.timestamp);
    const timestamp = tsText === '' ? undefined : parseTimestamp(tsText);
    if (timestamp === undefined) {
      return problem(
        'bad_timestamp',
        col.timestamp,
        tsText === ''
          ? `line ${row.line} has no timestamp`
          : `timestamp ${JSON.stringify(tsText)} is neither an ISO-8601 date / date-time nor epoch seconds or milliseconds`,
      );
    }
    if (/^\d+(\.\d+)?$/.test(tsText)) {
      if (Number(tsText) < EPOCH_MILLIS_FROM) epoch.seconds++;
      else epoch.millis++;
    }

    const event: InteractionEvent = { userId, itemId, type, timestamp };
    const weightText = row.get(col.weight);
    if (weightText !== '') {
      const w = Number(weightText);
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(weightText) || !Number.isFinite(w) || w < 0) {
        return problem('bad_weight', col.weight, `weight ${JSON.stringify(weightText)} is not a non-negative number`);
      }
      event.weight = w;
    } else if (m.defaults?.weight !== undefined) {
      event.weight = m.defaults.weight;
    }
    const priceText = row.get(col.price);
    if (priceText !== '') {
      const p = Number(priceText);
      if (!/^[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(priceText) || !Number.isFinite(p)) {
        return problem('bad_price', col.price, `price ${JSON.stringify(priceText)} is not a non-negative number`);
      }
      event.price = p;
    }
    return { event };
  };

  let unknownItems = 0;
  for (const entry of items) {
    if ('problem' in entry) {
      quarantined.push(entry.problem);
      continue;
    }
    const outcome = readRow(entry.row);
    if ('problem' in outcome) {
      quarantined.push(outcome.problem);
      if (outcome.problem.reason === 'unknown_item') unknownItems++;
    } else {
      accepted.push(outcome.event);
    }
  }

  if (epoch.seconds > 0) notes.push(`${epoch.seconds} numeric timestamp(s) read as epoch seconds (below 1e11)`);
  if (epoch.millis > 0) notes.push(`${epoch.millis} numeric timestamp(s) read as epoch milliseconds (1e11 or more)`);
  if (unknownItems > 0) notes.push(`${unknownItems} event(s) name items that are not in the catalog`);
  const utf8 = invalidUtf8Note(src);
  if (utf8) notes.push(utf8);
  if (items.length === 0) notes.push('the file has no data rows');
  return { file, rowsRead: items.length, accepted, quarantined, notes };
}

/**
 * Gives every item without a price the price of its latest event that has one: a shop whose
 * articles table carries no prices still has them in its sales log. Latest by timestamp; of events
 * at the same instant, the one later in `events` (a log's own order). Items that have a price keep
 * it. Changes `items` in place and returns how many got a price.
 */
export function fillPricesFromInteractions(items: readonly CatalogItem[], events: readonly InteractionEvent[]): number {
  const latest = new Map<string, { timestamp: number; price: number }>();
  for (const e of events) {
    if (e.price === undefined) continue;
    const seen = latest.get(e.itemId);
    if (seen === undefined || e.timestamp >= seen.timestamp) latest.set(e.itemId, { timestamp: e.timestamp, price: e.price });
  }
  let filled = 0;
  for (const item of items) {
    if (item.price !== undefined) continue;
    const found = latest.get(item.id);
    if (found === undefined) continue;
    item.price = found.price;
    filled++;
  }
  return filled;
}
