/**
 * The on-device ranking engine: one shopper's history in, a ranked, filtered, diversified and
 * explained list of catalog items out. Plain TypeScript over typed arrays (no DOM, no Node APIs), so
 * the inference worker and the Node evaluation run the same code; the heavy arithmetic (scoring the
 * whole catalog, top-K) goes through a {@link Scorer} the caller chooses (plain JS or TF.js).
 *
 * Feed: history → weights (event type × recency decay) → user vector by the ALS fold-in
 * (models/cf/als.ts, gram precomputed once) → every item scored → the best candidates (filters
 * applied as a mask, so a narrow filter still fills the page) → learned linear re-rank → MMR with
 * the request's diversity → top k, each explained by the history items that contributed most.
 * A shopper without enough history gets popular and trending items (mode `popular`).
 *
 * Calls must not overlap with {@link RecommenderEngine.setModel} or `dispose` (the worker runs one
 * call at a time); each call reads the model state it started with.
 */
import { LRUCache } from 'lru-cache';
import { INTERACTION_TYPES } from '../catalog/item';
import type { InteractionType } from '../catalog/item';
import { foldIn, itemGram } from '../cf/als';
import { ContentModel } from '../content/content-model';
import { FoldInExplainer, topContributors } from './explain';
import type { CodedAttributes, EngineItem } from './filters';
import { attributeMask, codeAttributes, filtersKey, hasAttributeFilter, validateFilters } from './filters';
import { capPerVariantGroup, codeItems, historyCandidates, historyProfile, MAX_PER_VARIANT_GROUP, popularOrder } from './history-profile';
import type { HistoryProfile, ItemCodes } from './history-profile';
import { mmr } from './mmr';
import { decodeMatrix, RANKER_PACK_FORMAT } from './pack';
import type { PackMatrix, RankerPackMeta } from './pack';
import { LinearReranker } from './rerank';
import { recentItems } from './rerank-features';
import type { RerankContext } from './rerank-features';
import type { Scorer, ScoringMatrix, TopK } from './scorer';
import { dotRow, topKOfScores } from './scorer';
import { KeywordIndex, splitFilterWords } from './search';
import type { Explanation, FeedRequest, FeedResponse, HistoryEvent, ItemFilters, Recommendation, SearchResponse, SimilarMode } from './types';

export type { EngineItem } from './filters';

/** Row-major matrix with L2-normalised rows (zero rows stay zero): dot products are cosines. */
interface UnitMatrix {
  values: Float32Array;
  cols: number;
}

/** A ranker pack with its matrices decoded to float32 (row order `meta.itemIds`). */
export interface LoadedPack {
  meta: RankerPackMeta;
  /** shape [items, factors]. */
  itemFactors: Float32Array;
  /** shape [items, imageDim]; the engine L2-normalises its rows in place. */
  imageEmbeddings?: Float32Array;
  /** shape [items, contentDim]; the engine L2-normalises its rows in place. */
  contentVectors?: Float32Array;
  /** The pack's content model (ranker.json `contentModel`): content vectors are computed from the catalog rows with it. */
  contentModel?: ContentModel;
  /** shape [items, itemStats.columns.length]. */
  itemStats: Float32Array;
}

/**
 * Decodes a pack's matrices from its files (as synced or read from disk) and checks every shape
 * against ranker.json. @param file returns a file's bytes by its name in the pack, or undefined.
 */
export function decodePack(meta: RankerPackMeta, file: (name: string) => Uint8Array | undefined): LoadedPack {
  const read = (what: string, m: PackMatrix): Float32Array => {
    const bytes = file(m.file);
    if (bytes === undefined) throw new Error(`ranker pack: ${what} file "${m.file}" is missing`);
    return decodeMatrix(m, bytes);
  };
  const pack: LoadedPack = { meta, itemFactors: read('itemFactors', meta.itemFactors), itemStats: read('itemStats', meta.itemStats) };
  if (meta.imageEmbeddings) pack.imageEmbeddings = read('imageEmbeddings', meta.imageEmbeddings);
  if (meta.contentVectors) pack.contentVectors = read('contentVectors', meta.contentVectors);
  if (meta.contentModel) {
    const bytes = file(meta.contentModel.file);
    if (bytes === undefined) throw new Error(`ranker pack: contentModel file "${meta.contentModel.file}" is missing`);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch (error) {
      throw new Error(`ranker pack: contentModel file "${meta.contentModel.file}" is not JSON (${(error as Error).message})`);
    }
    pack.contentModel = ContentModel.fromJSON(json);
    if (pack.contentModel.dim !== meta.contentModel.dim) {
      throw new Error(`ranker pack: contentModel "${meta.contentModel.file}" gives ${pack.contentModel.dim} dimensions, ranker.json says ${meta.contentModel.dim}`);
    }
  }
  return pack;
}

/**
 * What the engine needs of a content model (models/content/content-model.ts `ContentModel` fits): a
 * query's vector in the pack's content space, and, when the pack ships no content vectors, the
 * items' vectors from their catalog rows.
 */
export interface QueryEmbedder {
  embedQuery(text: string): ArrayLike<number>;
  /** Row-major [items.length, dim]. */
  embedItems?(items: readonly EngineItem[]): Float32Array;
  readonly dim?: number;
}

