/**
 * The page's A/B experiments: which variant this device is in, the shopper's consent to send
 * aggregate reports (off until they turn it on), and the calls the app makes as the shopper
 * browses. See device.ts for what is stored and sent.
 *
 * How the app uses it:
 * - at start, `await experiments.load()`; after each sync, `experiments.applyManifest(body)` with
 *   the `/v1/manifest` body (or `refreshFromServer()`, which fetches it);
 * - when a feed is shown, `experiments.recordExposure(itemIds)` (ids are only counted, never kept;
 *   the same feed shown again unchanged counts once);
 * - when the shopper clicks, likes, adds to cart or buys, `experiments.recordOutcome(type)`;
 * - Settings binds a switch to `experiments.consent` through `setConsent(on)`;
 * - now and then (start, coming back online), `experiments.reportDue()`: sends finished days'
 *   counts, only with consent, with that day's monitoring aggregates (src/lib/monitoring) if any.
 * - `rankerFor(aliases)` names the ranker version this device should run, for sync.
 */
import { resolveVariantModel } from '../../../models/experiments/assign';
import type { OutcomeType } from '../../../models/experiments/types';
import type { ExperimentRecord, FashionStore } from '../storage';
import { storage } from '../storage/storage-manager.svelte';
import { applyExperiments, checkOutcome, count, paramsOf, readConsent, running, sendDueReports, writeConsent } from './device';
import type { Consent, ReportAttempt } from './device';
import { parseManifestExperiments } from './manifest';
import { monitoringAggregate } from './monitoring';

const LOCK_NAME = 'fashionml-experiments';

class ExperimentsManager {
  /** This device's assignments, one per experiment in the manifest. */
  assignments = $state<ExperimentRecord[]>([]);
  /** Whether the shopper allows aggregate reports (default off). */
  consent = $state(false);
  loaded = $state(false);
  /** What the last `reportDue()` did. */
  lastReport = $state<ReportAttempt[]>([]);
  /** Manifest experiments that were left out, and why. */
  problems = $state<string[]>([]);
  error = $state<string | undefined>(undefined);

  private consentRecord: Consent = { on: false, since: 0 };
  private chain: Promise<unknown> = Promise.resolve();
  private lastExposure = '';

  /** Runs one ledger change at a time in this page and, where Web Locks exist, across tabs. */
  private serial<T>(work: (store: FashionStore) => Promise<T>): Promise<T> {
    const run = async () => {
      const store = await storage.store();
      return navigator.locks ? navigator.locks.request(LOCK_NAME, () => work(store)) : work(store);
    };
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  async load(): Promise<void> {
    await this.serial(async (store) => {
      this.consentRecord = await readConsent(store);
      this.consent = this.consentRecord.on;
      this.assignments = await store.getAll('experiments');
      this.loaded = true;
    });
  }

  /** Assigns this device in the experiments a manifest body lists (sticky; no server call). */
  async applyManifest(manifest: unknown): Promise<ExperimentRecord[]> {
    const { experiments, problems } = parseManifestExperiments(manifest);
    this.problems = problems;
    return this.serial(async (store) => {
      this.assignments = await applyExperiments(store, experiments, Date.now());
      return this.assignments;
    });
  }

  /** Fetches the manifest and applies its experiments; false when offline or refused. */
  async refreshFromServer(baseUrl = location.origin): Promise<boolean> {
    try {
      const response = await fetch(`${baseUrl}/v1/manifest`, { cache: 'no-cache', credentials: 'omit' });
      if (!response.ok) throw new Error(`GET /v1/manifest answered ${response.status}`);
      await this.applyManifest(await response.json());
      this.error = undefined;
      return true;
    } catch (error) {
      this.error = `Could not read the experiments: ${error instanceof Error ? error.message : String(error)}`;
      return false;
    }
  }

  async setConsent(on: boolean): Promise<void> {
    await this.serial(async (store) => {
      if (on === this.consentRecord.on) return;
      this.consentRecord = await writeConsent(store, on, Date.now());
      this.consent = on;
    });
  }

  /** Counts the items of a feed just shown as exposures of every running experiment. */
  recordExposure(itemIds: readonly string[]): Promise<void> {
    const signature = itemIds.join('\u0000');
    if (itemIds.length === 0 || signature === this.lastExposure) return Promise.resolve();
    this.lastExposure = signature;
    const n = itemIds.length;
    return this.serial((store) => count(store, this.assignments, Date.now(), (c) => (c.exposures += n)));
  }

  /** Counts one shopper action for every running experiment. Throws on an unknown type. */
  recordOutcome(type: OutcomeType): Promise<void> {
    const outcome = checkOutcome(type);
    // An action changes what is shown next: the following feed is a new exposure even if equal.
    this.lastExposure = '';
    return this.serial((store) => count(store, this.assignments, Date.now(), (c) => (c.outcomes[outcome] += 1)));
  }

  /** Sends the finished days' counts when the shopper has opted in; without consent sends nothing. */
  async reportDue(baseUrl = location.origin): Promise<ReportAttempt[]> {
    const attempts = await this.serial((store) =>
      sendDueReports(store, { consent: this.consentRecord, now: Date.now(), baseUrl, monitoring: (from, to) => monitoringAggregate(store, from, to) }),
    );
    this.lastReport = attempts;
    return attempts;
  }

  /** The variant this device is in, or undefined when it is not in that experiment. */
  variantOf(experimentId: string): string | undefined {
    return this.assignments.find((a) => a.id === experimentId)?.variant;
  }

  /**
   * The ranker this device should run because of a running experiment (the first one listed), as
   * `{ id, version }` resolved through the manifest's aliases; undefined when none applies.
   */
  rankerFor(aliases: Readonly<Record<string, { model: string; version: number }>>): { id: string; version: number } | undefined {
    const active = running(this.assignments, Date.now())[0];
    return active ? resolveVariantModel(paramsOf(active).model, aliases) : undefined;
  }

  /** Forgets the in-memory state (tests; after delete-my-data). */
  reset(): void {
    this.assignments = [];
    this.consent = false;
    this.consentRecord = { on: false, since: 0 };
    this.loaded = false;
    this.lastReport = [];
    this.problems = [];
    this.error = undefined;
    this.lastExposure = '';
  }
}

export const experiments = new ExperimentsManager();
