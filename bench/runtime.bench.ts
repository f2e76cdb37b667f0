/**
 * Runtime benchmark: for each TF.js backend in headless Chromium on this machine, the worker's start
 * to ready (cold first visit and warm reloads), matmul GFLOP/s and CNN forward images/s; and the
 * first-paint JavaScript size. The cpu backend (plain JavaScript) is the baseline every other
 * backend is compared with, measured in the same run.
 *
 *   npm run bench:runtime                 # build, then measure
 *   BENCH_SKIP_BUILD=1 npm run bench:runtime
 *
 * Prints a table and writes bench-results/runtime.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BACKENDS } from '../models/runtime/backends';
import type { BackendName } from '../models/runtime/backends';
import type { CapabilityReport } from '../models/runtime/capabilities';
import type { KnownComputationResult } from '../workers/inference.worker';
import { APP_DIR, CHROMIUM_PATH, launchBrowser, startApp, waitForEngine } from '../test/browser';
import type { Browser } from '../test/browser';
import { summarise } from '../models/probe/stats';
import type { Summary } from '../models/probe/stats';

const STARTS = Number(process.env.BENCH_STARTS ?? 5);
const MATMUL_SIZES = [256, 512];
const CNN_BATCHES = [1, 16, 64];
const RUNS = Number(process.env.BENCH_RUNS ?? 10);

interface BackendFigures {
  backend: BackendName;
  device?: string;
  error?: string;
  /** Worker creation to warmed-up backend as the page saw it: first visit, then reloads. */
  startColdMs?: number;
  startWarmMs?: Summary;
  /** Backend initialisation inside the worker (part of the above). */
  initMs?: Summary;
  matmul: { size: number; medianMs: number; p95Ms: number; gflops: number }[];
  cnn: { batch: number; medianMs: number; p95Ms: number; imagesPerSecond: number }[];
}

interface FirstPaint {
  files: { file: string; bytes: number; gzipBytes: number }[];
  jsGzipBytes: number;
  cssGzipBytes: number;
  containsTfjs: boolean;
}

/** The entry chunk and everything it imports statically: what the browser needs for first paint. */
function firstPaintSize(): FirstPaint {
  type Chunk = { file: string; imports?: string[]; css?: string[]; isEntry?: boolean };
  const manifest = JSON.parse(readFileSync(join(APP_DIR, '.vite/manifest.json'), 'utf8')) as Record<string, Chunk>;
  const entry = Object.entries(manifest).find(([, chunk]) => chunk.isEntry);
  if (!entry) throw new Error('The build manifest has no entry chunk');
  const seen = new Set<string>();
  const css = new Set<string>();
  const visit = (key: string) => {
    const chunk = manifest[key];
    if (!chunk || seen.has(chunk.file)) return;
    seen.add(chunk.file);
    chunk.css?.forEach((file) => css.add(file));
    chunk.imports?.forEach(visit);
  };
  visit(entry[0]);
  const measure = (file: string) => {
    const bytes = readFileSync(join(APP_DIR, file));
    return { file, bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
  };
  const js = [...seen].map(measure);
  const styles = [...css].map(measure);
  const containsTfjs = [...seen].some((file) => {
    const map = JSON.parse(readFileSync(join(APP_DIR, `${file}.map`), 'utf8')) as { sources: string[] };
    return map.sources.some((source) => source.includes('@tensorflow'));
  });
  return {
    files: [...js, ...styles],
    jsGzipBytes: js.reduce((s, f) => s + f.gzipBytes, 0),
    cssGzipBytes: styles.reduce((s, f) => s + f.gzipBytes, 0),
    containsTfjs,
  };
}

async function engineTimes(browser: Browser): Promise<{ startMs: number; report: CapabilityReport }> {
  if ((await waitForEngine(browser.page)) !== 'ready') {
    throw new Error((await browser.page.getByTestId('engine-error').textContent()) ?? 'engine failed');
  }
  return browser.page.evaluate(() => {
    const runtime = window.fashionml!.runtime;
    return JSON.parse(JSON.stringify({ startMs: runtime.startMs, report: runtime.report })) as {
      startMs: number;
      report: CapabilityReport;
    };
  });
}

async function measureBackend(url: string, backend: BackendName): Promise<BackendFigures> {
  // A fresh profile per backend, so the first visit is cold (nothing cached).
  const browser = await launchBrowser();
  const figures: BackendFigures = { backend, matmul: [], cnn: [] };
  try {
    const page = browser.page;
    const starts: number[] = [];
    const inits: number[] = [];
    await page.goto(`${url}/?backend=${backend}`);
    const cold = await engineTimes(browser);
    figures.startColdMs = cold.startMs;
    figures.device = cold.report.device;
    for (let i = 0; i < STARTS; i++) {
      await page.reload();
      const warm = await engineTimes(browser);
      starts.push(warm.startMs);
      inits.push(warm.report.readyMs);
    }
    figures.startWarmMs = summarise(starts);
    figures.initMs = summarise(inits);

    for (const size of MATMUL_SIZES) {
      const r = await compute(browser, { matmulSize: size, cnnBatch: 1, runs: RUNS });
      figures.matmul.push({ size, medianMs: r.matmul.medianMs, p95Ms: r.matmul.p95Ms, gflops: r.matmul.gflops });
    }
    for (const batch of CNN_BATCHES) {
      const r = await compute(browser, { matmulSize: 16, cnnBatch: batch, runs: RUNS });
      figures.cnn.push({ batch, medianMs: r.cnn.medianMs, p95Ms: r.cnn.p95Ms, imagesPerSecond: r.cnn.imagesPerSecond });
    }
  } catch (error) {
    figures.error = error instanceof Error ? error.message : String(error);
  } finally {
    await browser.close();
  }
  return figures;
}

function compute(
  browser: Browser,
  options: { matmulSize: number; cnnBatch: number; runs: number },
): Promise<KnownComputationResult> {
  return browser.page.evaluate(
    (o) => window.fashionml!.runtime.engine.call((api) => api.runKnownComputation(o)),
    options,
  );
}

function machine() {
  const cpu = cpus();
  const chromium = execFileSync(CHROMIUM_PATH, ['--version'], { encoding: 'utf8' }).trim();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    chromium,
  };
}

