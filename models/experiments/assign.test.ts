import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../random';
import { assignVariant, bucketOf, resolveVariantModel, variantForBucket, variantRanges } from './assign';
import { chiSquareGoodnessOfFit, chiSquareIndependence } from './stats';
import { BUCKETS } from './types';
import type { ExperimentDefinition } from './types';

/** Install ids shaped like the device's (crypto.randomUUID()), from a seed so the test is repeatable. */
function installIds(count: number, seed: number): string[] {
  const random = new SeededRandom(seed);
  const hex = (n: number) => Array.from({ length: n }, () => random.int(16).toString(16)).join('');
  return Array.from({ length: count }, () => `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[random.int(4)]}${hex(3)}-${hex(12)}`);
}

const experiment = (salt: string, weights: number[]): ExperimentDefinition => ({
  id: 'exp',
  salt,
  variants: weights.map((weight, i) => ({ name: `v${i}`, model: `fashion-ranker@${i + 1}`, weight })),
  start: '2025-01-01T00:00:00Z',
  end: '2026-01-01T00:00:00Z',
  metrics: ['click'],
});

const ids = installIds(100_000, 7);

/** Buckets of every id under one salt (digests run concurrently, a few thousand at a time). */
async function bucketsOf(salt: string, of: readonly string[] = ids): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < of.length; i += 5000) out.push(...(await Promise.all(of.slice(i, i + 5000).map((id) => bucketOf(salt, id)))));
  return out;
}

/** Devices per variant: the same thing assignVariant does, with the digests computed once per salt. */
function split(exp: ExperimentDefinition, buckets: readonly number[]): number[] {
  const counts = exp.variants.map(() => 0);
  const names = exp.variants.map((v) => v.name);
  for (const bucket of buckets) counts[names.indexOf(variantForBucket(exp.variants, bucket).name)]! += 1;
  return counts;
}

describe('assignment', () => {
  it('buckets are the first 48 bits of SHA-256("<salt length>:<salt>|<install id>") mod 10,000 (values from Python hashlib)', async () => {
    expect(await bucketOf('spring-2025', '3f2b8c1e-4d5a-4b6c-9e7f-0a1b2c3d4e5f')).toBe(7961);
    expect(await bucketOf('spring-2025', '00000000-0000-4000-8000-000000000000')).toBe(5136);
    expect(await bucketOf('other-salt', '3f2b8c1e-4d5a-4b6c-9e7f-0a1b2c3d4e5f')).toBe(6133);
  });

  it('splits 100,000 install ids within sampling error of the weights (chi-square, p > 0.001)', async () => {
    const buckets = await bucketsOf('weights-test');
    // assignVariant is the composition of the two steps measured here.
    expect((await assignVariant(experiment('weights-test', [1, 1]), ids[0]!)).bucket).toBe(buckets[0]);
    for (const weights of [
      [50, 50],
      [0.3, 0.5, 0.2],
      [90, 10],
    ]) {
      const exp = experiment('weights-test', weights);
      const counts = split(exp, buckets);
      const fit = chiSquareGoodnessOfFit(counts, weights)!;
      expect(fit.pValue, `counts ${counts} for weights ${weights}: χ² ${fit.chi2.toFixed(2)}`).toBeGreaterThan(0.001);
      // And the split is not trivially wrong: every share within 1 percentage point.
      const total = weights.reduce((a, b) => a + b, 0);
      counts.forEach((c, i) => expect(Math.abs(c / ids.length - weights[i]! / total)).toBeLessThan(0.01));
    }
  }, 60_000);

  it('a skewed assignment fails the same check (the test can fail)', () => {
    expect(chiSquareGoodnessOfFit([50_600, 49_400], [50, 50])!.pValue).toBeLessThan(0.001);
  });

  it('is stable: the same salt and id give the same variant every time', async () => {
    const exp = experiment('stable', [1, 1, 1]);
    const first = await Promise.all(ids.slice(0, 2000).map((id) => assignVariant(exp, id)));
    const again = await Promise.all(ids.slice(0, 2000).map((id) => assignVariant(exp, id)));
    expect(again.map((a) => a.bucket)).toEqual(first.map((a) => a.bucket));
  });

  it('experiments with different salts are independent (chi-square on the 2-way table)', async () => {
    const a = experiment('salt-a', [50, 50]);
    const b = experiment('salt-b', [30, 70]);
    const table = [
      [0, 0],
      [0, 0],
    ];
    const [bucketsA, bucketsB] = [await bucketsOf(a.salt), await bucketsOf(b.salt)];
    bucketsA.forEach((bucket, i) => {
      const va = variantForBucket(a.variants, bucket).name === 'v0' ? 0 : 1;
      const vb = variantForBucket(b.variants, bucketsB[i]!).name === 'v0' ? 0 : 1;
      table[va]![vb]! += 1;
    });
    const test = chiSquareIndependence(table);
    expect(test.pValue, `table ${JSON.stringify(table)}`).toBeGreaterThan(0.001);
    // The same salt twice is fully dependent, and the test sees it.
    const same = [
      [0, 0],
      [0, 0],
    ];
    bucketsA.slice(0, 5000).forEach((bucket) => {
      const va = variantForBucket(a.variants, bucket).name === 'v0' ? 0 : 1;
      const vb = variantForBucket(b.variants, bucket).name === 'v0' ? 0 : 1;
      same[va]![vb]! += 1;
    });
    expect(chiSquareIndependence(same).pValue).toBeLessThan(1e-6);
  }, 60_000);

  it('variant ranges cover all buckets exactly, in declaration order', () => {
    expect(variantRanges([{ name: 'a', weight: 1 }, { name: 'b', weight: 2 }, { name: 'c', weight: 1 }])).toEqual([
      { name: 'a', from: 0, to: 2500 },
      { name: 'b', from: 2500, to: 7500 },
      { name: 'c', from: 7500, to: BUCKETS },
    ]);
    expect(variantForBucket([{ name: 'a', weight: 1 }, { name: 'b', weight: 1 }], 4999).name).toBe('a');
    expect(variantForBucket([{ name: 'a', weight: 1 }, { name: 'b', weight: 1 }], 5000).name).toBe('b');
    expect(() => variantForBucket([{ name: 'a', weight: 1 }], 10_000)).toThrow(/outside/);
    expect(() => variantRanges([{ name: 'a', weight: 0 }])).toThrow(/"a" has weight 0/);
  });

  it('resolves variant models written as id@version or as an alias', () => {
    const aliases = { champion: { model: 'fashion-ranker', version: 4 } };
    expect(resolveVariantModel('fashion-ranker@2', aliases)).toEqual({ id: 'fashion-ranker', version: 2 });
    expect(resolveVariantModel('champion', aliases)).toEqual({ id: 'fashion-ranker', version: 4 });
    expect(() => resolveVariantModel('challenger', aliases)).toThrow(/"challenger" is neither id@version nor a known alias \(aliases: champion\)/);
  });
});
