/**
 * The contracts between importers, the feature store and the quality report. Importers turn files
 * into accepted rows and quarantined rows; every row read is one or the other, never neither.
 */
export type { CatalogItem, InteractionEvent, InteractionType } from '../../models/catalog/item';
export { INTERACTION_TYPES } from '../../models/catalog/item';

/** A row that was read but not accepted, with where it came from and why. */
export interface QuarantinedRow {
  /** File the row came from (as given to the importer). */
  file: string;
  /** 1-based line number in that file (the header is line 1 for CSV). */
  line: number;
  /** Field the problem is in, when it is one field. */
  field?: string;
  /** Short machine-readable reason code, e.g. `missing_id`, `duplicate_id`, `unknown_item`. */
  reason: string;
  /** Human-readable explanation naming the value. */
  message: string;
  /** The raw line (truncated to 500 characters). */
  raw: string;
}

/** What an importer returns: rowsRead === accepted.length + quarantined.length, always. */
export interface ImportResult<T> {
  file: string;
  rowsRead: number;
  accepted: T[];
  quarantined: QuarantinedRow[];
  /** Non-fatal notes about the file as a whole (e.g. rows with commas in the name, repaired). */
  notes: string[];
}

/** A problem that stops an import before any row is accepted (no such file, empty, not a CSV). */
export class FatalImportError extends Error {
  override readonly name = 'FatalImportError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}
