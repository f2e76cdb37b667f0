/**
 * Building blocks shared by the mapping files of the generic importers: schemas for column names,
 * delimiters and formats, and reading a mapping file with errors that name the file and the field.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { FatalImportError } from './types';

/** A source column (CSV header name) or key (JSON Lines; a dotted path reaches into objects). */
export const columnSchema = z.string().trim().min(1, 'must name a source column');

/** One delimiter character, or the words `tab` / `\t` for a tab. */
export const delimiterSchema = z
  .string()
  .transform((d) => (d === 'tab' || d === '\\t' ? '\t' : d))
  .refine((d) => d.length === 1 && d !== '"' && d !== '\n' && d !== '\r', {
    message: 'must be one character (or "tab"), not a quote or a line break',
  });

/** The source formats; by default decided from the file's extension. */
export const formatSchema = z.enum(['csv', 'tsv', 'jsonl']);

/** Turns zod issues into one line naming each bad field. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top level)'}: ${i.message}`).join('; ');
}

/** Validates `value` against `schema`; `where` (a file, or "mapping") is named in the error. */
export function validateMapping<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new FatalImportError(where, `invalid mapping: ${describeIssues(result.error.issues)}`);
  return result.data;
}

/**
 * Reads a mapping file and validates it against `schema`. Throws `FatalImportError` naming the file
 * and the bad field, or the JSON syntax error.
 */
export async function loadMappingFile<S extends z.ZodType>(schema: S, file: string): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FatalImportError(
      file,
      code === 'ENOENT' ? 'no such mapping file' : `cannot read the mapping file: ${(error as Error).message}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new FatalImportError(file, `mapping file is not valid JSON: ${(error as Error).message}`);
  }
  return validateMapping(schema, value, file);
}
