/**
 * Renderers of the data-quality report: a self-contained HTML page (inline CSS and SVG charts, no
 * scripts, no external references) for the operator, and Markdown for the terminal and for notes.
 */
// Types only: quality-report.ts imports this module, so a value import back would be a cycle.
import type { CategoricalColumn, ColumnDrift, QualityReport, RowExample } from './quality-report';

/** Values listed per column in the HTML tables (the JSON keeps them all). */
const TABLE_TOP = 30;
/** Bars per distribution chart. */
const CHART_TOP = 15;
/** Values listed per column in Markdown. */
const MARKDOWN_TOP = 10;

// Colours chosen for at least 4.5:1 contrast on white, and blue/orange to stay apart for
// colour-blind readers; every bar also carries its number as text.
const INK = '#1a1a1a';
const MUTED = '#4a4a4a';
const GRID = '#d4d4d4';
const CURRENT = '#1f4e99';
const PREVIOUS = '#c2410c';
const BAD = '#b91c1c';
const MODERATE = '#92400e';
const GOOD = '#166534';

const SECTIONS = [
  ['summary', 'Summary'],
  ['rows', 'Rows and quarantine'],
  ['missing', 'Missing values'],
  ['distributions', 'Distributions'],
  ['years', 'Years'],
  ['titles', 'Titles'],
  ['images', 'Images'],
  ['drift', 'Drift'],
] as const;

// ---------------------------------------------------------------------------------------------
// Number formats (also used for the report's warnings)

/** 12345 → "12,345" (fixed format, independent of the machine's locale). */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const sign = n < 0 ? '-' : '';
  const [whole = '0', frac] = Math.abs(n).toString().split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return sign + grouped + (frac === undefined ? '' : `.${frac}`);
}

/** 0.1234 → "12.3%"; tiny non-zero shares do not round down to a misleading "0.0%". */
export function formatShare(share: number): string {
  if (share > 0 && share < 0.0005) return '<0.1%';
  return `${(share * 100).toFixed(1)}%`;
}