export interface EngineParts {
  pack: LoadedPack;
  /** Catalog rows; pack items missing here are never shown, catalog items missing from the pack are not ranked. */
  catalog: readonly EngineItem[];
  /**
   * Turns a text query (and, for a pack with `contentModel`, each catalog row) into a content vector;
   * default: the pack's own content model. Without one, text search is keyword-only.
   */
  content?: QueryEmbedder;
  scorer: Scorer;
}

export interface EngineOptions {
  /** Candidates taken from the full-catalog scores before re-ranking (default 100, as the trainer evaluates). */
  candidates?: number;
  /** Distinct history items (with weight > 0) needed for a personal feed (default 1). */
  minHistoryItems?: number;
  /** Responses kept in the LRU cache (default 256; 0: no cache, for batch runs where no request repeats). */
  cacheSize?: number;
  /** Weight of the visual score in `blend` similar items (default 0.5; the rest is content). */
  blendVisualWeight?: number;
  /** Weight of the keyword score in text search (default 0.7; the rest is the content-vector cosine). */
  keywordWeight?: number;
  /** History items named per explanation (default 3). */
  explainTop?: number;
  /** At most this many variants of one garment (catalog `variantGroup`) per feed; 0: no cap (default 2). */
  maxPerVariantGroup?: number;
}

/** What the loaded model can do and how it matched the catalog. */
export interface EngineInfo {
  scorer: string;
  items: number;
  factors: number;
  catalog: { version: number; contentHash: string };
  /** `id@version` of the image encoder the photo embeddings come from, when the pack has them. */
  imageEncoder: string | null;
  visual: boolean;
  content: boolean;
  /** True when text queries are embedded as well as keyword-matched. */
  contentQueries: boolean;
  /** Pack items with no catalog row (never shown). */
  missingFromCatalog: number;
  /** Catalog rows the pack does not know (not ranked until the next pack). */
  notInPack: number;
}

const MAX_K = 500;
const MS_PER_DAY = 86_400_000;

/** Everything derived from one pack + catalog + scorer; replaced whole by setModel. */
interface ModelState {
  generation: number;
  /** The parts it was built from, so a rebuild with the same ones can reuse derived data. */
  pack: LoadedPack;
  catalog: readonly EngineItem[];
  meta: RankerPackMeta;
  n: number;
  f: number;
  ids: readonly string[];
  rowOf: Map<string, number>;
  items: (EngineItem | undefined)[];
  alive: Uint8Array;
  allAlive: boolean;
  coded: CodedAttributes;
  /** Variant groups and profile attributes per row, for the history features. */
  codes: ItemCodes;
  itemFactors: Float32Array;
  gram: Float64Array | null;
  image?: UnitMatrix;
  content?: UnitMatrix;
  stats: Float32Array;
  statColumns: readonly string[];
  reranker: LinearReranker;
  popularOrder: Int32Array;
  popularScore: Float64Array;
  popularKind: Uint8Array;
  factorsM: ScoringMatrix;
  imageM?: ScoringMatrix;
  contentM?: ScoringMatrix;
  embedder?: QueryEmbedder;
  keywords: KeywordIndex | null;
  masks: LRUCache<string, Uint8Array>;
  info: EngineInfo;
}

export class RecommenderEngine {
  private state: ModelState;
  private readonly cache: LRUCache<string, FeedResponse | SearchResponse> | null;
  private readonly options: Required<EngineOptions>;
  private generation = 0;

  constructor(parts: EngineParts, options: EngineOptions = {}) {
    this.options = {
      candidates: options.candidates ?? 100,
      minHistoryItems: options.minHistoryItems ?? 1,
      cacheSize: options.cacheSize ?? 256,
      blendVisualWeight: options.blendVisualWeight ?? 0.5,
      keywordWeight: options.keywordWeight ?? 0.7,
      explainTop: options.explainTop ?? 3,
      maxPerVariantGroup: options.maxPerVariantGroup ?? MAX_PER_VARIANT_GROUP,
    };
    if (!(Number.isInteger(this.options.candidates) && this.options.candidates >= 1)) throw new Error('engine: options.candidates must be a positive integer');
    if (!(Number.isInteger(this.options.maxPerVariantGroup) && this.options.maxPerVariantGroup >= 0)) throw new Error('engine: options.maxPerVariantGroup must be an integer of 0 or more');
    if (!(this.options.blendVisualWeight >= 0 && this.options.blendVisualWeight <= 1)) throw new Error('engine: options.blendVisualWeight must be in [0, 1]');
    if (!(this.options.keywordWeight >= 0 && this.options.keywordWeight <= 1)) throw new Error('engine: options.keywordWeight must be in [0, 1]');
    if (!(Number.isInteger(this.options.cacheSize) && this.options.cacheSize >= 0)) throw new Error('engine: options.cacheSize must be an integer of 0 or more');
    this.cache = this.options.cacheSize > 0 ? new LRUCache({ max: this.options.cacheSize }) : null;
    this.state = this.build(parts);
  }

