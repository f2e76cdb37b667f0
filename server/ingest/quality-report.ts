/**
 * The data-quality report produced by every ingest: counts, quarantine reasons, missing values,
 * distributions, duplicates and drift against the previous catalog version. The report is plain
 * JSON; `quality-report-html.ts` renders it as an HTML page and as Markdown.
 */
import { formatCount, formatPsi, formatShare } from './quality-report-html';
import type { CatalogItem, QuarantinedRow } from './types';

export { formatCount, formatPsi, formatShare, renderQualityReportHtml, renderQualityReportMarkdown } from './quality-report-html';

/** Columns whose values are labels; each gets a distribution and a drift score. */
export const CATEGORICAL_COLUMNS = [
  'gender',
  'masterCategory',
  'subCategory',
  'articleType',
  'colour',
  'season',
  'usage',
] as const;
export type CategoricalColumn = (typeof CATEGORICAL_COLUMNS)[number];

/** Every CatalogItem field that is checked for missing values (`attributes` is free-form). */
export const ITEM_COLUMNS = [
  'id',
  'title',
  'gender',
  'masterCategory',
  'subCategory',
  'articleType',
  'colour',
  'season',
  'year',
  'usage',
  'price',
  'description',
  'image',
] as const;
export type ItemColumn = (typeof ITEM_COLUMNS)[number];

/**
 * The distribution key under which items without a value are counted. Missing values take part
 * in drift: a column that suddenly loses its values has shifted as much as one that changes them.
 */
export const MISSING_KEY = '(missing)';

/** Share used in place of 0 for a category present on only one side (keeps ln finite). */
export const PSI_EPSILON = 1e-4;
/** Usual PSI conventions: below 0.1 stable, 0.1 to 0.2 moderate shift, 0.2 and above significant. */
export const PSI_MODERATE = 0.1;
export const PSI_SIGNIFICANT = 0.2;
/** Columns whose PSI reaches this get a warning unless the caller picks another threshold. */
export const DEFAULT_PSI_WARN_THRESHOLD = PSI_SIGNIFICANT;

/** Shares above which the report warns. */
export const WARN_LIMITS = {
  /** Quarantined rows / rows read. */
  quarantineShare: 0.02,
  /** Items without a value in one column. */
  missingShare: 0.05,
  /** Image problems / images processed. */
  imageProblemShare: 0.02,
  /** Items sharing a byte-identical photo with another item. */
  duplicateImageShare: 0.05,
  /** Items whose title another item also has. */
  duplicateTitleShare: 0.05,
  /** A new or vanished category is worth a warning when it holds at least this share. */
  categoryShare: 0.01,
} as const;

/** Largest groups / examples kept in the JSON (the full data stays in the catalog). */
const MAX_EXAMPLES_PER_REASON = 3;
const MAX_GROUPS_LISTED = 20;
const MAX_IDS_PER_GROUP = 20;
const MAX_RAW_CHARS = 200;
/** Years outside 1900 … next year are data errors, kept out of the histogram so it stays readable. */
const MIN_PLAUSIBLE_YEAR = 1900;

export const REPORT_KIND = 'fashionml.quality-report';
export const REPORT_SCHEMA_VERSION = 1;

export type PsiLevel = 'stable' | 'moderate' | 'significant';

/** Saved distributions of an earlier catalog version, as kept in every report. */
export interface PreviousDistributions {
  catalogVersion: number;
  distributions: Record<string, Record<string, number>>;
}

/** The previous catalog version, either as items or as the distributions saved in its report. */
export type PreviousCatalog = { catalogVersion: number; items: CatalogItem[] } | PreviousDistributions;

