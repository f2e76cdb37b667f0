import { describe, expect, it } from 'vitest';
import { analyzeExperiment, histogramSummary } from './analysis';
import type { VariantAggregate } from './analysis';
import type { ExperimentDefinition } from './types';

const experiment: ExperimentDefinition = {
  id: 'ranker-v2',
  salt: 'ranker-v2-salt',
  variants: [
    { name: 'control', model: 'champion', weight: 50 },
    { name: 'challenger', model: 'fashion-ranker@2', weight: 50 },
  ],
  start: '2025-03-01T00:00:00Z',
  end: '2025-04-01T00:00:00Z',
  metrics: ['click', 'purchase'],
};

const aggregate = (variant: string, devices: number, exposures: number, click: number, purchase: number): VariantAggregate => ({
  variant,
  devices,
  reports: devices * 3,
  exposures,
  outcomes: { click, like: 0, add_to_cart: 0, purchase },
});

describe('analyzeExperiment', () => {
  it('matches the hand-computed case', () => {
    const result = analyzeExperiment(experiment, [aggregate('control', 480, 1000, 100, 10), aggregate('challenger', 520, 1000, 130, 10)]);
    expect(result.control).toBe('control');
    const [control, challenger] = result.variants;
    expect(control!.metrics.click).toMatchObject({ outcomes: 100, rate: 0.1 });
    // Wilson, 100 of 1,000: (0.1 + 0.0019207)/1.0038415 ∓ 1.952464 × √(9.0e-5 + 9.6036e-7)
    expect(control!.metrics.click!.interval!.low).toBeCloseTo(0.0829094, 6);
    expect(control!.metrics.click!.interval!.high).toBeCloseTo(0.120152, 6);
    expect(control!.metrics.click!.vsControl).toBeUndefined();
    const vs = challenger!.metrics.click!.vsControl!;
    expect(vs.difference).toBeCloseTo(0.03, 12);
    // Newcombe from the Wilson intervals [0.0829094, 0.1201520] and [0.1105638, 0.1522680]
    expect(vs.interval!.low).toBeCloseTo(0.0020023, 6);
    expect(vs.interval!.high).toBeCloseTo(0.0580705, 6);
    // pooled 0.115, se 0.0142671, z 2.102741, two-sided p 0.035488
    expect(vs.z).toBeCloseTo(2.1027406, 6);
    expect(vs.pValue).toBeCloseTo(0.0354885, 6);
    // Equal purchases: no difference, p = 1.
    expect(challenger!.metrics.purchase!.vsControl!.pValue).toBeCloseTo(1, 6);
    // SRM on devices: (480 − 500)²/500 + (520 − 500)²/500 = 1.6, p = 0.2059 — no mismatch.
    expect(result.srm).toMatchObject({ unit: 'devices', observed: [480, 520], expected: [500, 500], df: 1, mismatch: false });
    expect(result.srm!.chi2).toBeCloseTo(1.6, 12);
    expect(result.srm!.pValue).toBeCloseTo(0.2059032, 6);
    expect(Object.keys(challenger!.metrics)).toEqual(['click', 'purchase']);
  });

  it('flags a sample ratio mismatch', () => {
    const result = analyzeExperiment(experiment, [aggregate('control', 400, 1000, 100, 10), aggregate('challenger', 600, 1000, 100, 10)]);
    expect(result.srm!.mismatch).toBe(true);
    expect(result.notes.join('\n')).toMatch(/Sample ratio mismatch/);
  });

  it('works with no reports, missing variants and unknown variants', () => {
    const empty = analyzeExperiment(experiment, []);
    expect(empty.srm).toBeNull();
    expect(empty.variants.map((v) => [v.name, v.exposures, v.metrics.click!.rate])).toEqual([
      ['control', 0, null],
      ['challenger', 0, null],
    ]);
    expect(empty.notes.join('\n')).toMatch(/No reports yet/);
    const odd = analyzeExperiment(experiment, [aggregate('control', 5, 10, 20, 0), aggregate('retired', 3, 10, 1, 0)]);
    expect(odd.notes.join('\n')).toMatch(/not declared \(ignored\): retired/);
    expect(odd.notes.join('\n')).toMatch(/control: 20 click outcomes exceed 10 exposures/);
    expect(odd.variants[0]!.metrics.click!.interval).toBeNull();
    expect(odd.variants[1]!.metrics.click!.vsControl).toEqual({ difference: null, interval: null, z: null, pValue: null });
  });
});

describe('histogramSummary', () => {
  it('reads quantiles as bucket upper edges', () => {
    const counts = new Array<number>(78).fill(0);
    counts[16] = 50; // edge 2^0 = 1 ms
    counts[20] = 45; // edge 2 ms
    counts[24] = 5; // edge 4 ms
    expect(histogramSummary(counts)).toEqual({ count: 100, p50Ms: 1, p95Ms: 2 });
    counts[77] = 100;
    expect(histogramSummary(counts).p95Ms).toBe(Infinity);
    expect(histogramSummary(new Array<number>(78).fill(0))).toEqual({ count: 0, p50Ms: null, p95Ms: null });
  });
});