  /** Swaps in a new model (pack, catalog, scorer) atomically and drops every cached response. */
  setModel(parts: EngineParts): void {
    const next = this.build(parts);
    const previous = this.state;
    this.state = next;
    this.cache?.clear();
    disposeState(previous);
  }

  get info(): EngineInfo {
    return { ...this.state.info };
  }

  /**
   * Computes the fold-in gram YᵀY + λI now (O(items·f²): ~0.1 s at 35k items, seconds at 1M)
   * instead of in the first personal feed, e.g. right after the model loads.
   */
  warmUp(): void {
    this.foldOptions(this.state);
  }

  /** Cached responses (for diagnostics and tests). */
  get cacheSize(): number {
    return this.cache?.size ?? 0;
  }

  dispose(): void {
    this.cache?.clear();
    disposeState(this.state);
  }

  /** The personal "For you" feed, or popular and trending items for a new shopper. */
  async feed(request: FeedRequest): Promise<FeedResponse> {
    const t0 = performance.now();
    const s = this.state;
    validateFeedRequest(request);
    const filters = validateFilters(request.filters, 'feed');
    const h = foldHistory(s, request.history, request.now);
    const excludePurchased = filters.excludePurchased ?? true;
    const excluded = new Set<number>(excludePurchased ? h.purchased : []);
    for (const id of filters.excludeItemIds ?? []) {
      const row = s.rowOf.get(id);
      if (row !== undefined) excluded.add(row);
    }
    const personal = h.signal >= Math.max(1, this.options.minHistoryItems);
    const key = [
      'feed',
      s.generation,
      request.k,
      request.diversity,
      request.explain === false ? 'unexplained' : 'explained',
      filtersKey({ ...filters, excludeItemIds: undefined }),
      [...excluded].sort((a, b) => a - b).join(','),
      personal ? h.key : 'popular',
    ].join('|');
    const hit = this.cache?.get(key) as FeedResponse | undefined;
    let response: FeedResponse;
    if (hit !== undefined) {
      response = { ...structuredClone(hit), cached: true };
    } else {
      response = personal ? await this.personalFeed(s, request, filters, h, excluded) : this.popularFeed(s, request, filters, excluded);
      this.cache?.set(key, structuredClone(response));
    }
    if (h.unknown > 0) response.unknownHistoryItems = h.unknown;
    response.elapsedMs = performance.now() - t0;
    return response;
  }

  /**
   * Why `itemId` is recommended to this history: every history item's exact term of the item's
   * fold-in score (the terms sum to the score), strongest first.
   */
  explainItem(history: HistoryEvent[], now: number, itemId: string): { score: number; terms: { itemId: string; value: number }[] } {
    const s = this.state;
    const row = s.rowOf.get(itemId);
    if (row === undefined) throw new Error(`explainItem: unknown item "${itemId}"`);
    validateFeedRequest({ history, now, k: 1, diversity: 0 });
    const h = foldHistory(s, history, now);
    if (h.signal === 0) return { score: 0, terms: [] };
    const x = foldIn(s.itemFactors, s.f, h.rows, h.weights, this.foldOptions(s));
    const terms = new FoldInExplainer(s.itemFactors, s.f, h.rows, h.weights, this.foldOptions(s))
      .contributions(row)
      .map((c) => ({ itemId: s.ids[c.row]!, value: c.value }))
      .sort((a, b) => b.value - a.value);
    return { score: dotRow(s.itemFactors, s.f, row, x), terms };
  }

  /** Items like `itemId`: by photo embedding (`visual`), content vector (`content`) or both (`blend`). */
  async similar(itemId: string, k: number, mode: SimilarMode, filters?: ItemFilters): Promise<SearchResponse> {
    const t0 = performance.now();
    const s = this.state;
    checkK('similar', k);
    if (mode !== 'visual' && mode !== 'content' && mode !== 'blend') throw new Error(`similar: mode "${String(mode)}" is not one of visual, content, blend`);
    const f = validateFilters(filters, 'similar');
    const row = s.rowOf.get(itemId);
    if (row === undefined) throw new Error(`similar: unknown item "${itemId}"`);
    const key = ['similar', s.generation, itemId, k, mode, filtersKey(f)].join('|');
    const hit = this.cache?.get(key) as SearchResponse | undefined;
    if (hit !== undefined) return { ...structuredClone(hit), elapsedMs: performance.now() - t0 };

    const hasVisual = s.image !== undefined && s.imageM !== undefined && rowNorm(s.image, row) > 0;
    const hasContent = s.content !== undefined && s.contentM !== undefined && rowNorm(s.content, row) > 0;
    const useVisual = mode === 'visual' || (mode === 'blend' && hasVisual);
    const useContent = mode === 'content' || (mode === 'blend' && hasContent);
    if (mode === 'visual' && !hasVisual) throw new Error(`similar: item "${itemId}" has no photo embedding${s.image ? '' : ' (the pack has no image embeddings)'}`);
    if (mode === 'content' && !hasContent) throw new Error(`similar: item "${itemId}" has no content vector${s.content ? '' : ' (the pack has no content vectors)'}`);
    if (!useVisual && !useContent) throw new Error(`similar: item "${itemId}" has neither a photo embedding nor a content vector`);

    const exclude = new Set([row, ...(f.excludeItemIds ?? []).map((id) => s.rowOf.get(id)).filter((r) => r !== undefined)]);
    const mask = this.mask(s, f, exclude, true);
    let top: TopK;
    if (useVisual && useContent) {
      const w = this.options.blendVisualWeight;
      const [v, c] = await Promise.all([s.imageM!.scores(rowOf(s.image!, row)), s.contentM!.scores(rowOf(s.content!, row))]);
      const blend = new Float32Array(s.n);
      for (let i = 0; i < s.n; i++) blend[i] = w * v[i]! + (1 - w) * c[i]!;
      top = topKOfScores(blend, k, mask ?? excludeMask(s, exclude));
    } else {
      const m = useVisual ? s.imageM! : s.contentM!;
      const q = rowOf(useVisual ? s.image! : s.content!, row);
      top = await topKExcluding(m, q, k, mask, exclude);
    }
    const response: SearchResponse = {
      items: Array.from(top.indices, (i, n) => ({
        itemId: s.ids[i]!,
        score: top.scores[n]!,
        explanation: { kind: 'similar', because: [{ itemId, share: 1 }] },
      })),
      elapsedMs: performance.now() - t0,
    };
    this.cache?.set(key, structuredClone(response));
    return response;
  }