export interface QualityReportInput {
  catalogVersion: number;
  items: CatalogItem[];
  quarantined: QuarantinedRow[];
  rowsRead: number;
  /** Problems found while reading photos (missing, unreadable, too small …). */
  imageProblems?: QuarantinedRow[];
  /** Byte-identical photos: one group per content hash. Groups of one are ignored. */
  duplicateImageGroups?: { sha256: string; itemIds: string[] }[];
  /**
   * How many photos the image pass looked at. Defaults to the accepted items with an image
   * reference: the image pass reads those, and its problems are among them.
   */
  imagesProcessed?: number;
  previous?: PreviousCatalog;
  /** PSI at or above which a column is flagged (default 0.2, "significant"). */
  psiWarnThreshold?: number;
  /** ISO timestamp (default: now). */
  generatedAt?: string;
}

/** A quarantined row shown as an example (raw line truncated). */
export type RowExample = QuarantinedRow;

export interface MissingColumn {
  column: ItemColumn;
  missing: number;
  share: number;
}

export interface LengthStats {
  count: number;
  min: number;
  median: number;
  p95: number;
  max: number;
  mean: number;
}

export interface CategoryShare {
  value: string;
  count: number;
  share: number;
}

export interface CategoryShift {
  value: string;
  share: number;
  previousShare: number;
  /** This category's term of the PSI sum. */
  contribution: number;
}

export interface ColumnDrift {
  column: CategoricalColumn;
  /** Null when one side has no values for this column (see `note`). */
  psi: number | null;
  level: PsiLevel | null;
  overThreshold: boolean;
  note?: string;
  /** Present now, absent before (share of the current catalog). */
  newCategories: CategoryShare[];
  /** Present before, absent now (count and share of the previous catalog). */
  vanishedCategories: CategoryShare[];
  /** The categories that contribute most to the PSI. */
  largestShifts: CategoryShift[];
}

export interface DriftReport {
  previousCatalogVersion: number;
  previousItems: number;
  threshold: number;
  epsilon: number;
  /** How PSI was computed, in words, for whoever reads the JSON. */
  method: string;
  columns: ColumnDrift[];
  /** The previous version's distributions, so the page can show both side by side. */
  previousDistributions: Record<string, Record<string, number>>;
}

export type ReportLimits = { [K in keyof typeof WARN_LIMITS]: number } & {
  psiWarn: number;
  psiModerate: number;
  psiSignificant: number;
};

/** The report: plain JSON (no Dates, Maps or undefined values that matter). */
export interface QualityReport {
  kind: typeof REPORT_KIND;
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  catalogVersion: number;
  generatedAt: string;
  /** The distribution key under which missing values are counted (MISSING_KEY). */
  missingKey: string;
  /** The limits the warnings were judged by. */
  limits: ReportLimits;
  rows: {
    read: number;
    accepted: number;
    quarantined: number;
    /** rowsRead − accepted − quarantined: must be 0 by the importer contract. */
    unaccounted: number;
    quarantineShare: number;
  };
  quarantine: {
    /** Rows per reason code, largest first. */
    byReason: Record<string, number>;
    /** Rows per field (`(row)` when the problem is not in one field), largest first. */
    byField: Record<string, number>;
    /** A few rows per reason. */
    examples: RowExample[];
  };
  images: {
    /** False when the ingest ran no image pass (no image problems or duplicate groups given). */
    checked: boolean;
    /** Accepted items with an image reference. */
    withImage: number;
    processed: number;
    problems: number;
    problemShare: number;
    problemsByReason: Record<string, number>;
    problemExamples: RowExample[];
    duplicates: {
      groups: number;
      itemsInvolved: number;
      /** Items involved / accepted items. */
      share: number;
      largest: { sha256: string; size: number; itemIds: string[] }[];
    };
  };
  missing: MissingColumn[];
  /**
   * Full value counts per categorical column, missing values under MISSING_KEY. Inserted largest
   * first, but JSON objects put integer-like keys first, so readers sort for themselves.
   */
  distributions: Record<CategoricalColumn, Record<string, number>>;
  /** Labels that differ only in case or surrounding spaces ("Blue", "blue "), per column. */
  categoryVariants: { column: CategoricalColumn; variants: string[][] }[];
  years: {
    min: number | null;
    max: number | null;
    missing: number;
    /** One bin per year from min to max (empty years included). */
    histogram: { year: number; count: number }[];
    /** Years before 1900, after next year, or not whole numbers: counted here, not in the histogram. */
    implausible: { count: number; examples: number[] };
  };
  titles: {
    /** Length in characters of present titles; null when no item has a title. */
    length: LengthStats | null;
    duplicates: {
      /** Titles (compared ignoring case and repeated spaces) carried by more than one id. */
      groups: number;
      itemsInvolved: number;
      share: number;
      examples: { title: string; count: number; itemIds: string[] }[];
    };
  };
  duplicateIds: { count: number; examples: string[] };
  drift: DriftReport | null;
  /** Why there is no drift section (null when there is one). */
  driftUnavailableReason: string | null;
  warnings: string[];
}

