/**
 * Experiment analysis from the aggregate reports: per variant, exposures, outcomes and their rate
 * per exposure with a 95 % Wilson interval; for every variant but the control, the difference from
 * the control with Newcombe's 95 % interval and a pooled two-proportion z-test; and a
 * sample-ratio-mismatch check (chi-square of reporting devices per variant against the declared
 * weights).
 *
 * Caveat, printed with every analysis: exposures of one device are not independent trials, so the
 * z-test and intervals are too narrow when a few devices account for most exposures. The SRM check
 * counts devices (the unit that was randomised) and has no such problem.
 */
import { chiSquareGoodnessOfFit, differenceInterval, twoProportionZTest, wilsonInterval } from './stats';
import type { Interval } from './stats';
import { latencyEdgeMs, OUTCOME_TYPES } from './types';
import type { ExperimentDefinition, OutcomeType } from './types';

/** Sums over all stored reports of one variant. */
export interface VariantAggregate {
  variant: string;
  /** Distinct devices that reported (by hashed report key). */
  devices: number;
  /** Reports (device × period). */
  reports: number;
  exposures: number;
  outcomes: Record<OutcomeType, number>;
}

export interface MetricResult {
  outcomes: number;
  /** outcomes / exposures; null without exposures. */
  rate: number | null;
  /** 95 % Wilson interval of the rate; null without exposures or when outcomes exceed exposures. */
  interval: Interval | null;
  /** Against the control (absent on the control itself). */
  vsControl?: {
    difference: number | null;
    /** 95 % Newcombe interval of the difference. */
    interval: Interval | null;
    z: number | null;
    pValue: number | null;
  };
}

export interface VariantResult {
  name: string;
  model: string;
  /** Declared share of devices (weight / sum of weights). */
  share: number;
  devices: number;
  reports: number;
  exposures: number;
  metrics: Partial<Record<OutcomeType, MetricResult>>;
}

export interface SrmCheck {
  unit: 'devices';
  observed: number[];
  expected: number[];
  chi2: number;
  df: number;
  pValue: number;
  /** p < {@link SRM_ALPHA}: the split is not what was declared; distrust the other numbers. */
  mismatch: boolean;
}

export interface ExperimentAnalysis {
  experiment: Pick<ExperimentDefinition, 'id' | 'start' | 'end' | 'metrics'>;
  control: string;
  variants: VariantResult[];
  srm: SrmCheck | null;
  notes: string[];
}

/** A common threshold for sample-ratio mismatch: strict, because a real mismatch is usually glaring. */
export const SRM_ALPHA = 0.001;

export function analyzeExperiment(experiment: ExperimentDefinition, aggregates: readonly VariantAggregate[]): ExperimentAnalysis {
  const declared = new Set(experiment.variants.map((v) => v.name));
  const unknown = aggregates.filter((a) => !declared.has(a.variant)).map((a) => a.variant);
  const notes: string[] = [];
  if (unknown.length > 0) notes.push(`Reports for variants not declared (ignored): ${unknown.join(', ')}`);
  const byName = new Map(aggregates.map((a) => [a.variant, a]));
  const totalWeight = experiment.variants.reduce((sum, v) => sum + v.weight, 0);
  const zero = (name: string): VariantAggregate => ({ variant: name, devices: 0, reports: 0, exposures: 0, outcomes: { click: 0, like: 0, add_to_cart: 0, purchase: 0 } });
  const rows = experiment.variants.map((v) => byName.get(v.name) ?? zero(v.name));
  const control = rows[0]!;
  const metrics = experiment.metrics.length > 0 ? experiment.metrics : [...OUTCOME_TYPES];

  const variants: VariantResult[] = experiment.variants.map((v, i) => {
    const row = rows[i]!;
    const result: VariantResult = { name: v.name, model: v.model, share: v.weight / totalWeight, devices: row.devices, reports: row.reports, exposures: row.exposures, metrics: {} };
    for (const type of metrics) {
      const x = row.outcomes[type];
      const n = row.exposures;
      const valid = x <= n;
      if (!valid) notes.push(`${v.name}: ${x} ${type} outcomes exceed ${n} exposures, so that rate has no interval`);
      const metric: MetricResult = { outcomes: x, rate: n > 0 ? x / n : null, interval: valid ? wilsonInterval(x, n) : null };
      if (i > 0) {
        const x0 = control.outcomes[type];
        const n0 = control.exposures;
        const comparable = valid && x0 <= n0 && n0 > 0 && n > 0;
        const test = comparable ? twoProportionZTest(x0, n0, x, n) : null;
        metric.vsControl = {
          difference: n0 > 0 && n > 0 ? x / n - x0 / n0 : null,
          interval: comparable ? differenceInterval(x0, n0, x, n) : null,
          z: test?.z ?? null,
          pValue: test?.pValue ?? null,
        };
      }
      result.metrics[type] = metric;
    }
    return result;
  });

  const fit = chiSquareGoodnessOfFit(
    rows.map((r) => r.devices),
    experiment.variants.map((v) => v.weight),
  );
  const srm: SrmCheck | null = fit ? { unit: 'devices', observed: rows.map((r) => r.devices), expected: fit.expected, chi2: fit.chi2, df: fit.df, pValue: fit.pValue, mismatch: fit.pValue < SRM_ALPHA } : null;
  if (srm?.mismatch) notes.push(`Sample ratio mismatch (p = ${srm.pValue.toExponential(2)} < ${SRM_ALPHA}): devices per variant do not follow the declared weights`);
  const totalDevices = rows.reduce((sum, r) => sum + r.devices, 0);
  if (totalDevices === 0) notes.push('No reports yet: only devices whose shoppers opted in send counts, once a day');
  notes.push('Rates are per exposure (item shown in a feed); a device’s exposures are not independent, so intervals and p-values are optimistic when few devices report');

  return { experiment: { id: experiment.id, start: experiment.start, end: experiment.end, metrics }, control: control.variant, variants, srm, notes };
}

/**
 * Count and quantiles of a summed latency histogram (`counts[i]` for bucket i of
 * {@link latencyEdgeMs}): the q-quantile is the upper edge of the bucket where the cumulative count
 * reaches q·n, so it is exact to one bucket (edges 2^¼ ≈ 1.19× apart). Null quantiles when empty;
 * Infinity when the quantile falls in the open last bucket.
 */
export function histogramSummary(counts: readonly number[]): { count: number; p50Ms: number | null; p95Ms: number | null } {
  const n = counts.reduce((a, b) => a + b, 0);
  const quantile = (q: number): number | null => {
    if (n === 0) return null;
    let cumulative = 0;
    for (let i = 0; i < counts.length; i++) {
      cumulative += counts[i]!;
      if (cumulative >= q * n) return latencyEdgeMs(i);
    }
    return latencyEdgeMs(counts.length - 1);
  };
  return { count: n, p50Ms: quantile(0.5), p95Ms: quantile(0.95) };
}
