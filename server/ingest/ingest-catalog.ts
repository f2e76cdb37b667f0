import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { CatalogVersionInfo, FeatureStore } from '../store/feature-store';
import { importGenericCatalog, loadMapping } from './generic-catalog';
import { processImages } from './images';
import { fillPricesFromInteractions, importInteractions, loadInteractionMapping } from './interactions';
import { importKaggleStyles } from './kaggle-catalog';
import { buildQualityReport, renderQualityReportHtml, renderQualityReportMarkdown } from './quality-report';
import type { QualityReport } from './quality-report';
import type { CatalogItem, ImportResult, QuarantinedRow } from './types';
import { FatalImportError } from './types';

export interface IngestCatalogOptions {
  /** A Kaggle-layout folder (`styles.csv` + `images/`), or a CSV / JSON Lines file with `mapping`. */
  catalog: string;
  /** Mapping file for a generic export; without it `catalog` must be a Kaggle-layout folder. */
  mapping?: string;
  /** Interactions file (CSV / JSON Lines) to ingest with the catalog. */
  interactions?: string;
  interactionsMapping?: string;
  /** Skip reading photos (faster; items keep their image paths unverified). */
  skipImages?: boolean;
  dataDir: string;
  store: FeatureStore;
  progress?: ProgressReporter;
}

/** How long steps report progress; the CLI draws bars, tests pass nothing. */
export interface ProgressReporter {
  start(step: string, total: number): { update(done: number): void; stop(): void };
  log(message: string): void;
}

export interface IngestSummary {
  version: CatalogVersionInfo;
  catalog: { file: string; rowsRead: number; accepted: number; quarantined: number; byReason: Record<string, number> };
  images?: {
    processed: number;
    problems: number;
    duplicateGroups: number;
    /** Items with a product-page rendition, and the bytes of the distinct renditions on disk. */
    renditions: number;
    renditionBytes: number;
    encoderInput: string;
  };
  interactions?: {
    file: string;
    rowsRead: number;
    accepted: number;
    quarantined: number;
    byReason: Record<string, number>;
    /** Items without a catalog price that took the price of their latest interaction. */
    pricesFilled: number;
  };
  report: { json: string; html: string; markdown: string; warnings: string[] };
}

const silent: ProgressReporter = {
  start: () => ({ update: () => undefined, stop: () => undefined }),
  log: () => undefined,
};

function countReasons(rows: QuarantinedRow[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const row of rows) out[row.reason] = (out[row.reason] ?? 0) + 1;
  return out;
}

/** Throws if an importer lost a row: every row read must be accepted or quarantined. */
function checkAccounting<T>(result: ImportResult<T>): void {
  const accounted = result.accepted.length + result.quarantined.length;
  if (accounted !== result.rowsRead) {
    throw new Error(`${result.file}: ${result.rowsRead} rows read but ${accounted} accepted or quarantined`);
  }
}

/**
 * Ingests a catalog (and optionally its interactions and photos) as a new immutable catalog version.
 * Files are read and checked first; the store is written in one transaction at the end, so a fatal
 * error or a crash at any point leaves the previous version as the latest.
 */
