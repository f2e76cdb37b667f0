/**
 * Importer for the Kaggle *Fashion Product Images* catalog (`styles.csv` beside `images/<id>.jpg`).
 */
import {
  fieldCountProblem,
  firstInvalidLine,
  invalidUtf8Message,
  invalidUtf8Note,
  lineStartOffset,
  parseCsv,
  quarantineFor,
  rawText,
  readSource,
  requireColumns,
  csvReason,
} from './csv-lines';
import type { CatalogItem, ImportResult, QuarantinedRow } from './types';

/** The columns of `styles.csv`, in the order the file has them. */
export const KAGGLE_STYLES_COLUMNS = [
  'id',
  'gender',
  'masterCategory',
  'subCategory',
  'articleType',
  'baseColour',
  'season',
  'year',
  'usage',
  'productDisplayName',
] as const;

/** Source columns that must have a value, with the item field each becomes. */
const REQUIRED: readonly [column: string, field: string][] = [
  ['gender', 'gender'],
  ['masterCategory', 'masterCategory'],
  ['subCategory', 'subCategory'],
  ['articleType', 'articleType'],
  ['baseColour', 'colour'],
  ['productDisplayName', 'title'],
];

const NAME = 'productDisplayName';

/**
 * Imports a Kaggle `styles.csv` into catalog items.
 *
 * Rows whose product name holds unquoted commas have more than ten fields; when the name is the
 * last column (as in the published file) the fields from the name's position on are joined back
 * with commas, and a note says how many rows were repaired. `usage` given as `NA` and empty
 * season / year / usage become undefined; `image` is `images/<id>.jpg` (whether the photo exists is
 * the image step's business). Rows that cannot be items are quarantined with their line number and
 * reason (`missing_id`, `duplicate_id`, `too_few_fields`, `truncated_row`, `bad_number`,
 * `missing_field`, `invalid_utf8`, `unclosed_quote`); a duplicate id is quarantined when an accepted
 * row already has it. Throws `FatalImportError` when the file is missing, empty, binary, or its
 * header lacks a column (or uses another delimiter).
 */
export async function importKaggleStyles(file: string): Promise<ImportResult<CatalogItem>> {
  const src = await readSource(file, 'CSV');
  const csv = parseCsv(src, ',');
  const index = requireColumns(src, csv.header, KAGGLE_STYLES_COLUMNS, ',');
  const headerNames = csv.header!.fields.map((f) => f.trim());
  const width = headerNames.length;
  const col = (name: string): number => index.get(name)!;
  const nameAt = col(NAME);
  const nameIsLast = nameAt === width - 1;
  // Columns beyond the standard ten are kept as free attributes.
  const extra = headerNames
    .map((name, i) => ({ name, i }))
    .filter(({ name, i }) => name !== '' && index.get(name) === i && !(KAGGLE_STYLES_COLUMNS as readonly string[]).includes(name));

  const quarantine = quarantineFor(file);
  const accepted: CatalogItem[] = [];
  const quarantined: QuarantinedRow[] = [];
  const firstLineOf = new Map<string, number>();
  let repaired = 0;
  let usageNA = 0;

  for (const r of csv.rows) {
    const raw = (): string => rawText(src, r.start, r.end, r.line, r.endLine);
    const bad = firstInvalidLine(src, r.line, r.endLine);
    if (bad !== undefined) {
      const at = lineStartOffset(src.bytes, bad, r.start, r.line);
      quarantined.push(quarantine(r.line, 'invalid_utf8', invalidUtf8Message(src, bad, at), raw()));
      continue;
    }
    if (r.kind === 'broken') {
      quarantined.push(quarantine(r.line, csvReason(r.code), `line ${r.line} cannot be parsed: ${r.message}`, raw()));
      continue;
    }

    let fields = r.fields;
    let wasRepaired = false;
    if (fields.length > width && nameIsLast) {
      // The published file's quirk: the name is the last column, so everything from it on is the name.
      fields = [...fields.slice(0, nameAt), fields.slice(nameAt).join(',')];
      wasRepaired = true;
    } else {
      const count = fieldCountProblem(r, width, ',');
      if (count) {
        quarantined.push(quarantine(r.line, count.reason, count.message, raw()));
        continue;
      }
    }
    const get = (name: string): string => (fields[col(name)] ?? '').trim();

    const id = get('id');
    if (id === '') {
      quarantined.push(quarantine(r.line, 'missing_id', `line ${r.line} has no id`, raw(), 'id'));
      continue;
    }
    const first = firstLineOf.get(id);
    if (first !== undefined) {
      quarantined.push(
        quarantine(r.line, 'duplicate_id', `id ${JSON.stringify(id)} was already imported from line ${first}`, raw(), 'id'),
      );
      continue;
    }
    const empty = REQUIRED.filter(([column]) => get(column) === '');
    if (empty.length > 0) {
      const [column] = empty[0]!;
      const all = empty.map(([c, f]) => (c === f ? c : `${c} (${f})`)).join(', ');
      quarantined.push(
        quarantine(r.line, 'missing_field', `id ${JSON.stringify(id)}: required field ${all} is empty`, raw(), column),
      );
      continue;
    }
    const yearText = get('year');
    if (yearText !== '' && !/^\d{1,4}$/.test(yearText)) {
      quarantined.push(
        quarantine(r.line, 'bad_number', `id ${JSON.stringify(id)}: year ${JSON.stringify(yearText)} is not an integer year`, raw(), 'year'),
      );
      continue;
    }

    const season = get('season');
    const usageText = get('usage');
    if (usageText === 'NA') usageNA++;
    const usage = usageText === '' || usageText === 'NA' ? undefined : usageText;
    const attributes: Record<string, string> = {};
    for (const { name, i } of extra) {
      const v = (fields[i] ?? '').trim();
      if (v !== '') attributes[name] = v;
    }
    const item: CatalogItem = {
      id,
      title: get(NAME),
      gender: get('gender'),
      masterCategory: get('masterCategory'),
      subCategory: get('subCategory'),
      articleType: get('articleType'),
      colour: get('baseColour'),
      image: `images/${id}.jpg`,
      attributes,
    };
    if (season !== '') item.season = season;
    if (yearText !== '') item.year = Number(yearText);
    if (usage !== undefined) item.usage = usage;
    accepted.push(item);
    firstLineOf.set(id, r.line);
    if (wasRepaired) repaired++;
  }

  const notes: string[] = [];
  if (repaired > 0) {
    notes.push(
      `${repaired} row(s) had unquoted commas in ${NAME} (more than ${width} fields) and were repaired: ` +
        `the fields from the name on were joined back with commas`,
    );
  }
  if (usageNA > 0) notes.push(`${usageNA} row(s) have usage "NA", read as no usage`);
  if (csv.blankRows > 0) notes.push(`${csv.blankRows} blank row(s) skipped`);
  const utf8 = invalidUtf8Note(src);
  if (utf8) notes.push(utf8);
  if (csv.rows.length === 0) notes.push('the file has a header but no data rows');

  return { file, rowsRead: csv.rows.length, accepted, quarantined, notes };
}
