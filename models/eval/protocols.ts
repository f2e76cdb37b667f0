/**
 * Full-ranking evaluation under the two published protocols, for any model that scores every item
 * for a user.
 */
import { toCsr } from '../cf/sparse';
import type { Csr } from '../cf/sparse';
import { concat } from './data';
import type { Interactions } from './data';
import { catalogCoverage, microsoftMetrics, novelty, recboleMetrics } from './metrics';
import type { MicrosoftMetrics, RecBoleMetrics, Relevant, TopLists } from './metrics';
import { rankTopK } from './rank';

/** A model as the harness sees it. */
export interface Scorer {
  /** Writes a score for every item for `user` into `out` (shape [nItems], float32); higher is better. */
  scoreUser(user: number, out: Float32Array): void;
}

export interface BeyondAccuracy {
  /** Distinct recommended items / all items in the catalog. */
  coverage: number;
  /** Mean −log2 training popularity share of the recommended items (see {@link novelty}). */
  novelty: number;
}

/** Binary user × item matrix of the interactions (duplicates merged). */
export function userItemMatrix(data: Interactions, weights?: Float32Array): Csr {
  return toCsr(data.nUsers, data.nItems, data.users, data.items, weights ?? new Float32Array(data.users.length).fill(1));
}

/** Each user's set of items in `data` (null for users with none). */
export function relevantSets(data: Interactions): (Set<number> | null)[] {
  const sets: (Set<number> | null)[] = new Array<Set<number> | null>(data.nUsers).fill(null);
  for (let k = 0; k < data.users.length; k++) {
    const u = data.users[k]!;
    (sets[u] ??= new Set<number>()).add(data.items[k]!);
  }
  return sets;
}

/**
 * Top-k lists for the users that have relevant items, ranking every item except those the user has
 * in `seen` (a user × item matrix).
 */
export function topLists(scorer: Scorer, seen: Csr, relevant: Relevant, k: number): TopLists {
  const scores = new Float32Array(seen.nCols);
  const mask = new Uint8Array(seen.nCols);
  return relevant.map((rel, u) => {
    if (!rel || rel.size === 0) return null;
    scorer.scoreUser(u, scores);
    const a = seen.indptr[u]!;
    const b = seen.indptr[u + 1]!;
    for (let j = a; j < b; j++) mask[seen.indices[j]!] = 1;
    const list = rankTopK(scores, mask, k);
    for (let j = a; j < b; j++) mask[seen.indices[j]!] = 0;
    return list;
  });
}

function itemCounts(data: Interactions): Int32Array {
  const c = new Int32Array(data.nItems);
  for (const i of data.items) c[i]!++;
  return c;
}

function beyond(recs: TopLists, train: Interactions): BeyondAccuracy {
  return { coverage: catalogCoverage(recs, train.nItems), novelty: novelty(recs, itemCounts(train)) };
}

/**
 * Microsoft Recommenders protocol: rank all items the user did not rate in `train`, every `test`
 * rating relevant, averaged over the users in `test`.
 */
export function evaluateMicrosoft(
  scorer: Scorer,
  train: Interactions,
  test: Interactions,
  k = 10,
): MicrosoftMetrics & BeyondAccuracy {
  const relevant = relevantSets(test);
  const recs = topLists(scorer, userItemMatrix(train), relevant, k);
  return { ...microsoftMetrics(recs, relevant, k), ...beyond(recs, train) };
}

/**
 * RecBole protocol (full sort): rank all items except the user's training items and, when testing,
 * the user's validation items too (RecBole masks every earlier phase's items), every held-out
 * interaction relevant, averaged over the users with one.
 */
export function evaluateRecBole(
  scorer: Scorer,
  train: Interactions,
  heldOut: Interactions,
  alsoMasked: Interactions | null,
  k = 10,
): RecBoleMetrics & BeyondAccuracy {
  const relevant = relevantSets(heldOut);
  const seen = userItemMatrix(alsoMasked ? concat([train, alsoMasked]) : train);
  const recs = topLists(scorer, seen, relevant, k);
  return { ...recboleMetrics(recs, relevant, k), ...beyond(recs, train) };
}