/** PSI values span from 1e-5 to tens: three decimals, fewer for large values. */
export function formatPsi(psi: number | null): string {
  if (psi === null) return 'n/a';
  return psi >= 10 ? psi.toFixed(1) : psi.toFixed(3);
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

function columnsOf(report: QualityReport): CategoricalColumn[] {
  return Object.keys(report.distributions) as CategoricalColumn[];
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function truncate(s: string, max: number): string {
  const chars = [...s];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : s;
}

function sortedEntries(counts: Record<string, number>): [string, number][] {
  return Object.entries(counts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function total(counts: Record<string, number>): number {
  let t = 0;
  for (const v of Object.values(counts)) t += v;
  return t;
}

function distinctValues(counts: Record<string, number>, missingKey: string): number {
  return Object.keys(counts).filter((k) => k !== missingKey).length;
}

function formatDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? formatCount(n) : n.toFixed(1);
}

/** Signed change in percentage points. */
function formatPoints(delta: number): string {
  const pts = delta * 100;
  if (Math.abs(pts) < 0.05) return '0.0';
  return `${pts > 0 ? '+' : '−'}${Math.abs(pts).toFixed(1)}`;
}

function psiColour(c: ColumnDrift, threshold: number): string {
  if (c.psi === null) return MUTED;
  if (c.psi >= threshold) return BAD;
  return c.level === 'stable' ? GOOD : MODERATE;
}

/** A round axis maximum with about four ticks. */
function niceAxis(max: number): { max: number; step: number } {
  if (!(max > 0)) return { max: 1, step: 0.25 };
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag) as number;
  return { max: step * Math.ceil(max / step - 1e-9), step };
}

// ---------------------------------------------------------------------------------------------
// SVG charts

interface BarRow {
  label: string;
  /** One value per series, in axis units. */
  values: number[];
  /** Text printed after each bar. */
  texts: string[];
  /** Full description for the hover tooltip and screen readers. */
  tooltip: string;
  /** Per-series fill overrides (e.g. a bar over a limit). */
  colours?: (string | undefined)[];
}

interface BarChart {
  id: string;
  title: string;
  desc: string;
  series: { name: string; colour: string }[];
  rows: BarRow[];
  /** Largest value the axis must show (bars beyond it are cut at the edge). */
  max: number;
  tick: (v: number) => string;
  /** Dashed vertical lines; the label sits left ('end') or right ('start', default) of the line. */
  refLines?: { value: number; label: string; colour: string; anchor?: 'start' | 'end' }[];
  width?: number;
}

function svgOpen(id: string, width: number, height: number, title: string, desc: string): string {
  return (
    `<svg id="${id}" class="chart" role="img" aria-labelledby="${id}-title ${id}-desc" ` +
    `viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">` +
    `<title id="${id}-title">${esc(title)}</title><desc id="${id}-desc">${esc(desc)}</desc>`
  );
}

/** Horizontal bars, one group of bars per row (one bar per series). */
function horizontalBars(c: BarChart): string {
  const width = c.width ?? 560;
  const labelW = 150;
  const valueW = 104;
  const plotX = labelW + 8;
  const plotW = width - plotX - valueW;
  const n = c.series.length;
  const barH = n > 1 ? 10 : 14;
  const rowH = n * barH + (n - 1) * 2 + 8;
  const legendH = n > 1 ? 22 : 0;
  const refH = c.refLines && c.refLines.length > 0 ? 16 : 0;
  const top = legendH + refH + 4;
  const plotH = Math.max(1, c.rows.length) * rowH;
  const height = top + plotH + 24;
  const axis = niceAxis(c.max);
  const x = (v: number): number => plotX + Math.min(1, Math.max(0, v / axis.max)) * plotW;
  const parts: string[] = [svgOpen(c.id, width, height, c.title, c.desc)];
  parts.push(`<g font-family="system-ui, sans-serif" font-size="11" fill="${INK}">`);
  if (n > 1) {
    let lx = plotX;
    for (const s of c.series) {
      parts.push(`<rect x="${lx}" y="5" width="12" height="12" fill="${s.colour}"/>`);
      parts.push(`<text x="${lx + 16}" y="15">${esc(s.name)}</text>`);
      lx += 24 + s.name.length * 6.5;
    }
  }
  for (let t = 0; t <= axis.max + 1e-12; t += axis.step) {
    const gx = x(t).toFixed(1);
    parts.push(`<line x1="${gx}" x2="${gx}" y1="${top}" y2="${top + plotH}" stroke="${GRID}" stroke-width="1"/>`);
    parts.push(`<text x="${gx}" y="${top + plotH + 15}" text-anchor="middle" fill="${MUTED}">${esc(c.tick(t))}</text>`);
  }
  c.rows.forEach((row, i) => {
    const y0 = top + i * rowH + 4;
    parts.push(`<g><title>${esc(row.tooltip)}</title>`);
    parts.push(
      `<text x="${labelW}" y="${(y0 + (rowH - 8) / 2 + 4).toFixed(1)}" text-anchor="end">${esc(truncate(row.label, 24))}</text>`,
    );
    c.series.forEach((s, si) => {
      const v = row.values[si] ?? 0;
      const y = y0 + si * (barH + 2);
      const w = Math.max(v > 0 ? 1 : 0, x(v) - plotX);
      const fill = row.colours?.[si] ?? s.colour;
      parts.push(`<rect x="${plotX}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${fill}"/>`);
      const text = row.texts[si];
      if (text) {
        // A white halo keeps the number readable where it crosses a grid or reference line.
        parts.push(
          `<text x="${(plotX + w + 4).toFixed(1)}" y="${y + barH - 2}" font-size="${n > 1 ? 10 : 11}" ` +
            `stroke="#fff" stroke-width="3" paint-order="stroke">${esc(text)}</text>`,
        );
      }
    });
    parts.push('</g>');
  });
  parts.push(`<line x1="${plotX}" x2="${plotX}" y1="${top}" y2="${top + plotH}" stroke="${INK}" stroke-width="1"/>`);
  for (const ref of c.refLines ?? []) {
    const rx = x(ref.value).toFixed(1);
    parts.push(
      `<line x1="${rx}" x2="${rx}" y1="${top - 2}" y2="${top + plotH}" stroke="${ref.colour}" stroke-width="1.5" stroke-dasharray="4 3"/>`,
    );
    const end = ref.anchor === 'end';
    const lx = (x(ref.value) + (end ? -3 : 3)).toFixed(1);
    parts.push(
      `<text x="${lx}" y="${legendH + 12}" text-anchor="${end ? 'end' : 'start'}" font-size="10" fill="${ref.colour}">${esc(ref.label)}</text>`,
    );
  }
  parts.push('</g></svg>');
  return parts.join('');
}

function yearChart(report: QualityReport): string {
  const bins = report.years.histogram;
  const width = 1080;
  const height = 240;
  const left = 56;
  const right = 12;
  const top = 16;
  const bottom = 32;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const maxCount = Math.max(1, ...bins.map((b) => b.count));
  const axis = niceAxis(maxCount);
  const slot = plotW / Math.max(1, bins.length);
  const labelEvery = Math.max(1, Math.ceil(36 / slot));
  const desc =
    bins.length === 0
      ? 'No item has a year.'
      : `Items per year from ${report.years.min} to ${report.years.max}; ` +
        bins.map((b) => `${b.year}: ${formatCount(b.count)}`).join(', ');
  const parts: string[] = [svgOpen('chart-years', width, height, 'Items per year', desc)];
  parts.push(`<g font-family="system-ui, sans-serif" font-size="11" fill="${INK}">`);
  for (let t = 0; t <= axis.max + 1e-9; t += axis.step) {
    const gy = (top + plotH - (t / axis.max) * plotH).toFixed(1);
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${gy}" y2="${gy}" stroke="${GRID}"/>`);
    parts.push(`<text x="${left - 6}" y="${Number(gy) + 4}" text-anchor="end" fill="${MUTED}">${formatCount(t)}</text>`);
  }
  bins.forEach((b, i) => {
    const h = (b.count / axis.max) * plotH;
    const bx = left + i * slot + slot * 0.1;
    const bw = slot * 0.8;
    parts.push(
      `<g><title>${b.year}: ${formatCount(b.count)} items</title>` +
        `<rect x="${bx.toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${bw.toFixed(1)}" height="${h.toFixed(1)}" fill="${CURRENT}"/>`,
    );
    if (slot >= 44 && b.count > 0) {
      parts.push(
        `<text x="${(bx + bw / 2).toFixed(1)}" y="${(top + plotH - h - 4).toFixed(1)}" text-anchor="middle" font-size="10">${formatCount(b.count)}</text>`,
      );
    }
    parts.push('</g>');
    if (i % labelEvery === 0) {
      parts.push(
        `<text x="${(bx + bw / 2).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle">${b.year}</text>`,
      );
    }
  });
  parts.push(`<line x1="${left}" x2="${width - right}" y1="${top + plotH}" y2="${top + plotH}" stroke="${INK}"/>`);
  parts.push('</g></svg>');
  return parts.join('');
}

function missingChart(report: QualityReport): string {
  const maxShare = Math.max(report.limits.missingShare * 2, ...report.missing.map((m) => m.share));
  return horizontalBars({
    id: 'chart-missing',
    title: 'Missing values per column (share of accepted items)',
    desc: report.missing.map((m) => `${m.column}: ${formatCount(m.missing)} (${formatShare(m.share)})`).join('; '),
    series: [{ name: 'missing', colour: CURRENT }],
    rows: report.missing.map((m) => ({
      label: m.column,
      values: [m.share],
      texts: [m.missing === 0 ? '0' : `${formatCount(m.missing)} · ${formatShare(m.share)}`],
      tooltip: `${m.column}: ${formatCount(m.missing)} missing (${formatShare(m.share)})`,
      colours: [m.share > report.limits.missingShare ? BAD : undefined],
    })),
    max: Math.min(1, maxShare),
    tick: (v) => `${Math.round(v * 100)}%`,
    refLines: [{ value: report.limits.missingShare, label: `${report.limits.missingShare * 100}% limit`, colour: BAD }],
  });
}

function distributionChart(report: QualityReport, column: CategoricalColumn): string {
  const cur = report.distributions[column];
  const prev = report.drift?.previousDistributions[column];
  const curTotal = total(cur);
  const prevTotal = prev ? total(prev) : 0;
  const shareOf = (counts: Record<string, number> | undefined, t: number, v: string): number =>
    counts && t > 0 ? (counts[v] ?? 0) / t : 0;
  // With a previous version, pick the values that are large on either side, so that a category
  // that vanished still shows up.
  const values = [...new Set([...Object.keys(cur), ...(prev ? Object.keys(prev) : [])])]
    .map((v) => ({ v, key: Math.max(shareOf(cur, curTotal, v), shareOf(prev, prevTotal, v)) }))
    .sort((a, b) => b.key - a.key || (a.v < b.v ? -1 : 1))
    .slice(0, CHART_TOP)
    .map((x) => x.v);
  const hasPrev = prev !== undefined && prevTotal > 0;
  const series = hasPrev
    ? [
        { name: `version ${report.catalogVersion}`, colour: CURRENT },
        { name: `version ${report.drift?.previousCatalogVersion ?? ''}`, colour: PREVIOUS },
      ]
    : [{ name: `version ${report.catalogVersion}`, colour: CURRENT }];
  const rows: BarRow[] = values.map((v) => {
    const a = shareOf(cur, curTotal, v);
    const e = shareOf(prev, prevTotal, v);
    const count = cur[v] ?? 0;
    return hasPrev
      ? {
          label: v,
          values: [a, e],
          texts: [formatShare(a), formatShare(e)],
          tooltip: `${v}: ${formatCount(count)} items, ${formatShare(a)} now; ${formatShare(e)} in version ${report.drift?.previousCatalogVersion}`,
        }
      : {
          label: v,
          values: [a],
          texts: [`${formatCount(count)} · ${formatShare(a)}`],
          tooltip: `${v}: ${formatCount(count)} items (${formatShare(a)})`,
        };
  });
  const maxShare = Math.max(0.01, ...rows.flatMap((r) => r.values));
  return horizontalBars({
    id: `chart-dist-${column}`,
    title: `${column}: share of items per value (top ${Math.min(CHART_TOP, values.length)})` + (hasPrev ? ', current and previous version' : ''),
    desc: rows.map((r) => r.tooltip).join('; '),
    series,
    rows,
    max: maxShare,
    tick: (v) => `${Math.round(v * 100)}%`,
  });
}

function psiChart(report: QualityReport): string {
  const drift = report.drift;
  if (!drift) return '';
  const cols = drift.columns.filter((c) => c.psi !== null);
  const maxPsi = Math.max(0, ...cols.map((c) => c.psi ?? 0));
  // Very large PSI values (disjoint catalogs reach ~18) would squash the threshold to a sliver:
  // the axis stops at max(1, 5 × threshold) and longer bars are cut, their value printed.
  const cap = Math.max(1, drift.threshold * 5);
  const axisMax = Math.max(drift.threshold * 2, Math.min(maxPsi, cap));
  const refLines: NonNullable<BarChart['refLines']> = [{ value: drift.threshold, label: `warn ≥ ${drift.threshold}`, colour: BAD }];
  if (Math.abs(drift.threshold - report.limits.psiModerate) > 1e-9 && report.limits.psiModerate < axisMax) {
    refLines.push({ value: report.limits.psiModerate, label: `${report.limits.psiModerate}`, colour: MODERATE, anchor: 'end' });
  }
  return horizontalBars({
    id: 'chart-psi',
    title: `Population stability index per column against version ${drift.previousCatalogVersion}`,
    desc:
      cols.map((c) => `${c.column}: ${formatPsi(c.psi)} (${c.level})`).join('; ') +
      `. Warning threshold ${drift.threshold}.` +
      (maxPsi > axisMax ? ' Bars longer than the axis are cut at its end.' : ''),
    series: [{ name: 'PSI', colour: CURRENT }],
    rows: cols.map((c) => ({
      label: c.column,
      values: [c.psi ?? 0],
      texts: [`${formatPsi(c.psi)} ${c.level ?? ''}${(c.psi ?? 0) > axisMax ? ' ▸' : ''}`],
      tooltip: `${c.column}: PSI ${formatPsi(c.psi)} (${c.level})`,
      colours: [psiColour(c, drift.threshold)],
    })),
    max: axisMax,
    tick: (v) => (v === 0 ? '0' : v.toFixed(2).replace(/0$/, '')),
    refLines,
    width: 760,
  });
}

// ---------------------------------------------------------------------------------------------
// HTML pieces

interface Column {
  head: string;
  numeric?: boolean;
}

function table(caption: string, columns: Column[], rows: string[][], className = ''): string {
  const head = columns
    .map((c) => `<th scope="col"${c.numeric ? ' class="num"' : ''}>${esc(c.head)}</th>`)
    .join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${r
          .map((cell, i) => {
            const numeric = columns[i]?.numeric ?? false;
            // The first column names the row.
            return i === 0 ? `<th scope="row">${cell}</th>` : `<td${numeric ? ' class="num"' : ''}>${cell}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('');
  return (
    `<table${className ? ` class="${className}"` : ''}><caption>${esc(caption)}</caption>` +
    `<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`
  );
}

function countTable(caption: string, head: string, counts: Record<string, number>, whole: number): string {
  const rows = sortedEntries(counts).map(([k, v]) => [esc(k), formatCount(v), formatShare(whole > 0 ? v / whole : 0)]);
  return table(caption, [{ head }, { head: 'rows', numeric: true }, { head: 'share', numeric: true }], rows);
}

function examplesTable(caption: string, examples: RowExample[]): string {
  if (examples.length === 0) return '';
  return table(
    caption,
    [{ head: 'reason' }, { head: 'where' }, { head: 'field' }, { head: 'message' }, { head: 'raw' }],
    examples.map((e) => [
      esc(e.reason),
      esc(`${e.file}:${e.line}`),
      esc(e.field ?? ''),
      esc(e.message),
      `<code>${esc(truncate(e.raw, 100))}</code>`,
    ]),
    'examples',
  );
}

function listSome(values: string[], max = 10): string {
  const shown = values.slice(0, max).map(esc).join(', ');
  return values.length > max ? `${shown} and ${formatCount(values.length - max)} more` : shown;
}

function summarySection(report: QualityReport): string {
  const r = report.rows;
  const maxPsi = report.drift
    ? Math.max(...report.drift.columns.map((c) => c.psi ?? 0))
    : null;
  const stats: [string, string][] = [
    ['rows read', formatCount(r.read)],
    ['items accepted', formatCount(r.accepted)],
    ['rows quarantined', `${formatCount(r.quarantined)} (${formatShare(r.quarantineShare)})`],
    ['image problems', report.images.checked ? formatCount(report.images.problems) : 'not checked'],
    ['duplicate-photo groups', report.images.checked ? formatCount(report.images.duplicates.groups) : 'not checked'],
    ['duplicate-title groups', formatCount(report.titles.duplicates.groups)],
    ['largest PSI', maxPsi === null ? 'no previous version' : formatPsi(maxPsi)],
  ];
  const statHtml = stats
    .map(([label, value]) => `<div class="stat"><div class="stat-value">${esc(value)}</div><div class="stat-label">${esc(label)}</div></div>`)
    .join('');
  const box =
    report.warnings.length > 0
      ? `<div class="box box-warn"><h3>${report.warnings.length === 1 ? '1 warning' : `${report.warnings.length} warnings`}</h3><ul>${report.warnings
          .map((w) => `<li>${esc(w)}</li>`)
          .join('')}</ul></div>`
      : '<div class="box box-ok"><h3>No warnings</h3><p>Nothing in this ingest needs attention.</p></div>';
  return `<div class="stats">${statHtml}</div>${box}`;
}

function rowsSection(report: QualityReport): string {
  const r = report.rows;
  const q = report.quarantine;
  const counts = table(
    'Rows',
    [{ head: 'rows' }, { head: 'count', numeric: true }, { head: 'share of rows read', numeric: true }],
    [
      ['read', formatCount(r.read), '100.0%'],
      ['accepted', formatCount(r.accepted), formatShare(r.read > 0 ? r.accepted / r.read : 0)],
      ['quarantined', formatCount(r.quarantined), formatShare(r.quarantineShare)],
      ...(r.unaccounted !== 0 ? [['unaccounted for', formatCount(r.unaccounted), '']] : []),
    ],
  );
  if (r.quarantined === 0) return `${counts}<p>No row was quarantined.</p>`;
  return (
    counts +
    `<div class="pair">${countTable('Quarantined rows by reason', 'reason', q.byReason, r.quarantined)}` +
    `${countTable('Quarantined rows by field', 'field', q.byField, r.quarantined)}</div>` +
    examplesTable('Examples (up to three per reason)', q.examples)
  );
}

function missingSection(report: QualityReport): string {
  const rows = report.missing.map((m) => [
    esc(m.column),
    formatCount(m.missing),
    m.share > report.limits.missingShare ? `<strong class="bad">${formatShare(m.share)}</strong>` : formatShare(m.share),
  ]);
  return (
    `<div class="pair"><figure>${missingChart(report)}<figcaption>Bars in red are over the ${formatShare(report.limits.missingShare)} limit.</figcaption></figure>` +
    table('Missing values per column', [{ head: 'column' }, { head: 'missing', numeric: true }, { head: 'share', numeric: true }], rows) +
    '</div>'
  );
}

function distributionCard(report: QualityReport, column: CategoricalColumn): string {
  const cur = report.distributions[column];
  const prev = report.drift?.previousDistributions[column];
  const colDrift = report.drift?.columns.find((c) => c.column === column);
  const curTotal = total(cur);
  const prevTotal = prev ? total(prev) : 0;
  const entries = sortedEntries(cur);
  const shown = entries.slice(0, TABLE_TOP);
  const rest = entries.slice(TABLE_TOP);
  const hasPrev = prev !== undefined && prevTotal > 0;
  const newValues = new Set(colDrift?.newCategories.map((n) => n.value) ?? []);
  const rows = shown.map(([v, n]) => {
    const a = curTotal > 0 ? n / curTotal : 0;
    const cells = [esc(v) + (newValues.has(v) ? ' <span class="tag">new</span>' : ''), formatCount(n), formatShare(a)];
    if (hasPrev) {
      const e = (prev[v] ?? 0) / prevTotal;
      cells.push(formatCount(prev[v] ?? 0), formatShare(e), formatPoints(a - e));
    }
    return cells;
  });
  if (rest.length > 0) {
    const restCount = rest.reduce((s, [, n]) => s + n, 0);
    const cells = [`other (${formatCount(rest.length)} values)`, formatCount(restCount), formatShare(curTotal > 0 ? restCount / curTotal : 0)];
    if (hasPrev) {
      const restPrev = rest.reduce((s, [v]) => s + (prev[v] ?? 0), 0);
      cells.push(formatCount(restPrev), formatShare(restPrev / prevTotal), '');
    }
    rows.push(cells);
  }
  const columns: Column[] = [{ head: 'value' }, { head: 'items', numeric: true }, { head: 'share', numeric: true }];
  if (hasPrev) {
    columns.push(
      { head: `items v${report.drift?.previousCatalogVersion}`, numeric: true },
      { head: `share v${report.drift?.previousCatalogVersion}`, numeric: true },
      { head: 'change (pts)', numeric: true },
    );
  }
  const facts = [`${formatCount(distinctValues(cur, report.missingKey))} distinct values`];
  const missing = cur[report.missingKey];
  if (missing) facts.push(`${formatCount(missing)} missing`);
  if (colDrift) {
    facts.push(`PSI ${formatPsi(colDrift.psi)}${colDrift.level ? ` (${colDrift.level})` : ''}`);
  }
  const changes: string[] = [];
  if (colDrift && colDrift.newCategories.length > 0) {
    changes.push(`<p><strong>New:</strong> ${listSome(colDrift.newCategories.map((n) => `${n.value} (${formatCount(n.count)})`))}</p>`);
  }
  if (colDrift && colDrift.vanishedCategories.length > 0) {
    changes.push(
      `<p><strong>Gone:</strong> ${listSome(colDrift.vanishedCategories.map((n) => `${n.value} (${formatCount(n.count)} before)`))}</p>`,
    );
  }
  const more = entries.length > CHART_TOP ? ` The chart shows the ${CHART_TOP} largest values.` : '';
  return (
    `<article class="card" aria-labelledby="h-dist-${column}"><h3 id="h-dist-${column}">${esc(column)}</h3>` +
    `<p class="facts">${esc(facts.join(' · '))}.${esc(more)}</p>` +
    `<figure>${distributionChart(report, column)}</figure>${changes.join('')}` +
    `<details><summary>Table: ${rest.length > 0 ? `top ${TABLE_TOP} values and the rest` : 'all values'}</summary>` +
    `${table(`Values of ${column}`, columns, rows)}</details></article>`
  );
}

function yearsSection(report: QualityReport): string {
  const y = report.years;
  const notes: string[] = [];
  notes.push(
    y.min === null ? 'No item has a plausible year.' : `Years ${y.min}–${y.max}; ${formatCount(y.missing)} items without a year.`,
  );
  if (y.implausible.count > 0) {
    notes.push(`${formatCount(y.implausible.count)} implausible years left out (e.g. ${y.implausible.examples.slice(0, 5).join(', ')}).`);
  }
  const rows = y.histogram.map((b) => [String(b.year), formatCount(b.count)]);
  return (
    `<p>${esc(notes.join(' '))}</p><figure>${yearChart(report)}</figure>` +
    `<details><summary>Table: items per year</summary>${table('Items per year', [{ head: 'year' }, { head: 'items', numeric: true }], rows)}</details>`
  );
}

function titlesSection(report: QualityReport): string {
  const t = report.titles;
  const len = t.length;
  const lengthTable = len
    ? table(
        'Title length in characters',
        [{ head: 'statistic' }, { head: 'characters', numeric: true }],
        [
          ['titles', formatCount(len.count)],
          ['min', formatNumber(len.min)],
          ['median', formatNumber(len.median)],
          ['mean', len.mean.toFixed(1)],
          ['95th percentile', formatNumber(len.p95)],
          ['max', formatNumber(len.max)],
        ],
      )
    : '<p>No item has a title.</p>';
  const d = t.duplicates;
  const dupText =
    d.groups === 0
      ? '<p>No two items share a title.</p>'
      : `<p>${formatCount(d.itemsInvolved)} items (${formatShare(d.share)}) share their title with another item, in ${formatCount(d.groups)} groups (titles compared ignoring case and repeated spaces).</p>`;
  const dupTable =
    d.groups === 0
      ? ''
      : table(
          `Largest groups of items with the same title (${Math.min(d.examples.length, 20)} shown)`,
          [{ head: 'title' }, { head: 'items', numeric: true }, { head: 'ids' }],
          d.examples.map((g) => [esc(g.title), formatCount(g.count), esc(listIds(g.itemIds, g.count))]),
          'examples',
        );
  return `<div class="pair">${lengthTable}<div>${dupText}</div></div>${dupTable}`;
}

function listIds(ids: string[], count: number, max = 8): string {
  const shown = ids.slice(0, max).join(', ');
  return count > max ? `${shown} … (${formatCount(count)})` : shown;
}

function imagesSection(report: QualityReport): string {
  const im = report.images;
  const intro = table(
    'Images',
    [{ head: 'images' }, { head: 'count', numeric: true }],
    [
      ['accepted items with an image', formatCount(im.withImage)],
      ['accepted items without an image', formatCount(report.rows.accepted - im.withImage)],
      ...(im.checked
        ? [
            ['images processed', formatCount(im.processed)],
            ['image problems', `${formatCount(im.problems)} (${formatShare(im.problemShare)})`],
            ['groups of byte-identical photos', formatCount(im.duplicates.groups)],
            ['items in those groups', `${formatCount(im.duplicates.itemsInvolved)} (${formatShare(im.duplicates.share)})`],
          ]
        : []),
    ],
  );
  if (!im.checked) return `${intro}<p>No image pass ran in this ingest: photos were not checked.</p>`;
  const problems =
    im.problems > 0
      ? countTable('Image problems by reason', 'reason', im.problemsByReason, im.problems)
      : '<p>No image problems.</p>';
  const dups =
    im.duplicates.groups > 0
      ? table(
          'Largest groups of byte-identical photos',
          [{ head: 'sha256' }, { head: 'items', numeric: true }, { head: 'item ids' }],
          im.duplicates.largest.map((g) => [`<code>${esc(g.sha256.slice(0, 16))}…</code>`, formatCount(g.size), esc(listIds(g.itemIds, g.size))]),
          'examples',
        )
      : '<p>No byte-identical photos.</p>';
  return `<div class="pair">${intro}<div>${problems}</div></div>${examplesTable('Image problem examples', im.problemExamples)}${dups}`;
}

function driftSection(report: QualityReport): string {
  const drift = report.drift;
  if (!drift) {
    return `<p class="box box-info">Drift not computed. ${esc(report.driftUnavailableReason ?? '')}</p>`;
  }
  const rows = drift.columns.map((c) => [
    esc(c.column),
    `<span style="color:${psiColour(c, drift.threshold)}">${esc(formatPsi(c.psi))}</span>`,
    esc(c.level ?? c.note ?? ''),
    c.overThreshold ? '<strong class="bad">yes</strong>' : 'no',
    esc(c.largestShifts.slice(0, 3).map((s) => `${s.value} ${formatShare(s.previousShare)}→${formatShare(s.share)}`).join(', ')),
    c.newCategories.length > 0 ? listSome(c.newCategories.map((n) => n.value), 5) : '—',
    c.vanishedCategories.length > 0 ? listSome(c.vanishedCategories.map((n) => n.value), 5) : '—',
  ]);
  return (
    `<p>Against catalog version ${drift.previousCatalogVersion} (${formatCount(drift.previousItems)} items). ` +
    `Warning at PSI ≥ ${drift.threshold}; usual reading: below ${report.limits.psiModerate} stable, ${report.limits.psiModerate}–0.2 moderate, 0.2 and above significant.</p>` +
    `<figure>${psiChart(report)}</figure>` +
    table(
      'Population stability index per column',
      [
        { head: 'column' },
        { head: 'PSI', numeric: true },
        { head: 'level' },
        { head: 'warning' },
        { head: 'largest shifts (before→now)' },
        { head: 'new values' },
        { head: 'vanished values' },
      ],
      rows,
    ) +
    `<p class="method">${esc(drift.method)}</p>`
  );
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:${INK};background:#fff}
main{max-width:1160px;margin:0 auto;padding:24px}
h1{font-size:1.7rem;margin:0 0 4px}
h2{font-size:1.3rem;margin:36px 0 12px;padding-bottom:4px;border-bottom:2px solid #e2e2e2}
h3{font-size:1.05rem;margin:0 0 6px}
.sub{color:${MUTED};margin:0}
nav{margin:12px 0 0;font-size:.9rem}
nav a{color:${CURRENT};margin-right:14px}
.stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px;margin:0 0 16px}
.stat{border:1px solid #d4d4d4;border-radius:6px;padding:10px 12px}
.stat-value{font-size:1.25rem;font-weight:600}
.stat-label{color:${MUTED};font-size:.85rem}
.box{border-radius:6px;padding:12px 16px;margin:12px 0;border-left:5px solid}
.box ul{margin:6px 0 0;padding-left:20px}
.box-warn{background:#fdf2f2;border-color:${BAD}}
.box-ok{background:#f0f7f1;border-color:${GOOD}}
.box-info{background:#f2f5fa;border-color:${CURRENT}}
table{border-collapse:collapse;margin:8px 0 16px;font-size:.88rem}
caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border-bottom:1px solid #e2e2e2;padding:4px 10px;text-align:left;vertical-align:top}
thead th{background:#f1f1f1;border-bottom:2px solid #c8c8c8}
tbody th{font-weight:normal}
.num{text-align:right;font-variant-numeric:tabular-nums}
.examples td{max-width:520px;overflow-wrap:break-word}
.examples code{overflow-wrap:anywhere}
thead th{white-space:nowrap}
code{font-size:.85em;background:#f4f4f4;padding:0 3px;border-radius:3px}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:24px;align-items:start}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(540px,1fr));gap:20px}
.card{border:1px solid #d4d4d4;border-radius:6px;padding:12px 14px;min-width:0;overflow-x:auto}
.card table{font-size:.8rem}
.card th,.card td{padding:3px 6px}
.facts,.method{color:${MUTED};font-size:.88rem;margin:0 0 6px}
.card p{margin:4px 0;font-size:.88rem}
figure{margin:0}
figcaption{color:${MUTED};font-size:.85rem}
svg.chart{max-width:100%;height:auto;display:block}
details{margin:6px 0}
summary{cursor:pointer;color:${CURRENT}}
.tag{font-size:.75rem;background:#e8eefa;color:${CURRENT};border-radius:3px;padding:0 4px}
.bad{color:${BAD}}
footer{color:${MUTED};font-size:.85rem;margin-top:40px;border-top:1px solid #e2e2e2;padding-top:8px}
`;

/**
 * Renders the report as one self-contained HTML page: inline CSS and SVG charts (no scripts, no
 * external references), a summary box with the warnings, tables, value distributions (current
 * and previous version side by side when there is one), missing values, years and drift.
 */
export function renderQualityReportHtml(report: QualityReport): string {
  const heading = `Catalog quality report — version ${report.catalogVersion}`;
  const against = report.drift
    ? `compared with version ${report.drift.previousCatalogVersion}`
    : 'no previous version to compare with';
  const bodies: Record<(typeof SECTIONS)[number][0], string> = {
    summary: summarySection(report),
    rows: rowsSection(report),
    missing: missingSection(report),
    distributions: `<div class="grid">${columnsOf(report).map((c) => distributionCard(report, c)).join('')}</div>`,
    years: yearsSection(report),
    titles: titlesSection(report),
    images: imagesSection(report),
    drift: driftSection(report),
  };
  const sections = SECTIONS.map(
    ([id, name]) => `<section id="${id}" aria-labelledby="h-${id}"><h2 id="h-${id}">${esc(name)}</h2>${bodies[id]}</section>`,
  ).join('\n');
  const nav = SECTIONS.map(([id, name]) => `<a href="#${id}">${esc(name)}</a>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(heading)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>${esc(heading)}</h1>
<p class="sub">Generated <time datetime="${esc(report.generatedAt)}">${esc(formatDate(report.generatedAt))}</time> · ${esc(against)}</p>
<nav aria-label="Sections">${nav}</nav>
</header>
${sections}
<footer>Report schema ${report.schemaVersion}. The JSON version of this report holds the full value counts and is what the next ingest compares against.</footer>
</main>
</body>
</html>
`;
}

// ---------------------------------------------------------------------------------------------
// Markdown

function mdCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
}

function mdTable(head: string[], rows: string[][], numeric: boolean[] = []): string {
  const align = head.map((_, i) => (numeric[i] ? '---:' : '---'));
  return [
    `| ${head.map(mdCell).join(' | ')} |`,
    `| ${align.join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`),
  ].join('\n');
}

/** Renders the report as Markdown: summary, warnings and the main tables (top values only). */
export function renderQualityReportMarkdown(report: QualityReport): string {
  const r = report.rows;
  const out: string[] = [];
  out.push(`# Catalog quality report — version ${report.catalogVersion}`);
  out.push(
    `Generated ${formatDate(report.generatedAt)}; ` +
      (report.drift ? `compared with version ${report.drift.previousCatalogVersion}.` : 'no previous version to compare with.'),
  );
  out.push('## Summary');
  out.push(
    mdTable(
      ['measure', 'value'],
      [
        ['rows read', formatCount(r.read)],
        ['items accepted', formatCount(r.accepted)],
        ['rows quarantined', `${formatCount(r.quarantined)} (${formatShare(r.quarantineShare)})`],
        ...(r.unaccounted !== 0 ? [['rows unaccounted for', formatCount(r.unaccounted)]] : []),
        ['image problems', report.images.checked ? formatCount(report.images.problems) : 'not checked'],
        [
          'duplicate-photo groups',
          report.images.checked
            ? `${formatCount(report.images.duplicates.groups)} (${formatCount(report.images.duplicates.itemsInvolved)} items)`
            : 'not checked',
        ],
        [
          'duplicate-title groups',
          `${formatCount(report.titles.duplicates.groups)} (${formatCount(report.titles.duplicates.itemsInvolved)} items)`,
        ],
      ],
      [false, true],
    ),
  );
  out.push('### Warnings');
  out.push(report.warnings.length > 0 ? report.warnings.map((w) => `- ${w}`).join('\n') : 'None.');

  if (r.quarantined > 0) {
    out.push('## Quarantine');
    out.push(
      mdTable(
        ['reason', 'rows', 'share'],
        sortedEntries(report.quarantine.byReason).map(([k, v]) => [k, formatCount(v), formatShare(v / r.quarantined)]),
        [false, true, true],
      ),
    );
    out.push(
      mdTable(
        ['field', 'rows'],
        sortedEntries(report.quarantine.byField).map(([k, v]) => [k, formatCount(v)]),
        [false, true],
      ),
    );
  }

  out.push('## Missing values');
  out.push(
    mdTable(
      ['column', 'missing', 'share'],
      report.missing.map((m) => [m.column, formatCount(m.missing), formatShare(m.share)]),
      [false, true, true],
    ),
  );

  out.push('## Distributions');
  for (const column of columnsOf(report)) {
    const cur = report.distributions[column];
    const prev = report.drift?.previousDistributions[column];
    const curTotal = total(cur);
    const prevTotal = prev ? total(prev) : 0;
    const hasPrev = prev !== undefined && prevTotal > 0;
    const entries = sortedEntries(cur);
    out.push(`### ${column} (${formatCount(distinctValues(cur, report.missingKey))} values)`);
    const rows = entries.slice(0, MARKDOWN_TOP).map(([v, n]) => {
      const cells = [v, formatCount(n), formatShare(curTotal > 0 ? n / curTotal : 0)];
      if (hasPrev) cells.push(formatShare((prev[v] ?? 0) / prevTotal));
      return cells;
    });
    const rest = entries.slice(MARKDOWN_TOP);
    if (rest.length > 0) {
      const n = rest.reduce((s, [, c]) => s + c, 0);
      const cells = [`other (${rest.length} values)`, formatCount(n), formatShare(curTotal > 0 ? n / curTotal : 0)];
      if (hasPrev) cells.push(formatShare(rest.reduce((s, [v]) => s + (prev[v] ?? 0), 0) / prevTotal));
      rows.push(cells);
    }
    const head = ['value', 'items', 'share', ...(hasPrev ? [`share v${report.drift?.previousCatalogVersion}`] : [])];
    out.push(mdTable(head, rows, [false, true, true, true]));
  }

  out.push('## Years');
  out.push(
    report.years.histogram.length > 0
      ? mdTable(['year', 'items'], report.years.histogram.map((b) => [String(b.year), formatCount(b.count)]), [false, true])
      : 'No item has a plausible year.',
  );
  if (report.years.missing > 0) out.push(`${formatCount(report.years.missing)} items have no year.`);

  out.push('## Titles');
  const len = report.titles.length;
  if (len) {
    out.push(
      mdTable(
        ['min', 'median', 'p95', 'max'],
        [[formatNumber(len.min), formatNumber(len.median), formatNumber(len.p95), formatNumber(len.max)]],
        [true, true, true, true],
      ),
    );
  }
  const d = report.titles.duplicates;
  if (d.groups > 0) {
    out.push(`${formatCount(d.itemsInvolved)} items share a title with another item (${formatCount(d.groups)} groups).`);
    out.push(
      mdTable(
        ['title', 'items', 'ids'],
        d.examples.slice(0, MARKDOWN_TOP).map((g) => [g.title, formatCount(g.count), listIds(g.itemIds, g.count, 5)]),
        [false, true, false],
      ),
    );
  }

  if (report.images.checked && report.images.problems > 0) {
    out.push('## Image problems');
    out.push(
      mdTable(
        ['reason', 'images'],
        sortedEntries(report.images.problemsByReason).map(([k, v]) => [k, formatCount(v)]),
        [false, true],
      ),
    );
  }

  out.push('## Drift');
  if (!report.drift) {
    out.push(`Not computed. ${report.driftUnavailableReason ?? ''}`.trim());
  } else {
    const drift = report.drift;
    out.push(`Against version ${drift.previousCatalogVersion}; warning at PSI ≥ ${drift.threshold}.`);
    out.push(
      mdTable(
        ['column', 'PSI', 'level', 'new values', 'vanished values'],
        drift.columns.map((c) => [
          c.column,
          formatPsi(c.psi),
          c.level ?? c.note ?? '',
          String(c.newCategories.length),
          String(c.vanishedCategories.length),
        ]),
        [false, true, false, true, true],
      ),
    );
  }
  return `${out.join('\n\n')}\n`;
}
