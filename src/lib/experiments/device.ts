/**
 * The device side of A/B experiments, over the on-device store (no runes, no globals: the manager
 * in experiments-manager.svelte.ts holds the state the UI sees).
 *
 * - Identity: an install id (random UUID, made once, kept in `meta`) decides assignments and never
 *   leaves the device; a separate random report key names this install's reports to the server.
 * - Assignment: SHA-256 of (salt, install id) into 10,000 buckets (models/experiments/assign.ts),
 *   stored in the `experiments` store and kept while the experiment keeps its salt and the variant
 *   still exists: sticky across reloads and syncs, no server call.
 * - Counting: exposures and outcomes per experiment and UTC day in one `meta` record (the ledger),
 *   only while the experiment runs. No item id is kept: only counts.
 * - Reporting: with the shopper's consent only, one POST of counts per experiment and finished day,
 *   marked as sent (201, or 409 when the server already has it) so it is never sent twice.
 */
import { assignVariant } from '../../../models/experiments/assign';
import { emptyCounts, OUTCOME_TYPES, periodEnd, periodOf, REPORT_FORMAT } from '../../../models/experiments/types';
import type { ExperimentDefinition, ExperimentReport, MonitoringAggregate, OutcomeType, VariantCounts } from '../../../models/experiments/types';
import type { ExperimentRecord, FashionStore } from '../storage';

export const INSTALL_ID_KEY = 'experiments.installId';
export const REPORT_KEY_KEY = 'experiments.reportKey';
export const LEDGER_KEY = 'experiments.ledger';
/** `{ on: boolean, since: epoch ms }`: whether the shopper allows reports, and since when. */
export const CONSENT_KEY = 'settings.experimentReports';

/** Days of counts and of "already sent" marks kept on the device. */
export const KEEP_DAYS = 35;

export interface Consent {
  on: boolean;
  /** Epoch ms the shopper last turned reports on; only days ending after it are reported. */
  since: number;
}

interface PeriodEntry {
  counts: VariantCounts;
  /** Set once the server has the report (201 or 409); the counts are then dropped. */
  reported?: boolean;
}

/** Counts per experiment: the variant they were counted under, per UTC day. */
export type Ledger = Record<string, { variant: string; periods: Record<string, PeriodEntry> }>;

export interface Identity {
  installId: string;
  reportKey: string;
}

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The install id and report key, made on first use and then always the same. */
export async function ensureIdentity(store: FashionStore): Promise<Identity> {
  const [install, report] = await Promise.all([store.get('meta', INSTALL_ID_KEY), store.get('meta', REPORT_KEY_KEY)]);
  const installId = typeof install?.value === 'string' ? install.value : crypto.randomUUID();
  const reportKey = typeof report?.value === 'string' ? report.value : base64url(crypto.getRandomValues(new Uint8Array(32)));
  if (!install || !report) {
    const now = Date.now();
    await store.putMany('meta', [
      { key: INSTALL_ID_KEY, value: installId, updatedAt: now },
      { key: REPORT_KEY_KEY, value: reportKey, updatedAt: now },
    ]);
  }
  return { installId, reportKey };
}

export async function readConsent(store: FashionStore): Promise<Consent> {
  const value = (await store.get('meta', CONSENT_KEY))?.value as Partial<Consent> | undefined;
  return { on: value?.on === true, since: typeof value?.since === 'number' ? value.since : 0 };
}

export async function writeConsent(store: FashionStore, on: boolean, now: number): Promise<Consent> {
  const consent = { on, since: on ? now : 0 };
  await store.put('meta', { key: CONSENT_KEY, value: consent, updatedAt: now });
  return consent;
}

export async function readLedger(store: FashionStore): Promise<Ledger> {
  return ((await store.get('meta', LEDGER_KEY))?.value as Ledger | undefined) ?? {};
}

async function writeLedger(store: FashionStore, ledger: Ledger, now: number): Promise<void> {
  await store.put('meta', { key: LEDGER_KEY, value: ledger, updatedAt: now });
}

/** The assignment parameters kept with each `experiments` record. */
export interface AssignmentParams {
  salt: string;
  bucket: number;
  model: string;
  start: number;
}

export function paramsOf(record: ExperimentRecord): AssignmentParams {
  return record.params as unknown as AssignmentParams;
}

/**
 * Brings the stored assignments in line with the manifest's experiments: a new experiment (or a new
 * salt) is assigned from the hash; one that keeps its salt and variant keeps its assignment; one no
 * longer listed is forgotten, with its counts. Returns the records now stored.
 */
export async function applyExperiments(store: FashionStore, experiments: readonly ExperimentDefinition[], now: number): Promise<ExperimentRecord[]> {
  const { installId } = await ensureIdentity(store);
  const existing = new Map((await store.getAll('experiments')).map((r) => [r.id, r]));
  const records: ExperimentRecord[] = [];
  for (const experiment of experiments) {
    const kept = existing.get(experiment.id);
    const keptVariant = kept && paramsOf(kept).salt === experiment.salt ? experiment.variants.find((v) => v.name === kept.variant) : undefined;
    if (kept && keptVariant) {
      records.push({ ...kept, endsAt: Date.parse(experiment.end), params: { ...paramsOf(kept), model: keptVariant.model, start: Date.parse(experiment.start) } });
      continue;
    }
    const { variant, bucket } = await assignVariant(experiment, installId);
    const params: AssignmentParams = { salt: experiment.salt, bucket, model: variant.model, start: Date.parse(experiment.start) };
    records.push({ id: experiment.id, variant: variant.name, assignedAt: now, endsAt: Date.parse(experiment.end), params: params as unknown as Record<string, unknown> });
  }
  const listed = new Set(records.map((r) => r.id));
  // Counts belong to one variant of a listed experiment: a reassignment (new salt) starts them again.
  const ledger = Object.fromEntries(
    Object.entries(await readLedger(store)).filter(([id, entry]) => records.find((r) => r.id === id)?.variant === entry.variant),
  );
  await store.batch([
    ...[...existing.keys()].filter((id) => !listed.has(id)).map((id) => ({ store: 'experiments' as const, delete: id })),
    ...records.map((r) => ({ store: 'experiments' as const, put: r })),
    { store: 'meta', put: { key: LEDGER_KEY, value: ledger, updatedAt: now } },
  ]);
  return records;
}

