import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInvalidUtf8Lines, firstInvalidUtf8Byte, parseCsv, readSource, sniffDelimiter } from './csv-lines';
import type { CsvBroken, CsvRow } from './csv-lines';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fashionml-csv-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
async function source(content: string | Buffer) {
  const path = join(dir, `f-${++counter}.csv`);
  writeFileSync(path, content);
  return readSource(path, 'CSV');
}

describe('parseCsv', () => {
  it('gives each record its first and last line, across quoted breaks, blank lines and mixed line endings', async () => {
    const src = await source('a,b\n1,"x\ny\nz"\r\n\n\n2,3\r\n   \n4,5');
    const csv = parseCsv(src, ',');
    expect(csv.header?.fields).toEqual(['a', 'b']);
    expect(csv.rows.map((r) => [r.line, r.endLine, (r as CsvRow).fields, (r as CsvRow).unterminated])).toEqual([
      [2, 4, ['1', 'x\ny\nz'], false],
      [7, 7, ['2', '3'], false],
      [9, 9, ['4', '5'], true],
    ]);
    expect(csv.blankRows).toBe(1);
    const text = src.bytes.toString();
    expect(csv.rows.map((r) => text.slice(r.start, r.end))).toEqual(['1,"x\ny\nz"\r\n', '2,3\r\n', '4,5']);
  });

  it('reports the line that breaks the parser and resumes on the next one', async () => {
    const src = await source('a,b\n0,1\n1,"open\n2,3\n\n4,5\n');
    const csv = parseCsv(src, ',');
    expect(csv.rows.map((r) => [r.kind, r.line, r.kind === 'row' ? r.fields : (r as CsvBroken).code])).toEqual([
      ['row', 2, ['0', '1']],
      ['broken', 3, 'CSV_QUOTE_NOT_CLOSED'],
      ['row', 4, ['2', '3']],
      ['row', 6, ['4', '5']],
    ]);
  });

  it('reads two stray opening quotes as one quoted field spanning the lines between (CSV rules)', async () => {
    const src = await source('a,b\n1,"open\n2,3\n4,"x\n5,6\n');
    const csv = parseCsv(src, ',');
    expect(csv.rows.map((r) => [r.kind, r.line, r.endLine])).toEqual([
      ['row', 2, 4],
      ['row', 5, 5],
    ]);
  });

  it('fails when the header itself cannot be parsed', async () => {
    const src = await source('"a,b\n1,2\n');
    expect(() => parseCsv(src, ',')).toThrow(/cannot read the header line: Quote Not Closed/);
  });
});

describe('UTF-8 checks', () => {
  it('finds the lines that are not UTF-8 and the first bad byte', () => {
    const bytes = Buffer.concat([Buffer.from('ok\nnaïve\n'), Buffer.from('caf\xe9\n', 'latin1'), Buffer.from('ok\n\xff', 'latin1')]);
    expect([...findInvalidUtf8Lines(bytes)]).toEqual([3, 5]);
    expect(findInvalidUtf8Lines(Buffer.from('plain\nnaïve ✓ 👗\n')).size).toBe(0);
    expect(firstInvalidUtf8Byte(Buffer.from('naïve ✓ 👗'))).toBe(-1);
    expect(firstInvalidUtf8Byte(Buffer.from('caf\xe9!', 'latin1'))).toBe(3);
    expect(firstInvalidUtf8Byte(Buffer.from([0x61, 0xc0, 0x80]))).toBe(1); // overlong
    expect(firstInvalidUtf8Byte(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0); // surrogate
  });
});

describe('sniffDelimiter', () => {
  it.each([
    ['id,name,colour', ','],
    ['id;name;colour', ';'],
    ['id\tname\tcolour', '\t'],
    ['id|name|colour', '|'],
    ['"a;b",c,d', ','],
    ['single', ','],
  ])('%j → %j', (line, expected) => {
    expect(sniffDelimiter(line)).toBe(expected);
  });
});
