/**
 * Offline evaluation of the fashion ranker on shopper events (simulated for the fashion catalogs,
 * which have no interaction log: every figure from them is "simulated").
 *
 * Protocol:
 * - Cold slice: a seeded share of the items that have events become cold — all their events are
 *   held out, so no model trains on them.
 * - Time-based split per shopper: of each shopper's remaining events in time order, the last
 *   `testShare` are the test period (shoppers with fewer than 3 events stay in training only).
 * - Each test shopper's feed is what a device would show them: the fitted model is packed as the
 *   trainer publishes it (q8 item vectors and image embeddings, models/hybrid/fashion-pack.ts),
 *   decoded as the device decodes it, and ranked by the device's engine
 *   (models/recommend/engine.ts `RecommenderEngine.feed`: fold-in of their training events at the
 *   time of their last one, every item scored, candidates, re-rank, MMR at diversity 0) with their
 *   training items left out. The relevant items are the other items they touch in the test period
 *   or on cold items. NDCG@10 and Recall@20 as RecBole defines them, catalog coverage@10 and
 *   novelty@10 as Microsoft Recommenders do.
 * - Cold AUC: per shopper with cold-item events, the chance that a cold item they touched scores
 *   above a cold item they did not (ties count half), averaged (LightFM's cold-start AUC).
 * - Personalisation: per persona, the share of the top 20 whose article type (and colour) is one
 *   of the persona's, in the engine's new-shopper feed and in its feed after its training history.
 * - The split depends on `seed` alone, never on the model's seed, so models trained with different
 *   seeds are compared on the same held-out events.
 *
 * Models: the hybrid with its re-ranker (what the device serves) and the hybrid score alone, both
 * through the engine; pure collaborative filtering (the ALS vectors, cold items all zero) and
 * popularity, ranked directly.
 */
import { createHash } from 'node:crypto';
import type { CatalogItem, InteractionEvent } from '../../models/catalog/item';
import { alsLoss, foldIn, itemGram } from '../../models/cf/als';
import { catalogCoverage, novelty, recboleMetrics } from '../../models/eval/metrics';
import { rankTopK } from '../../models/eval/rank';
import { eventsByUser, fitEventWeight, fitFashion } from '../../models/hybrid/fashion-fit';
import type { FashionFit, FashionFitOptions } from '../../models/hybrid/fashion-fit';
import { hybridDefaults, weightedMatrix } from '../../models/hybrid/fashion-hybrid';
import type { IndexedEvent } from '../../models/hybrid/fashion-hybrid';
import { fashionPack } from '../../models/hybrid/fashion-pack';
import { SeededRandom } from '../../models/random';
import { decodePack, RecommenderEngine } from '../../models/recommend/engine';
import type { EngineItem } from '../../models/recommend/engine';
import { decodeQ8, encodeQ8 } from '../../models/recommend/pack';
import { jsScorer } from '../../models/recommend/scorer';
import type { Scorer } from '../../models/recommend/scorer';
import type { FeedRequest, HistoryEvent } from '../../models/recommend/types';

export interface PersonaLike {
  user: string;
  articleTypes: string[];
  colours: string[];
}

export interface FashionEvalInput {
  items: readonly CatalogItem[];
  events: readonly InteractionEvent[];
  /** The simulated shoppers' preferences, for the personalisation check. */
  personas?: readonly PersonaLike[];
  content: { vectors: Float32Array; dim: number };
  /** Image embeddings aligned to `items`; `encoder` (`image-encoder@N`) only labels the pack. */
  image?: { vectors: Float32Array; dim: number; encoder?: string };
  options?: FashionEvalOptions;
  onProgress?: (stage: string) => void;
}

export interface FashionEvalOptions {
  fit?: FashionFitOptions;
  /** Share of each shopper's events in the test period (default 0.2). */
  testShare?: number;
  /** Share of the items with events made cold (default 0.1). */
  coldShare?: number;
  /** At most this many test shoppers are scored (default all). */
  maxUsers?: number;
  /** Seeds the split (cold items, sampled test shoppers); independent of the model's `fit.seed` (default 42). */
  seed?: number;
  /** How the served model's vectors reach the engine: `q8` as the trainer publishes them (default), or `f32`. */
  packEncoding?: 'q8' | 'f32';
  /** Where the engine's arithmetic runs (default the plain-JS scorer). */
  scorer?: Scorer;
}

