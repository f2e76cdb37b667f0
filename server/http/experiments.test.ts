import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORT_FORMAT } from '../../models/experiments/types';
import { declareExperiment } from '../experiments/experiments';
import { ExperimentStore } from '../experiments/store';
import { Registry } from '../registry/registry';
import { buildAppServer } from './app';

let dir: string;
let app: FastifyInstance;
let store: ExperimentStore;
const NOW = Date.parse('2025-03-10T12:00:00Z');
let keyCounter = 0;

/** A fresh 43-character report key per call (as a new device would have). */
const newKey = () => `k${String(++keyCounter).padStart(6, '0')}`.padEnd(43, '_');

const report = (overrides: Record<string, unknown> = {}) => ({
  format: REPORT_FORMAT,
  reportKey: newKey(),
  period: '2025-03-09',
  variant: 'challenger',
  counts: { exposures: 120, outcomes: { click: 9, like: 2, add_to_cart: 1, purchase: 0 } },
  ...overrides,
});

/** Each request comes from its own address unless told, so the per-client limit stays out of the way. */
let address = 0;
const post = (body: unknown, options: { id?: string; ip?: string; raw?: string; contentType?: string } = {}) =>
  app.inject({
    method: 'POST',
    url: `/v1/experiments/${options.id ?? 'ranker-v2'}/report`,
    remoteAddress: options.ip ?? `10.0.${Math.floor(++address / 250)}.${address % 250}`,
    headers: { 'content-type': options.contentType ?? 'application/json' },
    payload: options.raw ?? JSON.stringify(body),
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fashionml-exp-api-'));
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'app', 'index.html'), '<!doctype html><title>FashionML</title>');
  const registry = new Registry(join(dir, 'registry'));
  for (const content of ['one', 'two']) {
    mkdirSync(join(dir, content));
    writeFileSync(join(dir, content, 'ranker.json'), content);
    registry.registerModel({ id: 'fashion-ranker', kind: 'fashion-ranker', dir: join(dir, content), dataVersion: 1, codeVersion: 't' });
  }
  registry.setAlias('champion', 'fashion-ranker', 1);
  declareExperiment(
    registry,
    {
      id: 'ranker-v2',
      salt: 'ranker-v2-salt',
      variants: [
        { name: 'control', model: 'champion', weight: 1 },
        { name: 'challenger', model: 'fashion-ranker@2', weight: 1 },
      ],
      start: '2025-03-01T00:00:00Z',
      end: '2025-04-01T00:00:00Z',
      metrics: ['click', 'purchase'],
    },
    { now: NOW },
  );
  store = ExperimentStore.open(join(dir, 'experiments.sqlite'));
  app = await buildAppServer({
    appDir: join(dir, 'app'),
    api: { registry },
    experiments: { registry, store, now: () => NOW, rateLimit: { perClient: 5, global: 40, windowMs: 60_000 } },
  });
});

