/**
 * Everything the fashion ranker learns from one set of events, in one place so the trainer and the
 * evaluation fit exactly the same thing: the hybrid item vectors (fashion-hybrid.ts), the item
 * statistics (popularity, trending, freshness) and the learned re-ranker (fashion-rerank.ts), plus
 * {@link recommendForHistory}, the candidate → re-rank path scored with plain dot products.
 */
import type { CatalogItem, InteractionType } from '../catalog/item';
import { itemGram } from '../cf/als';
import type { AlsModel } from '../cf/als';
import { CONTENT_FIELDS, fieldToken } from '../content/content-model';
import type { ContentItem } from '../content/content-model';
import { rankTopK } from '../eval/rank';
import { SeededRandom } from '../random';
import { ITEM_STAT_COLUMNS, NEWNESS_HALF_LIFE_DAYS, RERANK_FEATURE_NAMES, TRENDING_DAYS, recentItems, rerankFeatures } from '../recommend/rerank-features';
import type { ItemStatColumn } from '../recommend/rerank-features';
import type { RerankContext } from '../recommend/rerank-features';
import { capPerVariantGroup, codeItems, historyCandidates, historyProfile, popularOrder } from '../recommend/history-profile';
import type { ItemCodes } from '../recommend/history-profile';
import { DAY_MS, eventWeight, fitHybrid, foldInHistory, hybridDefaults, itemFeatures } from './fashion-hybrid';
import type { HybridModel, HybridOptions, IndexedEvent } from './fashion-hybrid';
import { fitListwise, fitLogistic, linearScore } from './fashion-rerank';
import type { LinearRanker } from './fashion-rerank';

export type FitItem = ContentItem & Pick<CatalogItem, 'year' | 'variantGroup'>;

export interface FashionFitOptions extends HybridOptions {
  /** Candidates from the hybrid score that the re-ranker orders (default 100). */
  candidates?: number;
  /** Share of each shopper's (time-ordered) events that the re-ranker's training folds in; the rest are its positives (default 0.7). */
  rerankHistoryShare?: number;
  /** Shoppers sampled to train the re-ranker (default 2000). */
  rerankUsers?: number;
  /** Feature block weights of the ridge (attribute one-hots, content vector, image embedding). */
  featureWeights?: { attributes?: number; content?: number; image?: number };
  /** Fit no re-ranker: serve the hybrid score alone. */
  noRerank?: boolean;
  /**
   * How the re-ranker's training splits each shopper's events: `share` (default) by
   * `rerankHistoryShare`, or `time`: events before the last `rerankDays` days of the log are the
   * history and what shoppers bought in those days are the positives (a real log).
   */
  rerankSplit?: 'share' | 'time';
  /** The `time` split's window (default 28 days). */
  rerankDays?: number;
  /** How many consecutive `time` windows the re-ranker learns from (default 3). */
  rerankWindows?: number;
  /**
   * The re-ranker's objective: `pointwise` logistic regression over every candidate, or
   * `listwise`, a softmax over each shopper's candidates (fashion-rerank.ts `fitListwise`); by
   * default both are fitted and the one that orders the check shoppers' candidates better is kept.
   */
  rerankLoss?: 'pointwise' | 'listwise';
  /** With repeats: force (true) or forbid (false) the bought-first variant; by default the held-out shoppers decide. */
  rerankBoughtFirst?: boolean;
  /**
   * Items the shopper already has stay candidates and may be positives (a real shop's repeat
   * purchases), and the re-ranker gets the `repeat` feature; default false (the simulated
   * shoppers' protocol leaves seen items out).
   */
  repeats?: boolean;
}

/**
 * How a real shop's log trains: the re-ranker learns from consecutive `days`-day windows at the
 * end of the log (what shoppers bought next, repeats included, ranked at each window's start).
 */
export function realLogFitOptions(days = 28): FashionFitOptions {
  return { rerankSplit: 'time', rerankDays: days, repeats: true, rerankWindows: REAL_LOG_RERANK_WINDOWS };
}
/**
 * Chosen on the H&M sample's three 4-week windows before the benchmark's test windows: MAP@12
 * 0.0118 with 3 windows, 0.0129 with 8, 0.0128 with 12 (half-lives of 30 and 60 days, and 200
 * hybrid candidates, scored lower).
 */