/** Version of the protocol above: figures under different versions are not comparable. */
export const FASHION_EVAL_PROTOCOL = 'fashion-eval/2';
const DEFAULT_TEST_SHARE = 0.2;
const DEFAULT_COLD_SHARE = 0.1;

/**
 * What a figure from {@link evaluateFashion} was measured on, as one string: the protocol, the
 * catalog's content hash, the sha256 of the events (in the order given), the split seed and
 * shares. Two versions with the same string were evaluated on the same held-out events.
 */
export function evaluationFingerprint(input: {
  catalogContentHash: string;
  events: readonly InteractionEvent[];
  seed: number;
  testShare?: number;
  coldShare?: number;
}): string {
  return [
    FASHION_EVAL_PROTOCOL,
    `catalog=${input.catalogContentHash}`,
    `events=sha256:${eventsDigest(input.events)}`,
    `seed=${input.seed}`,
    `testShare=${input.testShare ?? DEFAULT_TEST_SHARE}`,
    `coldShare=${input.coldShare ?? DEFAULT_COLD_SHARE}`,
  ].join(';');
}

/** sha256 (hex) of the events in the order given: names the data a figure was measured on. */
export function eventsDigest(events: readonly InteractionEvent[]): string {
  const hash = createHash('sha256');
  let chunk = '';
  for (const e of events) {
    chunk += `${e.userId}\t${e.itemId}\t${e.type}\t${e.timestamp}\t${e.weight ?? 1}\n`;
    if (chunk.length > 1 << 16) {
      hash.update(chunk);
      chunk = '';
    }
  }
  hash.update(chunk);
  return hash.digest('hex');
}

export interface FashionEngineOptions {
  /** `q8` (default, as published) or `f32`. */
  encoding?: 'q8' | 'f32';
  /** Serve the hybrid score alone (no learned re-ranker). */
  scoreOnly?: boolean;
  scorer?: Scorer;
  /** Candidates before re-ranking (default 100, as the fit's re-ranker trains). */
  candidates?: number;
  /** Label of the image embeddings' encoder (`image-encoder@N`) in the pack. */
  imageEncoder?: string;
}

/**
 * The device's engine on `fit`: the fit packed as the trainer publishes it, decoded as the device
 * decodes it. @param items the fit's item rows, in order.
 */
export function fashionEngine(fit: FashionFit, items: readonly EngineItem[], options: FashionEngineOptions = {}): RecommenderEngine {
  const { meta, files } = fashionPack(fit, {
    itemIds: items.map((item) => item.id),
    catalog: { version: 1, contentHash: 'evaluation' },
    encoding: options.encoding ?? 'q8',
    ...(fit.image ? { imageEncoder: options.imageEncoder ?? 'image-encoder@0' } : {}),
  });
  if (options.scoreOnly) meta.rerank = { features: [], weights: [], bias: 0 };
  const pack = decodePack(meta, (name) => files.get(name));
  return new RecommenderEngine({ pack, catalog: items, scorer: options.scorer ?? jsScorer() }, { candidates: options.candidates ?? 100, cacheSize: 1 });
}

export const EVAL_MODELS = ['hybrid', 'hybridScore', 'cf', 'popularity'] as const;
export type EvalModel = (typeof EVAL_MODELS)[number];

export interface FashionEvalResult {
  /** Flat numbers: `ndcg10`, `recall20`, `coldAuc`… for the served hybrid, `<model>.<metric>` for the others. */
  metrics: Record<string, number>;
  perModel: Record<EvalModel, { ndcg10: number; recall20: number; coverage10: number; novelty10: number; coldAuc: number }>;
  personalisation?: { typeShareBefore: number; typeShareAfter: number; typeColourShareBefore: number; typeColourShareAfter: number; personas: number };
  /** ALS objective after each sweep (falls) and the re-ranker's log-loss after each Newton step. */
  alsLosses: number[];
  rerankLosses: number[];
  fit: FashionFit;
  counts: { users: number; testUsers: number; trainEvents: number; testEvents: number; coldItems: number; coldUsers: number; unknownItemEvents: number };
}

