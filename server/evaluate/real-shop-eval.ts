/**
 * Offline evaluation on a real shop's purchase log, with time, as a shop would use the ranker:
 *
 * - A cut date. The model trains on the events before it and sees only the catalog as it stood
 *   then: the items with at least one event before the cut (an export that only holds items that
 *   sold would otherwise leak "will sell" into the ranking).
 * - The test window is the `days` after the cut; every customer who bought in it is a test
 *   customer, and their relevant items are everything they bought in it (items first sold in the
 *   window count in the denominators and can never be hit).
 * - Tuning happens only before the cut: the re-ranker learns from the last `days` before the cut
 *   (models/hybrid/fashion-fit.ts `rerankSplit: 'time'`), and ALS picks its settings on that
 *   window too.
 * - The served ranker is what a shop sends out: the fit packed as the trainer publishes it (q8),
 *   decoded as the device decodes it, and asked for `batchFeedRequest(history, cut, k)`
 *   (models/recommend/batch.ts), exactly what `fashionml recommend --as-of` does.
 * - Baselines in the same harness on the same split: popularity over all weeks and over the last
 *   week, repurchase + popularity, repurchase + the bought garments' other variants + popularity,
 *   implicit ALS tuned on the tuning window, and an attribute-profile content model.
 * - Metrics at k = 12: MAP (Kaggle's: average precision divided by min(relevant, 12)), Recall,
 *   NDCG, hit rate, over all test customers and over those with history before the cut, and the
 *   share of hits that are items new to the customer.
 */
import type { CatalogItem, InteractionEvent } from '../../models/catalog/item';
import { fitAls, foldIn, itemGram } from '../../models/cf/als';
import { toCsr } from '../../models/cf/sparse';
import { ContentModel } from '../../models/content/content-model';
import type { ContentModelOptions } from '../../models/content/content-model';
import { rankTopK } from '../../models/eval/rank';
import { fitFashion, realLogFitOptions } from '../../models/hybrid/fashion-fit';
import type { FashionFit, FashionFitOptions } from '../../models/hybrid/fashion-fit';
import { DAY_MS } from '../../models/hybrid/fashion-hybrid';
import type { IndexedEvent } from '../../models/hybrid/fashion-hybrid';
import { batchFeedRequest } from '../../models/recommend/batch';
import type { HistoryEvent } from '../../models/recommend/types';
import { eventsDigest, fashionEngine } from './fashion-eval';

/** Version of the protocol above: figures under different versions are not comparable. */
export const REAL_SHOP_EVAL_PROTOCOL = 'real-shop-eval/1';
export const REAL_SHOP_K = 12;

export interface RealShopEvalInput {
  /** The whole export's catalog; only items with an event before the cut are ranked. */
  items: readonly CatalogItem[];
  /** The whole log (any order); events on unknown items are ignored. */
  events: readonly InteractionEvent[];
  /** Epoch milliseconds: train before, test from here. */
  cut: number;
  /** Test window length, and the tuning window before the cut (default 28). */
  days?: number;
  /** Fit options of the served ranker over models/hybrid/fashion-fit.ts `realLogFitOptions`. */
  fit?: FashionFitOptions;
  content?: ContentModelOptions;
  /** Baselines to run beside the served ranker (default all). */
  baselines?: readonly RealShopBaseline[];
  /** Image embeddings aligned to `items` (rows of items without a photo are zeros). */
  image?: { vectors: Float32Array; dim: number };
  onProgress?: (stage: string) => void;
}

export const REAL_SHOP_BASELINES = ['popularity', 'popularityWeek', 'repurchase', 'repurchaseVariants', 'als', 'attributeProfile'] as const;
export type RealShopBaseline = (typeof REAL_SHOP_BASELINES)[number];
export type RealShopModel = 'served' | RealShopBaseline;

export interface RankingMetrics {
  map12: number;
  recall12: number;
  ndcg12: number;
  hr12: number;
  /** Users the means are over. */
  users: number;
}

export interface RealShopModelResult {
  all: RankingMetrics;
  /** Test customers with at least one event before the cut. */
  withHistory: RankingMetrics;
  /** Share of hits (user, item) that the customer had not bought before the cut. */
  newHitShare: number;
  hits: number;
}