  /** Text search over titles and attributes: keyword matches blended with the content model's query vector. */
  async searchText(query: string, k: number, filters?: ItemFilters): Promise<SearchResponse> {
    const t0 = performance.now();
    const s = this.state;
    if (typeof query !== 'string') throw new Error('searchText: query must be a string');
    checkK('searchText', k);
    const f = validateFilters(filters, 'searchText');
    const trimmed = query.trim();
    if (trimmed === '') return { items: [], elapsedMs: performance.now() - t0 };
    s.keywords ??= new KeywordIndex(s.items);
    const pool = Math.max(this.options.candidates, k);
    const split = splitFilterWords(trimmed, { genders: s.coded.genders.values, colours: s.coded.colours.values });
    const fq: ItemFilters = { ...f };
    if (split.genders.length > 0) fq.genders = f.genders ? f.genders.filter((g) => split.genders.includes(g)) : split.genders;
    if (split.colours.length > 0) fq.colours = f.colours ? f.colours.filter((c) => split.colours.includes(c)) : split.colours;
    const mask = this.mask(s, fq, new Set((f.excludeItemIds ?? []).map((id) => s.rowOf.get(id)).filter((r) => r !== undefined)), true);
    const kw = s.keywords.search(split.text, pool, k, mask);
    const score = new Map<number, number>();
    const wk = s.embedder && s.contentM ? this.options.keywordWeight : 1;
    kw.rows.forEach((row, n) => score.set(row, wk * kw.scores[n]!));
    if (wk < 1) {
      const q = unit(Float32Array.from(s.embedder!.embedQuery(trimmed)));
      if (q.length !== s.contentM!.cols) {
        throw new Error(`searchText: the content model gives ${q.length}-dimensional queries, the pack's content vectors have ${s.contentM!.cols}`);
      }
      const cand = await s.contentM!.topK(q, pool, mask);
      const cos = new Map<number, number>();
      // Only items the query vector points towards join the keyword hits.
      cand.indices.forEach((row, n) => {
        if (cand.scores[n]! > 0) cos.set(row, cand.scores[n]!);
      });
      // Keyword hits outside the content top get their exact cosine too.
      for (const row of score.keys()) if (!cos.has(row)) cos.set(row, Math.max(0, dotRow(s.content!.values, s.content!.cols, row, q)));
      for (const [row, c] of cos) score.set(row, (score.get(row) ?? 0) + (1 - wk) * c);
    }
    const ranked = [...score].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, k);
    return {
      items: ranked.map(([row, v]) => ({ itemId: s.ids[row]!, score: v, explanation: { kind: 'query', because: [] } })),
      elapsedMs: performance.now() - t0,
    };
  }

  /**
   * The items whose photo embeddings are nearest (cosine) to `vector`, e.g. the image encoder's
   * embedding of a shopper's photo. @param vector shape [imageDim].
   */
  async nearestToEmbedding(vector: ArrayLike<number>, k: number, filters?: ItemFilters): Promise<SearchResponse> {
    const t0 = performance.now();
    const s = this.state;
    checkK('nearestToEmbedding', k);
    const f = validateFilters(filters, 'nearestToEmbedding');
    if (s.image === undefined || s.imageM === undefined) throw new Error('nearestToEmbedding: the pack has no image embeddings');
    if (vector.length !== s.image.cols) throw new Error(`nearestToEmbedding: vector has ${vector.length} values, the pack's image embeddings have ${s.image.cols}`);
    const q = unit(Float32Array.from(vector));
    if (!Array.from(q).every(Number.isFinite)) throw new Error('nearestToEmbedding: vector has a non-finite value');
    const exclude = new Set((f.excludeItemIds ?? []).map((id) => s.rowOf.get(id)).filter((r) => r !== undefined));
    const top = await topKExcluding(s.imageM, q, k, this.mask(s, f, exclude, true), exclude);
    return {
      items: Array.from(top.indices, (i, n) => ({ itemId: s.ids[i]!, score: top.scores[n]!, explanation: { kind: 'query', because: [] } })),
      elapsedMs: performance.now() - t0,
    };
  }

  // ── internals ────────────────────────────────────────────────────────────────

  private foldOptions(s: ModelState): { alpha: number; regularization: number; regularizationExponent: number; gram: Float64Array } {
    s.gram ??= itemGram(s.itemFactors, s.f, s.meta.foldIn.regularization);
    return {
      alpha: s.meta.foldIn.alpha,
      regularization: s.meta.foldIn.regularization,
      regularizationExponent: s.meta.foldIn.regularizationExponent,
      gram: s.gram,
    };
  }

  /**
   * The allowed mask for a request, or undefined when the few `exclude` rows can be dropped after a
   * slightly larger top-K instead (no catalog-sized mask to build or upload). With `always`, a
   * mask is returned whenever anything is excluded.
   */
  private mask(s: ModelState, filters: ItemFilters, exclude: Set<number>, always: boolean): Uint8Array | undefined {
    if (!hasAttributeFilter(filters)) {
      if (s.allAlive && (!always || exclude.size <= 64)) return undefined;
      return excludeMask(s, exclude);
    }
    const key = filtersKey({ ...filters, excludeItemIds: undefined, excludePurchased: undefined });
    let base = s.masks.get(key);
    if (base === undefined) {
      base = attributeMask(s.coded, filters, s.alive);
      s.masks.set(key, base);
    }
    if (exclude.size === 0) return base;
    const m = Uint8Array.from(base);
    for (const r of exclude) m[r] = 0;
    return m;
  }

  private async personalFeed(s: ModelState, request: FeedRequest, filters: ItemFilters, h: FoldedHistory, excluded: Set<number>): Promise<FeedResponse> {
    const fold = this.foldOptions(s);
    const x = foldIn(s.itemFactors, s.f, h.rows, h.weights, fold);
    const pool = Math.max(this.options.candidates, request.k);
    const mask = this.mask(s, filters, excluded, false);
    const top = await topKExcluding(s.factorsM, x, pool, mask, excluded);
    const profile = historyProfile(s.codes, h.rows, h.weights, h.purchased);
    const cand = withHistoryCandidates(s, top, x, profile, mask ? (row) => mask[row] !== 0 : (row) => s.alive[row] !== 0 && !excluded.has(row));
    const ctx: RerankContext = {
      itemFactors: s.itemFactors,
      factors: s.f,
      user: x,
      recent: h.recent,
      image: s.image && { vectors: s.image.values, dim: s.image.cols },
      content: s.content && { vectors: s.content.values, dim: s.content.cols },
      stats: { values: s.stats, columns: s.statColumns },
      profile: { history: profile, codes: s.codes },
    };
    const scores = s.reranker.score(ctx, cand.indices, cand.scores);
    // Best first, then at most a few colours of one garment.
    const byScore = Array.from(cand.indices.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b);
    const keep = capPerVariantGroup(Int32Array.from(byScore, (c) => cand.indices[c]!), s.codes, this.options.maxPerVariantGroup).map((p) => byScore[p]!);
    const rows = Int32Array.from(keep, (c) => cand.indices[c]!);
    const rerank = Float64Array.from(keep, (c) => scores[c]!);
    const picked = mmr(rerank, similarityOf(s, rows), request.k, request.diversity);
    const explainer = request.explain === false ? null : new FoldInExplainer(s.itemFactors, s.f, h.rows, h.weights, fold);
    const items: Recommendation[] = picked.order.map((c, n) => {
      const row = rows[c]!;
      const because = explainer ? topContributors(explainer.contributions(row), this.options.explainTop).map((t) => ({ itemId: s.ids[t.row]!, share: t.share })) : [];
      return { itemId: s.ids[row]!, score: picked.values[n]!, explanation: { kind: 'history', because } };
    });
    return { items, mode: 'personal', elapsedMs: 0, cached: false };
  }

  private popularFeed(s: ModelState, request: FeedRequest, filters: ItemFilters, excluded: Set<number>): FeedResponse {
    const mask = this.mask(s, filters, excluded, true);
    const pool = Math.max(this.options.candidates, request.k);
    const rows: number[] = [];
    for (let p = 0; p < s.popularOrder.length && rows.length < pool; p++) {
      const row = s.popularOrder[p]!;
      if (mask !== undefined ? mask[row] !== 0 : !excluded.has(row)) rows.push(row);
    }
    const candidates = Int32Array.from(capPerVariantGroup(rows, s.codes, this.options.maxPerVariantGroup), (p) => rows[p]!);
    const picked = mmr(Float64Array.from(candidates, (r) => s.popularScore[r]!), similarityOf(s, candidates), request.k, request.diversity);
    const items: Recommendation[] = picked.order.map((c, n) => {
      const row = candidates[c]!;
      const explanation: Explanation = { kind: s.popularKind[row] === 1 ? 'trending' : 'popular', because: [] };
      return { itemId: s.ids[row]!, score: picked.values[n]!, explanation };
    });
    return { items, mode: 'popular', elapsedMs: 0, cached: false };
  }

  private build(parts: EngineParts): ModelState {
    const { pack, catalog, scorer } = parts;
    const meta = pack.meta;
    checkMeta(meta);
    const n = meta.itemIds.length;
    const f = meta.itemFactors.cols;
    checkMatrix('itemFactors', meta.itemFactors, pack.itemFactors, n);
    checkMatrix('itemStats', meta.itemStats, pack.itemStats, n);
    if (meta.itemStats.columns.length !== meta.itemStats.cols) {
      throw new Error(`ranker.json itemStats: ${meta.itemStats.columns.length} column names for ${meta.itemStats.cols} columns`);
    }
    const rowOf = new Map<string, number>();
    meta.itemIds.forEach((id, row) => {
      if (rowOf.has(id)) throw new Error(`ranker.json itemIds: "${id}" appears twice (rows ${rowOf.get(id)} and ${row})`);
      rowOf.set(id, row);
    });
    const items = new Array<EngineItem | undefined>(n).fill(undefined);
    let notInPack = 0;
    catalog.forEach((item, index) => {
      if (typeof item?.id !== 'string') throw new Error(`engine catalog: row ${index} has no string id`);
      const row = rowOf.get(item.id);
      if (row === undefined) notInPack++;
      else items[row] = item;
    });
    const alive = Uint8Array.from(items, (item) => (item === undefined ? 0 : 1));
    const missingFromCatalog = n - alive.reduce((a, b) => a + b, 0);

    let image: UnitMatrix | undefined;
    if (pack.imageEmbeddings && meta.imageEmbeddings) {
      checkMatrix('imageEmbeddings', meta.imageEmbeddings, pack.imageEmbeddings, n);
      image = { values: normaliseRows(pack.imageEmbeddings, meta.imageEmbeddings.cols), cols: meta.imageEmbeddings.cols };
    } else if (pack.imageEmbeddings || meta.imageEmbeddings) {
      throw new Error('ranker pack: imageEmbeddings is declared in ranker.json or decoded, but not both');
    }
    const embedder = parts.content ?? pack.contentModel;
    let content: UnitMatrix | undefined;
    if (pack.contentVectors && meta.contentVectors) {
      checkMatrix('contentVectors', meta.contentVectors, pack.contentVectors, n);
      content = { values: normaliseRows(pack.contentVectors, meta.contentVectors.cols), cols: meta.contentVectors.cols };
    } else if (pack.contentVectors || meta.contentVectors) {
      throw new Error('ranker pack: contentVectors is declared in ranker.json or decoded, but not both');
    } else if (meta.contentModel && embedder?.embedItems) {
      // A backend fallback rebuilds with the same pack, catalog and embedder: reuse their vectors
      // (seconds of work on a 35k catalog) rather than embed every item again.
      const previous = this.state as ModelState | undefined; // undefined while the constructor builds
      const same = previous?.pack === pack && previous.catalog === catalog && previous.embedder === embedder;
      content = (same ? previous.content : undefined) ?? { values: embedCatalog(embedder, items, meta.contentModel.dim), cols: meta.contentModel.dim };
    }

    const reranker = LinearReranker.fromPack(meta);
    const popular = popularOrder(pack.itemStats, meta.itemStats.columns, n);
    const factorsM = scorer.prepare(pack.itemFactors, n, f);
    const imageM = image ? scorer.prepare(image.values, n, image.cols) : undefined;
    const contentM = content ? scorer.prepare(content.values, n, content.cols) : undefined;
    const generation = ++this.generation;
    return {
      generation,
      pack,
      catalog,
      meta,
      n,
      f,
      ids: meta.itemIds,
      rowOf,
      items,
      alive,
      allAlive: missingFromCatalog === 0,
      coded: codeAttributes(items),
      codes: codeItems(items),
      itemFactors: pack.itemFactors,
      gram: null,
      image,
      content,
      stats: pack.itemStats,
      statColumns: meta.itemStats.columns,
      reranker,
      popularOrder: popular.order,
      popularScore: popular.score,
      popularKind: popular.kind,
      factorsM,
      imageM,
      contentM,
      embedder,
      keywords: null,
      masks: new LRUCache({ max: 16 }),
      info: {
        scorer: scorer.name,
        items: n,
        factors: f,
        catalog: { ...meta.catalog },
        imageEncoder: meta.imageEmbeddings?.encoder ?? null,
        visual: image !== undefined,
        content: content !== undefined,
        contentQueries: content !== undefined && embedder !== undefined,
        missingFromCatalog,
        notInPack,
      },
    };
  }
}