afterAll(async () => {
  await app?.close();
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('POST /v1/experiments/<id>/report', () => {
  it('stores a valid report as aggregates only and answers 201', async () => {
    const body = report({ variant: 'control', period: '2025-03-05' });
    const res = await post(body);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toEqual({ stored: true, experiment: 'ranker-v2', period: '2025-03-05', variant: 'control' });
    const rows = store.rows('ranker-v2').filter((r) => r.period === '2025-03-05');
    expect(rows).toEqual([
      { experiment_id: 'ranker-v2', device: ExperimentStore.deviceOf('ranker-v2', body.reportKey), period: '2025-03-05', variant: 'control', exposures: 120, click: 9, like: 2, add_to_cart: 1, purchase: 0 },
    ]);
  });

  it('stores the day\'s monitoring aggregates with the counts, and refuses monitoring that is not aggregate', async () => {
    const monitoring = {
      latency: [{ op: 'feed', backend: 'wasm', buckets: [[28, 3], [30, 1]] }],
      errors: [{ op: 'feed', count: 1 }],
      coverage: { lists: 4, impressions: 48, distinctItems: 30, catalogSize: 400 },
    };
    const res = await post(report({ period: '2025-03-04', monitoring }));
    expect(res.statusCode, res.body).toBe(201);
    const bad: [unknown, RegExp][] = [
      [{ ...monitoring, errors: [{ op: 'feed', count: 1, message: 'TypeError at item 15970' }] }, /monitoring\.errors\.0: .*message/],
      [{ ...monitoring, coverage: { ...monitoring.coverage, items: ['15970'] } }, /monitoring\.coverage: .*items/],
      [{ ...monitoring, latency: [{ op: 'feed', backend: 'wasm', buckets: [[78, 1]] }] }, /monitoring\.latency\.0\.buckets\.0\.0: must be a bucket index below 78/],
      [{ ...monitoring, latency: [{ op: 'feed', backend: 'wasm', buckets: [[3, 1], [3, 2]] }] }, /lists a bucket twice/],
      [{ ...monitoring, latency: [{ op: 'feed', backend: 'wasm', buckets: [[28, 1]], samplesMs: [4.2, 5.1] }] }, /samplesMs/],
    ];
    for (const [m, message] of bad) {
      const refused = await post(report({ period: '2025-03-04', monitoring: m }));
      expect(refused.statusCode).toBe(400);
      expect(refused.json().message).toMatch(message);
    }
    // A replay adds nothing to the monitoring sums either.
    const first = store.monitoring('ranker-v2');
    const body = report({ period: '2025-03-03', monitoring });
    expect((await post(body)).statusCode).toBe(201);
    expect((await post(body)).statusCode).toBe(409);
    const sums = store.monitoring('ranker-v2').find((m) => m.variant === 'challenger')!;
    expect(sums.latency[0]!.counts[28]).toBe(2 * first.find((m) => m.variant === 'challenger')!.latency[0]!.counts[28]!);
    expect(sums.errors).toEqual([{ op: 'feed', count: 2 }]);
    expect(sums.coverage).toEqual({ reports: 2, meanDistinctItems: 30, meanShare: 0.075 });
  });

  it('refuses a replay of the same report key and period with 409 and stores nothing new', async () => {
    const body = report({ period: '2025-03-06' });
    expect((await post(body)).statusCode).toBe(201);
    const before = store.rows('ranker-v2');
    const replay = await post({ ...body, counts: { exposures: 999, outcomes: { click: 99, like: 0, add_to_cart: 0, purchase: 0 } } });
    expect(replay.statusCode).toBe(409);
    expect(replay.json()).toEqual({ error: 'already_reported', message: expect.stringMatching(/already reported period 2025-03-06 of experiment "ranker-v2"; a report is accepted once/) });
    expect(store.rows('ranker-v2')).toEqual(before);
    // The next period from the same device is a new report.
    expect((await post({ ...body, period: '2025-03-07' })).statusCode).toBe(201);
  });

  it('refuses malformed reports with 400 naming the field, and stores nothing', async () => {
    const before = store.rows('ranker-v2').length;
    const cases: [unknown, RegExp][] = [
      [{ ...report(), itemIds: ['15970', '39386'] }, /Report field \(root\): .*itemIds/],
      [{ ...report(), counts: { exposures: 3, outcomes: { click: 1, like: 0, add_to_cart: 0, purchase: 0 }, items: ['15970'] } }, /Report field counts: .*items/],
      [report({ counts: { exposures: -1, outcomes: { click: 0, like: 0, add_to_cart: 0, purchase: 0 } } }), /Report field counts\.exposures: must not be negative/],
      [report({ counts: { exposures: 1.5, outcomes: { click: 0, like: 0, add_to_cart: 0, purchase: 0 } } }), /counts\.exposures: must be a whole number/],
      [report({ counts: { exposures: 1, outcomes: { click: 0 } } }), /counts\.outcomes\.like/],
      [report({ reportKey: 'short' }), /reportKey: must be 43 base64url characters/],
      [report({ period: '9 March' }), /period: must be a UTC day written YYYY-MM-DD/],
      [report({ format: 'v0' }), /Report field format:/],
      [[1, 2, 3], /Report field \(root\)/],
    ];
    for (const [body, message] of cases) {
      const res = await post(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error).toBe('bad_request');
      expect(res.json().message).toMatch(message);
    }
    const broken = await post(undefined, { raw: '{"format": ' });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error).toBe('bad_request');
    const text = await post(undefined, { raw: 'hello', contentType: 'text/plain' });
    expect(text.statusCode).toBe(400);
    expect(text.json().message).toMatch(/Report field \(root\)/);
    const xml = await post(undefined, { raw: '<report/>', contentType: 'application/xml' });
    expect(xml.statusCode).toBe(415);
    expect(xml.json()).toEqual({ error: 'unsupported_media_type', message: 'Send the report as application/json' });
    expect(store.rows('ranker-v2').length).toBe(before);
  });

  it('refuses oversized reports with 413', async () => {
    const res = await post(undefined, { raw: JSON.stringify({ ...report(), padding: 'x'.repeat(9000) }) });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: 'payload_too_large', message: 'Experiment reports are limited to 8192 bytes' });
  });

  it('refuses unknown experiments, unknown variants and periods outside the experiment', async () => {
    const unknown = await post(report(), { id: 'nope' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().message).toMatch(/No experiment "nope" in the manifest \(declared: ranker-v2\)/);
    const variant = await post(report({ variant: 'treatment' }));
    expect(variant.statusCode).toBe(422);
    expect(variant.json()).toMatchObject({ error: 'unknown_variant', message: expect.stringMatching(/variants: control, challenger/) });
    expect((await post(report({ period: '2025-02-27' }))).json().error).toBe('outside_experiment');
    expect((await post(report({ period: '2025-04-02' }))).json().error).toBe('outside_experiment');
    expect((await post(report({ period: '2025-03-20' }))).json().error).toBe('future_period');
  });

  it('rate limits per client and across clients with 429', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await post(report({ period: '2025-03-08' }), { ip: '192.0.2.7' })).statusCode);
    expect(statuses.slice(0, 5).every((s) => s === 201)).toBe(true);
    expect(statuses.slice(5)).toEqual([429, 429]);
    const limited = await post(report({ period: '2025-03-08' }), { ip: '192.0.2.7' });
    expect(limited.json()).toMatchObject({ error: 'rate_limited', message: expect.stringMatching(/from this address \(at most 5 per 60 s\)/) });
    // Every address together: the global window (40) runs out too.
    let globalHit: { statusCode: number; body: string } | undefined;
    for (let i = 0; i < 60 && !globalHit; i++) {
      const res = await post(report({ period: '2025-03-08' }));
      if (res.statusCode === 429) globalHit = res;
    }
    expect(globalHit?.body).toMatch(/from all clients/);
  });
});