const REAL_LOG_RERANK_WINDOWS = 8;

export interface FashionFit {
  hybrid: HybridModel;
  /** itemStats, shape [nItems, columns.length], float32. */
  stats: { values: Float32Array; columns: string[] };
  rerank: LinearRanker;
  /** Mean weighted log-loss of the re-ranker after each Newton step (falls). */
  rerankLosses: number[];
  /** Re-ranker training examples and positives. */
  rerankExamples: { examples: number; positives: number };
  /** The held-out check that decides whether the learned re-ranker is used (absent: not trained). */
  rerankCheck?: { learnedNdcg10: number; hybridNdcg10: number; kept: boolean; objective: 'pointwise' | 'listwise'; boughtFirst: boolean };
  /** Attribute one-hot columns of the ridge features. */
  attributeColumns: string[];
  /** Precomputed YᵀY + λI of `hybrid.itemFactors`, for fold-in. */
  gram: Float64Array;
  /** Content vectors and image embeddings (rows in item order) as the re-ranker reads them. */
  content: { vectors: Float32Array; dim: number };
  image?: { vectors: Float32Array; dim: number };
  /** Variant groups and profile attributes per item row (history-profile.ts). */
  codes: ItemCodes;
  /** The new-shopper order over `stats` (history-profile.ts `popularOrder`), a candidate source. */
  popularOrder: Int32Array;
  /** Whether history items are candidates (the re-ranker has a `repeat` feature). */
  repeats: boolean;
}

export interface FashionFitInput {
  items: readonly FitItem[];
  /** Training events (dense rows), any order. */
  events: readonly IndexedEvent[];
  nUsers: number;
  /** Content vectors, shape [items.length, dim], L2-normalised. */
  content: { vectors: Float32Array; dim: number };
  /** Image embeddings aligned to `items`, L2-normalised rows (zeros: no photo). */
  image?: { vectors: Float32Array; dim: number };
  options?: FashionFitOptions;
  /** ALS sweeps, for a loss curve. */
  onIteration?: (iteration: number, model: AlsModel) => void;
}

/** Attribute tokens of every item as column indices of a one-hot block. */
export function attributeColumns(items: readonly ContentItem[]): { columns: string[]; tokens: number[][] } {
  const index = new Map<string, number>();
  const tokens = items.map((item) => {
    const out: number[] = [];
    for (const field of CONTENT_FIELDS) {
      const token = fieldToken(field, item[field]);
      if (token === undefined) continue;
      if (!index.has(token)) index.set(token, index.size);
      out.push(index.get(token)!);
    }
    return out;
  });
  return { columns: [...index.keys()], tokens };
}

/**
 * popularity and trending: log(1 + Σ event weights) over all events / over the last
 * {@link TRENDING_DAYS} days before the latest event, each divided by its catalog maximum;
 * freshness: the year scaled to 0–1 over the catalog (0.5 when unknown); recentSales: the same
 * log-scaling of event weights halved every {@link TRENDING_DAYS} days before the latest event;
 * newness: 0.5^(days from the item's first event to the latest / {@link NEWNESS_HALF_LIFE_DAYS}).
 */
