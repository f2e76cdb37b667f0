/**
 * Experiments in real Chromium against the project's own server with a real registry (two
 * fashion-ranker versions, an experiment declared in the manifest) and the SQLite report store.
 * Every request the server receives is logged with its body.
 *
 * One device's life, with the page clock set to fixed days: assignment from the manifest equals
 * the one Node computes for the same install id and survives a reload; with reports off (the
 * default) nothing is ever posted; after opting in, finished days are reported exactly once each,
 * with counts only and no item id.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketOf, variantForBucket } from '../../../models/experiments/assign';
import { APP_DIR, launchBrowser } from '../../../test/browser';
import type { Browser } from '../../../test/browser';
import { declareExperiment } from '../../../server/experiments/experiments';
import { ExperimentStore } from '../../../server/experiments/store';
import { buildAppServer } from '../../../server/http/app';
import { Registry } from '../../../server/registry/registry';

const EXPERIMENT = {
  id: 'ranker-v2',
  salt: 'e2e-ranker-v2',
  variants: [
    { name: 'control', model: 'champion', weight: 50 },
    { name: 'challenger', model: 'fashion-ranker@2', weight: 50 },
  ],
  start: '2025-03-01T00:00:00Z',
  end: '2025-04-01T00:00:00Z',
  metrics: ['click', 'add_to_cart'],
};
const DAY1 = new Date('2025-03-10T10:00:00Z');
const DAY2 = new Date('2025-03-11T10:00:00Z');
const DAY3 = new Date('2025-03-12T10:00:00Z');
const DAY4 = new Date('2025-03-13T10:00:00Z');

let dir: string;
let server: FastifyInstance;
let store: ExperimentStore;
let url: string;
let browser: Browser;
let page: Page;
const requests: { method: string; url: string; body: string }[] = [];
const shownIds = new Set<string>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fashionml-exp-e2e-'));
  const registry = new Registry(join(dir, 'registry'));
  for (const name of ['one', 'two']) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'ranker.json'), JSON.stringify({ name }));
    registry.registerModel({ id: 'fashion-ranker', kind: 'fashion-ranker', dir: join(dir, name), dataVersion: null, codeVersion: 'e2e' });
  }
  registry.setAlias('champion', 'fashion-ranker', 1);
  declareExperiment(registry, EXPERIMENT, { now: DAY1.getTime() });
  store = ExperimentStore.open(join(dir, 'experiments.sqlite'));
  server = await buildAppServer({ appDir: APP_DIR, api: { registry }, experiments: { registry, store, now: () => DAY4.getTime() } });
  server.addHook('preHandler', async (request) => {
    requests.push({ method: request.method, url: request.url, body: request.body === undefined ? '' : JSON.stringify(request.body) });
  });
  url = await server.listen({ host: '127.0.0.1', port: 0 });
  browser = await launchBrowser();
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function openApp(at: Date): Promise<void> {
  await page.clock.setFixedTime(at);
  await page.goto(url);
  await page.waitForFunction(() => window.fashionml?.experiments !== undefined);
  await page.evaluate(async () => {
    await window.fashionml!.experiments.load();
    if (!(await window.fashionml!.experiments.refreshFromServer())) throw new Error(window.fashionml!.experiments.error);
  });
}

/** What a session on the shop does: feeds shown, a few actions. Ids are made up per day. */
async function browse(day: string): Promise<{ exposures: number; click: number; add_to_cart: number }> {
  const feeds = [0, 1, 2].map((f) => Array.from({ length: 12 }, (_, i) => `item-${day}-${f}-${i}`));
  feeds.flat().forEach((id) => shownIds.add(id));
  await page.evaluate(async (lists) => {
    const e = window.fashionml!.experiments;
    await e.recordExposure(lists[0]!);
    await e.recordExposure(lists[0]!); // the same feed re-rendered: not a new exposure
    await e.recordOutcome('click');
    await e.recordExposure(lists[1]!);
    await e.recordOutcome('add_to_cart');
    await e.recordExposure(lists[2]!);
    await e.recordOutcome('click');
  }, feeds);
  return { exposures: 36, click: 2, add_to_cart: 1 };
}

