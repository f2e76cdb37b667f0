/**
 * Ranking metrics exactly as the two reference libraries define them, computed from top-k lists.
 *
 * Inputs, shared by every function here:
 * - `recs[u]`: user u's recommended item indices, best first, int32, length ≤ k (null: none);
 * - `relevant[u]`: user u's relevant (held-out) items as a Set (null or empty: u is not evaluated).
 * Every metric is averaged over the evaluated users: Microsoft's `merge_ranking_true_pred` keeps
 * the users present in both truth and predictions, RecBole evaluates every user with a test item.
 */

export type TopLists = readonly (Int32Array | null)[];
export type Relevant = readonly (Set<number> | null)[];

export interface MicrosoftMetrics {
  /** Their `map`: Σ over hits (hits so far / rank), divided by the user's number of relevant items. */
  map: number;
  /** Their `ndcg_at_k` (binary relevance; the log base cancels): DCG over the ideal DCG of min(n, k) hits. */
  ndcg: number;
  /** Hits / k (a list shorter than k still divides by k, as Spark and they do). */
  precision: number;
  /** Hits / number of relevant items. */
  recall: number;
  users: number;
}

export interface RecBoleMetrics {
  recall: number;
  /** 1 / rank of the first hit within the top k, else 0. */
  mrr: number;
  /** DCG with 1/log2(rank + 1) over IDCG of min(|relevant|, k) items. */
  ndcg: number;
  /** 1 when any of the top k is relevant. */
  hit: number;
  /** Hits / k. */
  precision: number;
  users: number;
}

function idcg(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= Math.min(n, k); i++) s += 1 / Math.log2(i + 1);
  return s;
}

/** Per-user hit ranks (1-based) within the first k of the list. */
function hitRanks(list: Int32Array | null, rel: Set<number>, k: number): number[] {
  const ranks: number[] = [];
  if (!list) return ranks;
  const m = Math.min(k, list.length);
  for (let r = 0; r < m; r++) if (rel.has(list[r]!)) ranks.push(r + 1);
  return ranks;
}

/** Microsoft Recommenders' `map`, `ndcg_at_k`, `precision_at_k`, `recall_at_k` (python_evaluation.py). */
export function microsoftMetrics(recs: TopLists, relevant: Relevant, k: number): MicrosoftMetrics {
  let map = 0;
  let ndcg = 0;
  let precision = 0;
  let recall = 0;
  let users = 0;
  relevant.forEach((rel, u) => {
    if (!rel || rel.size === 0) return;
    users++;
    const ranks = hitRanks(recs[u] ?? null, rel, k);
    let ap = 0;
    let dcg = 0;
    ranks.forEach((rank, j) => {
      ap += (j + 1) / rank;
      dcg += 1 / Math.log2(rank + 1);
    });
    map += ap / rel.size;
    ndcg += dcg / idcg(rel.size, k);
    precision += ranks.length / k;
    recall += ranks.length / rel.size;
  });
  const d = Math.max(users, 1);
  return { map: map / d, ndcg: ndcg / d, precision: precision / d, recall: recall / d, users };
}

/** RecBole's Recall, MRR, NDCG, Hit and Precision at k (recbole/evaluator/metrics.py). */
export function recboleMetrics(recs: TopLists, relevant: Relevant, k: number): RecBoleMetrics {
  let recall = 0;
  let mrr = 0;
  let ndcg = 0;
  let hit = 0;
  let precision = 0;
  let users = 0;
  relevant.forEach((rel, u) => {
    if (!rel || rel.size === 0) return;
    users++;
    const ranks = hitRanks(recs[u] ?? null, rel, k);
    let dcg = 0;
    for (const rank of ranks) dcg += 1 / Math.log2(rank + 1);
    recall += ranks.length / rel.size;
    mrr += ranks.length > 0 ? 1 / ranks[0]! : 0;
    ndcg += dcg / idcg(rel.size, k);
    hit += ranks.length > 0 ? 1 : 0;
    precision += ranks.length / k;
  });
  const d = Math.max(users, 1);
  return { recall: recall / d, mrr: mrr / d, ndcg: ndcg / d, hit: hit / d, precision: precision / d, users };
}

/**
 * Catalog coverage: distinct items in all the lists / `catalogSize`. Microsoft's
 * `catalog_coverage` divides by the distinct items of the training data; pass that count to match it.
 */
export function catalogCoverage(recs: TopLists, catalogSize: number): number {
  const seen = new Set<number>();
  for (const list of recs) if (list) for (const i of list) seen.add(i);
  return seen.size / catalogSize;
}

/**
 * Novelty as Microsoft's `novelty` (Castells et al. 2011, item choice model): an item's novelty is
 * −log2(its training interactions / all training interactions), averaged over every recommendation
 * (an item absent from training adds 0 to the sum but still counts, as their merge drops it).
 *
 * @param trainItemCounts training interactions per item, shape [nItems].
 */
export function novelty(recs: TopLists, trainItemCounts: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < trainItemCounts.length; i++) total += trainItemCounts[i]!;
  let sum = 0;
  let n = 0;
  for (const list of recs) {
    if (!list) continue;
    for (const i of list) {
      const c = trainItemCounts[i] ?? 0;
      if (c > 0) sum += -Math.log2(c / total);
      n++;
    }
  }
  return n > 0 ? sum / n : 0;
}
