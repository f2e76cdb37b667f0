/**
 * Declaring, listing and analysing experiments on the server: the manifest holds the declarations
 * (written under the registry's publish lock, atomically, like every manifest write), the
 * experiment store holds the devices' aggregate reports, and the analysis joins the two.
 */
import { randomBytes } from 'node:crypto';
import { analyzeExperiment, histogramSummary } from '../../models/experiments/analysis';
import type { ExperimentAnalysis } from '../../models/experiments/analysis';
import type { Manifest, Registry } from '../registry/registry';
import { experimentSchema, firstIssue } from './schema';
import type { Experiment } from './schema';
import type { ExperimentStore, PeriodAggregate } from './store';

export const RANKER_KIND = 'fashion-ranker';

/** A declaration that cannot be accepted; the message names the experiment and the field. */
export class ExperimentError extends Error {
  override readonly name = 'ExperimentError';
}

/** Checks an experiment's shape (zod) and returns it normalised (default metrics filled in). */
export function parseExperiment(input: unknown): Experiment {
  const parsed = experimentSchema.safeParse(input);
  if (!parsed.success) {
    const id = typeof input === 'object' && input !== null && typeof (input as { id?: unknown }).id === 'string' ? ` "${(input as { id: string }).id}"` : '';
    throw new ExperimentError(`Experiment${id} is not valid: ${firstIssue(parsed.error)}`);
  }
  return parsed.data;
}

/** Every variant must run a registered fashion-ranker, named by version or by an alias that exists. */
function checkModels(experiment: Experiment, manifest: Readonly<Manifest>): void {
  experiment.variants.forEach((variant, i) => {
    const where = `Experiment "${experiment.id}", variants.${i} ("${variant.name}")`;
    const at = variant.model.indexOf('@');
    let id: string;
    let version: number;
    if (at >= 0) {
      id = variant.model.slice(0, at);
      version = Number(variant.model.slice(at + 1));
    } else {
      const alias = manifest.aliases[variant.model];
      if (!alias) throw new ExperimentError(`${where}: no alias "${variant.model}" in the registry (aliases: ${Object.keys(manifest.aliases).join(', ') || 'none'})`);
      ({ model: id, version } = alias);
    }
    const entry = manifest.models.find((m) => m.id === id && m.version === version);
    if (!entry) {
      const known = manifest.models.filter((m) => m.kind === RANKER_KIND).map((m) => `${m.id}@${m.version}`);
      throw new ExperimentError(`${where}: ${variant.model} is not a registered model (${RANKER_KIND} versions: ${known.join(', ') || 'none'})`);
    }
    if (entry.kind !== RANKER_KIND) throw new ExperimentError(`${where}: ${id}@${version} is a ${entry.kind}, not a ${RANKER_KIND}`);
  });
}

export interface DeclareOptions {
  /** Replace an experiment of the same id (e.g. to move its end); otherwise that is an error. */
  replace?: boolean;
  now?: number;
}

/** Validates `input` and writes it into the manifest. Returns the experiment as stored. */
export function declareExperiment(registry: Registry, input: unknown, options: DeclareOptions = {}): Experiment {
  const experiment = parseExperiment(input);
  const now = options.now ?? Date.now();
  if (Date.parse(experiment.end) <= now) throw new ExperimentError(`Experiment "${experiment.id}": end (${experiment.end}) is already past`);
  registry.setExperiments((current, manifest) => {
    checkModels(experiment, manifest);
    const index = current.findIndex((e) => e.id === experiment.id);
    if (index >= 0 && !options.replace) {
      throw new ExperimentError(`Experiment "${experiment.id}" is already declared; pass --replace to change it (a new salt reshuffles every device)`);
    }
    return index >= 0 ? current.map((e, i) => (i === index ? experiment : e)) : [...current, experiment];
  });
  return experiment;
}

export function listExperiments(registry: Registry): Experiment[] {
  return registry.manifest().experiments;
}

export function findExperiment(registry: Registry, id: string): Experiment {
  const experiments = listExperiments(registry);
  const found = experiments.find((e) => e.id === id);
  if (!found) throw new ExperimentError(`No experiment "${id}" in the manifest (declared: ${experiments.map((e) => e.id).join(', ') || 'none'})`);
  return found;
}

/** A salt for a new experiment: 16 random bytes, hex. */
export function newSalt(): string {
  return randomBytes(16).toString('hex');
}

/** The monitoring that opted-in devices sent, per variant: latency quantiles per operation and backend, errors, coverage. */
export interface MonitoringResult {
  variant: string;
  latency: { op: string; backend: string; count: number; p50Ms: number | null; p95Ms: number | null; counts: number[] }[];
  errors: { op: string; count: number }[];
  coverage: { reports: number; meanDistinctItems: number; meanShare: number | null };
}

