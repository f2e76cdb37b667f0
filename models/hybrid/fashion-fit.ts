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
import { ITEM_STAT_COLUMNS, RERANK_FEATURE_NAMES, TRENDING_DAYS, recentItems, rerankFeatures } from '../recommend/rerank-features';
import type { RerankContext } from '../recommend/rerank-features';
import { DAY_MS, eventWeight, fitHybrid, foldInHistory, hybridDefaults, itemFeatures } from './fashion-hybrid';
import type { HybridModel, HybridOptions, IndexedEvent } from './fashion-hybrid';
import { fitLogistic, linearScore } from './fashion-rerank';
import type { LinearRanker } from './fashion-rerank';

export type FitItem = ContentItem & Pick<CatalogItem, 'year'>;

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
}

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
  rerankCheck?: { learnedNdcg10: number; hybridNdcg10: number; kept: boolean };
  /** Attribute one-hot columns of the ridge features. */
  attributeColumns: string[];
  /** Precomputed YᵀY + λI of `hybrid.itemFactors`, for fold-in. */
  gram: Float64Array;
  /** Content vectors and image embeddings (rows in item order) as the re-ranker reads them. */
  content: { vectors: Float32Array; dim: number };
  image?: { vectors: Float32Array; dim: number };
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
 * freshness: the year scaled to 0–1 over the catalog (0.5 when unknown).
 */
export function itemStats(items: readonly FitItem[], events: readonly IndexedEvent[], eventWeights: Record<InteractionType, number>): { values: Float32Array; columns: string[] } {
  const n = items.length;
  const columns = [...ITEM_STAT_COLUMNS];
  const pop = new Float64Array(n);
  const trend = new Float64Array(n);
  let latest = -Infinity;
  for (const e of events) latest = Math.max(latest, e.at);
  for (const e of events) {
    const w = eventWeights[e.type];
    pop[e.item]! += w;
    if (latest - e.at <= TRENDING_DAYS * DAY_MS) trend[e.item]! += w;
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
  const values = new Float32Array(n * columns.length);
  for (let i = 0; i < n; i++) {
    const year = items[i]!.year;
    values[i * 3] = popScale(i);
    values[i * 3 + 1] = trendScale(i);
    values[i * 3 + 2] = typeof year === 'number' && maxYear > minYear ? (year - minYear) / (maxYear - minYear) : 0.5;
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
  return { hybrid, stats, gram, attributeColumns: attrs.columns };
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
  };
  if (o.noRerank) return result;

  const share = o.rerankHistoryShare ?? 0.7;
  const byUser = eventsByUser(input.events, input.nUsers);
  const early: IndexedEvent[] = [];
  const later = new Map<number, Set<number>>();
  const random = new SeededRandom(hybridDefaults(o).seed + 1);
  byUser.forEach((events, u) => {
    if (events.length < 4) {
      early.push(...events);
      return;
    }
    const cut = Math.max(1, Math.floor(events.length * share));
    early.push(...events.slice(0, cut));
    const seen = new Set(events.slice(0, cut).map((e) => e.item));
    const next = new Set(events.slice(cut).map((e) => e.item).filter((i) => !seen.has(i)));
    if (next.size > 0) later.set(u, next);
  });
  const users = [...later.keys()];
  for (let i = users.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [users[i], users[j]] = [users[j]!, users[i]!];
  }
  users.length = Math.min(users.length, o.rerankUsers ?? 2000);
  if (users.length === 0) return result;

  const inner = baseFit(input, early);
  const innerFit: FashionFit = { ...result, ...inner };
  const earlyByUser = eventsByUser(early, input.nUsers);
  const names = RERANK_FEATURE_NAMES.filter((name) => (name === 'visualSim' ? input.image !== undefined : true));
  // Half the sampled shoppers fit the re-ranker, the other half check it: it is kept only when it
  // orders their candidates better (NDCG@10) than the hybrid score alone.
  const fitUsers = users.slice(0, Math.ceil(users.length / 2));
  const checkUsers = users.slice(Math.ceil(users.length / 2));
  const examples = (group: number[]) => {
    const rows: number[] = [];
    const labels: number[] = [];
    const sizes: number[] = [];
    const buf = new Float32Array(names.length);
    for (const u of group) {
      const history = earlyByUser[u]!;
      if (history.length === 0) continue;
      const now = history[history.length - 1]!.at;
      const ctx = rerankContext(innerFit, history, now);
      const exclude = new Set(history.map((e) => e.item));
      const scores = new Float32Array(input.items.length);
      for (let i = 0; i < scores.length; i++) scores[i] = dot(innerFit.hybrid.itemFactors, innerFit.hybrid.factors, i, ctx.user);
      const candidates = rankTopK(scores, exclude, o.candidates ?? 100);
      const positives = later.get(u)!;
      for (const c of candidates) {
        rerankFeatures(ctx, c, names, buf);
        rows.push(...buf);
        labels.push(positives.has(c) ? 1 : 0);
      }
      sizes.push(candidates.length);
    }
    return { x: Float32Array.from(rows), y: Uint8Array.from(labels), sizes };
  };
  const train = examples(fitUsers);
  const positives = train.y.reduce((s, v) => s + v, 0);
  result.rerankExamples = { examples: train.y.length, positives };
  if (positives === 0 || positives === train.y.length) return result;
  const fitted = fitLogistic(names, train.x, train.y);
  result.rerankLosses = fitted.losses;
  const check = examples(checkUsers);
  const learned = candidateNdcg(check, (row) => linearScore(fitted.ranker, row));
  const plain = candidateNdcg(check, (row) => row[0]!);
  result.rerankCheck = { learnedNdcg10: learned, hybridNdcg10: plain, kept: learned > plain };
  if (learned > plain) result.rerank = fitted.ranker;
  return result;
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
  const scores = new Float32Array(fit.hybrid.nItems);
  for (let i = 0; i < scores.length; i++) scores[i] = dot(fit.hybrid.itemFactors, fit.hybrid.factors, i, ctx.user);
  if (options.rerank === false) return rankTopK(scores, exclude, k);
  const candidates = rankTopK(scores, exclude, Math.max(k, options.candidates ?? 100));
  const buf = new Float32Array(fit.rerank.features.length);
  const rescored = Array.from(candidates, (c) => ({ c, s: linearScore(fit.rerank, rerankFeatures(ctx, c, fit.rerank.features, buf)) }));
  rescored.sort((a, b) => b.s - a.s || a.c - b.c);
  return Int32Array.from(rescored.slice(0, k), (r) => r.c);
}

/** An event's weight at `now` with the fit's fold-in numbers (for callers building their own matrices). */
export function fitEventWeight(fit: FashionFit, type: InteractionType, at: number, now: number): number {
  return eventWeight(type, at, now, fit.hybrid.foldIn.eventWeights, fit.hybrid.foldIn.halfLifeDays);
}