// ---------------------------------------------------------------------------------------------
// Small numeric helpers

/** Linear-interpolation quantile (numpy's default) of an ascending array; q in [0, 1]. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? Number.NaN;
  const b = sorted[hi] ?? Number.NaN;
  return a + (b - a) * (pos - lo);
}

function share(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}

/** Counts sorted largest first (ties by key), as a plain object that keeps that order. */
function sortedCounts(counts: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    out[k] = v;
  }
  return out;
}

function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

function sumValues(counts: Record<string, number>): number {
  let total = 0;
  for (const v of Object.values(counts)) total += v;
  return total;
}

// ---------------------------------------------------------------------------------------------
// Columns

function isMissing(item: CatalogItem, column: ItemColumn): boolean {
  const v: unknown = item[column];
  if (v === undefined || v === null) return true;
  if (typeof v === 'number') return !Number.isFinite(v);
  if (typeof v === 'string') return v.trim() === '';
  return false;
}

/** The label an item has in a column, exactly as given; blank counts as missing. */
function categoryOf(item: CatalogItem, column: CategoricalColumn): string {
  const v = item[column];
  return typeof v === 'string' && v.trim() !== '' ? v : MISSING_KEY;
}

/** Value counts of every categorical column (missing values under MISSING_KEY). */
export function categoricalDistributions(items: readonly CatalogItem[]): Record<CategoricalColumn, Record<string, number>> {
  const maps = new Map<CategoricalColumn, Map<string, number>>(CATEGORICAL_COLUMNS.map((c) => [c, new Map()]));
  for (const item of items) {
    for (const column of CATEGORICAL_COLUMNS) bump(maps.get(column)!, categoryOf(item, column));
  }
  const out = {} as Record<CategoricalColumn, Record<string, number>>;
  for (const column of CATEGORICAL_COLUMNS) out[column] = sortedCounts(maps.get(column)!);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Drift

/** The usual reading of a PSI value: below 0.1 stable, 0.1 to 0.2 moderate, 0.2 and above significant. */
export function psiLevel(psi: number): PsiLevel {
  return psi >= PSI_SIGNIFICANT ? 'significant' : psi >= PSI_MODERATE ? 'moderate' : 'stable';
}

interface PsiTerms {
  psi: number;
  terms: CategoryShift[];
}

function psiTerms(current: Record<string, number>, previous: Record<string, number>, epsilon: number): PsiTerms | null {
  const curTotal = sumValues(current);
  const prevTotal = sumValues(previous);
  if (curTotal <= 0 || prevTotal <= 0) return null;
  const keys = new Set([...Object.keys(current), ...Object.keys(previous)]);
  const terms: CategoryShift[] = [];
  let psi = 0;
  for (const value of keys) {
    const a = (current[value] ?? 0) / curTotal;
    const e = (previous[value] ?? 0) / prevTotal;
    if (a === 0 && e === 0) continue;
    // Only the empty side is replaced by epsilon; the shares are not renormalised afterwards.
    const aa = a > 0 ? a : epsilon;
    const ee = e > 0 ? e : epsilon;
    const contribution = (aa - ee) * Math.log(aa / ee);
    psi += contribution;
    terms.push({ value, share: a, previousShare: e, contribution });
  }
  return { psi, terms };
}

/**
 * Population stability index between two value-count tables:
 * PSI = Σ (a − e) · ln(a / e) over the union of categories, where a and e are the current and
 * previous shares. A category present on one side only gets share `epsilon` (default 1e-4) on the
 * other side, without renormalising. Returns null when either table is empty.
 */
export function populationStabilityIndex(
  current: Record<string, number>,
  previous: Record<string, number>,
  epsilon: number = PSI_EPSILON,
): number | null {
  return psiTerms(current, previous, epsilon)?.psi ?? null;
}

/** Keeps only finite, non-negative counts: saved distributions come from JSON files. */
function sanitizeDistributions(input: unknown): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  if (typeof input !== 'object' || input === null) return out;
  for (const [column, counts] of Object.entries(input as Record<string, unknown>)) {
    if (typeof counts !== 'object' || counts === null) continue;
    const clean: Record<string, number> = {};
    for (const [value, count] of Object.entries(counts as Record<string, unknown>)) {
      if (typeof count === 'number' && Number.isFinite(count) && count > 0) clean[value] = count;
    }
    out[column] = clean;
  }
  return out;
}