export interface ExperimentResults extends ExperimentAnalysis {
  declaration: Experiment;
  periods: PeriodAggregate[];
  monitoring: MonitoringResult[];
}

/** The analysis of one experiment from every stored report, plus the per-period sums behind it. */
export function experimentResults(registry: Registry, store: ExperimentStore, id: string): ExperimentResults {
  const declaration = findExperiment(registry, id);
  const order = (variant: string) => declaration.variants.findIndex((v) => v.name === variant);
  const monitoring = store
    .monitoring(id)
    .sort((a, b) => order(a.variant) - order(b.variant))
    .map((m) => ({ ...m, latency: m.latency.map((l) => ({ ...l, ...histogramSummary(l.counts) })) }));
  return { ...analyzeExperiment(declaration, store.aggregates(id)), declaration, periods: store.byPeriod(id), monitoring };
}

const pct = (x: number | null | undefined, digits = 2) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(digits)}%`);
function signedPct(x: number | null | undefined): string {
  if (x === null || x === undefined) return '–';
  const text = (x * 100).toFixed(2);
  return text === '-0.00' || text === '0.00' ? '±0.00' : `${x > 0 ? '+' : ''}${text}`;
}

/** The analysis as a plain-text table (what `fashionml experiments report` prints). */
export function formatResults(results: ExperimentResults): string {
  const { declaration: d } = results;
  const lines = [`Experiment ${d.id}: ${d.start} → ${d.end}; control "${results.control}"${d.description ? ` — ${d.description}` : ''}`, ''];
  const header = ['variant', 'model', 'share', 'devices', 'reports', 'exposures'];
  const rows = results.variants.map((v) => [v.name, v.model, pct(v.share, 1), String(v.devices), String(v.reports), String(v.exposures)]);
  lines.push(...table(header, rows), '');
  for (const metric of results.experiment.metrics) {
    const metricRows = results.variants.map((v) => {
      const m = v.metrics[metric]!;
      const vs = m.vsControl;
      return [
        v.name,
        String(m.outcomes),
        pct(m.rate, 3),
        m.interval ? `[${pct(m.interval.low, 3)}, ${pct(m.interval.high, 3)}]` : '–',
        vs ? `${signedPct(vs.difference)} pp` : '(control)',
        vs?.interval ? `[${signedPct(vs.interval.low)}, ${signedPct(vs.interval.high)}] pp` : '–',
        vs?.pValue === null || vs?.pValue === undefined ? '–' : vs.pValue < 1e-4 ? vs.pValue.toExponential(1) : vs.pValue.toFixed(4),
      ];
    });
    lines.push(`${metric} per exposure`, ...table(['variant', 'outcomes', 'rate', '95% CI (Wilson)', 'vs control', '95% CI (Newcombe)', 'p (z-test)'], metricRows), '');
  }
  if (results.srm) {
    const s = results.srm;
    lines.push(
      `Sample ratio (devices): observed ${s.observed.join(' / ')}, expected ${s.expected.map((e) => e.toFixed(1)).join(' / ')}; ` +
        `χ² = ${s.chi2.toFixed(3)} (df ${s.df}), p = ${s.pValue.toFixed(4)} → ${s.mismatch ? 'MISMATCH: the split is not as declared' : 'ok'}`,
    );
  }
  if (results.monitoring.length > 0) {
    const ms = (x: number | null) => (x === null ? '–' : x === Infinity ? '> 32.8 s' : x < 1 ? `${x.toFixed(2)} ms` : `${x.toFixed(1)} ms`);
    const rows = results.monitoring.flatMap((m) => m.latency.map((l) => [m.variant, l.op, l.backend, String(l.count), ms(l.p50Ms), ms(l.p95Ms)]));
    lines.push('', 'Device monitoring (from opted-in reports; quantiles exact to one histogram bucket, ±19 %)');
    if (rows.length > 0) lines.push(...table(['variant', 'operation', 'backend', 'calls', 'p50', 'p95'], rows));
    for (const m of results.monitoring) {
      const errors = m.errors.map((e) => `${e.op} ${e.count}`).join(', ') || 'none';
      const share = m.coverage.meanShare === null ? '' : `, ${pct(m.coverage.meanShare, 1)} of the catalog`;
      lines.push(`${m.variant}: errors ${errors}; coverage ${m.coverage.meanDistinctItems.toFixed(1)} distinct items per device-day${share} (${m.coverage.reports} reports)`);
    }
  }
  results.notes.forEach((n) => lines.push(`note: ${n}`));
  return lines.join('\n');
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)];
}