export interface RealShopEvalResult {
  protocol: string;
  window: { cut: string; end: string; days: number };
  counts: {
    catalogAtCut: number;
    trainEvents: number;
    testCustomers: number;
    testCustomersWithHistory: number;
    testPurchases: number;
    /** Test (customer, item) pairs whose item had not sold by the cut: no model can hit them. */
    unreachablePairs: number;
    testPairs: number;
  };
  models: Partial<Record<RealShopModel, RealShopModelResult>>;
  /** The ALS settings the tuning window chose. */
  alsTuned?: { factors: number; regularization: number; alpha: number; tuningMap12: number };
  /** The served ranker's list for every test customer (item ids, best first). */
  served: { customer: string; items: string[] }[];
  /** The served ranker's re-ranker as fitted (features and weights), for the note. */
  rerank: { features: string[]; weights: number[]; kept: boolean | null };
  fit: FashionFit;
}

/** Kaggle's MAP@k term for one customer: Σ precision at each hit, over min(|relevant|, k). */
export function averagePrecision(list: ArrayLike<number>, relevant: ReadonlySet<number>, k: number): number {
  if (relevant.size === 0) return 0;
  let hits = 0;
  let sum = 0;
  const seen = new Set<number>();
  for (let r = 0; r < Math.min(k, list.length); r++) {
    const item = list[r]!;
    if (seen.has(item)) continue;
    seen.add(item);
    if (relevant.has(item)) {
      hits++;
      sum += hits / (r + 1);
    }
  }
  return sum / Math.min(relevant.size, k);
}

/** MAP, Recall, NDCG and HR at k over the given customers' lists. */
export function rankingMetrics(lists: readonly ArrayLike<number>[], relevant: readonly ReadonlySet<number>[], k: number): RankingMetrics {
  let map = 0;
  let recall = 0;
  let ndcg = 0;
  let hr = 0;
  lists.forEach((list, u) => {
    const rel = relevant[u]!;
    map += averagePrecision(list, rel, k);
    let hits = 0;
    let dcg = 0;
    for (let r = 0; r < Math.min(k, list.length); r++) {
      if (rel.has(list[r]!)) {
        hits++;
        dcg += 1 / Math.log2(r + 2);
      }
    }
    let ideal = 0;
    for (let r = 0; r < Math.min(rel.size, k); r++) ideal += 1 / Math.log2(r + 2);
    recall += rel.size > 0 ? hits / rel.size : 0;
    ndcg += ideal > 0 ? dcg / ideal : 0;
    hr += hits > 0 ? 1 : 0;
  });
  const n = lists.length || 1;
  return { map12: map / n, recall12: recall / n, ndcg12: ndcg / n, hr12: hr / n, users: lists.length };
}

/** The catalog as it stood at `cut`: the items with at least one event before it, in `items` order. */
export function catalogAtCut(items: readonly CatalogItem[], events: readonly InteractionEvent[], cut: number): CatalogItem[] {
  const sold = new Set<string>();
  for (const e of events) if (e.timestamp < cut) sold.add(e.itemId);
  return items.filter((item) => sold.has(item.id));
}

