/**
 * Shared plumbing for the importers: reading a source file with the checks that make an import
 * fatal (missing, empty, binary), per-line UTF-8 validation, CSV parsing with real line numbers
 * and recovery from broken quoting, JSON Lines splitting, delimiter sniffing and quarantine rows.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { CsvError, parse } from 'csv-parse/sync';
import { FatalImportError } from './types';
import type { QuarantinedRow } from './types';

/** The longest raw line kept in a quarantined row. */
export const RAW_LIMIT = 500;

const LF = 0x0a;
const CR = 0x0d;

/** A source file read into memory, with its encoding problems located. */
export interface Source {
  /** The path as given to the importer (used in every report). */
  file: string;
  bytes: Buffer;
  /** Offset of the first byte after a UTF-8 byte-order mark (0 when there is none). */
  bodyStart: number;
  /** 1-based numbers of the lines that are not valid UTF-8 (empty for a clean file). */
  invalidLines: ReadonlySet<number>;
  /** Whether the last line ends with a newline; a file cut mid-row usually does not. */
  endsWithNewline: boolean;
}

/** Known binary signatures, so the fatal error can say what the file looks like. */
const SIGNATURES: readonly { bytes: readonly number[]; what: string }[] = [
  { bytes: [0x89, 0x50, 0x4e, 0x47], what: 'a PNG image' },
  { bytes: [0xff, 0xd8, 0xff], what: 'a JPEG image' },
  { bytes: [0x47, 0x49, 0x46, 0x38], what: 'a GIF image' },
  { bytes: [0x25, 0x50, 0x44, 0x46], what: 'a PDF document' },
  { bytes: [0x50, 0x4b, 0x03, 0x04], what: 'a ZIP archive (or an Excel .xlsx workbook: export it as CSV)' },
  { bytes: [0x1f, 0x8b], what: 'a gzip archive (decompress it first)' },
  { bytes: [0x50, 0x41, 0x52, 0x31], what: 'a Parquet file' },
  { bytes: [0x53, 0x51, 0x4c, 0x69, 0x74, 0x65], what: 'an SQLite database' },
  { bytes: [0xff, 0xfe], what: 'UTF-16 (little-endian) text: save it as UTF-8' },
  { bytes: [0xfe, 0xff], what: 'UTF-16 (big-endian) text: save it as UTF-8' },
];

/** Throws unless `bytes` look like text; `kind` names the expected format in the message. */
function assertText(file: string, bytes: Buffer, kind: string): void {
  for (const sig of SIGNATURES) {
    if (sig.bytes.every((b, i) => bytes[i] === b)) {
      throw new FatalImportError(file, `not a ${kind} file: it looks like ${sig.what}`);
    }
  }
  // Text never holds NUL bytes and hardly any other C0 control characters.
  const sample = bytes.subarray(0, 8192);
  let control = 0;
  for (const b of sample) {
    if (b === 0) {
      throw new FatalImportError(file, `not a ${kind} file: it is binary (it contains NUL bytes)`);
    }
    if (b < 0x20 && b !== 0x09 && b !== LF && b !== CR && b !== 0x0c) control++;
  }
  if (control > sample.length / 100) {
    throw new FatalImportError(
      file,
      `not a ${kind} file: it is binary (${control} control bytes in the first ${sample.length})`,
    );
  }
}

/**
 * Reads `file` and checks it can be imported at all. Throws `FatalImportError` for a missing or
 * unreadable file, an empty one and a binary one; lines that are not UTF-8 are only recorded, so
 * the importer can quarantine them one by one.
 */
