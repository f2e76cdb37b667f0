/**
 * Ingest benchmark: the whole `fashionml ingest` path on the real Myntra catalog (35,605 rows,
 * 35,302 photos): parse and check the CSV, decode/resize/hash every photo, build the quality
 * report, and write the version to SQLite. Each step is timed; the CSV-only ingest (`--no-images`)
 * is measured in the same run as the baseline. Needs ../shared/data.
 *
 *   npm run bench:ingest
 *
 * Prints a table and writes bench-results/ingest.json.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { ingestCatalog } from '../server/ingest/ingest-catalog';
import type { IngestSummary, ProgressReporter } from '../server/ingest/ingest-catalog';
import { FeatureStore } from '../server/store/feature-store';

const CATALOG = resolve(process.env.BENCH_CATALOG ?? '../shared/data/myntra-fashion-small');

/** Records when each step starts and stops. */
function stepTimer(): { reporter: ProgressReporter; steps: Record<string, number> } {
  const steps: Record<string, number> = {};
  return {
    steps,
    reporter: {
      start(step) {
        const started = performance.now();
        return { update: () => undefined, stop: () => void (steps[step] = (performance.now() - started) / 1000) };
      },
      log: () => undefined,
    },
  };
}

async function run(skipImages: boolean): Promise<{ seconds: number; steps: Record<string, number>; summary: IngestSummary; peakRssMB: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'fashionml-bench-ingest-'));
  const store = FeatureStore.open(join(dir, 'features.sqlite'));
  const timer = stepTimer();
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 200);
  try {
    const started = performance.now();
    const summary = await ingestCatalog({ catalog: CATALOG, skipImages, dataDir: dir, store, progress: timer.reporter });
    return { seconds: (performance.now() - started) / 1000, steps: timer.steps, summary, peakRssMB: peak / 2 ** 20 };
  } finally {
    clearInterval(sampler);
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!existsSync(join(CATALOG, 'styles.csv'))) {
    console.error(`bench:ingest needs the real catalog at ${CATALOG} (../shared/data); skipped`);
    process.exit(0);
  }
  const baseline = await run(true);
  const full = await run(false);
  const report = {
    benchmark: 'ingest',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    input: { catalog: CATALOG, rows: full.summary.catalog.rowsRead, images: full.summary.images?.processed ?? 0 },
    baselineCsvOnly: { seconds: baseline.seconds, steps: baseline.steps, peakRssMB: baseline.peakRssMB },
    full: { seconds: full.seconds, steps: full.steps, peakRssMB: full.peakRssMB, images: full.summary.images, catalog: full.summary.catalog },
    target: 'full ingest ≤ 180 s on a 2-core machine',
  };
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/ingest.json', `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nIngest benchmark — ${report.machine.cpu}, ${report.machine.cores} cores; ${report.input.rows} rows, ${report.input.images} photos`);
  console.table([
    { run: 'CSV only (--no-images, baseline)', seconds: baseline.seconds.toFixed(1), 'images step s': '—', 'store step s': baseline.steps.store?.toFixed(1), 'peak RSS MB': baseline.peakRssMB.toFixed(0) },
    {
      run: 'full (photos decoded, resized, hashed)',
      seconds: full.seconds.toFixed(1),
      'images step s': full.steps.images?.toFixed(1),
      'store step s': full.steps.store?.toFixed(1),
      'peak RSS MB': full.peakRssMB.toFixed(0),
    },
  ]);
  const images = full.summary.images;
  if (images && full.steps.images) console.log(`photos: ${(images.processed / full.steps.images).toFixed(0)} images/s, ${images.problems} problems, ${images.duplicateGroups} duplicate groups`);
  console.log('wrote bench-results/ingest.json');
}

await main();