export async function evaluateRealShop(input: RealShopEvalInput): Promise<RealShopEvalResult> {
  const days = input.days ?? 28;
  const k = REAL_SHOP_K;
  const cut = input.cut;
  const end = cut + days * DAY_MS;
  const progress = (stage: string) => input.onProgress?.(stage);

  const allRows = new Map(input.items.map((item, i) => [item.id, i]));
  const items = catalogAtCut(input.items, input.events, cut);
  if (items.length === 0) throw new Error(`evaluateRealShop: no item has an event before the cut ${new Date(cut).toISOString()}`);
  const rowOf = new Map(items.map((item, i) => [item.id, i]));
  const userIndex = new Map<string, number>();
  const train: IndexedEvent[] = [];
  for (const e of input.events) {
    if (e.timestamp >= cut) continue;
    const item = rowOf.get(e.itemId);
    if (item === undefined) continue;
    if (!userIndex.has(e.userId)) userIndex.set(e.userId, userIndex.size);
    train.push({ user: userIndex.get(e.userId)!, item, type: e.type, at: e.timestamp });
  }
  train.sort((a, b) => a.at - b.at);
  const nUsers = userIndex.size;
  const historyOf: IndexedEvent[][] = Array.from({ length: nUsers }, () => []);
  for (const e of train) historyOf[e.user]!.push(e);

  // Test customers and what they bought (ids, so items unknown at the cut still count).
  const boughtIn = new Map<string, Set<string>>();
  let testPurchases = 0;
  for (const e of input.events) {
    if (e.type !== 'purchase' || e.timestamp < cut || e.timestamp >= end || !allRows.has(e.itemId)) continue;
    testPurchases++;
    let set = boughtIn.get(e.userId);
    if (!set) boughtIn.set(e.userId, (set = new Set()));
    set.add(e.itemId);
  }
  const customers = [...boughtIn.keys()].sort();
  if (customers.length === 0) throw new Error(`evaluateRealShop: nobody bought between ${new Date(cut).toISOString()} and ${new Date(end).toISOString()}`);
  // Relevant sets in the cut catalog's rows; an item it lacks gets a negative id that no list holds.
  let unreachablePairs = 0;
  let testPairs = 0;
  const relevant = customers.map((c) => {
    const set = new Set<number>();
    let missing = 0;
    for (const id of boughtIn.get(c)!) {
      testPairs++;
      const row = rowOf.get(id);
      if (row === undefined) {
        unreachablePairs++;
        set.add(-1 - missing++);
      } else set.add(row);
    }
    return set;
  });
  const historyRows = customers.map((c) => {
    const u = userIndex.get(c);
    return u === undefined ? [] : historyOf[u]!;
  });

  progress('fit');
  const content = ContentModel.fit(items, { ...input.content });
  const contentVectors = { vectors: content.embedItems(items), dim: content.dim };
  const image = input.image ? restrictRows(input.image, items.map((item) => allRows.get(item.id)!)) : undefined;
  const fit = fitFashion({
    items,
    events: train,
    nUsers,
    content: contentVectors,
    image,
    options: { ...realLogFitOptions(days), ...input.fit },
  });

  progress('served');
  const lists: Partial<Record<RealShopModel, Int32Array[]>> = {};
  const engine = fashionEngine(fit, items);
  const served: Int32Array[] = [];
  const servedIds: RealShopEvalResult['served'] = [];
  for (const [u, history] of historyRows.entries()) {
    const request = batchFeedRequest(asHistory(history, items), cut, k);
    const response = await engine.feed(request);
    served.push(Int32Array.from(response.items, (r) => rowOf.get(r.itemId)!));
    servedIds.push({ customer: customers[u]!, items: response.items.map((r) => r.itemId) });
  }
  engine.dispose();
  lists.served = served;

  const baselines = new Set(input.baselines ?? REAL_SHOP_BASELINES);
  const n = items.length;
  const purchaseCounts = (from: number) => {
    const counts = new Float32Array(n);
    for (const e of train) if (e.at >= from && e.type === 'purchase') counts[e.item]!++;
    return counts;
  };
  const popAll = rankTopK(purchaseCounts(-Infinity), null, 200);
  // Ties in a sparse last week are broken by all-time sales.
  const weekScores = purchaseCounts(cut - 7 * DAY_MS);
  const allScores = purchaseCounts(-Infinity);
  const week = rankTopK(Float32Array.from(weekScores, (w, i) => w * 1e6 + allScores[i]!), null, 200);
  if (baselines.has('popularity')) lists.popularity = historyRows.map(() => popAll.subarray(0, k));
  if (baselines.has('popularityWeek')) lists.popularityWeek = historyRows.map(() => week.subarray(0, k));
  if (baselines.has('repurchase') || baselines.has('repurchaseVariants')) {
    const groupRows = new Map<string, number[]>();
    items.forEach((item, row) => {
      if (item.variantGroup === undefined) return;
      const rows = groupRows.get(item.variantGroup);
      if (rows) rows.push(row);
      else groupRows.set(item.variantGroup, [row]);
    });
    for (const rows of groupRows.values()) rows.sort((a, b) => allScores[b]! - allScores[a]! || a - b);
    const build = (variants: boolean) =>
      historyRows.map((history) => {
        const out: number[] = [];
        const seen = new Set<number>();
        const add = (row: number) => {
          if (!seen.has(row) && out.length < k) {
            seen.add(row);
            out.push(row);
          }
        };
        const bought = [...history].filter((e) => e.type === 'purchase').sort((a, b) => b.at - a.at);
        for (const e of bought) add(e.item);
        if (variants) {
          for (const e of bought) {
            const g = items[e.item]!.variantGroup;
            for (const row of g === undefined ? [] : groupRows.get(g)!) add(row);
          }
        }
        for (const row of week) add(row);
        return Int32Array.from(out);
      });
    if (baselines.has('repurchase')) lists.repurchase = build(false);
    if (baselines.has('repurchaseVariants')) lists.repurchaseVariants = build(true);
  }
  let alsTuned: RealShopEvalResult['alsTuned'];
  if (baselines.has('als')) {
    progress('als');
    const tuned = tuneAls(train, nUsers, n, cut, days);
    alsTuned = tuned;
    lists.als = alsLists(train, nUsers, n, historyRows, tuned, k, week);
  }
  if (baselines.has('attributeProfile')) {
    const d = contentVectors.dim;
    const v = contentVectors.vectors;
    lists.attributeProfile = historyRows.map((history) => {
      if (history.length === 0) return week.subarray(0, k);
      const profile = new Float32Array(d);
      for (const e of history) {
        const w = Math.pow(0.5, (cut - e.at) / (30 * DAY_MS));
        for (let a = 0; a < d; a++) profile[a]! += w * v[e.item * d + a]!;
      }
      const scores = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let a = 0; a < d; a++) s += v[i * d + a]! * profile[a]!;
        scores[i] = s;
      }
      return rankTopK(scores, new Set(history.map((e) => e.item)), k);
    });
  }

  const models: RealShopEvalResult['models'] = {};
  const withHistory = historyRows.map((h, u) => (h.length > 0 ? u : -1)).filter((u) => u >= 0);
  for (const [name, modelLists] of Object.entries(lists) as [RealShopModel, Int32Array[]][]) {
    let hits = 0;
    let fresh = 0;
    modelLists.forEach((list, u) => {
      const had = new Set(historyRows[u]!.filter((e) => e.type === 'purchase').map((e) => e.item));
      for (const row of new Set(list.subarray(0, k))) {
        if (!relevant[u]!.has(row)) continue;
        hits++;
        if (!had.has(row)) fresh++;
      }
    });
    models[name] = {
      all: rankingMetrics(modelLists, relevant, k),
      withHistory: rankingMetrics(
        withHistory.map((u) => modelLists[u]!),
        withHistory.map((u) => relevant[u]!),
        k,
      ),
      newHitShare: hits > 0 ? fresh / hits : 0,
      hits,
    };
  }

  return {
    protocol: REAL_SHOP_EVAL_PROTOCOL,
    window: { cut: new Date(cut).toISOString(), end: new Date(end).toISOString(), days },
    counts: {
      catalogAtCut: items.length,
      trainEvents: train.length,
      testCustomers: customers.length,
      testCustomersWithHistory: withHistory.length,
      testPurchases,
      unreachablePairs,
      testPairs,
    },
    models,
    served: servedIds,
    ...(alsTuned ? { alsTuned } : {}),
    rerank: { features: [...fit.rerank.features], weights: [...fit.rerank.weights], kept: fit.rerankCheck?.kept ?? null },
    fit,
  };
}