function disposeState(s: ModelState): void {
  s.factorsM.dispose();
  s.imageM?.dispose();
  s.contentM?.dispose();
}

interface FoldedHistory {
  /** Distinct known items, first-seen order, shape [h], int32. */
  rows: Int32Array;
  /** Their summed weights (event type × recency), shape [h], float32. */
  weights: Float32Array;
  /** The most recent distinct items, newest first (rerank-features.ts `recentItems`). */
  recent: Int32Array;
  /** Items with weight > 0: what decides between a personal and a popular feed. */
  signal: number;
  /** Rows the shopper bought. */
  purchased: number[];
  /** Events whose item the model does not know. */
  unknown: number;
  /** The history as the engine sees it, for cache keys: weights rounded to 3 significant digits. */
  key: string;
}

/**
 * History events to fold-in weights: w = eventWeights[type] × 0.5^(age / halfLifeDays), summed per
 * item. Events from the future (clock skew) count as fresh.
 */
function foldHistory(s: ModelState, history: HistoryEvent[], now: number): FoldedHistory {
  const { eventWeights, halfLifeDays } = s.meta.foldIn;
  const weight = new Map<number, number>();
  const purchased = new Set<number>();
  const knownRows: number[] = [];
  const knownTimes: number[] = [];
  let unknown = 0;
  for (const e of history) {
    const row = s.rowOf.get(e.itemId);
    if (row === undefined) {
      unknown++;
      continue;
    }
    if (e.type === 'purchase') purchased.add(row);
    const ageDays = Math.max(0, now - e.at) / MS_PER_DAY;
    weight.set(row, (weight.get(row) ?? 0) + eventWeights[e.type] * Math.pow(0.5, ageDays / halfLifeDays));
    knownRows.push(row);
    knownTimes.push(e.at);
  }
  // Every known item takes part, as in the trainer's fold-in (a zero weight still counts towards λ·n^ν).
  const kept = [...weight];
  const recent = Array.from(recentItems(knownRows, knownTimes));
  const key = kept
    .map(([row, w]) => `${row}:${w.toPrecision(3)}`)
    .sort()
    .join(',');
  return {
    rows: Int32Array.from(kept, ([row]) => row),
    weights: Float32Array.from(kept, ([, w]) => w),
    recent: Int32Array.from(recent),
    signal: kept.filter(([, w]) => w > 0).length,
    purchased: [...purchased],
    unknown,
    key: `${key}/${recent.join(',')}`,
  };
}

