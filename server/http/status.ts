/**
 * The operator's status page (`GET /status`): one HTML page that links everything there is to
 * watch — Prometheus metrics, health, the manifest, the ingest data-quality and drift reports in
 * `<data>/reports`, experiments — and shows model metrics per registered version with charts
 * (inline SVG, drawn here: no script, no chart library). `GET /status.json` gives the same
 * summary as data; `GET /status/reports/<file>` serves the report files (only `catalog-vN.html`,
 * `.md` and `.json`, nothing else from that folder).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Manifest, ModelVersion } from '../registry/registry';
import type { Registry } from '../registry/registry';

export interface StatusPageOptions {
  registry?: Registry;
  /** Where ingest writes `catalog-vN.{html,md,json}` (the data directory's `reports/`). */
  reportsDir?: string;
}

const REPORT_FILE = /^catalog-v(\d+)\.(html|md|json)$/;
const CONTENT_TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', md: 'text/markdown; charset=utf-8', json: 'application/json' };
/** Metrics drawn per model id, in this order, when versions have them. */
const HEADLINE = ['map12', 'recall12', 'ndcg12', 'newHitShare', 'ndcg10', 'recall20', 'coverage10', 'coldAuc', 'p10Type', 'p10TypeColour', 'novelty10'];

export interface ReportSummary {
  catalogVersion: number;
  files: { html?: string; md?: string; json?: string };
  generatedAt?: string;
  rows?: { read: number; accepted: number; quarantined: number };
  imageProblems?: number;
  /** Columns whose PSI against the previous version is over the report's threshold. */
  drifted?: { column: string; psi: number | null; level: string | null }[];
  previousCatalogVersion?: number;
  /** Why the JSON could not be read, when it could not. */
  problem?: string;
}

export interface StatusSummary {
  generatedAt: string;
  catalog: { version: number; itemCount: number; publishedAt: string } | null;
  aliases: Record<string, string>;
  models: { id: string; versions: { version: number; kind: string; aliases: string[]; metrics: Record<string, number>; lineage: ModelVersion['lineage']; createdAt: string }[] }[];
  reports: ReportSummary[];
  experiments: { id: string; start: string; end: string; results: string }[];
  links: Record<string, string>;
}

interface ReportJson {
  generatedAt?: string;
  rows?: { read: number; accepted: number; quarantined: number };
  images?: { problems?: number };
  drift?: { previousCatalogVersion: number; columns: { column: string; psi: number | null; level: string | null; overThreshold: boolean }[] } | null;
}

