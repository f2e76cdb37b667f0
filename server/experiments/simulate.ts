/**
 * Simulated devices for an experiment, for demos and for trying the analysis: each device gets a
 * seeded install id and its variant from the real assignment; the opted-in ones "report" each
 * active day's counts into the store exactly as the report endpoint would store them.
 */
import { SeededRandom } from '../../models/random';
import { assignVariant } from '../../models/experiments/assign';
import { latencyBucket, OUTCOME_TYPES, periodOf } from '../../models/experiments/types';
import type { MonitoringAggregate, OutcomeType } from '../../models/experiments/types';
import type { Experiment } from './schema';
import type { ExperimentStore } from './store';

export interface SimulationOptions {
  devices: number;
  seed: number;
  /** Share of shoppers who opted in to reports. */
  optIn: number;
  /** Chance that a device is used on a given day. */
  activeDays: number;
  /** Per-exposure rates of the control. */
  rates: Record<OutcomeType, number>;
  /** Relative lift of every non-control variant's rates (0.1 = 10 % higher). */
  lift: number;
  /** Simulate up to this instant (days after it have not happened). */
  now: number;
  /** Median feed latency in ms of the control's ranker, and of the others (log-normal, σ 0.35). */
  feedMs: { control: number; others: number };
}

export const DEFAULT_SIMULATION: Omit<SimulationOptions, 'now'> = {
  devices: 2000,
  seed: 42,
  optIn: 0.35,
  activeDays: 0.4,
  rates: { click: 0.06, like: 0.02, add_to_cart: 0.01, purchase: 0.004 },
  lift: 0.1,
  feedMs: { control: 6, others: 7 },
};

export interface SimulationSummary {
  devices: number;
  reportingDevices: number;
  reports: number;
  duplicates: number;
  days: string[];
}

export async function simulateExperiment(experiment: Experiment, store: ExperimentStore, options: SimulationOptions): Promise<SimulationSummary> {
  const random = new SeededRandom(options.seed);
  const hex = (n: number) => Array.from({ length: n }, () => random.int(16).toString(16)).join('');
  const days: string[] = [];
  const last = Math.min(Date.parse(experiment.end), options.now);
  for (let t = Date.parse(experiment.start); t < last; t += 86_400_000) days.push(periodOf(t));
  if (days.length === 0) throw new Error(`Experiment "${experiment.id}" has not started yet (${experiment.start}); nothing to simulate`);
  const control = experiment.variants[0]!.name;
  const summary: SimulationSummary = { devices: options.devices, reportingDevices: 0, reports: 0, duplicates: 0, days };
  for (let d = 0; d < options.devices; d++) {
    const installId = `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
    const reportKey = Array.from({ length: 43 }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[random.int(64)]).join('');
    const { variant } = await assignVariant(experiment, installId);
    const optedIn = random.next() < options.optIn;
    const factor = variant.name === control ? 1 : 1 + options.lift;
    let reported = false;
    for (const period of days) {
      if (random.next() >= options.activeDays) continue;
      const exposures = 10 + random.int(51);
      const outcomes = Object.fromEntries(OUTCOME_TYPES.map((type) => [type, 0])) as Record<OutcomeType, number>;
      for (let i = 0; i < exposures; i++) for (const type of OUTCOME_TYPES) if (random.next() < options.rates[type] * factor) outcomes[type] += 1;
      if (!optedIn) continue;
      const monitoring = simulatedMonitoring(random, Math.ceil(exposures / 12), variant.name === control ? options.feedMs.control : options.feedMs.others, exposures);
      const result = store.record(experiment.id, { format: 'fashionml.experiment-report/1', reportKey, period, variant: variant.name, counts: { exposures, outcomes }, monitoring });
      if (result === 'stored') summary.reports += 1;
      else summary.duplicates += 1;
      reported = true;
    }
    if (reported) summary.reportingDevices += 1;
  }
  return summary;
}

/** A day of feed timings (log-normal around `medianMs`, Box–Muller) as the device's histogram would hold them. */
function simulatedMonitoring(random: SeededRandom, feeds: number, medianMs: number, impressions: number): MonitoringAggregate {
  const buckets = new Map<number, number>();
  for (let i = 0; i < feeds; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
    const bucket = latencyBucket(medianMs * Math.exp(0.35 * z));
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
  }
  return {
    latency: [{ op: 'feed', backend: 'wasm', buckets: [...buckets].sort((a, b) => a[0] - b[0]) }],
    errors: random.next() < 0.02 ? [{ op: 'feed', count: 1 }] : [],
    coverage: { lists: feeds, impressions, distinctItems: Math.round(impressions * 0.6), catalogSize: 400 },
  };
}
