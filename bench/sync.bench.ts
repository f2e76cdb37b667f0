/**
 * Sync benchmark: what a device downloads, and how long its first sync takes.
 *
 * 1. Catalog snapshot bytes: format 1 (plain JSON, what the registry published before) against
 *    format 2 (columnar, dictionary-encoded, gzip; models/catalog/snapshot-codec.ts), with Node
 *    encode and decode times, for the demo catalog and, when ../shared/data has it, the real
 *    35k-item catalog (photo hashes read from the photos, as ingest sets them).
 * 2. First sync of the demo data (catalog + champion ranker pack + image encoder) in headless
 *    Chromium against the real server on loopback, a fresh browser profile per run; median and
 *    p95 over the runs, split into manifest, download and apply; and the repeat sync (a 304).
 * 3. With the real catalog: the first sync of its 35k items alone (decode + one transaction).
 *
 *   npm run build && npm run bench:sync      # BENCH_RUNS=5 by default
 *
 * Prints tables and writes bench-results/sync.json.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import type { CatalogItem } from '../models/catalog/item';
import { decodeCatalogBlob, encodeSnapshotPayload } from '../models/catalog/snapshot-codec';
import { buildAppServer } from '../server/http/app';
import { importKaggleStyles } from '../server/ingest/kaggle-catalog';
import { Registry } from '../server/registry/registry';
import { FeatureStore } from '../server/store/feature-store';
import { APP_DIR, launchBrowser } from '../test/browser';
import { hasMyntra, MYNTRA_DIR, prepareShopData } from '../test/shop-fixture';
import { startSyncFixture, SyncProxy } from '../test/sync-fixture';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

const median = (v: number[]) => quantile(v, 0.5);

interface SnapshotSize {
  catalog: string;
  items: number;
  format1Bytes: number;
  format1GzipBytes: number;
  format2Bytes: number;
  encodeMs: number;
  decodeMs: number;
}

async function snapshotSize(name: string, items: CatalogItem[]): Promise<SnapshotSize> {
  const v1 = Buffer.from(JSON.stringify({ format: 'fashionml.catalog-snapshot/1', version: 1, contentHash: 'x', items }));
  const started = performance.now();
  const v2 = gzipSync(encodeSnapshotPayload({ version: 1, contentHash: 'x', items }), { level: 9 });
  const encodeMs = performance.now() - started;
  const decodeStarted = performance.now();
  const back = await decodeCatalogBlob(v2);
  const decodeMs = performance.now() - decodeStarted;
  if (back.kind !== 'snapshot' || back.items.length !== items.length) throw new Error('snapshot did not round-trip');
  return { catalog: name, items: items.length, format1Bytes: v1.length, format1GzipBytes: gzipSync(v1, { level: 9 }).length, format2Bytes: v2.length, encodeMs, decodeMs };
}

/** The real catalog as ingest would store it, photo hashes included (read from the photo files). */
async function realCatalog(): Promise<CatalogItem[]> {
  const result = await importKaggleStyles(join(MYNTRA_DIR, 'styles.csv'));
  const items = result.accepted.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const item of items) {
    const photo = item.image ? join(MYNTRA_DIR, item.image) : undefined;
    if (photo && existsSync(photo)) item.imageSha256 = createHash('sha256').update(readFileSync(photo)).digest('hex');
  }
  return items;
}

interface SyncRun {
  wallMs: number;
  manifestMs: number;
  downloadMs: number;
  applyMs: number;
  bytes: number;
  files: number;
  items: number;
}

/** Opens the app with the catalog hidden (so its own start-up sync finds nothing), then times one sync. */
async function timeFirstSync(url: string, proxy: SyncProxy): Promise<{ run: SyncRun; page: Page; close: () => Promise<void> }> {
  const browser = await launchBrowser();
  const page = browser.page;
  proxy.hideCatalog = true;
  await page.goto(url);
  // The app's own sync at start finds nothing; the timed run below is the first real one.
  await page.waitForFunction(() => {
    const sync = window.fashionml?.sync;
    return sync !== undefined && sync.phase !== 'idle' && !sync.busy;
  });
  proxy.hideCatalog = false;
  const run = await page.evaluate(async () => {
    const sync = window.fashionml!.sync;
    const started = performance.now();
    const marks: Record<string, number> = {};
    const off = sync.onProgress((phase) => {
      marks[`${phase}First`] ??= performance.now() - started;
      marks[`${phase}Last`] = performance.now() - started;
    });
    const result = await sync.syncNow();
    const wallMs = performance.now() - started;
    off();
    if (!result || result.outcome !== 'updated') throw new Error(`sync did not update: ${sync.error ?? result?.outcome}`);
    const download = marks.downloadingFirst ?? 0;
    const apply = marks.applyingFirst ?? wallMs;
    return { wallMs, manifestMs: download, downloadMs: apply - download, applyMs: wallMs - apply, bytes: result.bytesFetched, files: result.filesFetched, items: sync.active?.itemCount ?? 0 };
  });
  return { run, page, close: () => browser.close() };
}