/** AUC of `scores` over `items` with `positives` (ties count half); undefined without both classes. */
export function aucOver(scores: ArrayLike<number>, items: readonly number[], positives: Set<number>): number | undefined {
  const ranked = items.map((i) => ({ s: scores[i]!, pos: positives.has(i) }));
  const nPos = ranked.filter((r) => r.pos).length;
  const nNeg = ranked.length - nPos;
  if (nPos === 0 || nNeg === 0) return undefined;
  ranked.sort((a, b) => a.s - b.s);
  // Mann–Whitney U with average ranks for ties.
  let rankSum = 0;
  for (let start = 0; start < ranked.length; ) {
    let end = start;
    while (end + 1 < ranked.length && ranked[end + 1]!.s === ranked[start]!.s) end++;
    const avg = (start + end) / 2 + 1;
    for (let j = start; j <= end; j++) if (ranked[j]!.pos) rankSum += avg;
    start = end + 1;
  }
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

export async function evaluateFashion(input: FashionEvalInput): Promise<FashionEvalResult> {
  const o = input.options ?? {};
  const testShare = o.testShare ?? DEFAULT_TEST_SHARE;
  const coldShare = o.coldShare ?? DEFAULT_COLD_SHARE;
  const random = new SeededRandom(o.seed ?? 42);
  const items = input.items;
  const itemIndex = new Map(items.map((item, i) => [item.id, i]));
  const userIndex = new Map<string, number>();
  const indexed: IndexedEvent[] = [];
  let unknownItemEvents = 0;
  for (const e of input.events) {
    const item = itemIndex.get(e.itemId);
    if (item === undefined) {
      unknownItemEvents++;
      continue;
    }
    if (!userIndex.has(e.userId)) userIndex.set(e.userId, userIndex.size);
    indexed.push({ user: userIndex.get(e.userId)!, item, type: e.type, at: e.timestamp });
  }
  const nUsers = userIndex.size;
  if (nUsers === 0) throw new Error('evaluateFashion: no events on catalog items');

  // Cold items: all their events held out.
  const withEvents = [...new Set(indexed.map((e) => e.item))].sort((a, b) => a - b);
  const order = Int32Array.from(withEvents);
  random.shuffle(order);
  const cold = new Set(order.subarray(0, Math.round(order.length * coldShare)));
  const coldList = [...cold].sort((a, b) => a - b);

  const train: IndexedEvent[] = [];
  const test: IndexedEvent[] = [];
  const coldEvents: IndexedEvent[] = [];
  eventsByUser(indexed, nUsers).forEach((events) => {
    const warm = events.filter((e) => !cold.has(e.item));
    coldEvents.push(...events.filter((e) => cold.has(e.item)));
    if (warm.length < 3) {
      train.push(...warm);
      return;
    }
    const cut = warm.length - Math.max(1, Math.round(warm.length * testShare));
    train.push(...warm.slice(0, cut));
    test.push(...warm.slice(cut));
  });

  input.onProgress?.('fit');
  // The same weighted matrix the hybrid fits on, to record the ALS objective per sweep.
  const lossMatrix = weightedMatrix(train, nUsers, items.length, hybridDefaults(o.fit));
  const alsLosses: number[] = [];
  const fit = fitFashion({
    items,
    events: train,
    nUsers,
    content: input.content,
    image: input.image,
    options: o.fit,
    onIteration: (_, model) => alsLosses.push(alsLoss(model, lossMatrix)),
  });

  input.onProgress?.('score');
  const trainBy = eventsByUser(train, nUsers);
  const relevantBy = new Map<number, Set<number>>();
  for (const e of [...test, ...coldEvents]) {
    const seen = trainBy[e.user]!;
    if (seen.length === 0 || seen.some((s) => s.item === e.item)) continue;
    if (!relevantBy.has(e.user)) relevantBy.set(e.user, new Set());
    relevantBy.get(e.user)!.add(e.item);
  }
  const coldPositives = new Map<number, Set<number>>();
  for (const e of coldEvents) {
    if (trainBy[e.user]!.length === 0) continue;
    if (!coldPositives.has(e.user)) coldPositives.set(e.user, new Set());
    coldPositives.get(e.user)!.add(e.item);
  }
  let testUsers = [...new Set([...relevantBy.keys(), ...coldPositives.keys()])].sort((a, b) => a - b);
  if (o.maxUsers !== undefined && testUsers.length > o.maxUsers) {
    const shuffled = Int32Array.from(testUsers);
    random.shuffle(shuffled);
    testUsers = [...shuffled.subarray(0, o.maxUsers)].sort((a, b) => a - b);
  }

  const nItems = items.length;
  const f = fit.hybrid.factors;
  const engineOptions: FashionEngineOptions = {
    encoding: o.packEncoding ?? 'q8',
    scorer: o.scorer,
    candidates: o.fit?.candidates ?? 100,
    ...(input.image?.encoder ? { imageEncoder: input.image.encoder } : {}),
  };
  const served = fashionEngine(fit, items, engineOptions);
  const scoreOnly = fashionEngine(fit, items, { ...engineOptions, scoreOnly: true });
  // The cold AUC needs every cold item's score: the engine's fold-in on the vectors it serves.
  const servedFactors = decodePackedFactors(fit, engineOptions.encoding!);
  const servedGram = itemGram(servedFactors, f, fit.hybrid.foldIn.regularization);
  const cfGram = itemGram(fit.hybrid.cfFactors, f, fit.hybrid.foldIn.regularization);
  const popScores = new Float32Array(nItems);
  for (const e of train) popScores[e.item]! += fit.hybrid.foldIn.eventWeights[e.type];
  const itemCounts = new Float64Array(nItems);
  for (const e of train) itemCounts[e.item]!++;
  const rowOf = new Map(items.map((item, i) => [item.id, i]));
  const feedRows = async (engine: RecommenderEngine, request: FeedRequest): Promise<Int32Array> =>
    Int32Array.from((await engine.feed(request)).items, (r) => rowOf.get(r.itemId)!);
  const asHistory = (events: readonly IndexedEvent[]): HistoryEvent[] => events.map((e) => ({ itemId: items[e.item]!.id, type: e.type, at: e.at }));

  const lists: Record<EvalModel, (Int32Array | null)[]> = { hybrid: [], hybridScore: [], cf: [], popularity: [] };
  const relevant: (Set<number> | null)[] = [];
  const aucs: Record<EvalModel, number[]> = { hybrid: [], hybridScore: [], cf: [], popularity: [] };
  for (const u of testUsers) {
    const history = trainBy[u]!;
    const now = history[history.length - 1]!.at;
    const exclude = new Set(history.map((e) => e.item));
    const rel = relevantBy.get(u) ?? null;
    relevant.push(rel);
    // The device's feed, leaving out every training item (the protocol's "unseen items"), not only purchases.
    const request: FeedRequest = {
      history: asHistory(history),
      now,
      k: 20,
      diversity: 0,
      filters: { excludePurchased: false, excludeItemIds: [...exclude].map((i) => items[i]!.id) },
    };
    lists.hybrid.push(await feedRows(served, request));
    lists.hybridScore.push(await feedRows(scoreOnly, request));
    const rows = Int32Array.from(history, (h) => h.item);
    const weights = Float32Array.from(history, (h) => fitEventWeight(fit, h.type, h.at, now));
    const cfUser = foldIn(fit.hybrid.cfFactors, f, rows, weights, { ...fit.hybrid.foldIn, gram: cfGram });
    const cfScores = scoreAll(fit.hybrid.cfFactors, f, cfUser);
    lists.cf.push(rankTopK(cfScores, exclude, 20));
    lists.popularity.push(rankTopK(popScores, exclude, 20));
    const positives = coldPositives.get(u);
    if (positives) {
      const pool = coldList.filter((i) => !exclude.has(i));
      const hybridScores = scoreAll(servedFactors, f, foldIn(servedFactors, f, rows, weights, { ...fit.hybrid.foldIn, gram: servedGram }));
      const h = aucOver(hybridScores, pool, positives);
      if (h !== undefined) {
        aucs.hybrid.push(h);
        aucs.hybridScore.push(h);
        aucs.cf.push(aucOver(cfScores, pool, positives)!);
        aucs.popularity.push(aucOver(popScores, pool, positives)!);
      }
    }
  }

  const mean = (v: number[]) => (v.length > 0 ? v.reduce((s, x) => s + x, 0) / v.length : Number.NaN);
  const top10 = (l: (Int32Array | null)[]) => l.map((x) => (x ? x.subarray(0, 10) : null));
  const perModel = {} as FashionEvalResult['perModel'];
  for (const model of EVAL_MODELS) {
    perModel[model] = {
      ndcg10: recboleMetrics(lists[model], relevant, 10).ndcg,
      recall20: recboleMetrics(lists[model], relevant, 20).recall,
      coverage10: catalogCoverage(top10(lists[model]), nItems),
      novelty10: novelty(top10(lists[model]), itemCounts),
      coldAuc: mean(aucs[model]),
    };
  }
  const metrics: Record<string, number> = {};
  for (const model of EVAL_MODELS) {
    for (const [name, value] of Object.entries(perModel[model])) metrics[model === 'hybrid' ? name : `${model}.${name}`] = value;
  }

  let personalisation: FashionEvalResult['personalisation'];
  if (input.personas && input.personas.length > 0) {
    // What the device shows: the new-shopper feed, then the feed after the training history (default filters).
    const popularTop = await feedRows(served, { history: [], now: train.reduce((t, e) => Math.max(t, e.at), 0), k: 20, diversity: 0 });
    const share = (list: Int32Array, p: PersonaLike, colour: boolean) =>
      list.length === 0
        ? 0
        : [...list].filter((i) => p.articleTypes.includes(items[i]!.articleType) && (!colour || p.colours.includes(items[i]!.colour))).length / list.length;
    const acc = { typeShareBefore: [] as number[], typeShareAfter: [] as number[], typeColourShareBefore: [] as number[], typeColourShareAfter: [] as number[] };
    for (const p of input.personas) {
      const u = userIndex.get(p.user);
      if (u === undefined || trainBy[u]!.length === 0) continue;
      const history = trainBy[u]!;
      const after = await feedRows(served, { history: asHistory(history), now: history[history.length - 1]!.at, k: 20, diversity: 0 });
      acc.typeShareBefore.push(share(popularTop, p, false));
      acc.typeShareAfter.push(share(after, p, false));
      acc.typeColourShareBefore.push(share(popularTop, p, true));
      acc.typeColourShareAfter.push(share(after, p, true));
    }
    personalisation = {
      typeShareBefore: mean(acc.typeShareBefore),
      typeShareAfter: mean(acc.typeShareAfter),
      typeColourShareBefore: mean(acc.typeColourShareBefore),
      typeColourShareAfter: mean(acc.typeColourShareAfter),
      personas: acc.typeShareAfter.length,
    };
    for (const [name, value] of Object.entries(personalisation)) metrics[`personal.${name}`] = value;
  }
  metrics['eval.testUsers'] = testUsers.length;
  metrics['eval.coldItems'] = cold.size;
  metrics['eval.coldUsers'] = aucs.hybrid.length;
  served.dispose();
  scoreOnly.dispose();

  return {
    metrics,
    perModel,
    personalisation,
    alsLosses,
    rerankLosses: fit.rerankLosses,
    fit,
    counts: {
      users: nUsers,
      testUsers: testUsers.length,
      trainEvents: train.length,
      testEvents: test.length,
      coldItems: cold.size,
      coldUsers: aucs.hybrid.length,
      unknownItemEvents,
    },
  };
}

/** The item vectors as the device decodes them from the pack (q8 round trip, or the float32 values). */
function decodePackedFactors(fit: FashionFit, encoding: 'q8' | 'f32'): Float32Array {
  const n = fit.hybrid.nItems;
  const f = fit.hybrid.factors;
  return encoding === 'q8' ? decodeQ8(encodeQ8(fit.hybrid.itemFactors, n, f), n, f) : fit.hybrid.itemFactors;
}

function scoreAll(m: Float32Array, f: number, x: Float32Array): Float32Array {
  const n = m.length / f;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let a = 0; a < f; a++) s += m[i * f + a]! * x[a]!;
    out[i] = s;
  }
  return out;
}