const fmt = (value: number | undefined, digits = 1) => (value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits));

async function main(): Promise<void> {
  if (process.env.BENCH_SKIP_BUILD !== '1') {
    execFileSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
  }
  const firstPaint = firstPaintSize();
  const app = await startApp();
  const results: BackendFigures[] = [];
  try {
    for (const backend of BACKENDS) {
      process.stderr.write(`measuring ${backend}…\n`);
      results.push(await measureBackend(app.url, backend));
    }
  } finally {
    await app.close();
  }

  const baseline = results.find((r) => r.backend === 'cpu');
  const report = {
    benchmark: 'runtime',
    date: new Date().toISOString(),
    machine: machine(),
    note: 'Headless Chromium. Without a GPU, webgpu and webgl run on SwiftShader (CPU emulation); cpu (plain JavaScript) is the baseline.',
    parameters: { starts: STARTS, runsPerSize: RUNS, matmulSizes: MATMUL_SIZES, cnnBatches: CNN_BATCHES, cnnImage: '64x64x3' },
    firstPaint,
    backends: results,
  };
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/runtime.json', `${JSON.stringify(report, null, 2)}\n`);

  const m = report.machine;
  console.log(`\nRuntime benchmark — ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.chromium}`);
  console.log(
    `First-paint JS: ${fmt(firstPaint.jsGzipBytes / 1024)} KB gzip (+ ${fmt(firstPaint.cssGzipBytes / 1024)} KB CSS), TF.js included: ${firstPaint.containsTfjs ? 'YES' : 'no'}\n`,
  );
  const rows = results.map((r) => {
    const mm = r.matmul.at(-1);
    const cnn = r.cnn.at(-1);
    const base = baseline?.cnn.at(-1);
    return {
      backend: r.backend,
      device: (r.device ?? r.error ?? '').slice(0, 40),
      'cold start ms': fmt(r.startColdMs, 0),
      'warm start ms (median/p95)': r.startWarmMs ? `${fmt(r.startWarmMs.median, 0)} / ${fmt(r.startWarmMs.p95, 0)}` : '—',
      [`matmul ${mm?.size ?? ''} GFLOP/s`]: fmt(mm?.gflops, 2),
      [`matmul ms (median/p95)`]: mm ? `${fmt(mm.medianMs, 1)} / ${fmt(mm.p95Ms, 1)}` : '—',
      [`CNN b${cnn?.batch ?? ''} images/s`]: fmt(cnn?.imagesPerSecond, 0),
      'vs cpu': cnn && base ? `${fmt(cnn.imagesPerSecond / base.imagesPerSecond, 1)}×` : '—',
    };
  });
  console.table(rows);
  console.log('CNN images/s by batch:');
  console.table(
    results.map((r) => Object.fromEntries([['backend', r.backend], ...r.cnn.map((c) => [`b${c.batch}`, fmt(c.imagesPerSecond, 0)])])),
  );
  console.log('wrote bench-results/runtime.json');
}

await main();
process.exit(0);