function summarise(runs: SyncRun[]) {
  const stat = (key: keyof SyncRun) => ({ median: median(runs.map((r) => r[key])), p95: quantile(runs.map((r) => r[key]), 0.95) });
  return { runs: runs.length, bytes: runs[0]!.bytes, files: runs[0]!.files, items: runs[0]!.items, wallMs: stat('wallMs'), manifestMs: stat('manifestMs'), downloadMs: stat('downloadMs'), applyMs: stat('applyMs') };
}

async function main(): Promise<void> {
  const sizes: SnapshotSize[] = [];
  const demo = await prepareShopData('demo');
  const demoStore = FeatureStore.open(join(demo.dataDir, 'features.sqlite'));
  sizes.push(await snapshotSize('demo', demoStore.items(demo.catalogVersion)));
  demoStore.close();
  const real = hasMyntra() ? await realCatalog() : undefined;
  if (real) sizes.push(await snapshotSize('Myntra (real, 35k)', real));
  else console.warn(`The real catalog is not at ${MYNTRA_DIR}: its rows are left out.`);

  // Demo: first sync of catalog + models, fresh profile per run, then the 304 repeat.
  const fixture = await startSyncFixture();
  const demoRuns: SyncRun[] = [];
  const repeatMs: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const { run, page, close } = await timeFirstSync(fixture.url, fixture.proxy);
      demoRuns.push(run);
      repeatMs.push(
        await page.evaluate(async () => {
          const started = performance.now();
          const result = await window.fashionml!.sync.syncNow();
          if (result?.outcome !== 'not-modified') throw new Error(`expected a 304, got ${result?.outcome}`);
          return performance.now() - started;
        }),
      );
      await close();
    }
  } finally {
    await fixture.close();
  }

  // Real catalog alone: a registry with just its snapshot.
  const realRuns: SyncRun[] = [];
  let realSnapshotBytes: number | undefined;
  if (real) {
    const dir = mkdtempSync(join(tmpdir(), 'fashionml-bench-sync-'));
    try {
      const store = FeatureStore.open(join(dir, 'features.sqlite'));
      store.addCatalogVersion({ items: real, source: 'bench', rowsRead: real.length, quarantined: [] });
      const registry = new Registry(join(dir, 'registry'));
      realSnapshotBytes = registry.publishCatalog(store, 1).snapshot.size;
      store.close();
      const server = await buildAppServer({ appDir: APP_DIR, api: { registry } });
      const proxy = new SyncProxy(new URL(await server.listen({ host: '127.0.0.1', port: 0 })));
      const url = await proxy.listen();
      try {
        for (let i = 0; i < Math.min(RUNS, 3); i++) {
          const { run, close } = await timeFirstSync(url, proxy);
          realRuns.push(run);
          await close();
        }
      } finally {
        await proxy.close();
        await server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const report = {
    benchmark: 'sync',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    note: 'Headless Chromium (Debian) and the app server on the same machine over loopback; a fresh browser profile per first sync.',
    snapshots: sizes,
    demoFirstSync: { ...summarise(demoRuns), repeatSync304Ms: { median: median(repeatMs), p95: quantile(repeatMs, 0.95) } },
    ...(realRuns.length > 0 ? { realCatalogOnlyFirstSync: { ...summarise(realRuns), snapshotBytes: realSnapshotBytes } } : {}),
  };
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/sync.json', `${JSON.stringify(report, null, 2)}\n`);

  const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  console.log(`\nSync benchmark — ${report.machine.cpu}, ${report.machine.cores} cores`);
  console.table(
    sizes.map((s) => ({
      catalog: s.catalog,
      items: s.items,
      'format 1 (JSON)': kb(s.format1Bytes),
      'format 1 gzip': kb(s.format1GzipBytes),
      'format 2 (synced)': kb(s.format2Bytes),
      'encode ms': s.encodeMs.toFixed(0),
      'decode ms': s.decodeMs.toFixed(0),
    })),
  );
  const row = (name: string, s: ReturnType<typeof summarise>) => ({
    sync: name,
    runs: s.runs,
    bytes: kb(s.bytes),
    files: s.files,
    items: s.items,
    'wall ms median / p95': `${s.wallMs.median.toFixed(0)} / ${s.wallMs.p95.toFixed(0)}`,
    'manifest ms': s.manifestMs.median.toFixed(0),
    'download ms': s.downloadMs.median.toFixed(0),
    'apply ms': s.applyMs.median.toFixed(0),
  });
  console.table([row('demo: catalog + models', report.demoFirstSync), ...(report.realCatalogOnlyFirstSync ? [row('real 35k: catalog only', report.realCatalogOnlyFirstSync)] : [])]);
  console.log(`repeat sync (304): median ${median(repeatMs).toFixed(0)} ms, p95 ${quantile(repeatMs, 0.95).toFixed(0)} ms`);
  console.log('wrote bench-results/sync.json');
}

await main();
