import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitAls } from '../cf/als';
import { fitAlsSpectral } from '../cf/als-spectral';
import { fitPopularity } from '../cf/popularity';
import { parseUData, subset } from './data';
import { evaluateMicrosoft, evaluateRecBole, userItemMatrix } from './protocols';
import { perUserRatioSplit, stratifiedSplit } from './splits';

const U_DATA = join(process.cwd(), '..', 'shared', 'data', 'movielens-100k', 'u.data');
const present = existsSync(U_DATA);
if (!present) console.warn(`MovieLens quality test skipped: ${U_DATA} is absent`);

// Floors well under the benchmark targets: they guard against regressions, not for the record.
describe.skipIf(!present)('MovieLens-100k quality floor', () => {
  const data = present ? parseUData(readFileSync(U_DATA, 'utf8')) : null;

  it('has the published shape', () => {
    expect(data!.users.length).toBe(100_000);
    expect(data!.nUsers).toBe(943);
    expect(data!.nItems).toBe(1682);
  });

  it('ALS beats popularity under the Microsoft protocol (NDCG@10 ≥ 0.40)', () => {
    const s = stratifiedSplit(data!, { ratio: 0.75, filterBy: 'item', seed: 42 });
    const train = subset(data!, s.train);
    const test = subset(data!, s.test);
    const m = userItemMatrix(train);
    const pop = evaluateMicrosoft(fitPopularity(m), train, test);
    const als = evaluateMicrosoft(fitAls(m, { factors: 32, regularization: 20, alpha: 1, iterations: 8 }), train, test);
    expect(pop.users).toBe(943);
    expect(als.ndcg).toBeGreaterThanOrEqual(0.4);
    expect(als.precision).toBeGreaterThanOrEqual(0.35);
    expect(als.ndcg).toBeGreaterThan(pop.ndcg + 0.1);
  }, 60_000);

  it('ALS under the RecBole protocol (NDCG@10 ≥ 0.25)', () => {
    const s = perUserRatioSplit(data!, [0.8, 0.1, 0.1], 1);
    const train = subset(data!, s.train);
    const als = fitAls(userItemMatrix(train), { factors: 32, regularization: 20, alpha: 1, iterations: 8 });
    const r = evaluateRecBole(als, train, subset(data!, s.test), subset(data!, s.valid));
    expect(r.ndcg).toBeGreaterThanOrEqual(0.25);
    expect(r.recall).toBeGreaterThanOrEqual(0.2);
  }, 60_000);

  it('the served ALS-ν + spectral model on rating weights clears a floor under the Microsoft protocol', () => {
    const s = stratifiedSplit(data!, { ratio: 0.75, filterBy: 'item', seed: 42 });
    const train = subset(data!, s.train);
    const model = fitAlsSpectral(userItemMatrix(train, train.ratings), {
      als: { factors: 32, regularization: 2, alpha: 0.3, regularizationExponent: 0.5, iterations: 8 },
      spectral: { rank: 32 },
      spectralWeight: 0.3,
    });
    const r = evaluateMicrosoft(model, train, subset(data!, s.test));
    // The bench measures about 0.49; the floor catches a broken fold-in or filter, not noise.
    expect(r.ndcg).toBeGreaterThanOrEqual(0.45);
    expect(r.precision).toBeGreaterThanOrEqual(0.39);
  }, 60_000);
});