describe('GET /v1/experiments/<id>/results', () => {
  it('serves the analysis as JSON', async () => {
    const res = await app.inject({ url: '/v1/experiments/ranker-v2/results' });
    expect(res.statusCode).toBe(200);
    const results = res.json();
    expect(results.control).toBe('control');
    expect(results.variants.map((v: { name: string }) => v.name)).toEqual(['control', 'challenger']);
    expect(results.variants[0].exposures).toBe(120);
    expect(results.periods.length).toBeGreaterThan(0);
    // Edges 2^((28 − 16)/4) = 8 ms and 2^((30 − 16)/4) ≈ 11.3 ms: 6 of 8 calls in bucket 28.
    expect(results.monitoring).toEqual([
      expect.objectContaining({ variant: 'challenger', latency: [expect.objectContaining({ op: 'feed', backend: 'wasm', count: 8, p50Ms: 8, p95Ms: 2 ** 3.5 })] }),
    ]);
    expect((await app.inject({ url: '/v1/experiments/nope/results' })).statusCode).toBe(404);
    const list = (await app.inject({ url: '/v1/experiments' })).json();
    expect(list.experiments.map((e: { id: string; results: string }) => [e.id, e.results])).toEqual([['ranker-v2', '/v1/experiments/ranker-v2/results']]);
  });
});