function computeDrift(
  current: Record<CategoricalColumn, Record<string, number>>,
  previous: PreviousCatalog,
  threshold: number,
): DriftReport {
  const previousDistributions =
    'items' in previous ? categoricalDistributions(previous.items) : sanitizeDistributions(previous.distributions);
  const columns: ColumnDrift[] = [];
  let previousItems = 0;
  for (const column of CATEGORICAL_COLUMNS) {
    const cur = current[column];
    const prev = previousDistributions[column] ?? {};
    const curTotal = sumValues(cur);
    const prevTotal = sumValues(prev);
    previousItems = Math.max(previousItems, prevTotal);
    const terms = psiTerms(cur, prev, PSI_EPSILON);
    const newCategories: CategoryShare[] = Object.entries(cur)
      .filter(([v]) => !(v in prev) && prevTotal > 0)
      .map(([value, count]) => ({ value, count, share: share(count, curTotal) }));
    const vanishedCategories: CategoryShare[] = Object.entries(prev)
      .filter(([v]) => !(v in cur) && curTotal > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([value, count]) => ({ value, count, share: share(count, prevTotal) }));
    if (!terms) {
      columns.push({
        column,
        psi: null,
        level: null,
        overThreshold: false,
        note: prevTotal === 0 ? 'no values in the previous version' : 'no values in this version',
        newCategories,
        vanishedCategories,
        largestShifts: [],
      });
      continue;
    }
    const largestShifts = terms.terms
      .filter((t) => t.contribution > 0)
      .sort((a, b) => b.contribution - a.contribution)
      .slice(0, 5);
    columns.push({
      column,
      psi: terms.psi,
      level: psiLevel(terms.psi),
      overThreshold: terms.psi >= threshold,
      newCategories,
      vanishedCategories,
      largestShifts,
    });
  }
  return {
    previousCatalogVersion: previous.catalogVersion,
    previousItems,
    threshold,
    epsilon: PSI_EPSILON,
    method:
      `PSI = sum over categories of (a - e) * ln(a / e), a and e the current and previous shares ` +
      `(missing values counted as the category "${MISSING_KEY}"); a category seen on one side only ` +
      `gets share ${PSI_EPSILON} on the other, without renormalising. Levels: <${PSI_MODERATE} stable, ` +
      `${PSI_MODERATE}-${PSI_SIGNIFICANT} moderate, >=${PSI_SIGNIFICANT} significant; warning at PSI >= ${threshold}.`,
    columns,
    previousDistributions,
  };
}

