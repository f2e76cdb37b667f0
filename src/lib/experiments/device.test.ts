import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bucketOf } from '../../../models/experiments/assign';
import { LATENCY_BUCKETS, latencyBucket, latencyEdgeMs } from '../../../models/experiments/types';
import type { ExperimentDefinition } from '../../../models/experiments/types';
import { bucketOf as monitorBucketOf, LATENCY_EDGES_MS } from '../monitoring/histogram';
import { openFashionStore } from '../storage/store';
import type { FashionStore } from '../storage';
import { applyExperiments, count, ensureIdentity, INSTALL_ID_KEY, readLedger, sendDueReports, writeConsent } from './device';
import { parseManifestExperiments } from './manifest';
import { monitoringAggregate } from './monitoring';

let store: FashionStore;
const DAY = 86_400_000;
const T0 = Date.parse('2025-03-10T09:00:00Z');

const experiment: ExperimentDefinition = {
  id: 'ranker-v2',
  salt: 'ranker-v2-salt',
  variants: [
    { name: 'control', model: 'champion', weight: 50 },
    { name: 'challenger', model: 'fashion-ranker@2', weight: 50 },
  ],
  start: '2025-03-01T00:00:00Z',
  end: '2025-04-01T00:00:00Z',
  metrics: ['click'],
};

beforeEach(async () => {
  globalThis.indexedDB = new IDBFactory();
  store = await openFashionStore({ name: `experiments-${Math.random()}` });
});
afterEach(() => store.close());

/** A fetch that records what it is sent and answers like the server would. */
function recordingFetch(status = 201) {
  const sent: { url: string; body: string }[] = [];
  const seen = new Set<string>();
  const fn = (async (url: string, init: RequestInit) => {
    const body = String(init.body);
    sent.push({ url, body });
    const parsed = JSON.parse(body) as { period: string };
    const code = status === 201 && seen.has(parsed.period) ? 409 : status;
    seen.add(parsed.period);
    return new Response(JSON.stringify({ message: `status ${code}` }), { status: code });
  }) as unknown as typeof fetch;
  return { sent, fn };
}

describe('device experiments', () => {
  it('makes the install id once, and assigns by the shared hash, stickily', async () => {
    const first = await ensureIdentity(store);
    expect(first.installId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.reportKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.reportKey).not.toContain(first.installId);
    expect(await ensureIdentity(store)).toEqual(first);
    const [record] = await applyExperiments(store, [experiment], T0);
    const bucket = await bucketOf(experiment.salt, first.installId);
    expect(record).toMatchObject({ id: 'ranker-v2', variant: bucket < 5000 ? 'control' : 'challenger', params: { bucket } });
    // Same manifest again, even with other weights: the stored assignment stands.
    const flipped = { ...experiment, variants: experiment.variants.map((v) => ({ ...v, weight: v.name === record!.variant ? 1 : 99 })) };
    expect((await applyExperiments(store, [flipped], T0 + DAY))[0]).toMatchObject({ variant: record!.variant, assignedAt: T0 });
    // A new salt is a new experiment: assigned again from the hash.
    const resalted = await applyExperiments(store, [{ ...experiment, salt: 'another-salt' }], T0 + DAY);
    expect(resalted[0]!.params).toMatchObject({ salt: 'another-salt', bucket: await bucketOf('another-salt', first.installId) });
    // Gone from the manifest: forgotten.
    expect(await applyExperiments(store, [], T0)).toEqual([]);
    expect(await store.getAll('experiments')).toEqual([]);
  });

  it('counts only while the experiment runs, and keeps no item ids', async () => {
    const records = await applyExperiments(store, [experiment], T0);
    await count(store, records, T0, (c) => (c.exposures += 20));
    await count(store, records, T0 + 1000, (c) => (c.outcomes.click += 1));
    await count(store, records, Date.parse('2025-04-02T00:00:00Z'), (c) => (c.exposures += 5));
    const ledger = await readLedger(store);
    expect(ledger).toEqual({ 'ranker-v2': { variant: records[0]!.variant, periods: { '2025-03-10': { counts: { exposures: 20, outcomes: { click: 1, like: 0, add_to_cart: 0, purchase: 0 } } } } } });
  });

  it('without consent sends nothing; with consent one report per finished day, never twice', async () => {
    const records = await applyExperiments(store, [experiment], T0);
    await count(store, records, T0, (c) => (c.exposures += 10));
    const off = recordingFetch();
    expect(await sendDueReports(store, { consent: { on: false, since: 0 }, now: T0 + 2 * DAY, baseUrl: 'http://x', fetch: off.fn })).toEqual([]);
    expect(off.sent).toEqual([]);

    // Opted in on the 11th: the 10th was counted before consent and is dropped, never sent.
    const consent = await writeConsent(store, true, T0 + DAY);
    await count(store, records, T0 + DAY, (c) => (c.exposures += 30));
    await count(store, records, T0 + DAY, (c) => (c.outcomes.like += 2));
    const on = recordingFetch();
    // The 11th is not over yet at noon on the 11th.
    expect(await sendDueReports(store, { consent, now: T0 + DAY + 3600_000, baseUrl: 'http://x', fetch: on.fn })).toEqual([]);
    const attempts = await sendDueReports(store, { consent, now: T0 + 2 * DAY, baseUrl: 'http://x', fetch: on.fn });
    expect(attempts).toEqual([{ experiment: 'ranker-v2', period: '2025-03-11', variant: records[0]!.variant, outcome: 'sent', status: 201 }]);
    expect(on.sent).toHaveLength(1);
    expect(on.sent[0]!.url).toBe('http://x/v1/experiments/ranker-v2/report');
    const body = JSON.parse(on.sent[0]!.body);
    expect(Object.keys(body).sort()).toEqual(['counts', 'format', 'period', 'reportKey', 'variant']);
    expect(body.counts).toEqual({ exposures: 30, outcomes: { click: 0, like: 2, add_to_cart: 0, purchase: 0 } });
    expect(on.sent[0]!.body).not.toContain(((await store.get('meta', INSTALL_ID_KEY))!.value as string));
    // Again: nothing more to send.
    expect(await sendDueReports(store, { consent, now: T0 + 3 * DAY, baseUrl: 'http://x', fetch: on.fn })).toEqual([]);
    expect(on.sent).toHaveLength(1);
  });

  it('keeps a report after a network or server failure and drops one the server refuses', async () => {
    const records = await applyExperiments(store, [experiment], T0);
    const consent = await writeConsent(store, true, T0 - DAY);
    await count(store, records, T0, (c) => (c.exposures += 10));
    const failing = recordingFetch(503);
    expect((await sendDueReports(store, { consent, now: T0 + DAY, baseUrl: 'http://x', fetch: failing.fn }))[0]).toMatchObject({ outcome: 'failed', status: 503 });
    const refusing = recordingFetch(422);
    expect((await sendDueReports(store, { consent, now: T0 + DAY, baseUrl: 'http://x', fetch: refusing.fn }))[0]).toMatchObject({ outcome: 'refused', status: 422, message: 'status 422' });
    expect(await sendDueReports(store, { consent, now: T0 + DAY, baseUrl: 'http://x', fetch: refusing.fn })).toEqual([]);
  });
});