export async function readSource(file: string, kind: string): Promise<Source> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FatalImportError(file, 'no such file');
    if (code === 'EISDIR') throw new FatalImportError(file, `is a directory, not a ${kind} file`);
    if (code === 'EACCES' || code === 'EPERM') throw new FatalImportError(file, 'cannot read it: permission denied');
    throw new FatalImportError(file, `cannot read it: ${(error as Error).message}`);
  }
  if (bytes.length === 0) throw new FatalImportError(file, 'empty file (0 bytes)');
  const bodyStart = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  assertText(file, bytes.subarray(bodyStart), kind);
  if (bytes.subarray(bodyStart).every((b) => b === 0x20 || b === 0x09 || b === LF || b === CR)) {
    throw new FatalImportError(file, 'empty file (only whitespace)');
  }
  return {
    file,
    bytes,
    bodyStart,
    invalidLines: findInvalidUtf8Lines(bytes),
    endsWithNewline: bytes[bytes.length - 1] === LF,
  };
}

/**
 * The 1-based numbers of the lines of `bytes` that are not valid UTF-8. The whole buffer is tried
 * first, so a clean file costs one decode; only a dirty one is checked line by line.
 */
export function findInvalidUtf8Lines(bytes: Uint8Array): Set<number> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const invalid = new Set<number>();
  try {
    decoder.decode(bytes);
    return invalid;
  } catch {
    // Fall through to the per-line check.
  }
  let start = 0;
  for (let line = 1; start <= bytes.length; line++) {
    let end = bytes.indexOf(LF, start);
    if (end === -1) end = bytes.length;
    try {
      decoder.decode(bytes.subarray(start, end));
    } catch {
      invalid.add(line);
    }
    start = end + 1;
  }
  return invalid;
}

