import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPORT_FORMAT } from '../../models/experiments/types';
import { Registry } from '../registry/registry';
import { declareExperiment, experimentResults, formatResults, listExperiments } from './experiments';
import type { ReportBody } from './schema';
import { ExperimentStore } from './store';

let dir: string;
let registry: Registry;

/** A registry with fashion-ranker@1 (champion), fashion-ranker@2 and an image encoder. */
function setupRegistry(): Registry {
  const reg = new Registry(join(dir, 'registry'));
  for (const [id, kind, content] of [
    ['fashion-ranker', 'fashion-ranker', 'one'],
    ['fashion-ranker', 'fashion-ranker', 'two'],
    ['image-encoder', 'image-encoder', 'enc'],
  ] as const) {
    const model = join(dir, `${id}-${content}`);
    mkdirSync(model, { recursive: true });
    writeFileSync(join(model, 'ranker.json'), content);
    reg.registerModel({ id, kind, dir: model, dataVersion: 1, codeVersion: 't' });
  }
  reg.setAlias('champion', 'fashion-ranker', 1);
  return reg;
}

const sampleExperiment = {
  id: 'ranker-v2',
  salt: 'ranker-v2-2025-03',
  variants: [
    { name: 'control', model: 'champion', weight: 50 },
    { name: 'challenger', model: 'fashion-ranker@2', weight: 50 },
  ],
  start: '2025-03-01T00:00:00Z',
  end: '2025-04-01T00:00:00Z',
  metrics: ['click', 'purchase'],
};
const MARCH = Date.parse('2025-03-10T12:00:00Z');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fashionml-experiments-'));
  registry = setupRegistry();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('declaring experiments', () => {
  it('writes a valid experiment into the manifest, atomically under the publish lock', () => {
    const before = registry.manifest().sequence;
    const stored = declareExperiment(registry, sampleExperiment, { now: MARCH });
    expect(stored).toEqual(sampleExperiment);
    const manifest = JSON.parse(readFileSync(registry.manifestPath, 'utf8'));
    expect(manifest.sequence).toBe(before + 1);
    expect(manifest.experiments).toEqual([sampleExperiment]);
    expect(listExperiments(registry).map((e) => e.id)).toEqual(['ranker-v2']);
    // Metrics default to every outcome.
    const { metrics: _, ...noMetrics } = sampleExperiment;
    expect(declareExperiment(registry, { ...noMetrics, id: 'all-metrics' }, { now: MARCH }).metrics).toEqual(['click', 'like', 'add_to_cart', 'purchase']);
  });

  it('refuses bad declarations with a message naming the field', () => {
    const bad = (change: Record<string, unknown>) => () => declareExperiment(registry, { ...sampleExperiment, ...change }, { now: MARCH });
    expect(bad({ id: 'Ranker V2' })).toThrow(/Experiment "Ranker V2" is not valid: id: must be lower-case/);
    expect(bad({ salt: 'short' })).toThrow(/salt: must be at least 8 characters/);
    expect(bad({ variants: [sampleExperiment.variants[0]] })).toThrow(/variants: needs at least two variants/);
    expect(bad({ variants: [sampleExperiment.variants[0], { name: 'b', model: 'fashion-ranker@2', weight: -1 }] })).toThrow(/variants\.1\.weight: must be a positive number/);
    expect(bad({ variants: [sampleExperiment.variants[0], { ...sampleExperiment.variants[0] }] })).toThrow(/variants\.1\.name: "control" is used by two variants/);
    expect(bad({ variants: [sampleExperiment.variants[0], { name: 'tiny', model: 'fashion-ranker@2', weight: 0.00001 }] })).toThrow(/leave tiny without any of the 10,000 buckets/);
    expect(bad({ end: '2025-02-01T00:00:00Z' })).toThrow(/end: must be after start/);
    expect(bad({ start: 'March' })).toThrow(/start: must be an ISO 8601 date-time/);
    expect(bad({ metrics: ['clicks'] })).toThrow(/metrics\.0:/);
    expect(bad({ owner: 'me' })).toThrow(/owner/);
    expect(bad({ variants: [sampleExperiment.variants[0], { name: 'b', model: 'fashion-ranker@9', weight: 1 }] })).toThrow(
      /variants\.1 \("b"\): fashion-ranker@9 is not a registered model \(fashion-ranker versions: fashion-ranker@1, fashion-ranker@2\)/,
    );
    expect(bad({ variants: [sampleExperiment.variants[0], { name: 'b', model: 'challenger', weight: 1 }] })).toThrow(/no alias "challenger" in the registry \(aliases: champion\)/);
    expect(bad({ variants: [sampleExperiment.variants[0], { name: 'b', model: 'image-encoder@1', weight: 1 }] })).toThrow(/image-encoder@1 is a image-encoder, not a fashion-ranker/);
    expect(() => declareExperiment(registry, sampleExperiment, { now: Date.parse('2025-05-01T00:00:00Z') })).toThrow(/is already past/);
    expect(registry.manifest().experiments).toEqual([]);
  });

  it('refuses a second declaration of the same id unless asked to replace it', () => {
    declareExperiment(registry, sampleExperiment, { now: MARCH });
    expect(() => declareExperiment(registry, sampleExperiment, { now: MARCH })).toThrow(/already declared; pass --replace/);
    declareExperiment(registry, { ...sampleExperiment, end: '2025-04-15T00:00:00Z' }, { now: MARCH, replace: true });
    expect(registry.manifest().experiments.map((e) => e.end)).toEqual(['2025-04-15T00:00:00Z']);
  });
});