function asHistory(history: readonly IndexedEvent[], items: readonly CatalogItem[]): HistoryEvent[] {
  return history.map((e) => ({ itemId: items[e.item]!.id, type: e.type, at: e.at }));
}

function restrictRows(m: { vectors: Float32Array; dim: number }, rows: readonly number[]): { vectors: Float32Array; dim: number } {
  const out = new Float32Array(rows.length * m.dim);
  rows.forEach((row, k) => out.set(m.vectors.subarray(row * m.dim, (row + 1) * m.dim), k * m.dim));
  return { vectors: out, dim: m.dim };
}

interface AlsSettings {
  factors: number;
  regularization: number;
  alpha: number;
}

const ALS_GRID: AlsSettings[] = [16, 32, 64].flatMap((factors) => [0.1, 1].flatMap((regularization) => [1, 10].map((alpha) => ({ factors, regularization, alpha }))));

/**
 * Implicit ALS (binary purchases, confidence 1 + α) with already-bought items left out, as
 * `implicit`'s recommend does by default; settings chosen by MAP@12 on the `days` before the cut,
 * training on the events before that.
 */
function tuneAls(train: readonly IndexedEvent[], nUsers: number, nItems: number, cut: number, days: number): AlsSettings & { tuningMap12: number } {
  const tuneCut = cut - days * DAY_MS;
  const early = train.filter((e) => e.at < tuneCut);
  const later = new Map<number, Set<number>>();
  for (const e of train) {
    if (e.at < tuneCut || e.type !== 'purchase') continue;
    let set = later.get(e.user);
    if (!set) later.set(e.user, (set = new Set()));
    set.add(e.item);
  }
  const users = [...later.keys()].sort((a, b) => a - b);
  const historyOf: IndexedEvent[][] = Array.from({ length: nUsers }, () => []);
  for (const e of early) historyOf[e.user]!.push(e);
  let best: AlsSettings & { tuningMap12: number } = { ...ALS_GRID[0]!, tuningMap12: -1 };
  if (early.length === 0 || users.length === 0) return { ...best, tuningMap12: 0 };
  const fallback = rankTopK(new Float32Array(nItems), null, REAL_SHOP_K);
  for (const settings of ALS_GRID) {
    const lists = alsLists(early, nUsers, nItems, users.map((u) => historyOf[u]!), settings, REAL_SHOP_K, fallback);
    const map = rankingMetrics(lists, users.map((u) => later.get(u)!), REAL_SHOP_K).map12;
    if (map > best.tuningMap12) best = { ...settings, tuningMap12: map };
  }
  return best;
}