export function readReports(reportsDir: string | undefined): ReportSummary[] {
  if (!reportsDir || !existsSync(reportsDir)) return [];
  const byVersion = new Map<number, ReportSummary>();
  for (const name of readdirSync(reportsDir)) {
    const match = REPORT_FILE.exec(name);
    if (!match) continue;
    const version = Number(match[1]);
    const entry = byVersion.get(version) ?? { catalogVersion: version, files: {} };
    entry.files[match[2] as 'html' | 'md' | 'json'] = `/status/reports/${name}`;
    byVersion.set(version, entry);
  }
  for (const entry of byVersion.values()) {
    if (!entry.files.json) continue;
    try {
      const report = JSON.parse(readFileSync(join(reportsDir, `catalog-v${entry.catalogVersion}.json`), 'utf8')) as ReportJson;
      if (report.generatedAt) entry.generatedAt = report.generatedAt;
      if (report.rows) entry.rows = { read: report.rows.read, accepted: report.rows.accepted, quarantined: report.rows.quarantined };
      if (typeof report.images?.problems === 'number') entry.imageProblems = report.images.problems;
      if (report.drift) {
        entry.previousCatalogVersion = report.drift.previousCatalogVersion;
        entry.drifted = report.drift.columns.filter((c) => c.overThreshold).map((c) => ({ column: c.column, psi: c.psi, level: c.level }));
      }
    } catch (error) {
      entry.problem = `catalog-v${entry.catalogVersion}.json could not be read: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  return [...byVersion.values()].sort((a, b) => b.catalogVersion - a.catalogVersion);
}

export function statusSummary(options: StatusPageOptions, now = new Date()): StatusSummary {
  const manifest: Manifest | null = options.registry ? options.registry.manifest() : null;
  const aliasesOf = (m: ModelVersion) =>
    Object.entries(manifest?.aliases ?? {})
      .filter(([, t]) => t.model === m.id && t.version === m.version)
      .map(([alias]) => alias);
  const ids = [...new Set((manifest?.models ?? []).map((m) => m.id))].sort();
  return {
    generatedAt: now.toISOString(),
    catalog: manifest?.catalog ? { version: manifest.catalog.version, itemCount: manifest.catalog.itemCount, publishedAt: manifest.catalog.publishedAt } : null,
    aliases: Object.fromEntries(Object.entries(manifest?.aliases ?? {}).map(([alias, t]) => [alias, `${t.model}@${t.version}`])),
    models: ids.map((id) => ({
      id,
      versions: manifest!.models
        .filter((m) => m.id === id)
        .sort((a, b) => a.version - b.version)
        .map((m) => ({ version: m.version, kind: m.kind, aliases: aliasesOf(m), metrics: m.metrics, lineage: m.lineage, createdAt: m.createdAt })),
    })),
    reports: readReports(options.reportsDir),
    experiments: (manifest?.experiments ?? []).map((e) => ({ id: e.id, start: e.start, end: e.end, results: `/v1/experiments/${encodeURIComponent(e.id)}/results` })),
    links: { metrics: '/metrics', health: '/healthz', manifest: '/v1/manifest', experiments: '/v1/experiments', modelLab: '/#/lab', json: '/status.json' },
  };
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function num(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return Math.abs(value) >= 100 ? value.toFixed(0) : Number(value.toPrecision(3)).toString();
}

const COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1', '#9c755f', '#76b7b2'];

/** A line chart of several metrics over model versions, as inline SVG. */
export function metricChart(title: string, versions: { version: number; metrics: Record<string, number> }[], names: string[]): string {
  const W = 420;
  const H = 200;
  const P = { l: 44, r: 12, t: 12, b: 30 };
  const points = names.flatMap((n) => versions.filter((v) => Number.isFinite(v.metrics[n])).map((v) => ({ x: v.version, y: v.metrics[n]! })));
  if (points.length === 0) return '';
  const [x0, x1] = [Math.min(...points.map((p) => p.x)), Math.max(...points.map((p) => p.x))];
  const [y0, y1] = [Math.min(0, ...points.map((p) => p.y)), Math.max(...points.map((p) => p.y))];
  const sx = (x: number) => P.l + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (W - P.l - P.r);
  const sy = (y: number) => H - P.b - (y1 === y0 ? 0.5 : (y - y0) / (y1 - y0)) * (H - P.t - P.b);
  const series = names
    .map((name, i) => {
      const pts = versions.filter((v) => Number.isFinite(v.metrics[name])).map((v) => [sx(v.version), sy(v.metrics[name]!), v.version, v.metrics[name]!] as const);
      if (pts.length === 0) return '';
      const colour = COLOURS[i % COLOURS.length]!;
      return (
        `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts.map((p) => `${p[0].toFixed(1)},${p[1].toFixed(1)}`).join(' ')}"/>` +
        pts.map((p) => `<circle cx="${p[0].toFixed(1)}" cy="${p[1].toFixed(1)}" r="3" fill="${colour}"><title>${escapeHtml(name)} v${p[2]}: ${num(p[3])}</title></circle>`).join('')
      );
    })
    .join('');
  const legend = names.map((name, i) => `<span class="key"><span class="swatch" style="background:${COLOURS[i % COLOURS.length]}"></span>${escapeHtml(name)}</span>`).join(' ');
  return (
    `<figure><figcaption>${escapeHtml(title)}</figcaption>` +
    `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(`${title}: ${names.join(', ')} by version`)}">` +
    `<line x1="${P.l}" y1="${H - P.b}" x2="${W - P.r}" y2="${H - P.b}" stroke="#888"/><line x1="${P.l}" y1="${P.t}" x2="${P.l}" y2="${H - P.b}" stroke="#888"/>` +
    `<text x="${P.l - 4}" y="${P.t + 8}" text-anchor="end" font-size="10">${num(y1)}</text><text x="${P.l - 4}" y="${H - P.b}" text-anchor="end" font-size="10">${num(y0)}</text>` +
    `<text x="${P.l}" y="${H - 10}" font-size="10">v${x0}</text><text x="${W - P.r}" y="${H - 10}" text-anchor="end" font-size="10">v${x1}</text>` +
    `${series}</svg><div class="legend">${legend}</div></figure>`
  );
}

