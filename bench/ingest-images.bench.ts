/**
 * Image-ingest benchmark: every photo of the real Myntra catalog (../shared/data/myntra-fashion-small,
 * 35k photos) through `processImages` into a temporary folder, twice: a fresh run (every thumbnail
 * encoded) and a re-ingest into the same folder (thumbnails already there, so only the encoder input
 * is rebuilt). The item list is every row of styles.csv, so rows without a photo show up as
 * `missing_image`, as in a real ingest.
 *
 *   npx tsx bench/ingest-images.bench.ts
 *   BENCH_CONCURRENCY=2 npx tsx bench/ingest-images.bench.ts   # photos in flight (default: the library's, 8)
 *   BENCH_KEEP=1 ...                                            # keep the output folder
 *
 * Prints a table and writes bench-results/ingest-images.json. The machine may be shared: the load
 * average before each run is recorded next to its numbers.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { DEFAULT_IMAGE_CONCURRENCY, processImages } from '../server/ingest/images';
import { summarise } from '../models/probe/stats';
import type { Summary } from '../models/probe/stats';

const DATA = resolve(process.cwd(), '../shared/data/myntra-fashion-small');
const CONCURRENCY = process.env.BENCH_CONCURRENCY ? Number(process.env.BENCH_CONCURRENCY) : undefined;
/** Throughput is also summarised over windows of this many photos, to show how steady it is. */
const WINDOW = 1000;

interface RunFigures {
  run: 'fresh' | 'reingest';
  items: number;
  processed: number;
  problems: Record<string, number>;
  duplicateGroups: number;
  thumbsWritten: number;
  thumbsReused: number;
  seconds: number;
  imagesPerSecond: number;
  /** Wall milliseconds per photo over windows of WINDOW photos (a photo's own latency is not observable from outside). */
  windowMsPerImage: Summary;
  /** Process CPU (user + system) per photo, all threads. */
  cpuMsPerImage: number;
  /** Peak resident memory of the whole process so far. */
  peakRssMiB: number;
  loadAverageBefore: number;
  encoderInputBytes: number;
  encoderInputSha256: string;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function run(name: RunFigures['run'], items: { id: string; image: string }[], outDir: string): Promise<RunFigures> {
  const loadAverageBefore = loadavg()[0] ?? 0;
  const marks: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let lastPrinted = 0;
  const result = await processImages(items, {
    catalogDir: DATA,
    outDir,
    ...(CONCURRENCY !== undefined ? { concurrency: CONCURRENCY } : {}),
    onProgress: (done, total) => {
      if (done % WINDOW === 0) marks.push(performance.now());
      if (process.stderr.isTTY && (done - lastPrinted >= 500 || done === total)) {
        lastPrinted = done;
        process.stderr.write(`\r${name}: ${done}/${total}`);
      }
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (process.stderr.isTTY) process.stderr.write('\n');
  const windows = marks.map((t, i) => (t - (i === 0 ? t0 : (marks[i - 1] as number))) / WINDOW);
  const problems: Record<string, number> = {};
  for (const p of result.problems) problems[p.reason] = (problems[p.reason] ?? 0) + 1;
  const done = result.processed.length + result.problems.length;
  const figures: RunFigures = {
    run: name,
    items: items.length,
    processed: result.processed.length,
    problems,
    duplicateGroups: result.duplicateGroups.length,
    thumbsWritten: result.thumbsWritten,
    thumbsReused: result.thumbsReused,
    seconds,
    imagesPerSecond: done / seconds,
    windowMsPerImage: summarise(windows.length > 0 ? windows : [(seconds * 1000) / Math.max(1, done)]),
    cpuMsPerImage: (cpu.user + cpu.system) / 1000 / Math.max(1, done),
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    loadAverageBefore,
    encoderInputBytes: result.encoderInput.count * result.encoderInput.size * result.encoderInput.size * 3,
    encoderInputSha256: await sha256File(result.encoderInput.file),
  };
  return figures;
}

async function main(): Promise<void> {
  if (!existsSync(join(DATA, 'styles.csv'))) {
    console.error(`No real data at ${DATA}: this benchmark needs ../shared/data/myntra-fashion-small beside the checkout.`);
    process.exit(1);
  }
  // The first field of every row is the id (integers, never quoted); the photo is images/<id>.jpg.
  const ids = readFileSync(join(DATA, 'styles.csv'), 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.slice(0, line.indexOf(',')).trim())
    .filter((id) => id !== '');
  const items = ids.map((id) => ({ id, image: `images/${id}.jpg` }));

  const outDir = mkdtempSync(join(tmpdir(), 'fashionml-bench-images-'));
  const runs: RunFigures[] = [];
  try {
    runs.push(await run('fresh', items, outDir));
    runs.push(await run('reingest', items, outDir));
  } finally {
    if (!process.env.BENCH_KEEP) rmSync(outDir, { recursive: true, force: true });
    else console.log(`Output kept in ${outDir}`);
  }

  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    sharp: sharp.versions.sharp,
    libvips: sharp.versions.vips,
    uvThreadpoolSize: process.env.UV_THREADPOOL_SIZE ?? '4 (default)',
  };
  console.log(`\nImage ingest: ${items.length} catalog rows, ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, sharp ${machine.sharp} (libvips ${machine.libvips})`);
  console.table(
    runs.map((r) => ({
      run: r.run,
      photos: r.processed,
      problems: Object.entries(r.problems).map(([k, v]) => `${k} ${v}`).join(', '),
      'dup groups': r.duplicateGroups,
      'thumbs written': r.thumbsWritten,
      seconds: Number(r.seconds.toFixed(1)),
      'images/s': Math.round(r.imagesPerSecond),
      [`ms/img median (per ${WINDOW})`]: Number(r.windowMsPerImage.median.toFixed(2)),
      [`ms/img p95 (per ${WINDOW})`]: Number(r.windowMsPerImage.p95.toFixed(2)),
      'cpu ms/img': Number(r.cpuMsPerImage.toFixed(2)),
      'peak RSS MiB': Math.round(r.peakRssMiB),
      'load before': Number(r.loadAverageBefore.toFixed(2)),
    })),
  );
  const same = runs[0]?.encoderInputSha256 === runs[1]?.encoderInputSha256;
  console.log(`Encoder input: ${((runs[0]?.encoderInputBytes ?? 0) / 2 ** 20).toFixed(0)} MiB, identical in both runs: ${same}`);

  mkdirSync('bench-results', { recursive: true });
  writeFileSync(
    'bench-results/ingest-images.json',
    `${JSON.stringify(
      {
        benchmark: 'ingest-images',
        date: new Date().toISOString(),
        machine,
        data: 'myntra-fashion-small (real catalog photos, 60x80 JPEG)',
        parameters: { concurrency: CONCURRENCY ?? DEFAULT_IMAGE_CONCURRENCY, encoderSize: 64, thumbSize: 128, window: WINDOW },
        runs,
        encoderInputIdenticalAcrossRuns: same,
      },
      null,
      2,
    )}\n`,
  );
  console.log('Wrote bench-results/ingest-images.json');
}

await main();