export function itemStats(items: readonly FitItem[], events: readonly IndexedEvent[], eventWeights: Record<InteractionType, number>): { values: Float32Array; columns: string[] } {
  const n = items.length;
  const columns = [...ITEM_STAT_COLUMNS];
  const width = columns.length;
  const pop = new Float64Array(n);
  const trend = new Float64Array(n);
  const decayed = new Float64Array(n);
  const first = new Float64Array(n).fill(Infinity);
  let latest = -Infinity;
  for (const e of events) latest = Math.max(latest, e.at);
  for (const e of events) {
    const w = eventWeights[e.type];
    pop[e.item]! += w;
    if (latest - e.at <= TRENDING_DAYS * DAY_MS) trend[e.item]! += w;
    decayed[e.item]! += w * Math.pow(0.5, (latest - e.at) / (TRENDING_DAYS * DAY_MS));
    first[e.item] = Math.min(first[e.item]!, e.at);
  }
  const years = items.map((item) => item.year).filter((y): y is number => typeof y === 'number' && Number.isFinite(y));
  const minYear = years.length > 0 ? Math.min(...years) : 0;
  const maxYear = years.length > 0 ? Math.max(...years) : 0;
  const scale = (v: Float64Array) => {
    let max = 0;
    for (const x of v) max = Math.max(max, Math.log1p(x));
    return (i: number) => (max > 0 ? Math.log1p(v[i]!) / max : 0);
  };
  const popScale = scale(pop);
  const trendScale = scale(trend);
  const decayedScale = scale(decayed);
  const values = new Float32Array(n * width);
  for (let i = 0; i < n; i++) {
    const year = items[i]!.year;
    const row: Record<ItemStatColumn, number> = {
      popularity: popScale(i),
      trending: trendScale(i),
      freshness: typeof year === 'number' && maxYear > minYear ? (year - minYear) / (maxYear - minYear) : 0.5,
      recentSales: decayedScale(i),
      newness: Number.isFinite(first[i]!) ? Math.pow(0.5, (latest - first[i]!) / (NEWNESS_HALF_LIFE_DAYS * DAY_MS)) : 0,
    };
    columns.forEach((c, k) => (values[i * width + k] = row[c]));
  }
  return { values, columns };
}

function baseFit(input: FashionFitInput, events: readonly IndexedEvent[], onIteration?: FashionFitInput['onIteration']) {
  const o = input.options ?? {};
  const attrs = attributeColumns(input.items);
  const features = itemFeatures(attrs.tokens, attrs.columns.length, input.content, input.image, o.featureWeights);
  const hybrid = fitHybrid(events, input.nUsers, input.items.length, features.values, features.dim, o, onIteration);
  const stats = itemStats(input.items, events, hybrid.foldIn.eventWeights);
  const gram = itemGram(hybrid.itemFactors, hybrid.factors, hybrid.foldIn.regularization);
  return { hybrid, stats, gram, attributeColumns: attrs.columns, popularOrder: popularOrder(stats.values, stats.columns, input.items.length).order };
}

/** Events grouped by user, each group in time order. */
export function eventsByUser(events: readonly IndexedEvent[], nUsers: number): IndexedEvent[][] {
  const groups: IndexedEvent[][] = Array.from({ length: nUsers }, () => []);
  for (const e of events) groups[e.user]!.push(e);
  for (const g of groups) g.sort((a, b) => a.at - b.at);
  return groups;
}

/**
 * Fits the hybrid, the statistics and the re-ranker. The re-ranker learns from simulated (or real)
 * sessions the way it is used: a model fitted on the first part of every shopper's events folds
 * each shopper in, proposes candidates, and the items the shopper turns to later are the positives.
 */