/** What the next ingest passes as `previous` when it only has this report (e.g. read from disk). */
export function previousFromReport(report: Pick<QualityReport, 'catalogVersion' | 'distributions'>): PreviousDistributions {
  return { catalogVersion: report.catalogVersion, distributions: report.distributions };
}

// ---------------------------------------------------------------------------------------------
// Sections

function rowExample(row: QuarantinedRow): RowExample {
  const ex: RowExample = {
    file: row.file,
    line: row.line,
    reason: row.reason,
    message: row.message,
    raw: row.raw.length > MAX_RAW_CHARS ? `${row.raw.slice(0, MAX_RAW_CHARS)}…` : row.raw,
  };
  if (row.field !== undefined) ex.field = row.field;
  return ex;
}

function summariseRows(rows: readonly QuarantinedRow[]): {
  byReason: Record<string, number>;
  byField: Record<string, number>;
  examples: RowExample[];
} {
  const byReason = new Map<string, number>();
  const byField = new Map<string, number>();
  const examples: RowExample[] = [];
  const examplesPerReason = new Map<string, number>();
  for (const row of rows) {
    bump(byReason, row.reason);
    bump(byField, row.field ?? '(row)');
    const seen = examplesPerReason.get(row.reason) ?? 0;
    if (seen < MAX_EXAMPLES_PER_REASON) {
      examples.push(rowExample(row));
      examplesPerReason.set(row.reason, seen + 1);
    }
  }
  const reasonOrder = Object.keys(sortedCounts(byReason));
  examples.sort((a, b) => reasonOrder.indexOf(a.reason) - reasonOrder.indexOf(b.reason));
  return { byReason: sortedCounts(byReason), byField: sortedCounts(byField), examples };
}

function lengthStats(lengths: number[]): LengthStats | null {
  if (lengths.length === 0) return null;
  const sorted = [...lengths].sort((a, b) => a - b);
  let total = 0;
  for (const n of sorted) total += n;
  return {
    count: sorted.length,
    min: sorted[0]!,
    median: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    max: sorted[sorted.length - 1]!,
    mean: total / sorted.length,
  };
}

function yearSummary(items: readonly CatalogItem[], generatedAt: string): QualityReport['years'] {
  const parsed = new Date(generatedAt).getUTCFullYear();
  const maxPlausible = (Number.isFinite(parsed) ? parsed : new Date().getUTCFullYear()) + 1;
  const counts = new Map<number, number>();
  let missing = 0;
  const implausible: number[] = [];
  let implausibleCount = 0;
  for (const item of items) {
    const y = item.year;
    if (y === undefined || y === null || !Number.isFinite(y)) {
      missing += 1;
    } else if (!Number.isInteger(y) || y < MIN_PLAUSIBLE_YEAR || y > maxPlausible) {
      implausibleCount += 1;
      if (implausible.length < 10 && !implausible.includes(y)) implausible.push(y);
    } else {
      counts.set(y, (counts.get(y) ?? 0) + 1);
    }
  }
  const years = [...counts.keys()].sort((a, b) => a - b);
  const min = years[0] ?? null;
  const max = years[years.length - 1] ?? null;
  const histogram: { year: number; count: number }[] = [];
  if (min !== null && max !== null) {
    for (let y = min; y <= max; y++) histogram.push({ year: y, count: counts.get(y) ?? 0 });
  }
  return { min, max, missing, histogram, implausible: { count: implausibleCount, examples: implausible } };
}

function normaliseTitle(title: string): string {
  return title.trim().replace(/\s+/g, ' ').toLowerCase();
}