const reportPosts = () => requests.filter((r) => r.method === 'POST');

describe('experiments on the device', () => {
  it('assigns this install as Node computes it, and keeps the assignment over a reload', async () => {
    await openApp(DAY1);
    const state = await page.evaluate(async () => {
      const store = await window.fashionml!.storage.store();
      const e = window.fashionml!.experiments;
      return { installId: (await store.get('meta', 'experiments.installId'))!.value as string, assignments: e.assignments.map((a) => ({ ...a })), consent: e.consent };
    });
    const bucket = await bucketOf(EXPERIMENT.salt, state.installId);
    expect(state.assignments).toEqual([expect.objectContaining({ id: 'ranker-v2', variant: variantForBucket(EXPERIMENT.variants, bucket).name })]);
    expect((state.assignments[0]!.params as { bucket: number }).bucket).toBe(bucket);
    expect(state.consent).toBe(false);

    await openApp(DAY1);
    const again = await page.evaluate(() => window.fashionml!.experiments.assignments.map((a) => ({ ...a })));
    expect(again).toEqual(state.assignments);
  });

  it('with reports off (the default), never sends one', async () => {
    await openApp(DAY1);
    await browse('d1');
    await page.clock.setFixedTime(DAY2);
    expect(await page.evaluate(() => window.fashionml!.experiments.reportDue())).toEqual([]);
    await openApp(DAY3);
    await browse('d3-off');
    expect(await page.evaluate(() => window.fashionml!.experiments.reportDue())).toEqual([]);
    // Let anything the app might send on its own arrive.
    await page.waitForTimeout(1000);
    expect(reportPosts()).toEqual([]);
    expect(requests.some((r) => r.url.startsWith('/v1/experiments/'))).toBe(false);
    expect(store.rows('ranker-v2')).toEqual([]);
  });

  it('with reports on, sends exactly one aggregate report per finished day, without item ids', async () => {
    // Opted in during day 3: day 3 is reported (day 1, counted before consent, never is).
    await openApp(DAY3);
    await page.evaluate(() => window.fashionml!.experiments.setConsent(true));
    const day3 = await browse('d3-on');
    expect(await page.evaluate(() => window.fashionml!.experiments.reportDue())).toEqual([]);

    await page.clock.setFixedTime(DAY4);
    const attempts = await page.evaluate(() => window.fashionml!.experiments.reportDue());
    const variant = await page.evaluate(() => window.fashionml!.experiments.variantOf('ranker-v2'));
    expect(attempts).toEqual([{ experiment: 'ranker-v2', period: '2025-03-12', variant, outcome: 'sent', status: 201 }]);
    // Again, and after a reload: nothing more.
    expect(await page.evaluate(() => window.fashionml!.experiments.reportDue())).toEqual([]);
    await openApp(DAY4);
    expect(await page.evaluate(() => window.fashionml!.experiments.consent)).toBe(true);
    expect(await page.evaluate(() => window.fashionml!.experiments.reportDue())).toEqual([]);

    const posts = reportPosts();
    expect(posts.map((p) => p.url)).toEqual(['/v1/experiments/ranker-v2/report']);
    const body = JSON.parse(posts[0]!.body) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['counts', 'format', 'period', 'reportKey', 'variant']);
    // Day 3 as counted: the first and last sessions (before and after opting in) both ran on day 3.
    expect(body).toMatchObject({ period: '2025-03-12', variant, counts: { exposures: 2 * day3.exposures, outcomes: { click: 2 * day3.click, like: 0, add_to_cart: 2 * day3.add_to_cart, purchase: 0 } } });
    for (const id of shownIds) expect(posts[0]!.body).not.toContain(id);
    const installId = await page.evaluate(async () => (await (await window.fashionml!.storage.store()).get('meta', 'experiments.installId'))!.value as string);
    expect(posts[0]!.body).not.toContain(installId);
    expect(store.rows('ranker-v2')).toHaveLength(1);
    console.info(`[experiments] report sent: ${posts[0]!.body.length} bytes: ${posts[0]!.body}`);
  });
});