export function fitFashion(input: FashionFitInput): FashionFit {
  const o = input.options ?? {};
  const base = baseFit(input, input.events, input.onIteration);
  const fallback: LinearRanker = { features: ['hybridScore'], weights: [1], bias: 0 };
  const result: FashionFit = {
    ...base,
    rerank: fallback,
    rerankLosses: [],
    rerankExamples: { examples: 0, positives: 0 },
    content: input.content,
    image: input.image,
    codes: codeItems(input.items),
    repeats: o.repeats ?? false,
  };
  if (o.noRerank) return result;

  const byUser = eventsByUser(input.events, input.nUsers);
  const names = RERANK_FEATURE_NAMES.filter((name) => (name === 'visualSim' ? input.image !== undefined : REPEAT_FEATURES.has(name) ? result.repeats : true));
  const random = new SeededRandom(hybridDefaults(o).seed + 1);
  // Half the sampled shoppers of every split fit the re-ranker, the other half check it: it is kept
  // only when it orders their candidates better (NDCG@10) than the hybrid score alone, and then
  // refitted on both halves.
  const fitData = emptyExamples();
  const checkData = emptyExamples();
  for (const split of rerankSplits(byUser, o)) {
    const users = [...split.later.keys()];
    for (let i = users.length - 1; i > 0; i--) {
      const j = random.int(i + 1);
      [users[i], users[j]] = [users[j]!, users[i]!];
    }
    users.length = Math.min(users.length, o.rerankUsers ?? 2000);
    if (users.length === 0) continue;
    const innerFit: FashionFit = { ...result, ...baseFit(input, split.early) };
    const earlyByUser = eventsByUser(split.early, input.nUsers);
    const examples = (group: number[], into: Examples) => {
      const buf = new Float32Array(names.length);
      for (const u of group) {
        const history = earlyByUser[u]!;
        if (history.length === 0) continue;
        const now = split.now ?? history[history.length - 1]!.at;
        const ctx = rerankContext(innerFit, history, now);
        const exclude = result.repeats ? new Set<number>() : new Set(history.map((e) => e.item));
        const candidates = fitCandidates(innerFit, ctx, exclude, o.candidates ?? 100, result.repeats);
        const positives = split.later.get(u)!;
        for (const c of candidates) {
          rerankFeatures(ctx, c, names, buf);
          for (const v of buf) into.x.push(v);
          into.y.push(positives.has(c) ? 1 : 0);
        }
        into.sizes.push(candidates.length);
      }
    };
    examples(users.slice(0, Math.ceil(users.length / 2)), fitData);
    examples(users.slice(Math.ceil(users.length / 2)), checkData);
  }
  const train = packExamples(fitData);
  const positives = train.y.reduce((s, v) => s + v, 0);
  result.rerankExamples = { examples: train.y.length, positives };
  if (positives === 0 || positives === train.y.length) return result;
  const objectives = o.rerankLoss === undefined ? (['pointwise', 'listwise'] as const) : [o.rerankLoss];
  const learn = (objective: 'pointwise' | 'listwise', data: { x: Float32Array; y: Uint8Array; sizes: number[] }) =>
    objective === 'listwise' ? fitListwise(names, data.x, data.y, data.sizes) : fitLogistic(names, data.x, data.y);
  const check = packExamples(checkData);
  const plain = candidateNdcg(check, (row) => row[0]!);
  // Each objective fits on one half; the better on the other half (NDCG@10 of its candidates) is
  // kept. With repeats, each also competes with itself plus a bonus that lifts every item bought
  // before above the rest (what "repurchase first" rules do), in the order its other terms give.
  type Choice = { objective: 'pointwise' | 'listwise'; boughtFirst: boolean; ranker: LinearRanker; losses: number[]; ndcg: number };
  let best: Choice | undefined;
  for (const objective of objectives) {
    const fitted = learn(objective, train);
    const variants = !names.includes('bought') ? [false] : o.rerankBoughtFirst === undefined ? [false, true] : [o.rerankBoughtFirst];
    for (const boughtFirst of variants) {
      const ranker = boughtFirst ? withBoughtFirst(fitted.ranker) : fitted.ranker;
      const ndcg = candidateNdcg(check, (row) => linearScore(ranker, row));
      if (best === undefined || ndcg > best.ndcg) best = { objective, boughtFirst, ranker, losses: fitted.losses, ndcg };
    }
  }
  const chosen = best!;
  result.rerankLosses = chosen.losses;
  result.rerankCheck = { learnedNdcg10: chosen.ndcg, hybridNdcg10: plain, kept: chosen.ndcg > plain, objective: chosen.objective, boughtFirst: chosen.boughtFirst };
  if (chosen.ndcg > plain) {
    const both = packExamples({ x: [...fitData.x, ...checkData.x], y: [...fitData.y, ...checkData.y], sizes: [...fitData.sizes, ...checkData.sizes] });
    const all = both.y.reduce((s, v) => s + v, 0);
    const refit = all > 0 && all < both.y.length ? learn(chosen.objective, both).ranker : chosen.ranker;
    result.rerank = chosen.boughtFirst ? withBoughtFirst(refit) : refit;
    result.rerankExamples = { examples: both.y.length, positives: all };
  }
  return result;
}

/** Added to the `bought` weight of a bought-first ranker: larger than any other term's range. */
const BOUGHT_FIRST_BONUS = 1000;

function withBoughtFirst(ranker: LinearRanker): LinearRanker {
  const k = ranker.features.indexOf('bought');
  return { ...ranker, weights: ranker.weights.map((w, n) => (n === k ? w + BOUGHT_FIRST_BONUS : w)) };
}