export async function ingestCatalog(options: IngestCatalogOptions): Promise<IngestSummary> {
  const progress = options.progress ?? silent;
  const source = resolve(options.catalog);
  let catalog: ImportResult<CatalogItem>;
  let catalogDir: string;
  if (options.mapping) {
    catalog = await importGenericCatalog(source, await loadMapping(resolve(options.mapping)));
    catalogDir = resolve(source, '..');
  } else {
    const styles = join(source, 'styles.csv');
    if (!existsSync(styles)) {
      throw new FatalImportError(source, 'not a Kaggle-layout catalog folder (no styles.csv); pass --mapping for another layout');
    }
    catalog = await importKaggleStyles(styles);
    catalogDir = source;
  }
  checkAccounting(catalog);
  if (catalog.accepted.length === 0) {
    throw new FatalImportError(catalog.file, `no row could be accepted (${catalog.quarantined.length} quarantined)`);
  }
  catalog.notes.forEach((note) => progress.log(note));

  const imagesDir = join(options.dataDir, 'images');
  let images: IngestSummary['images'];
  let imageProblems: QuarantinedRow[] = [];
  let duplicateGroups: { sha256: string; itemIds: string[] }[] = [];
  if (!options.skipImages) {
    const withImages = catalog.accepted.filter((item) => item.image);
    const bar = progress.start('images', withImages.length);
    const result = await processImages(withImages.map((item) => ({ id: item.id, ...(item.image ? { image: item.image } : {}) })), {
      catalogDir,
      outDir: imagesDir,
      onProgress: (done) => bar.update(done),
    });
    bar.stop();
    const byId = new Map(result.processed.map((p) => [p.id, p]));
    for (const item of catalog.accepted) {
      const processed = byId.get(item.id);
      if (!processed) continue;
      item.imageSha256 = processed.sha256;
      if (processed.rendition) item.rendition = { width: processed.rendition.width, height: processed.rendition.height };
    }
    imageProblems = result.problems;
    duplicateGroups = result.duplicateGroups;
    images = {
      processed: result.processed.length,
      problems: result.problems.length,
      duplicateGroups: result.duplicateGroups.length,
      renditions: result.processed.filter((p) => p.rendition).length,
      renditionBytes: result.renditionBytes,
      encoderInput: relative(options.dataDir, result.encoderInput.file),
    };
  }

  let interactions: Awaited<ReturnType<typeof importInteractions>> | undefined;
  let pricesFilled = 0;
  if (options.interactions) {
    const knownItems = new Set(catalog.accepted.map((item) => item.id));
    const mapping = options.interactionsMapping ? await loadInteractionMapping(resolve(options.interactionsMapping)) : undefined;
    interactions = await importInteractions(resolve(options.interactions), { knownItems, ...(mapping ? { mapping } : {}) });
    checkAccounting(interactions);
    interactions.notes.forEach((note) => progress.log(note));
    // Before the report and the store, so both see the prices the items will have.
    pricesFilled = fillPricesFromInteractions(catalog.accepted, interactions.accepted);
    if (pricesFilled > 0) progress.log(`${pricesFilled} item price(s) taken from their latest interaction with a price`);
  }

  const latest = options.store.latestVersion();
  const previousReport = latest ? (options.store.report(latest.version) as QualityReport | undefined) : undefined;
  const report = buildQualityReport({
    catalogVersion: (latest?.version ?? 0) + 1,
    items: catalog.accepted,
    quarantined: catalog.quarantined,
    rowsRead: catalog.rowsRead,
    imageProblems,
    duplicateImageGroups: duplicateGroups,
    ...(latest && previousReport
      ? { previous: { catalogVersion: latest.version, distributions: previousReport.distributions } }
      : latest
        ? { previous: { catalogVersion: latest.version, items: options.store.items(latest.version) } }
        : {}),
  });

  const bar = progress.start('store', catalog.accepted.length);
  const version = options.store.addCatalogVersion({
    items: catalog.accepted,
    source: options.mapping ? `${source} (mapping ${resolve(options.mapping)})` : source,
    rowsRead: catalog.rowsRead,
    quarantined: [...catalog.quarantined, ...imageProblems],
    report,
    onProgress: (done) => bar.update(done),
    ...(interactions ? { interactions: { events: interactions.accepted, quarantined: interactions.quarantined } } : {}),
  });
  bar.stop();

  const reportsDir = join(options.dataDir, 'reports');
  mkdirSync(reportsDir, { recursive: true });
  const base = join(reportsDir, `catalog-v${version.version}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.html`, renderQualityReportHtml(report));
  writeFileSync(`${base}.md`, renderQualityReportMarkdown(report));

  return {
    version,
    catalog: {
      file: catalog.file,
      rowsRead: catalog.rowsRead,
      accepted: catalog.accepted.length,
      quarantined: catalog.quarantined.length,
      byReason: countReasons(catalog.quarantined),
    },
    ...(images ? { images } : {}),
    ...(interactions
      ? {
          interactions: {
            file: interactions.file,
            rowsRead: interactions.rowsRead,
            accepted: interactions.accepted.length,
            quarantined: interactions.quarantined.length,
            byReason: countReasons(interactions.quarantined),
            pricesFilled,
          },
        }
      : {}),
    report: { json: `${base}.json`, html: `${base}.html`, markdown: `${base}.md`, warnings: report.warnings },
  };
}