describe('parseManifestExperiments', () => {
  it('keeps valid experiments and names the bad ones', () => {
    const parsed = parseManifestExperiments({ experiments: [experiment, { id: 'x', salt: 's', variants: [{ name: 'a' }], start: 'x', end: 'y' }, 7] });
    expect(parsed.experiments).toEqual([experiment]);
    expect(parsed.problems).toEqual(['experiments[1] (x).variants must list at least two variants', 'experiments[2] is not an object']);
    expect(parseManifestExperiments({ format: 'fashionml.manifest/1' })).toEqual({ experiments: [], problems: [] });
  });
});

describe('monitoring in the report', () => {
  it('uses the monitor\'s histogram edges', () => {
    expect(LATENCY_EDGES_MS.length).toBe(LATENCY_BUCKETS);
    LATENCY_EDGES_MS.forEach((edge, i) => expect(latencyEdgeMs(i)).toBe(edge));
    for (const ms of [0, 0.01, 0.0625, 0.07, 1, 1.0001, 7.9, 8, 8.1, 100, 32_768, 40_000]) expect(latencyBucket(ms), `${ms} ms`).toBe(monitorBucketOf(ms));
  });

  it('sends a finished day\'s monitoring aggregates, without messages or item ids', async () => {
    const records = await applyExperiments(store, [experiment], T0);
    const consent = await writeConsent(store, true, T0 - DAY);
    await count(store, records, T0, (c) => (c.exposures += 10));
    await store.putMany('metrics', [
      { name: 'monitor.latency_ms', value: 7.5, at: T0, tags: { op: 'feed', backend: 'wasm' } },
      { name: 'monitor.latency_ms', value: 9, at: T0 + 1, tags: { op: 'feed', backend: 'wasm' } },
      { name: 'monitor.latency_ms', value: 900, at: T0 + DAY, tags: { op: 'feed', backend: 'wasm' } },
      { name: 'monitor.error', value: 1, at: T0, tags: { op: 'search', message: 'TypeError: item 15970 missing' } },
      { name: 'monitor.shown', value: 2, at: T0, tags: { items: JSON.stringify(['15970', '39386']) } },
    ]);
    const sent = recordingFetch();
    await sendDueReports(store, { consent, now: T0 + DAY, baseUrl: 'http://x', fetch: sent.fn, monitoring: (from, to) => monitoringAggregate(store, from, to) });
    const body = JSON.parse(sent.sent[0]!.body);
    expect(body.monitoring).toEqual({
      latency: [{ op: 'feed', backend: 'wasm', buckets: [[latencyBucket(7.5), 1], [latencyBucket(9), 1]] }],
      errors: [{ op: 'search', count: 1 }],
      coverage: { lists: 1, impressions: 2, distinctItems: 2 },
    });
    expect(sent.sent[0]!.body).not.toMatch(/15970|39386|TypeError/);
  });
});