/** Features that only a ranker trained with repeat purchases gets. */
const REPEAT_FEATURES = new Set(['repeat', 'bought']);

interface Examples {
  x: number[];
  y: number[];
  sizes: number[];
}

function emptyExamples(): Examples {
  return { x: [], y: [], sizes: [] };
}

function packExamples(e: Examples): { x: Float32Array; y: Uint8Array; sizes: number[] } {
  return { x: Float32Array.from(e.x), y: Uint8Array.from(e.y), sizes: e.sizes };
}

/** Mean NDCG@10 of candidate lists (consecutive groups of rows) ordered by `score`. */
function candidateNdcg(data: { x: Float32Array; y: Uint8Array; sizes: number[] }, score: (row: Float32Array) => number): number {
  const d = data.sizes.length > 0 && data.y.length > 0 ? data.x.length / data.y.length : 0;
  let offset = 0;
  let total = 0;
  let users = 0;
  for (const size of data.sizes) {
    const entries = Array.from({ length: size }, (_, j) => ({ s: score(data.x.subarray((offset + j) * d, (offset + j + 1) * d)), y: data.y[offset + j]!, j }));
    offset += size;
    const relevant = entries.filter((e) => e.y === 1).length;
    if (relevant === 0) continue;
    entries.sort((a, b) => b.s - a.s || a.j - b.j);
    let dcg = 0;
    let ideal = 0;
    for (let r = 0; r < Math.min(10, size); r++) {
      if (entries[r]!.y === 1) dcg += 1 / Math.log2(r + 2);
      if (r < relevant) ideal += 1 / Math.log2(r + 2);
    }
    total += dcg / ideal;
    users++;
  }
  return users > 0 ? total / users : 0;
}

function dot(m: Float32Array, f: number, row: number, x: Float32Array): number {
  let s = 0;
  for (let a = 0; a < f; a++) s += m[row * f + a]! * x[a]!;
  return s;
}

/** The re-ranker's context for one history (the user vector folded in on the fit's item vectors). */
export function rerankContext(fit: FashionFit, history: readonly { item: number; type: InteractionType; at: number }[], now: number): RerankContext {
  const user = foldInHistory(fit.hybrid, history, now, fit.gram);
  // The same per-item weights the engine's fold-in sums (event type × recency).
  const weight = new Map<number, number>();
  for (const h of history) weight.set(h.item, (weight.get(h.item) ?? 0) + fitEventWeight(fit, h.type, h.at, now));
  return {
    itemFactors: fit.hybrid.itemFactors,
    factors: fit.hybrid.factors,
    user,
    recent: recentItems(
      history.map((h) => h.item),
      history.map((h) => h.at),
    ),
    image: fit.image,
    content: fit.content,
    stats: fit.stats,
    profile: {
      history: historyProfile(
        fit.codes,
        [...weight.keys()],
        [...weight.values()],
        history.filter((h) => h.type === 'purchase').map((h) => h.item),
      ),
      codes: fit.codes,
    },
  };
}

/**
 * The feed for one history: fold in, score every item by dot product, take the top candidates,
 * order them by the re-ranker (or keep the hybrid order when `rerank` is false).
 *
 * @returns item rows, best first, length ≤ k.
 */
export function recommendForHistory(
  fit: FashionFit,
  history: readonly { item: number; type: InteractionType; at: number }[],
  now: number,
  k: number,
  exclude: Set<number>,
  options: { rerank?: boolean; candidates?: number } = {},
): Int32Array {
  const ctx = rerankContext(fit, history, now);
  if (options.rerank === false) return rankTopK(hybridScores(fit, ctx.user), exclude, k);
  // As the engine: history items are candidates only for a re-ranker that has the `repeat` feature.
  const candidates = fitCandidates(fit, ctx, exclude, Math.max(k, options.candidates ?? 100), fit.rerank.features.includes('repeat'));
  const buf = new Float32Array(fit.rerank.features.length);
  const rescored = Array.from(candidates, (c) => ({ c, s: linearScore(fit.rerank, rerankFeatures(ctx, c, fit.rerank.features, buf)) }));
  rescored.sort((a, b) => b.s - a.s || a.c - b.c);
  const kept = capPerVariantGroup(Int32Array.from(rescored, (r) => r.c), fit.codes);
  return Int32Array.from(kept.slice(0, k), (p) => rescored[p]!.c);
}