/** The offset of the first byte that does not belong to a well-formed UTF-8 sequence, or -1. */
export function firstInvalidUtf8Byte(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    let need: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else {
      return i;
    }
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/** Cuts `text` to the raw-line limit. */
export function clip(text: string, limit = RAW_LIMIT): string {
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

/**
 * The raw text of bytes [start, end) without the trailing line break, clipped. Lines that are not
 * UTF-8 are decoded as Latin-1, so the report shows the characters the author meant.
 */
export function rawText(src: Source, start: number, end: number, startLine: number, endLine: number): string {
  let stop = end;
  while (stop > start && (src.bytes[stop - 1] === LF || src.bytes[stop - 1] === CR)) stop--;
  const encoding = firstInvalidLine(src, startLine, endLine) === undefined ? 'utf8' : 'latin1';
  return clip(src.bytes.toString(encoding, start, Math.min(stop, start + RAW_LIMIT * 4)));
}

/** The first line in [startLine, endLine] that is not valid UTF-8, if any. */
export function firstInvalidLine(src: Source, startLine: number, endLine: number): number | undefined {
  if (src.invalidLines.size === 0) return undefined;
  for (let l = startLine; l <= endLine; l++) if (src.invalidLines.has(l)) return l;
  return undefined;
}

/** Builds quarantined rows for one file. */
export function quarantineFor(file: string) {
  return (line: number, reason: string, message: string, raw: string, field?: string): QuarantinedRow =>
    field === undefined ? { file, line, reason, message, raw: clip(raw) } : { file, line, field, reason, message, raw: clip(raw) };
}

/**
 * The quarantine message for a line that is not valid UTF-8: where the first bad byte is, what the
 * line says when read as Latin-1, and what to do about it.
 */
export function invalidUtf8Message(src: Source, line: number, lineStart: number): string {
  let lineEnd = src.bytes.indexOf(LF, lineStart);
  if (lineEnd === -1) lineEnd = src.bytes.length;
  const bytes = src.bytes.subarray(lineStart, lineEnd);
  const at = firstInvalidUtf8Byte(bytes);
  const where =
    at >= 0
      ? `byte 0x${bytes[at]!.toString(16).toUpperCase().padStart(2, '0')} at byte ${at + 1} of the line, ` +
        `${JSON.stringify(bytes.toString('latin1', Math.max(0, at - 12), Math.min(bytes.length, at + 12)).trim())} when read as Latin-1`
      : 'an invalid byte sequence';
  return (
    `line ${line} is not valid UTF-8 (${where}): the file looks Latin-1 / Windows-1252 encoded, ` +
    'not UTF-8; re-save it as UTF-8'
  );
}

/** A file-level note summarising the lines that are not UTF-8, or undefined for a clean file. */
export function invalidUtf8Note(src: Source): string | undefined {
  if (src.invalidLines.size === 0) return undefined;
  const lines = [...src.invalidLines].sort((a, b) => a - b);
  const shown = lines.slice(0, 10).join(', ') + (lines.length > 10 ? ', …' : '');
  return (
    `${lines.length} line(s) are not valid UTF-8 (line ${shown}) and were quarantined: ` +
    'the file looks Latin-1 / Windows-1252 encoded, not UTF-8'
  );
}

/** The byte offset where 1-based `line` starts (counting from `from`, which starts `fromLine`). */
export function lineStartOffset(bytes: Buffer, line: number, from = 0, fromLine = 1): number {
  let pos = from;
  for (let l = fromLine; l < line; l++) {
    const nl = bytes.indexOf(LF, pos);
    if (nl === -1) return bytes.length;
    pos = nl + 1;
  }
  return pos;
}

/** One CSV record with where it sits in the file. */
export interface CsvRow {
  kind: 'row';
  fields: string[];
  /** 1-based line the record starts on, and the line it ends on (they differ for quoted line breaks). */
  line: number;
  endLine: number;
  /** Byte range of the record in the file. */
  start: number;
  end: number;
  /** The last record of a file that does not end with a newline: possibly cut short. */
  unterminated: boolean;
}

/** A line the CSV parser could not read (an unclosed quote, for instance). */
export interface CsvBroken {
  kind: 'broken';
  line: number;
  endLine: number;
  start: number;
  end: number;
  code: string;
  message: string;
}

export interface ParsedCsv {
  /** The first non-blank record, or undefined when there is none. */
  header: CsvRow | undefined;
  /** Every later non-blank record, in file order. */
  rows: (CsvRow | CsvBroken)[];
  /** Records with nothing in them (empty lines, or only delimiters and spaces), skipped. */
  blankRows: number;
}

/**
 * Parses `src` as CSV with csv-parse, keeping each record's real line numbers and byte range.
 * Rows may have any number of fields (the importer decides), stray quotes inside unquoted fields
 * are kept literally, and a line that breaks the parser (an unclosed quote swallows the rest of the
 * file) becomes a `broken` entry; parsing then resumes on the next line, so nothing is lost.
 */
export function parseCsv(src: Source, delimiter: string): ParsedCsv {
  const { bytes } = src;
  const out: (CsvRow | CsvBroken)[] = [];
  let blankRows = 0;
  // Position and line number of the first byte not yet assigned to a record.
  let pos = src.bodyStart;
  let line = 1;

  /** Moves past blank lines from `pos`, so `pos`/`line` point at the next record's first byte. */
  const skipLineBreaks = (limit: number): void => {
    while (pos < limit && (bytes[pos] === LF || bytes[pos] === CR)) {
      if (bytes[pos] === LF) line++;
      pos++;
    }
  };
  const countLines = (from: number, to: number): number => {
    let n = 0;
    for (let i = bytes.indexOf(LF, from); i !== -1 && i < to; i = bytes.indexOf(LF, i + 1)) n++;
    return n;
  };

  while (pos < bytes.length) {
    const base = pos;
    try {
      parse(bytes.subarray(base), {
        delimiter,
        relax_column_count: true,
        relax_quotes: true,
        skip_empty_lines: true,
        // Both line endings, even mixed in one file (csv-parse otherwise keeps the first it sees).
        record_delimiter: ['\r\n', '\n'],
        on_record: (record: string[], info) => {
          const end = base + info.bytes;
          skipLineBreaks(end);
          // The record ends with its line break (if any): lines inside it are those before it.
          let body = end;
          while (body > pos && (bytes[body - 1] === LF || bytes[body - 1] === CR)) body--;
          const endLine = line + countLines(pos, body);
          if (record.every((f) => f.trim() === '')) {
            blankRows++;
          } else {
            out.push({
              kind: 'row',
              fields: record,
              line,
              endLine,
              start: pos,
              end,
              unterminated: end === bytes.length && !src.endsWithNewline,
            });
          }
          line = endLine + (end > body && bytes[end - 1] === LF ? 1 : 0);
          pos = end;
          return null;
        },
      });
      pos = bytes.length;
    } catch (error) {
      if (!(error instanceof CsvError)) throw error;
      // The failing record starts at `pos`: report its first line and carry on after it.
      skipLineBreaks(bytes.length);
      if (pos >= bytes.length) break;
      const next = lineStartOffset(bytes, line + 1, pos, line);
      out.push({
        kind: 'broken',
        line,
        endLine: line,
        start: pos,
        end: next,
        code: error.code,
        message: error.message.replace(/ at line \d+/, ''),
      });
      pos = next;
      line++;
    }
  }
  const header = out[0]?.kind === 'row' ? out[0] : undefined;
  if (out[0]?.kind === 'broken') {
    throw new FatalImportError(src.file, `cannot read the header line: ${out[0].message}`);
  }
  return { header, rows: out.slice(1), blankRows };
}

/** Delimiters worth recognising, with their names for messages. */
const DELIMITERS: readonly { char: string; name: string }[] = [
  { char: ',', name: 'comma' },
  { char: ';', name: 'semicolon' },
  { char: '\t', name: 'tab' },
  { char: '|', name: 'pipe' },
];

/** A delimiter's name for messages ("comma (',')"). */
export function delimiterName(char: string): string {
  const known = DELIMITERS.find((d) => d.char === char);
  return known ? `${known.name} (${JSON.stringify(char)})` : JSON.stringify(char);
}

/** Counts `char` in `line` outside double-quoted stretches. */
function countOutsideQuotes(line: string, char: string): number {
  let n = 0;
  let quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (c === char && !quoted) n++;
  }
  return n;
}

/** The first line of the file (after any byte-order mark), decoded leniently. */
export function firstLine(src: Source): string {
  let end = src.bytes.indexOf(LF, src.bodyStart);
  if (end === -1) end = src.bytes.length;
  return src.bytes.toString('utf8', src.bodyStart, end).replace(/\r$/, '');
}

/** Guesses the delimiter from a header line: the most frequent of comma, semicolon, tab and pipe. */
export function sniffDelimiter(headerLine: string): string {
  let best = ',';
  let bestCount = 0;
  for (const { char } of DELIMITERS) {
    const n = countOutsideQuotes(headerLine, char);
    if (n > bestCount) {
      best = char;
      bestCount = n;
    }
  }
  return best;
}

/**
 * Checks that the header names every column in `required` and returns the column positions.
 * Throws `FatalImportError` naming the missing and found columns, and saying which delimiter the
 * file seems to use when the header did not split on the expected one.
 */
export function requireColumns(
  src: Source,
  header: CsvRow | undefined,
  required: readonly string[],
  delimiter: string,
): Map<string, number> {
  if (!header) throw new FatalImportError(src.file, 'no header line (the file has only blank lines)');
  const names = header.fields.map((f) => f.trim());
  const index = new Map<string, number>();
  names.forEach((name, i) => {
    if (!index.has(name)) index.set(name, i);
  });
  const missing = required.filter((c) => !index.has(c));
  if (missing.length === 0) return index;

  const line = firstLine(src);
  if (names.length === 1) {
    const other = DELIMITERS.find((d) => d.char !== delimiter && countOutsideQuotes(line, d.char) > 0);
    if (other) {
      throw new FatalImportError(
        src.file,
        `wrong delimiter: the header is one field that contains ${delimiterName(other.char)}; the file looks ` +
          `${other.name}-separated, expected ${delimiterName(delimiter)} (header: ${JSON.stringify(clip(line, 200))})`,
      );
    }
  }
  const noHeader = names.length > 0 && /^\d+$/.test(names[0] ?? '') ? ' (the first line looks like data: is the header row missing?)' : '';
  throw new FatalImportError(
    src.file,
    `missing required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; ` +
      `found: ${names.map((n) => n || '(empty)').join(', ')}${noHeader}`,
  );
}

/** One non-blank line of a JSON Lines file. */
export interface JsonLine {
  line: number;
  start: number;
  end: number;
  text: string;
  /** The last line of a file that does not end with a newline: possibly cut short. */
  unterminated: boolean;
}

/** Splits `src` into its non-blank lines with their 1-based numbers. */
export function jsonLines(src: Source): JsonLine[] {
  const { bytes } = src;
  const out: JsonLine[] = [];
  let start = src.bodyStart;
  for (let line = 1; start < bytes.length; line++) {
    let end = bytes.indexOf(LF, start);
    const unterminated = end === -1;
    if (end === -1) end = bytes.length;
    const text = bytes.toString('utf8', start, end).trim();
    if (text !== '') out.push({ line, start, end, text, unterminated });
    start = end + 1;
  }
  return out;
}

/** The formats the generic importers read. */
export type SourceFormat = 'csv' | 'tsv' | 'jsonl';

/**
 * The format of `file`: the explicit one if given, else by extension (.csv, .tsv, .jsonl, .ndjson),
 * else by content (a first line starting with `{` is JSON Lines, anything else CSV; a JSON array is
 * refused, since it is not JSON Lines).
 */
export function detectFormat(src: Source, explicit: SourceFormat | undefined): SourceFormat {
  if (explicit) return explicit;
  const ext = extname(src.file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  const start = firstLine(src).trimStart();
  if (start.startsWith('[')) {
    throw new FatalImportError(src.file, 'looks like a JSON array; JSON Lines needs one object per line');
  }
  return start.startsWith('{') ? 'jsonl' : 'csv';
}

/** What the file is expected to be, for fatal messages ("not a CSV file"). */
export function sourceKind(file: string, format: SourceFormat | undefined): string {
  if (format === 'jsonl' || (format === undefined && /\.(jsonl|ndjson)$/i.test(file))) return 'JSON Lines';
  return format === 'tsv' ? 'TSV' : 'CSV';
}

/** A field's value as trimmed text; JSON values other than strings are written out as JSON. */
export function textOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** One row of either format, as the generic importers see it. */
export interface SourceRow {
  line: number;
  /** The value of a source column (CSV) or key (JSON, dotted paths allowed), trimmed; '' when absent. */
  get(column: string): string;
  /** Every column / key this row has, for `attributes: 'rest'`. */
  columns(): string[];
  raw(): string;
}

/** What a generic row reader yields: a row to map, or a row already quarantined. */
export type RowOrProblem = { row: SourceRow } | { problem: QuarantinedRow };

/** Looks up `path` in a parsed JSON object: a key as written, else a dotted path. */
function lookup(obj: Record<string, unknown>, path: string): unknown {
  if (path in obj) return obj[path];
  if (!path.includes('.')) return undefined;
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/**
 * Reads a CSV / TSV / JSON Lines source into rows, quarantining what cannot be a row at all (bad
 * UTF-8, broken quoting, wrong field count, malformed JSON). `required` are the columns a CSV header
 * must have; `delimiter` overrides sniffing for CSV. Returns the rows or problems in file order.
 */
export function readRows(
  src: Source,
  format: SourceFormat,
  required: readonly string[],
  delimiter: string | undefined,
): { items: RowOrProblem[]; notes: string[] } {
  const quarantine = quarantineFor(src.file);
  const items: RowOrProblem[] = [];
  const notes: string[] = [];
  if (format === 'jsonl') {
    for (const l of jsonLines(src)) {
      const raw = (): string => rawText(src, l.start, l.end, l.line, l.line);
      if (firstInvalidLine(src, l.line, l.line) !== undefined) {
        items.push({ problem: quarantine(l.line, 'invalid_utf8', invalidUtf8Message(src, l.line, l.start), raw()) });
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(l.text);
      } catch (error) {
        const cut = l.unterminated ? ' (the last line has no newline: the file may be cut short)' : '';
        items.push({
          problem: quarantine(l.line, 'malformed_json', `malformed JSON on line ${l.line}: ${(error as Error).message}${cut}`, raw()),
        });
        continue;
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        const kind = Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
        items.push({ problem: quarantine(l.line, 'not_an_object', `line ${l.line} is ${kind}, not a JSON object`, raw()) });
        continue;
      }
      const obj = value as Record<string, unknown>;
      items.push({
        row: { line: l.line, get: (c) => textOf(lookup(obj, c)), columns: () => Object.keys(obj), raw },
      });
    }
    return { items, notes };
  }

  const delim = format === 'tsv' ? '\t' : (delimiter ?? sniffDelimiter(firstLine(src)));
  const csv = parseCsv(src, delim);
  const index = requireColumns(src, csv.header, required, delim);
  const names = csv.header!.fields.map((f) => f.trim());
  if (csv.blankRows > 0) notes.push(`${csv.blankRows} blank row(s) skipped`);
  for (const r of csv.rows) {
    // Raw text is only needed for a quarantined row, so it is decoded on demand.
    const raw = (): string => rawText(src, r.start, r.end, r.line, r.endLine);
    const bad = firstInvalidLine(src, r.line, r.endLine);
    if (bad !== undefined) {
      const at = lineStartOffset(src.bytes, bad, r.start, r.line);
      items.push({ problem: quarantine(r.line, 'invalid_utf8', invalidUtf8Message(src, bad, at), raw()) });
      continue;
    }
    if (r.kind === 'broken') {
      items.push({ problem: quarantine(r.line, csvReason(r.code), `line ${r.line} cannot be parsed: ${r.message}`, raw()) });
      continue;
    }
    const count = fieldCountProblem(r, names.length, delim);
    if (count) {
      items.push({ problem: quarantine(r.line, count.reason, count.message, raw()) });
      continue;
    }
    const fields = r.fields;
    items.push({
      row: {
        line: r.line,
        get: (c) => {
          const i = index.get(c);
          return i === undefined ? '' : (fields[i] ?? '').trim();
        },
        columns: () => names,
        raw,
      },
    });
  }
  return { items, notes };
}

/** The reason code for a csv-parse error. */
export function csvReason(code: string): string {
  return code === 'CSV_QUOTE_NOT_CLOSED' ? 'unclosed_quote' : 'csv_syntax';
}

/**
 * The quarantine reason for a row whose field count differs from the header's, or undefined when it
 * matches. A short last row without a newline is reported as cut short.
 */
export function fieldCountProblem(
  r: CsvRow,
  expected: number,
  delimiter: string,
): { reason: string; message: string } | undefined {
  const n = r.fields.length;
  if (n === expected) return undefined;
  if (n < expected && r.unterminated) {
    return {
      reason: 'truncated_row',
      message:
        `line ${r.line} has ${n} of ${expected} fields and the file ends without a newline: ` +
        'the file looks cut short (truncated) in the middle of this row',
    };
  }
  return n < expected
    ? { reason: 'too_few_fields', message: `line ${r.line} has ${n} fields, the header has ${expected}` }
    : {
        reason: 'too_many_fields',
        message: `line ${r.line} has ${n} fields, the header has ${expected} (unquoted ${delimiterName(delimiter)} in a value?)`,
      };
}