function validateFeedRequest(request: FeedRequest): void {
  if (typeof request !== 'object' || request === null) throw new Error('feed: request must be an object');
  if (!Array.isArray(request.history)) throw new Error('feed: history must be an array');
  request.history.forEach((e, n) => {
    if (typeof e !== 'object' || e === null) throw new Error(`feed: history[${n}] must be an object`);
    if (typeof e.itemId !== 'string') throw new Error(`feed: history[${n}].itemId must be a string`);
    if (!(INTERACTION_TYPES as readonly string[]).includes(e.type as string)) {
      throw new Error(`feed: history[${n}].type "${String(e.type)}" is not one of ${INTERACTION_TYPES.join(', ')}`);
    }
    if (!Number.isFinite(e.at)) throw new Error(`feed: history[${n}].at must be epoch milliseconds, got ${String(e.at)}`);
  });
  if (!Number.isFinite(request.now)) throw new Error(`feed: now must be epoch milliseconds, got ${String(request.now)}`);
  checkK('feed', request.k);
  if (typeof request.diversity !== 'number' || !(request.diversity >= 0 && request.diversity <= 1)) {
    throw new Error(`feed: diversity must be a number in [0, 1], got ${String(request.diversity)}`);
  }
  if (request.explain !== undefined && typeof request.explain !== 'boolean') throw new Error(`feed: explain must be true or false, got ${String(request.explain)}`);
}

