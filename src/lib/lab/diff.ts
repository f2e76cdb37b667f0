/**
 * What differs between two ranked lists of the same request (version A's feed and version B's):
 * the items only one of them shows and how shared items moved. Plain data in and out.
 */

export interface RankMove {
  itemId: string;
  /** 1-based ranks. */
  rankA: number;
  rankB: number;
  /** rankA − rankB: positive when B ranks the item higher (nearer the top). */
  up: number;
}

export interface FeedDiff {
  onlyA: { itemId: string; rank: number }[];
  onlyB: { itemId: string; rank: number }[];
  /** Items in both lists, in A's order. */
  shared: RankMove[];
  /** |A ∩ B| / |A ∪ B|. */
  jaccard: number;
  /** Shared items at the same rank. */
  unchanged: number;
  /** Rank-biased overlap at depth k (persistence 0.9): 1 for identical lists, weighs the top most. */
  rbo: number;
}

function check(ids: readonly string[], side: string): Map<string, number> {
  const ranks = new Map<string, number>();
  ids.forEach((id, i) => {
    if (typeof id !== 'string' || id === '') throw new TypeError(`diffRankings: list ${side}[${i}] is not an item id`);
    if (ranks.has(id)) throw new Error(`diffRankings: list ${side} repeats item "${id}" (at ranks ${ranks.get(id)} and ${i + 1})`);
    ranks.set(id, i + 1);
  });
  return ranks;
}

/** Compares two rankings (best first). Throws if a list repeats an item. */
export function diffRankings(a: readonly string[], b: readonly string[]): FeedDiff {
  const rankA = check(a, 'A');
  const rankB = check(b, 'B');
  const onlyA = a.filter((id) => !rankB.has(id)).map((id) => ({ itemId: id, rank: rankA.get(id)! }));
  const onlyB = b.filter((id) => !rankA.has(id)).map((id) => ({ itemId: id, rank: rankB.get(id)! }));
  const shared = a
    .filter((id) => rankB.has(id))
    .map((id) => ({ itemId: id, rankA: rankA.get(id)!, rankB: rankB.get(id)!, up: rankA.get(id)! - rankB.get(id)! }));
  const union = a.length + b.length - shared.length;
  return {
    onlyA,
    onlyB,
    shared,
    jaccard: union === 0 ? 1 : shared.length / union,
    unchanged: shared.filter((m) => m.up === 0).length,
    rbo: rankBiasedOverlap(a, b, 0.9),
  };
}

/**
 * Rank-biased overlap (Webber et al. 2010), truncated at the longer list's depth and normalised
 * so that two identical lists score exactly 1.
 */
export function rankBiasedOverlap(a: readonly string[], b: readonly string[], p = 0.9): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`rankBiasedOverlap: p must be in (0, 1), got ${p}`);
  const depth = Math.max(a.length, b.length);
  if (depth === 0) return 1;
  const seenA = new Set<string>();
  const seenB = new Set<string>();
  let overlap = 0;
  let sum = 0;
  let weights = 0;
  for (let d = 1; d <= depth; d++) {
    const x = a[d - 1];
    const y = b[d - 1];
    if (x !== undefined) {
      if (seenB.has(x)) overlap++;
      seenA.add(x);
    }
    if (y !== undefined) {
      if (seenA.has(y)) overlap++;
      seenB.add(y);
    }
    const w = p ** (d - 1);
    sum += w * (overlap / d);
    weights += w;
  }
  return sum / weights;
}