function duplicateTitles(items: readonly CatalogItem[], accepted: number): QualityReport['titles']['duplicates'] {
  const groups = new Map<string, { title: string; ids: string[] }>();
  for (const item of items) {
    if (typeof item.title !== 'string' || item.title.trim() === '') continue;
    const key = normaliseTitle(item.title);
    const g = groups.get(key);
    if (g) g.ids.push(item.id);
    else groups.set(key, { title: item.title.trim(), ids: [item.id] });
  }
  // "Same title, different ids": repeated ids are a separate finding (duplicateIds).
  const dup = [...groups.values()]
    .map((g) => ({ title: g.title, ids: [...new Set(g.ids)] }))
    .filter((g) => g.ids.length > 1)
    .sort((a, b) => b.ids.length - a.ids.length || (a.title < b.title ? -1 : a.title > b.title ? 1 : 0));
  let involved = 0;
  for (const g of dup) involved += g.ids.length;
  return {
    groups: dup.length,
    itemsInvolved: involved,
    share: share(involved, accepted),
    examples: dup.slice(0, MAX_GROUPS_LISTED).map((g) => ({
      title: g.title,
      count: g.ids.length,
      itemIds: g.ids.slice(0, MAX_IDS_PER_GROUP),
    })),
  };
}

function categoryVariants(
  distributions: Record<CategoricalColumn, Record<string, number>>,
): QualityReport['categoryVariants'] {
  const out: QualityReport['categoryVariants'] = [];
  for (const column of CATEGORICAL_COLUMNS) {
    const byNorm = new Map<string, string[]>();
    for (const value of Object.keys(distributions[column])) {
      if (value === MISSING_KEY) continue;
      const key = value.trim().replace(/\s+/g, ' ').toLowerCase();
      byNorm.set(key, [...(byNorm.get(key) ?? []), value]);
    }
    const variants = [...byNorm.values()].filter((v) => v.length > 1);
    if (variants.length > 0) out.push({ column, variants });
  }
  return out;
}