function checkK(where: string, k: number): void {
  if (!Number.isInteger(k) || k < 1 || k > MAX_K) throw new Error(`${where}: k must be an integer from 1 to ${MAX_K}, got ${String(k)}`);
}

function checkMeta(meta: RankerPackMeta): void {
  if (meta.format !== RANKER_PACK_FORMAT) throw new Error(`ranker.json: format "${String(meta.format)}" is not ${RANKER_PACK_FORMAT}`);
  if (!Array.isArray(meta.itemIds)) throw new Error('ranker.json: itemIds must be an array');
  const fi = meta.foldIn;
  for (const key of ['alpha', 'regularization', 'regularizationExponent', 'halfLifeDays'] as const) {
    if (!Number.isFinite(fi[key])) throw new Error(`ranker.json foldIn.${key} must be a finite number`);
  }
  if (!(fi.halfLifeDays > 0)) throw new Error('ranker.json foldIn.halfLifeDays must be positive');
  if (!(fi.regularization > 0)) throw new Error('ranker.json foldIn.regularization must be positive (fold-in needs a positive-definite system)');
  for (const type of INTERACTION_TYPES) {
    const w = fi.eventWeights[type as InteractionType];
    if (!(Number.isFinite(w) && w >= 0)) throw new Error(`ranker.json foldIn.eventWeights.${type} must be a non-negative number`);
  }
}

function checkMatrix(what: string, m: PackMatrix, values: Float32Array, rows: number): void {
  if (m.rows !== rows) throw new Error(`ranker pack: ${what} has ${m.rows} rows, itemIds has ${rows}`);
  if (values.length !== m.rows * m.cols) throw new Error(`ranker pack: ${what} holds ${values.length} values, ranker.json says ${m.rows}×${m.cols}`);
}