export function renderStatusPage(summary: StatusSummary): string {
  const e = escapeHtml;
  const links = `<ul class="links">
<li><a href="/metrics">Prometheus metrics</a> (<code>/metrics</code>: request rate, latency histogram, errors, process CPU and memory)</li>
<li><a href="/healthz">Health</a></li>
<li><a href="/v1/manifest">Registry manifest</a> (catalog, model versions with metrics and lineage, aliases, experiments)</li>
<li><a href="/v1/experiments">Experiments</a></li>
<li><a href="/#/lab">Model Lab</a> (in the app: preview versions, compare champion and challenger, per-backend timings and on-device monitoring)</li>
<li><a href="/status.json">This page as JSON</a></li>
</ul>`;
  const catalog = summary.catalog
    ? `<p>Published catalog: version <strong>${summary.catalog.version}</strong>, ${summary.catalog.itemCount.toLocaleString('en')} items, ${e(summary.catalog.publishedAt)}.</p>`
    : '<p>No catalog published yet.</p>';
  const aliases = Object.entries(summary.aliases).map(([a, ref]) => `<code>${e(a)}</code> → ${e(ref)}`).join(' · ') || 'none';

  const reports = summary.reports.length
    ? `<table><thead><tr><th>catalog</th><th>generated</th><th>rows read</th><th>accepted</th><th>quarantined</th><th>photo problems</th><th>drift over threshold</th><th>report</th></tr></thead><tbody>${summary.reports
        .map((r) => {
          const drift =
            r.drifted === undefined
              ? '<span class="muted">no previous version</span>'
              : r.drifted.length === 0
                ? `<span class="ok">none</span> <span class="muted">(vs v${r.previousCatalogVersion})</span>`
                : `<span class="warn">${r.drifted.map((d) => `${e(d.column)} PSI ${num(d.psi)}`).join(', ')}</span> <span class="muted">(vs v${r.previousCatalogVersion})</span>`;
          const files = (['html', 'md', 'json'] as const).filter((k) => r.files[k]).map((k) => `<a href="${e(r.files[k]!)}">${k}</a>`).join(' · ');
          return `<tr data-catalog-version="${r.catalogVersion}"><td>v${r.catalogVersion}</td><td>${e(r.generatedAt ?? '–')}</td><td>${num(r.rows?.read)}</td><td>${num(r.rows?.accepted)}</td><td>${num(r.rows?.quarantined)}</td><td>${num(r.imageProblems)}</td><td>${drift}${r.problem ? ` <span class="warn">${e(r.problem)}</span>` : ''}</td><td>${files}</td></tr>`;
        })
        .join('')}</tbody></table>`
    : '<p class="muted">No data-quality reports yet (ingest writes them to the data directory’s <code>reports/</code>).</p>';

  const models = summary.models.length
    ? summary.models
        .map((m) => {
          const present = new Set(m.versions.flatMap((v) => Object.keys(v.metrics)));
          const names = HEADLINE.filter((n) => present.has(n));
          const simulated = m.versions.some((v) => v.metrics.simulated === 1) ? ' (evaluated on simulated shoppers)' : '';
          const rows = [...m.versions]
            .reverse()
            .map(
              (v) =>
                `<tr data-ref="${e(`${m.id}@${v.version}`)}"><td>${v.version}</td><td>${v.aliases.map((a) => `<span class="alias">${e(a)}</span>`).join(' ')}</td>${names.map((n) => `<td>${num(v.metrics[n])}</td>`).join('')}<td>${v.lineage.dataVersion ?? '–'}</td><td>${e(v.lineage.parent ?? '–')}</td><td><code>${e(v.lineage.codeVersion)}</code></td><td>${e(v.createdAt)}</td></tr>`,
            )
            .join('');
          const chart = names.length ? metricChart(`${m.id}: metrics by version${simulated}`, m.versions, names.slice(0, 5)) : '';
          return `<section class="model" id="model-${e(m.id)}"><h3>${e(m.id)}</h3><table><thead><tr><th>version</th><th>aliases</th>${names.map((n) => `<th>${e(n)}</th>`).join('')}<th>catalog</th><th>parent</th><th>code</th><th>created</th></tr></thead><tbody>${rows}</tbody></table>${chart}</section>`;
        })
        .join('')
    : '<p class="muted">No model versions registered yet (<code>fashionml pipeline</code> trains and registers them).</p>';

  const experiments = summary.experiments.length
    ? `<ul>${summary.experiments.map((x) => `<li><a href="${e(x.results)}">${e(x.id)}</a> <span class="muted">${e(x.start)} → ${e(x.end)}</span></li>`).join('')}</ul>`
    : '<p class="muted">No experiments declared.</p>';

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>FashionML status</title>
<style>
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1rem;color:#1b1f29;line-height:1.45}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}th,td{padding:.25rem .6rem;border-bottom:1px solid #e4e6eb;text-align:left;white-space:nowrap}
.muted{color:#5b6475}.warn{color:#b3261e;font-weight:600}.ok{color:#1e7f4f}.alias{background:#f4b942;border-radius:4px;padding:0 .35rem;font-size:.75rem}
figure{margin:.5rem 0}figcaption{font-weight:600;font-size:.9rem}.legend{font-size:.8rem}.swatch{display:inline-block;width:.7rem;height:.7rem;border-radius:2px;margin:0 .3rem 0 .6rem}
section.model{overflow-x:auto}
</style></head><body>
<h1>FashionML status</h1>
<p class="muted">Generated ${e(summary.generatedAt)}.</p>
<h2>Links</h2>${links}
<h2>Catalog and aliases</h2>${catalog}<p>Aliases: ${aliases}</p>
<h2>Data quality and drift</h2>${reports}
<h2>Models</h2>${models}
<h2>Experiments</h2>${experiments}
</body></html>`;
}

export function registerStatusPage(app: FastifyInstance, options: StatusPageOptions): void {
  app.get('/status', async (_request, reply) => {
    reply.header('Cache-Control', 'no-store').type('text/html; charset=utf-8');
    return renderStatusPage(statusSummary(options));
  });
  app.get('/status.json', async (_request, reply) => {
    reply.header('Cache-Control', 'no-store');
    return statusSummary(options);
  });
  app.get<{ Params: { file: string } }>('/status/reports/:file', async (request, reply) => {
    const match = REPORT_FILE.exec(request.params.file);
    if (!match) {
      return reply.code(400).send({ error: 'bad_request', message: `Reports are named catalog-vN.html, .md or .json, not ${JSON.stringify(request.params.file.slice(0, 80))}` });
    }
    if (!options.reportsDir || !existsSync(join(options.reportsDir, request.params.file))) {
      return reply.code(404).send({ error: 'not_found', message: `No report ${request.params.file}` });
    }
    reply.header('Cache-Control', 'no-cache').type(CONTENT_TYPES[match[2]!]!);
    return readFileSync(join(options.reportsDir, request.params.file));
  });
}