describe('experiment store and results', () => {
  const report = (key: string, period: string, variant: string, exposures: number, click: number, purchase = 0): ReportBody => ({
    format: REPORT_FORMAT,
    reportKey: key.padEnd(43, 'x'),
    period,
    variant,
    counts: { exposures, outcomes: { click, like: 0, add_to_cart: 0, purchase } },
  });

  it('keeps one row of counts per device and period, refuses replays, and sums per variant', () => {
    const store = ExperimentStore.open(':memory:');
    expect(store.record('ranker-v2', report('a', '2025-03-02', 'control', 40, 4))).toBe('stored');
    expect(store.record('ranker-v2', report('a', '2025-03-02', 'control', 99, 9))).toBe('duplicate');
    expect(store.record('ranker-v2', report('a', '2025-03-03', 'control', 60, 6, 1))).toBe('stored');
    expect(store.record('ranker-v2', report('b', '2025-03-02', 'challenger', 50, 7))).toBe('stored');
    // The same key in another experiment is another device: rows cannot be linked across experiments.
    expect(store.record('other', report('a', '2025-03-02', 'control', 1, 0))).toBe('stored');
    expect(store.aggregates('ranker-v2')).toEqual([
      { variant: 'challenger', devices: 1, reports: 1, exposures: 50, outcomes: { click: 7, like: 0, add_to_cart: 0, purchase: 0 } },
      { variant: 'control', devices: 1, reports: 2, exposures: 100, outcomes: { click: 10, like: 0, add_to_cart: 0, purchase: 1 } },
    ]);
    expect(store.byPeriod('ranker-v2').map((p) => [p.period, p.variant, p.exposures])).toEqual([
      ['2025-03-02', 'challenger', 50],
      ['2025-03-02', 'control', 40],
      ['2025-03-03', 'control', 60],
    ]);
    // Only aggregates: no report key in clear, no item ids, no arrival times.
    expect(store.columns()).toEqual(['experiment_id', 'device', 'period', 'variant', 'exposures', 'click', 'like', 'add_to_cart', 'purchase']);
    expect(store.tables()).toEqual(['experiment_coverage', 'experiment_errors', 'experiment_latency', 'experiment_reports']);
    expect(store.columns('experiment_latency')).toEqual(['experiment_id', 'variant', 'period', 'op', 'backend', 'bucket', 'count']);
    expect(store.columns('experiment_errors')).toEqual(['experiment_id', 'variant', 'period', 'op', 'count']);
    expect(store.columns('experiment_coverage')).toEqual(['experiment_id', 'device', 'period', 'lists', 'impressions', 'distinct_items', 'catalog_size']);
    const rows = store.rows('ranker-v2');
    expect(JSON.stringify(rows)).not.toContain('a'.padEnd(43, 'x'));
    expect(rows[0]!.device).toBe(ExperimentStore.deviceOf('ranker-v2', 'a'.padEnd(43, 'x')));
    store.close();
  });

  it('analyses the stored reports and prints a table', () => {
    declareExperiment(registry, sampleExperiment, { now: MARCH });
    const store = ExperimentStore.open(':memory:');
    store.record('ranker-v2', report('a', '2025-03-02', 'control', 1000, 100, 10));
    store.record('ranker-v2', report('b', '2025-03-02', 'challenger', 1000, 130, 10));
    const results = experimentResults(registry, store, 'ranker-v2');
    expect(results.variants.map((v) => [v.name, v.devices, v.exposures])).toEqual([
      ['control', 1, 1000],
      ['challenger', 1, 1000],
    ]);
    expect(results.variants[1]!.metrics.click!.vsControl!.pValue).toBeCloseTo(0.0354885, 6);
    const text = formatResults(results);
    expect(text).toContain('Experiment ranker-v2');
    expect(text).toMatch(/challenger\s+130\s+13\.000%\s+\[11\.056%, 15\.227%\]\s+\+3\.00 pp\s+\[\+0\.20, \+5\.81\] pp\s+0\.0355/);
    expect(text).toMatch(/Sample ratio \(devices\): observed 1 \/ 1/);
    expect(() => experimentResults(registry, store, 'nope')).toThrow(/No experiment "nope" in the manifest \(declared: ranker-v2\)/);
    store.close();
  });
});