function hybridScores(fit: FashionFit, user: Float32Array): Float32Array {
  const scores = new Float32Array(fit.hybrid.nItems);
  for (let i = 0; i < scores.length; i++) scores[i] = dot(fit.hybrid.itemFactors, fit.hybrid.factors, i, user);
  return scores;
}

/**
 * The candidates the device's engine re-ranks for this context: the hybrid score's top `pool`
 * outside `exclude`, then what only the history proposes (history-profile.ts `historyCandidates`;
 * its own items only with `historyItems`).
 */
function fitCandidates(fit: FashionFit, ctx: RerankContext, exclude: Set<number>, pool: number, historyItems: boolean): Int32Array {
  const top = rankTopK(hybridScores(fit, ctx.user), exclude, pool);
  const inTop = new Set(top);
  const extra = historyCandidates(ctx.profile!.history, fit.codes, fit.popularOrder, (row) => !exclude.has(row), historyItems).filter((row) => !inTop.has(row));
  return Int32Array.from([...top, ...extra]);
}

/**
 * Splits every shopper's events into the history the re-ranker's examples fold in (`early`) and
 * the items they turn to next (`later`, the positives). `share`: one split, by share of each
 * shopper's events. `time` (a real log): `rerankWindows` consecutive windows of `rerankDays` days
 * at the end of the log, each its own split: the events before the window are the history, what a
 * shopper bought in it the positives, ranked at the window's start (`now`), as a batch
 * recommendation at that date would be.
 */
function rerankSplits(byUser: readonly IndexedEvent[][], o: FashionFitOptions): { early: IndexedEvent[]; later: Map<number, Set<number>>; now?: number }[] {
  const repeats = o.repeats ?? false;
  const positives = (events: readonly IndexedEvent[], seen: Set<number>, purchasesOnly: boolean) =>
    new Set(
      events
        .filter((e) => !purchasesOnly || e.type === 'purchase')
        .map((e) => e.item)
        .filter((i) => repeats || !seen.has(i)),
    );
  if (o.rerankSplit !== 'time') {
    const early: IndexedEvent[] = [];
    const later = new Map<number, Set<number>>();
    byUser.forEach((events, u) => {
      if (events.length < 4) {
        early.push(...events);
        return;
      }
      const cut = Math.max(1, Math.floor(events.length * (o.rerankHistoryShare ?? 0.7)));
      early.push(...events.slice(0, cut));
      const next = positives(events.slice(cut), new Set(events.slice(0, cut).map((e) => e.item)), false);
      if (next.size > 0) later.set(u, next);
    });
    return [{ early, later }];
  }
  let latest = -Infinity;
  for (const events of byUser) for (const e of events) latest = Math.max(latest, e.at);
  const span = (o.rerankDays ?? 28) * DAY_MS;
  const splits: { early: IndexedEvent[]; later: Map<number, Set<number>>; now: number }[] = [];
  for (let w = 1; w <= (o.rerankWindows ?? 3); w++) {
    const from = latest - w * span;
    const to = from + span;
    const early: IndexedEvent[] = [];
    const later = new Map<number, Set<number>>();
    byUser.forEach((events, u) => {
      const before = events.filter((e) => e.at < from);
      early.push(...before);
      // Nothing to fold in before the window: a new shopper, not a re-ranking example.
      if (before.length === 0) return;
      const next = positives(
        events.filter((e) => e.at >= from && e.at < to),
        new Set(before.map((e) => e.item)),
        true,
      );
      if (next.size > 0) later.set(u, next);
    });
    splits.push({ early, later, now: from });
  }
  return splits;
}

/** An event's weight at `now` with the fit's fold-in numbers (for callers building their own matrices). */
export function fitEventWeight(fit: FashionFit, type: InteractionType, at: number, now: number): number {
  return eventWeight(type, at, now, fit.hybrid.foldIn.eventWeights, fit.hybrid.foldIn.halfLifeDays);
}