function alsLists(
  train: readonly IndexedEvent[],
  nUsers: number,
  nItems: number,
  histories: readonly (readonly IndexedEvent[])[],
  settings: AlsSettings,
  k: number,
  fallback: Int32Array,
): Int32Array[] {
  const m = toCsr(
    nUsers,
    nItems,
    Int32Array.from(train, (e) => e.user),
    Int32Array.from(train, (e) => e.item),
    Float32Array.from(train, () => 1),
  );
  // Binary feedback: a repeated purchase is one entry.
  for (let j = 0; j < m.values.length; j++) m.values[j] = 1;
  const model = fitAls(m, { factors: settings.factors, regularization: settings.regularization, alpha: settings.alpha, iterations: 10, seed: 1, skipFinalUsers: true });
  const f = settings.factors;
  const gram = itemGram(model.itemFactors, f, settings.regularization);
  const scores = new Float32Array(nItems);
  return histories.map((history) => {
    if (history.length === 0) return fallback.subarray(0, k);
    const rows = Int32Array.from(new Set(history.map((e) => e.item)));
    const x = foldIn(model.itemFactors, f, rows, Float32Array.from(rows, () => 1), { alpha: settings.alpha, regularization: settings.regularization, gram });
    for (let i = 0; i < nItems; i++) {
      let s = 0;
      for (let a = 0; a < f; a++) s += model.itemFactors[i * f + a]! * x[a]!;
      scores[i] = s;
    }
    return rankTopK(scores, new Set(rows), k);
  });
}

/** The default test window: the last `days` days of the log, ending the day after its last event (UTC). */
export function lastWindowCut(events: readonly InteractionEvent[], days = 28): number {
  let latest = -Infinity;
  for (const e of events) latest = Math.max(latest, e.timestamp);
  return Math.floor(latest / DAY_MS) * DAY_MS + DAY_MS - days * DAY_MS;
}

/**
 * What a real-shop figure was measured on, as one string (protocol, catalog content hash, events,
 * window): versions whose strings are equal were evaluated on the same split.
 */
export function realShopFingerprint(input: { catalogContentHash: string; events: readonly InteractionEvent[]; cut: number; days: number }): string {
  return [REAL_SHOP_EVAL_PROTOCOL, `catalog=${input.catalogContentHash}`, `events=sha256:${eventsDigest(input.events)}`, `cut=${new Date(input.cut).toISOString()}`, `days=${input.days}`].join(';');
}

/** Flat numbers for the registry gate: the served ranker's `map12`… and `<baseline>.<metric>` beside them. */
export function realShopMetrics(result: RealShopEvalResult): Record<string, number> {
  const metrics: Record<string, number> = {};
  for (const [model, r] of Object.entries(result.models)) {
    const prefix = model === 'served' ? '' : `${model}.`;
    for (const name of ['map12', 'recall12', 'ndcg12', 'hr12'] as const) metrics[`${prefix}${name}`] = r.all[name];
    metrics[`${prefix}map12WithHistory`] = r.withHistory.map12;
    metrics[`${prefix}newHitShare`] = r.newHitShare;
  }
  metrics['eval.testCustomers'] = result.counts.testCustomers;
  metrics['eval.catalogAtCut'] = result.counts.catalogAtCut;
  return metrics;
}

/**
 * Whether the log supports the protocol at `cut`: events before the tuning window (so something
 * trains), and at least one purchase in the test window.
 */
export function hasTemporalSplit(events: readonly InteractionEvent[], cut: number, days: number): boolean {
  let before = false;
  let bought = false;
  for (const e of events) {
    if (e.timestamp < cut - days * DAY_MS) before = true;
    else if (e.timestamp >= cut && e.type === 'purchase') bought = true;
    if (before && bought) return true;
  }
  return false;
}
