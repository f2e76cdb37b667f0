import { describe, expect, it } from 'vitest';
import { decidePromotion } from './gate';

const policy = { metrics: ['ndcg10', 'recall20'], baselinePrefix: 'popularity.', minGain: 0 };
const candidate = (ndcg: number, recall: number, pop = 0.1) => ({
  name: 'fashion-ranker@3',
  metrics: { ndcg10: ndcg, recall20: recall, 'popularity.ndcg10': pop, 'popularity.recall20': pop },
});

describe('registry gate', () => {
  it('promotes the first version when it beats popularity', () => {
    const d = decidePromotion(candidate(0.3, 0.4), null, policy);
    expect(d.promote).toBe(true);
    expect(d.reasons).toContain('ndcg10 0.3000 > popularity 0.1000');
  });

  it('keeps a first version that does not beat popularity as challenger, saying why', () => {
    const d = decidePromotion(candidate(0.3, 0.05), null, policy);
    expect(d.promote).toBe(false);
    expect(d.failures).toEqual(['recall20 0.0500 does not beat popularity 0.1000']);
  });

  it('needs every metric at least level with the champion and one strictly better', () => {
    const champion = { name: 'fashion-ranker@2', metrics: { ndcg10: 0.3, recall20: 0.4 } };
    expect(decidePromotion(candidate(0.31, 0.4), champion, policy).promote).toBe(true);
    const worse = decidePromotion(candidate(0.35, 0.39), champion, policy);
    expect(worse.promote).toBe(false);
    expect(worse.failures).toEqual(["recall20 0.3900 is below champion fashion-ranker@2's 0.4000"]);
    const same = decidePromotion(candidate(0.3, 0.4), champion, policy);
    expect(same.promote).toBe(false);
    expect(same.failures[0]).toMatch(/no declared metric \(ndcg10, recall20\) is strictly better/);
  });

  it('applies a minimum gain', () => {
    const champion = { name: 'fashion-ranker@2', metrics: { ndcg10: 0.3, recall20: 0.4 } };
    const d = decidePromotion(candidate(0.305, 0.45), champion, { ...policy, minGain: 0.01 });
    expect(d.failures).toEqual(["ndcg10 0.3050 is below champion fashion-ranker@2's 0.3000 + 0.01"]);
  });

  it('refuses a candidate without the declared figures', () => {
    const d = decidePromotion({ name: 'fashion-ranker@1', metrics: { ndcg10: 0.3 } }, null, policy);
    expect(d.promote).toBe(false);
    expect(d.failures.join('\n')).toMatch(/no popularity.ndcg10 baseline/);
    expect(d.failures.join('\n')).toMatch(/has no recall20 figure \(it has: ndcg10\)/);
  });

  it('compares with the champion only on the same held-out data', () => {
    const champion = { name: 'fashion-ranker@2', metrics: { ndcg10: 0.5, recall20: 0.6 }, evaluationData: 'catalog=a;seed=42' };
    const same = decidePromotion({ ...candidate(0.3, 0.4), evaluationData: 'catalog=a;seed=42' }, champion, policy);
    expect(same.promote).toBe(false);
    const moved = decidePromotion({ ...candidate(0.3, 0.4), evaluationData: 'catalog=b;seed=42' }, champion, policy);
    expect(moved.promote).toBe(true);
    expect(moved.reasons[0]).toMatch(/evaluated on other held-out data \(catalog=a;seed=42\), so its figures are not compared/);
    const stillBaseline = decidePromotion({ ...candidate(0.05, 0.4), evaluationData: 'catalog=b;seed=42' }, champion, policy);
    expect(stillBaseline.failures).toEqual(['ndcg10 0.0500 does not beat popularity 0.1000']);
  });
});
