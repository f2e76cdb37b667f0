import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPaths } from '../config';
import { Registry } from '../registry/registry';
import { buildAppServer } from './app';
import { escapeHtml, metricChart, readReports } from './status';

let dir: string;
let app: FastifyInstance;

function register(registry: Registry, version: number, metrics: Record<string, number>): void {
  const files = join(dir, `model-${version}`);
  mkdirSync(files, { recursive: true });
  writeFileSync(join(files, 'ranker.json'), JSON.stringify({ v: version }));
  registry.registerModel({ id: 'fashion-ranker', kind: 'fashion-ranker', dir: files, metrics, dataVersion: version, codeVersion: 'abc123', parent: version > 1 ? `fashion-ranker@${version - 1}` : null });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fashionml-status-test-'));
  const appDir = join(dir, 'app');
  mkdirSync(appDir);
  writeFileSync(join(appDir, 'index.html'), '<!doctype html><title>FashionML</title>');
  const paths = dataPaths(join(dir, 'data'));
  const registry = new Registry(paths.registry);
  register(registry, 1, { ndcg10: 0.3, recall20: 0.6, coldAuc: 0.9, simulated: 1 });
  register(registry, 2, { ndcg10: 0.35, recall20: 0.62, coldAuc: 0.91, simulated: 1 });
  registry.setAlias('champion', 'fashion-ranker', 2);
  registry.setAlias('challenger', 'fashion-ranker', 1);
  mkdirSync(paths.reports, { recursive: true });
  const report = (version: number, drift: unknown) =>
    JSON.stringify({ kind: 'fashionml.quality-report', catalogVersion: version, generatedAt: `2025-01-0${version}T00:00:00Z`, rows: { read: 100, accepted: 98, quarantined: 2 }, images: { problems: 3 }, drift });
  writeFileSync(join(paths.reports, 'catalog-v1.json'), report(1, null));
  writeFileSync(join(paths.reports, 'catalog-v1.html'), '<!doctype html><h1>v1</h1>');
  writeFileSync(
    join(paths.reports, 'catalog-v2.json'),
    report(2, { previousCatalogVersion: 1, columns: [{ column: 'colour', psi: 0.42, level: 'significant', overThreshold: true }, { column: 'gender', psi: 0.01, level: 'stable', overThreshold: false }] }),
  );
  writeFileSync(join(paths.reports, 'catalog-v2.md'), '# v2');
  writeFileSync(join(paths.reports, 'notes.txt'), 'not a report');
  writeFileSync(join(paths.root, 'features.sqlite'), 'secret');
  app = await buildAppServer({ appDir, api: { registry } });
});

afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('status page', () => {
  it('links metrics, health, manifest, experiments and the Model Lab', async () => {
    const res = await app.inject({ url: '/status' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    for (const href of ['/metrics', '/healthz', '/v1/manifest', '/v1/experiments', '/#/lab', '/status.json']) expect(res.body).toContain(`href="${href}"`);
  });

  it('shows every report with its drift verdict and links its files', async () => {
    const res = await app.inject({ url: '/status' });
    expect(res.body).toContain('href="/status/reports/catalog-v1.html"');
    expect(res.body).toContain('href="/status/reports/catalog-v2.md"');
    expect(res.body).toMatch(/colour PSI 0\.42/);
    expect(res.body).not.toMatch(/gender PSI/);
    expect(res.body).not.toContain('notes.txt');
    const summary = (await app.inject({ url: '/status.json' })).json() as { reports: { catalogVersion: number; drifted?: unknown[] }[] };
    expect(summary.reports.map((r) => r.catalogVersion)).toEqual([2, 1]);
    expect(summary.reports[0]!.drifted).toEqual([{ column: 'colour', psi: 0.42, level: 'significant' }]);
    expect(summary.reports[1]!.drifted).toBeUndefined();
  });

  it('shows model metrics per version with aliases, lineage and a chart', async () => {
    const res = await app.inject({ url: '/status' });
    expect(res.body).toContain('data-ref="fashion-ranker@2"');
    expect(res.body).toMatch(/<span class="alias">champion<\/span>/);
    expect(res.body).toContain('fashion-ranker@1'); // the parent of version 2
    expect(res.body).toContain('<svg');
    expect(res.body).toContain('(evaluated on simulated shoppers)');
    expect(res.body).toMatch(/<title>ndcg10 v2: 0\.35<\/title>/);
  });

  it('serves report files by name only, never anything else from the data directory', async () => {
    const ok = await app.inject({ url: '/status/reports/catalog-v2.json' });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['content-type']).toMatch(/application\/json/);
    expect(ok.json()).toMatchObject({ catalogVersion: 2 });
    expect((await app.inject({ url: '/status/reports/catalog-v1.html' })).headers['content-type']).toMatch(/text\/html/);
    const missing = await app.inject({ url: '/status/reports/catalog-v9.json' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: 'not_found', message: 'No report catalog-v9.json' });
    for (const url of ['/status/reports/notes.txt', '/status/reports/..%2Ffeatures.sqlite', '/status/reports/catalog-v1.json%00.html']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().message, url).toMatch(/Reports are named catalog-vN/);
    }
  });

  it('without a registry or reports it still answers, saying there is nothing yet', async () => {
    const bare = await buildAppServer({ appDir: join(dir, 'app') });
    try {
      const res = await bare.inject({ url: '/status' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('No catalog published yet');
      expect(res.body).toContain('No model versions registered yet');
      expect(res.body).toContain('No data-quality reports yet');
    } finally {
      await bare.close();
    }
  });

  it('escapes what it prints and reads an unreadable report as a problem, not a crash', () => {
    expect(escapeHtml(`<script>"x" & 'y'</script>`)).toBe('&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;');
    expect(metricChart('t', [], ['ndcg10'])).toBe('');
    const reports = join(dir, 'broken-reports');
    mkdirSync(reports);
    writeFileSync(join(reports, 'catalog-v3.json'), '{ not json');
    const [entry] = readReports(reports);
    expect(entry!.problem).toMatch(/catalog-v3\.json could not be read/);
  });
});