/** Content vectors of the pack's rows from their catalog rows (zeros for rows with no catalog item). */
function embedCatalog(embedder: QueryEmbedder, items: readonly (EngineItem | undefined)[], dim: number): Float32Array {
  if (embedder.dim !== undefined && embedder.dim !== dim) {
    throw new Error(`engine: the content model gives ${embedder.dim} dimensions, ranker.json contentModel.dim is ${dim}`);
  }
  const rows: number[] = [];
  const present: EngineItem[] = [];
  items.forEach((item, row) => {
    if (item === undefined) return;
    rows.push(row);
    present.push(item);
  });
  const embedded = embedder.embedItems!(present);
  if (embedded.length !== present.length * dim) throw new Error(`engine: the content model embedded ${present.length} items into ${embedded.length} values, expected ×${dim}`);
  const out = new Float32Array(items.length * dim);
  rows.forEach((row, k) => out.set(embedded.subarray(k * dim, (k + 1) * dim), row * dim));
  return normaliseRows(out, dim);
}

/** L2-normalises every non-zero row in place (q8 decoding leaves norms slightly off 1). */
function normaliseRows(values: Float32Array, cols: number): Float32Array {
  for (let o = 0; o < values.length; o += cols) {
    let s = 0;
    for (let a = 0; a < cols; a++) s += values[o + a]! ** 2;
    if (s === 0) continue;
    const inv = 1 / Math.sqrt(s);
    for (let a = 0; a < cols; a++) values[o + a]! *= inv;
  }
  return values;
}

function unit(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  if (s > 0) {
    const inv = 1 / Math.sqrt(s);
    for (let a = 0; a < v.length; a++) v[a]! *= inv;
  }
  return v;
}

function rowOf(m: UnitMatrix, row: number): Float32Array {
  return m.values.slice(row * m.cols, (row + 1) * m.cols);
}

function rowNorm(m: UnitMatrix, row: number): number {
  let s = 0;
  for (let a = 0; a < m.cols; a++) s += m.values[row * m.cols + a]! ** 2;
  return s;
}

function excludeMask(s: ModelState, exclude: Set<number>): Uint8Array {
  const m = Uint8Array.from(s.alive);
  for (const r of exclude) m[r] = 0;
  return m;
}

/**
 * The hybrid score's top candidates plus those only the history proposes (its own items, their
 * other variants, popular and trending items: history-profile.ts `historyCandidates`), each extra
 * one with its exact hybrid score.
 */
function withHistoryCandidates(s: ModelState, top: TopK, x: Float32Array, profile: HistoryProfile, allowed: (row: number) => boolean): TopK {
  const inTop = new Set(top.indices);
  // A ranker trained without repeat purchases has no `repeat` feature: the history's own items would
  // then only crowd the feed (they are the most similar to themselves).
  const repeats = s.reranker.features.includes('repeat');
  const extra = historyCandidates(profile, s.codes, s.popularOrder, allowed, repeats).filter((row) => !inTop.has(row));
  if (extra.length === 0) return top;
  const indices = new Int32Array(top.indices.length + extra.length);
  const scores = new Float32Array(indices.length);
  indices.set(top.indices);
  scores.set(top.scores);
  extra.forEach((row, k) => {
    indices[top.indices.length + k] = row;
    scores[top.indices.length + k] = dotRow(s.itemFactors, s.f, row, x);
  });
  return { indices, scores };
}

/** Top k from a scoring matrix, leaving out `exclude` either through `mask` or by asking for more and dropping them. */
async function topKExcluding(m: ScoringMatrix, x: Float32Array, k: number, mask: Uint8Array | undefined, exclude: Set<number>): Promise<TopK> {
  if (mask !== undefined) return m.topK(x, k, mask);
  const top = await m.topK(x, k + exclude.size);
  if (exclude.size === 0) return top;
  const keep: number[] = [];
  for (let n = 0; n < top.indices.length && keep.length < k; n++) if (!exclude.has(top.indices[n]!)) keep.push(n);
  return { indices: Int32Array.from(keep, (n) => top.indices[n]!), scores: Float32Array.from(keep, (n) => top.scores[n]!) };
}

/**
 * The similarity MMR diversifies by, between candidates (positions into `rows`): the mean of the
 * image and content cosines the pack has, else the cosine of the factor vectors.
 */
function similarityOf(s: ModelState, rows: Int32Array): (a: number, b: number) => number {
  const spaces: UnitMatrix[] = [];
  if (s.image) spaces.push(s.image);
  if (s.content) spaces.push(s.content);
  if (spaces.length === 0) {
    const f = s.f;
    const y = s.itemFactors;
    const norms = Float64Array.from(rows, (r) => Math.sqrt(dotRow(y, f, r, y.subarray(r * f, (r + 1) * f))));
    return (a, b) => {
      const d = norms[a]! * norms[b]!;
      return d > 0 ? dotRow(y, f, rows[a]!, y.subarray(rows[b]! * f, (rows[b]! + 1) * f)) / d : 0;
    };
  }
  return (a, b) => {
    let total = 0;
    for (const m of spaces) total += dotRow(m.values, m.cols, rows[a]!, m.values.subarray(rows[b]! * m.cols, (rows[b]! + 1) * m.cols));
    return total / spaces.length;
  };
}
