/**
 * The registry gate: a newly trained version becomes `champion` only when it beats both the current
 * champion and the popularity baseline on every declared metric; otherwise it is registered as
 * `challenger`, and the decision says exactly which comparison failed.
 *
 * Metrics are flat numbers recorded with each model version (higher is better for every metric the
 * gate compares). The popularity baseline is measured in the same evaluation run as the candidate
 * and recorded beside it under `popularity.<metric>`, so both sides saw the same data.
 */

export interface GatePolicy {
  /** Metric names compared (higher is better). */
  metrics: string[];
  /** Prefix of the baseline's figures among the candidate's metrics. */
  baselinePrefix: string;
  /**
   * How much better than the champion the candidate must be on each metric (absolute). 0 means
   * "not worse"; at least one metric must still be strictly better, or retraining the same data
   * would churn the alias.
   */
  minGain: number;
}

export const DEFAULT_GATE: GatePolicy = { metrics: ['ndcg10', 'recall20'], baselinePrefix: 'popularity.', minGain: 0 };
/** For a ranker evaluated on a real log with time (server/evaluate/real-shop-eval.ts): its metrics at 12. */
export const REAL_LOG_GATE: GatePolicy = { metrics: ['map12', 'recall12'], baselinePrefix: 'popularity.', minGain: 0 };

/** The default gate for a candidate's metrics: the real-log one when it was evaluated that way. */
export function defaultGateFor(metrics: Record<string, number>): GatePolicy {
  return 'map12' in metrics ? REAL_LOG_GATE : DEFAULT_GATE;
}

export interface GateSide {
  /** `id@version`. */
  name: string;
  metrics: Record<string, number>;
  /**
   * Names the held-out events the metrics were measured on (protocol, catalog, events, seed).
   * Figures measured on different events are not compared: when the champion's differ from the
   * candidate's (new catalog, new interactions), only the popularity baseline, measured beside the
   * candidate on its own events, decides.
   */
  evaluationData?: string;
}

export interface GateDecision {
  promote: boolean;
  /** One line per comparison, e.g. "ndcg10 0.4120 > champion 0.4010 (fashion-ranker@2)". */
  reasons: string[];
  /** The comparisons that failed (empty when promoted). */
  failures: string[];
}

const fmt = (v: number) => v.toFixed(4);

export function decidePromotion(candidate: GateSide, held: GateSide | null, policy: GatePolicy = DEFAULT_GATE): GateDecision {
  if (policy.metrics.length === 0) throw new Error('The gate needs at least one metric to compare');
  const reasons: string[] = [];
  const failures: string[] = [];
  const comparable = held === null || (held.evaluationData ?? '') === (candidate.evaluationData ?? '');
  if (!comparable) {
    reasons.push(
      `champion ${held.name} was evaluated on other held-out data (${held.evaluationData || 'unrecorded'}), ` +
        `so its figures are not compared; the popularity baseline on ${candidate.name}'s data decides`,
    );
  }
  const champion = comparable ? held : null;
  let strictlyBetter = champion === null;
  for (const metric of policy.metrics) {
    const value = candidate.metrics[metric];
    if (value === undefined || !Number.isFinite(value)) {
      failures.push(`${candidate.name} has no ${metric} figure (it has: ${Object.keys(candidate.metrics).sort().join(', ') || 'none'})`);
      continue;
    }
    const baseline = candidate.metrics[`${policy.baselinePrefix}${metric}`];
    if (baseline === undefined || !Number.isFinite(baseline)) {
      failures.push(`${candidate.name} has no ${policy.baselinePrefix}${metric} baseline figure to compare ${metric} with`);
    } else if (value > baseline) {
      reasons.push(`${metric} ${fmt(value)} > popularity ${fmt(baseline)}`);
    } else {
      failures.push(`${metric} ${fmt(value)} does not beat popularity ${fmt(baseline)}`);
    }
    if (champion === null) continue;
    const held = champion.metrics[metric];
    if (held === undefined || !Number.isFinite(held)) {
      // A champion without this figure cannot defend it: only the baseline decides this metric.
      reasons.push(`${metric}: champion ${champion.name} has no figure`);
      strictlyBetter = true;
      continue;
    }
    if (value < held + policy.minGain) {
      failures.push(`${metric} ${fmt(value)} is below champion ${champion.name}'s ${fmt(held)}${policy.minGain > 0 ? ` + ${policy.minGain}` : ''}`);
    } else {
      reasons.push(`${metric} ${fmt(value)} ${value > held ? '>' : '='} champion ${champion.name}'s ${fmt(held)}`);
      if (value > held) strictlyBetter = true;
    }
  }
  if (failures.length === 0 && !strictlyBetter) {
    failures.push(`no declared metric (${policy.metrics.join(', ')}) is strictly better than champion ${champion?.name ?? ''}'s`);
  }
  return { promote: failures.length === 0, reasons, failures };
}
