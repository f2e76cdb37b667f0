/**
 * Maximal marginal relevance (Carbonell & Goldstein 1998): picks k of the candidates one at a time,
 * each maximising (1 − λ)·relevance − λ·(its highest similarity to the items already picked).
 * λ = 0 keeps the relevance order; λ = 1 picks the most relevant item, then always the one least
 * like anything picked so far (ties broken by relevance).
 *
 * Relevance is min–max scaled to [0, 1] over the candidates so it is on the scale of a cosine.
 * The picked values never increase (an item's value can only fall as the picked set grows, and each
 * step takes the largest), so they serve as the response's "higher first" scores.
 */

export interface MmrResult {
  /** Positions into the candidate list, in pick order. */
  order: number[];
  /** The MMR value of each pick, non-increasing. */
  values: number[];
}

/**
 * @param relevance the candidates' relevance (any scale), shape [n].
 * @param similarity similarity of candidates a and b (positions, symmetric), e.g. a cosine.
 * @param k how many to pick (at most n). @param diversity λ in [0, 1].
 */
export function mmr(relevance: ArrayLike<number>, similarity: (a: number, b: number) => number, k: number, diversity: number): MmrResult {
  if (!(diversity >= 0 && diversity <= 1)) throw new Error(`mmr: diversity must be in [0, 1], got ${diversity}`);
  const n = relevance.length;
  const want = Math.min(k, n);
  let lo = Infinity;
  let hi = -Infinity;
  for (let c = 0; c < n; c++) {
    lo = Math.min(lo, relevance[c]!);
    hi = Math.max(hi, relevance[c]!);
  }
  const span = hi - lo;
  const rel = new Float64Array(n);
  for (let c = 0; c < n; c++) rel[c] = span > 0 ? (relevance[c]! - lo) / span : 1;
  const maxSim = new Float64Array(n);
  const taken = new Uint8Array(n);
  const order: number[] = [];
  const values: number[] = [];
  // With λ = 0 similarity never matters: skip computing it.
  const useSimilarity = diversity > 0;
  for (let step = 0; step < want; step++) {
    let best = -1;
    let bestValue = -Infinity;
    for (let c = 0; c < n; c++) {
      if (taken[c] !== 0) continue;
      const value = (1 - diversity) * rel[c]! - diversity * maxSim[c]!;
      if (value > bestValue || (value === bestValue && best >= 0 && rel[c]! > rel[best]!)) {
        best = c;
        bestValue = value;
      }
    }
    taken[best] = 1;
    order.push(best);
    values.push(bestValue);
    if (!useSimilarity) continue;
    for (let c = 0; c < n; c++) {
      if (taken[c] !== 0) continue;
      // Dissimilar (negative cosine) counts as unrelated, not as a bonus: keeps the values monotone.
      const s = similarity(best, c);
      if (s > maxSim[c]!) maxSim[c] = s;
    }
  }
  return { order, values };
}
