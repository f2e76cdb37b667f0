/**
 * Server benchmark: the sync API under a loopback load generator (autocannon) on this machine,
 * with the server in its own process, as `fashionml serve` runs it. Measures the manifest endpoint
 * (the call every client makes on every start), a content-addressed blob (throughput), and
 * /healthz as the baseline: the framework's own cost for the smallest possible answer.
 *
 *   npm run bench:server          # needs a built app (npm run build) for the static files
 *
 * Prints a table and writes bench-results/server.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import type { CatalogItem } from '../server/ingest/types';
import { Registry } from '../server/registry/registry';
import { FeatureStore } from '../server/store/feature-store';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const ITEMS = Number(process.env.BENCH_ITEMS ?? 35_000);

/** A synthetic catalog of the real catalog's size, so the snapshot blob has a realistic size. */
function syntheticCatalog(n: number): CatalogItem[] {
  const types = ['Tshirts', 'Shirts', 'Jeans', 'Dresses', 'Casual Shoes', 'Watches', 'Handbags', 'Kurtas'];
  const colours = ['Black', 'White', 'Blue', 'Navy Blue', 'Red', 'Grey', 'Green', 'Pink'];
  return Array.from({ length: n }, (_, i) => ({
    id: String(10_000 + i),
    title: `Benchmark ${colours[i % 8]} ${types[i % 8]} ${i}`,
    gender: ['Men', 'Women', 'Unisex'][i % 3] as string,
    masterCategory: 'Apparel',
    subCategory: 'Topwear',
    articleType: types[i % 8] as string,
    colour: colours[(i >> 3) % 8] as string,
    season: 'Summer',
    year: 2012 + (i % 8),
    usage: 'Casual',
    image: `images/${10_000 + i}.jpg`,
    attributes: {},
  }));
}

async function startServer(dataDir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['bin/fashionml.mjs', '--data-dir', dataDir, 'serve', '--port', '0', '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const match = /being served at (http:\/\/[^\s]+)/.exec(chunk.toString());
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

interface Row {
  endpoint: string;
  bytesPerResponse: number;
  requestsPerSecond: { mean: number; p50: number };
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  throughputMBps: number;
  requests: number;
  errors: number;
  non2xx: number;
}

async function load(title: string, url: string, headers: Record<string, string> = {}): Promise<Row> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, headers });
  return {
    endpoint: title,
    bytesPerResponse: Math.round(result.throughput.total / Math.max(1, result.requests.total)),
    requestsPerSecond: { mean: result.requests.mean, p50: result.requests.p50 },
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    throughputMBps: result.throughput.mean / 1e6,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fashionml-bench-server-'));
  try {
    const store = FeatureStore.open(join(dataDir, 'features.sqlite'));
    store.addCatalogVersion({ items: syntheticCatalog(ITEMS), source: 'synthetic benchmark catalog', rowsRead: ITEMS, quarantined: [] });
    const entry = new Registry(join(dataDir, 'registry')).publishCatalog(store, 1);
    store.close();

    const server = await startServer(dataDir);
    const rows: Row[] = [];
    try {
      const manifest = (await (await fetch(`${server.url}/v1/manifest`)).json()) as unknown;
      void manifest;
      const etag = (await fetch(`${server.url}/v1/manifest`)).headers.get('etag') ?? '';
      rows.push(await load('GET /healthz (baseline)', `${server.url}/healthz`));
      rows.push(await load('GET /v1/manifest', `${server.url}/v1/manifest`, { 'accept-encoding': 'gzip' }));
      rows.push(await load('GET /v1/manifest (If-None-Match → 304)', `${server.url}/v1/manifest`, { 'if-none-match': etag }));
      rows.push(await load(`GET /v1/blobs/<snapshot> (${(entry.snapshot.size / 1e6).toFixed(1)} MB)`, `${server.url}/v1/blobs/${entry.snapshot.sha256}`));
    } finally {
      await server.stop();
    }

    const report = {
      benchmark: 'server',
      date: new Date().toISOString(),
      machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
      note: 'Server (fashionml serve, log level warn) and load generator (autocannon) in two processes on the same machine, over loopback.',
      parameters: { durationSeconds: DURATION_S, connections: CONNECTIONS, catalogItems: ITEMS, snapshotBytes: entry.snapshot.size },
      results: rows,
    };
    mkdirSync('bench-results', { recursive: true });
    writeFileSync('bench-results/server.json', `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nServer benchmark — ${report.machine.cpu}, ${report.machine.cores} cores; ${CONNECTIONS} connections for ${DURATION_S} s each`);
    console.table(
      rows.map((r) => ({
        endpoint: r.endpoint,
        'req/s (mean)': Math.round(r.requestsPerSecond.mean),
        'latency ms p50 / p90 / p99': `${r.latencyMs.p50} / ${r.latencyMs.p90} / ${r.latencyMs.p99}`,
        'MB/s': r.throughputMBps.toFixed(1),
        errors: r.errors,
        'non-2xx': r.non2xx,
      })),
    );
    console.log('wrote bench-results/server.json');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