/** The stored assignments of experiments running at `now`. */
export function running(records: readonly ExperimentRecord[], now: number): ExperimentRecord[] {
  return records.filter((r) => paramsOf(r).start <= now && now < (r.endsAt ?? Infinity));
}

/** Adds to today's counts of every running experiment. */
export async function count(store: FashionStore, records: readonly ExperimentRecord[], now: number, add: (counts: VariantCounts) => void): Promise<void> {
  const active = running(records, now);
  if (active.length === 0) return;
  const ledger = await readLedger(store);
  const period = periodOf(now);
  for (const record of active) {
    const entry = (ledger[record.id] ??= { variant: record.variant, periods: {} });
    const day = (entry.periods[period] ??= { counts: emptyCounts() });
    if (day.reported) continue;
    add(day.counts);
  }
  await writeLedger(store, ledger, now);
}

export function checkOutcome(type: string): OutcomeType {
  if (!(OUTCOME_TYPES as readonly string[]).includes(type)) {
    throw new RangeError(`Unknown experiment outcome ${JSON.stringify(type)}; expected one of ${OUTCOME_TYPES.join(', ')}`);
  }
  return type as OutcomeType;
}

export interface ReportAttempt {
  experiment: string;
  period: string;
  variant: string;
  /** `sent`: stored by the server; `duplicate`: it already had it (409); `refused`: a 4xx that will not change (dropped); `failed`: kept for the next try. */
  outcome: 'sent' | 'duplicate' | 'refused' | 'failed';
  status?: number;
  message?: string;
}

export interface ReportOptions {
  consent: Consent;
  now: number;
  /** Origin of the API, e.g. `location.origin`. */
  baseUrl: string;
  fetch?: typeof fetch;
  /** The device's monitoring aggregated over `[from, to)` (epoch ms), sent with that day's report. */
  monitoring?: (from: number, to: number) => Promise<MonitoringAggregate | undefined>;
}

/**
 * Sends the reports that are due: with consent, one per experiment and finished day that ended
 * after consent was given, holding only that day's counts. Without consent nothing is sent.
 * Days older than {@link KEEP_DAYS} are forgotten either way.
 */
export async function sendDueReports(store: FashionStore, options: ReportOptions): Promise<ReportAttempt[]> {
  const ledger = await readLedger(store);
  const attempts: ReportAttempt[] = [];
  const oldest = periodOf(options.now - KEEP_DAYS * 86_400_000);
  let changed = false;
  const { reportKey } = options.consent.on ? await ensureIdentity(store) : { reportKey: '' };
  const doFetch = options.fetch ?? fetch.bind(globalThis);
  for (const [experimentId, entry] of Object.entries(ledger)) {
    const drop = new Set<string>();
    for (const [period, day] of Object.entries(entry.periods)) {
      if (period < oldest) {
        drop.add(period);
        continue;
      }
      if (day.reported || !options.consent.on || periodEnd(period) > options.now) continue;
      if (periodEnd(period) <= options.consent.since) {
        // Counted before the shopper agreed to reports: never sent.
        drop.add(period);
        continue;
      }
      const end = periodEnd(period);
      const monitoring = await options.monitoring?.(end - 86_400_000, end).catch(() => undefined);
      const report: ExperimentReport = { format: REPORT_FORMAT, reportKey, period, variant: entry.variant, counts: day.counts, ...(monitoring ? { monitoring } : {}) };
      const attempt: ReportAttempt = { experiment: experimentId, period, variant: entry.variant, outcome: 'failed' };
      try {
        const response = await doFetch(`${options.baseUrl}/v1/experiments/${encodeURIComponent(experimentId)}/report`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(report),
          credentials: 'omit',
          // Counting waits behind a report (one ledger writer at a time), so a hung request must end.
          signal: AbortSignal.timeout(10_000),
        });
        attempt.status = response.status;
        if (response.status === 201 || response.status === 409) attempt.outcome = response.status === 201 ? 'sent' : 'duplicate';
        else if (response.status >= 400 && response.status < 500 && response.status !== 429) attempt.outcome = 'refused';
        if (attempt.outcome !== 'sent') attempt.message = ((await response.json().catch(() => ({}))) as { message?: string }).message;
      } catch (error) {
        attempt.message = error instanceof Error ? error.message : String(error);
      }
      if (attempt.outcome === 'sent' || attempt.outcome === 'duplicate') {
        entry.periods[period] = { counts: emptyCounts(), reported: true };
        changed = true;
      } else if (attempt.outcome === 'refused') {
        drop.add(period);
      }
      attempts.push(attempt);
    }
    if (drop.size > 0) {
      entry.periods = Object.fromEntries(Object.entries(entry.periods).filter(([period]) => !drop.has(period)));
      changed = true;
    }
  }
  if (changed) await writeLedger(store, ledger, options.now);
  return attempts;
}