function imageSummary(input: QualityReportInput, items: readonly CatalogItem[]): QualityReport['images'] {
  const problems = input.imageProblems ?? [];
  let withImage = 0;
  for (const item of items) if (!isMissing(item, 'image')) withImage += 1;
  const processed = input.imagesProcessed ?? Math.max(withImage, problems.length);
  const summary = summariseRows(problems);
  const groups = (input.duplicateImageGroups ?? [])
    .map((g) => ({ sha256: g.sha256, ids: [...new Set(g.itemIds)] }))
    .filter((g) => g.ids.length > 1)
    .sort((a, b) => b.ids.length - a.ids.length || (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
  let involved = 0;
  for (const g of groups) involved += g.ids.length;
  return {
    checked: input.imageProblems !== undefined || input.duplicateImageGroups !== undefined,
    withImage,
    processed,
    problems: problems.length,
    problemShare: share(problems.length, Math.max(processed, problems.length)),
    problemsByReason: summary.byReason,
    problemExamples: summary.examples,
    duplicates: {
      groups: groups.length,
      itemsInvolved: involved,
      share: share(involved, items.length),
      largest: groups
        .slice(0, MAX_GROUPS_LISTED)
        .map((g) => ({ sha256: g.sha256, size: g.ids.length, itemIds: g.ids.slice(0, MAX_IDS_PER_GROUP) })),
    },
  };
}

function topReasons(byReason: Record<string, number>, n = 3): string {
  return Object.entries(byReason)
    .slice(0, n)
    .map(([reason, count]) => `${reason} ${formatCount(count)}`)
    .join(', ');
}

function collectWarnings(report: Omit<QualityReport, 'warnings'>): string[] {
  const w: string[] = [];
  const { rows, images } = report;
  if (rows.unaccounted !== 0) {
    w.push(
      `Row counts do not add up: ${formatCount(rows.read)} read but ${formatCount(rows.accepted)} accepted + ` +
        `${formatCount(rows.quarantined)} quarantined (${formatCount(rows.unaccounted)} unaccounted for).`,
    );
  }
  if (rows.accepted === 0) w.push('No items were accepted: the catalog is empty.');
  if (rows.quarantined > 0 && rows.quarantineShare >= WARN_LIMITS.quarantineShare) {
    w.push(
      `${formatShare(rows.quarantineShare)} of rows were quarantined (${formatCount(rows.quarantined)} of ` +
        `${formatCount(rows.read)}); top reasons: ${topReasons(report.quarantine.byReason)}.`,
    );
  }
  if (report.duplicateIds.count > 0) {
    w.push(
      `${formatCount(report.duplicateIds.count)} ids occur more than once among accepted items ` +
        `(e.g. ${report.duplicateIds.examples.slice(0, 3).join(', ')}).`,
    );
  }
  if (rows.accepted > 0) {
    const absent = report.missing.filter((m) => m.missing === rows.accepted);
    const partly = report.missing.filter((m) => m.missing < rows.accepted && m.share > WARN_LIMITS.missingShare);
    for (const m of partly) {
      w.push(`${m.column} is missing in ${formatShare(m.share)} of items (${formatCount(m.missing)}).`);
    }
    if (absent.length > 0) {
      w.push(
        `No item has ${absent.map((m) => m.column).join(', ')} ` +
          `(expected when the source has no such field; features that need it will be empty).`,
      );
    }
  }
  for (const v of report.categoryVariants) {
    const shown = v.variants
      .slice(0, 3)
      .map((g) => g.map((s) => JSON.stringify(s)).join(' / '))
      .join('; ');
    w.push(`${v.column} has labels that differ only in case or spaces: ${shown}.`);
  }
  if (report.years.implausible.count > 0) {
    w.push(
      `${formatCount(report.years.implausible.count)} items have an implausible year ` +
        `(e.g. ${report.years.implausible.examples.slice(0, 3).join(', ')}).`,
    );
  }
  if (images.problems > 0 && images.problemShare >= WARN_LIMITS.imageProblemShare) {
    w.push(
      `${formatShare(images.problemShare)} of images had problems (${formatCount(images.problems)}); ` +
        `top reasons: ${topReasons(images.problemsByReason)}.`,
    );
  }
  if (images.duplicates.groups > 0 && images.duplicates.share >= WARN_LIMITS.duplicateImageShare) {
    w.push(
      `${formatCount(images.duplicates.itemsInvolved)} items (${formatShare(images.duplicates.share)}) share a ` +
        `byte-identical photo with another item, in ${formatCount(images.duplicates.groups)} groups: keep each group ` +
        `on one side of any split.`,
    );
  }
  const dupTitles = report.titles.duplicates;
  if (dupTitles.groups > 0 && dupTitles.share >= WARN_LIMITS.duplicateTitleShare) {
    const top = dupTitles.examples[0];
    w.push(
      `${formatCount(dupTitles.itemsInvolved)} items (${formatShare(dupTitles.share)}) share their title with ` +
        `another item, in ${formatCount(dupTitles.groups)} groups` +
        (top ? ` (largest: ${JSON.stringify(top.title)} × ${formatCount(top.count)}).` : '.'),
    );
  }
  const drift = report.drift;
  if (drift) {
    if (drift.previousCatalogVersion >= report.catalogVersion) {
      w.push(
        `Drift is measured against catalog version ${drift.previousCatalogVersion}, which is not older than ` +
          `this version (${report.catalogVersion}).`,
      );
    }
    for (const c of drift.columns) {
      if (c.overThreshold && c.psi !== null) {
        const shifts = c.largestShifts
          .slice(0, 3)
          .map((s) => `${s.value} ${formatShare(s.previousShare)} → ${formatShare(s.share)}`)
          .join(', ');
        w.push(
          `Drift in ${c.column}: PSI ${formatPsi(c.psi)} ≥ ${drift.threshold} (${c.level}) against version ` +
            `${drift.previousCatalogVersion}; largest shifts: ${shifts}.`,
        );
      }
      const bigNew = c.newCategories.filter((n) => n.share >= WARN_LIMITS.categoryShare);
      const bigGone = c.vanishedCategories.filter((n) => n.share >= WARN_LIMITS.categoryShare);
      if (bigNew.length > 0) {
        w.push(
          `New ${c.column} values holding ≥${formatShare(WARN_LIMITS.categoryShare)} of items: ` +
            `${bigNew.map((n) => `${n.value} (${formatShare(n.share)})`).join(', ')}.`,
        );
      }
      if (bigGone.length > 0) {
        w.push(
          `${c.column} values gone since version ${drift.previousCatalogVersion} that held ` +
            `≥${formatShare(WARN_LIMITS.categoryShare)} of items: ` +
            `${bigGone.map((n) => `${n.value} (${formatShare(n.share)})`).join(', ')}.`,
        );
      }
    }
  }
  return w;
}

// ---------------------------------------------------------------------------------------------

/**
 * Builds the data-quality report of one ingest: row and quarantine counts, image problems and
 * byte-identical photos, missing values per column, value distributions, year histogram, title
 * lengths and duplicate titles, drift against the previous catalog version (PSI per categorical
 * column; see {@link populationStabilityIndex}) and the warnings an operator should read first.
 * The result is plain JSON; its `distributions` serve as `previous` for the next ingest
 * (see {@link previousFromReport}).
 */
export function buildQualityReport(input: QualityReportInput): QualityReport {
  const { items, quarantined, rowsRead } = input;
  const generatedAt = input.generatedAt ?? new Date().toISOString();
  const threshold = input.psiWarnThreshold ?? DEFAULT_PSI_WARN_THRESHOLD;
  const accepted = items.length;

  const missing: MissingColumn[] = ITEM_COLUMNS.map((column) => {
    let n = 0;
    for (const item of items) if (isMissing(item, column)) n += 1;
    return { column, missing: n, share: share(n, accepted) };
  });

  const idCounts = new Map<string, number>();
  for (const item of items) if (!isMissing(item, 'id')) bump(idCounts, item.id);
  const repeatedIds = [...idCounts].filter(([, n]) => n > 1).map(([id]) => id);

  const titleLengths: number[] = [];
  for (const item of items) {
    // Characters as a reader counts them (code points), not UTF-16 units.
    if (typeof item.title === 'string' && item.title.trim() !== '') titleLengths.push([...item.title.trim()].length);
  }

  const distributions = categoricalDistributions(items);
  const q = summariseRows(quarantined);

  let drift: DriftReport | null = null;
  let driftUnavailableReason: string | null = null;
  if (!input.previous) {
    driftUnavailableReason = 'No previous catalog version: this is the first ingest, or its report was not found.';
  } else {
    drift = computeDrift(distributions, input.previous, threshold);
    if (drift.previousItems === 0) {
      driftUnavailableReason = `The previous catalog version (${input.previous.catalogVersion}) has no items or no saved distributions.`;
      drift = null;
    }
  }

  const base: Omit<QualityReport, 'warnings'> = {
    kind: REPORT_KIND,
    schemaVersion: REPORT_SCHEMA_VERSION,
    catalogVersion: input.catalogVersion,
    generatedAt,
    missingKey: MISSING_KEY,
    limits: { ...WARN_LIMITS, psiWarn: threshold, psiModerate: PSI_MODERATE, psiSignificant: PSI_SIGNIFICANT },
    rows: {
      read: rowsRead,
      accepted,
      quarantined: quarantined.length,
      unaccounted: rowsRead - accepted - quarantined.length,
      quarantineShare: share(quarantined.length, rowsRead),
    },
    quarantine: q,
    images: imageSummary(input, items),
    missing,
    distributions,
    categoryVariants: categoryVariants(distributions),
    years: yearSummary(items, generatedAt),
    titles: { length: lengthStats(titleLengths), duplicates: duplicateTitles(items, accepted) },
    duplicateIds: { count: repeatedIds.length, examples: repeatedIds.slice(0, 10) },
    drift,
    driftUnavailableReason,
  };
  return { ...base, warnings: collectWarnings(base) };
}
