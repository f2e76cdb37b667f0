/**
 * The on-device recommender's contract: what the app asks the inference worker and what it gets
 * back. Plain data only (it crosses the worker boundary through comlink); ids are catalog item ids.
 *
 * The ranking itself lives in `models/recommend/` (engine), trained and evaluated in Node by
 * `fashionml train` / `evaluate`, and run unchanged in the worker.
 */
import type { InteractionType } from '../catalog/item';

/** One event of the shopper's local history, as the engine reads it. */
export interface HistoryEvent {
  itemId: string;
  type: InteractionType;
  /** Epoch milliseconds. */
  at: number;
}

/** Hard filters applied before re-ranking; every field is optional and lists are "any of". */
export interface ItemFilters {
  genders?: string[];
  masterCategories?: string[];
  articleTypes?: string[];
  colours?: string[];
  /** Leave out items the shopper has already bought (default true for the feed). */
  excludePurchased?: boolean;
  /** Leave out these items (e.g. the product being viewed). */
  excludeItemIds?: string[];
}

/** Why an item is shown. */
export interface Explanation {
  /** `history`: because of these items; `popular` / `trending`: the cold-start fallbacks; `query`: a search match. */
  kind: 'history' | 'popular' | 'trending' | 'similar' | 'query';
  /** History items that contributed most, strongest first, with their share of the score (0–1). */
  because: { itemId: string; share: number }[];
}

export interface Recommendation {
  itemId: string;
  /** Final re-ranked score (higher first); comparable within one response only. */
  score: number;
  explanation: Explanation;
}

export interface FeedRequest {
  history: HistoryEvent[];
  /** Epoch milliseconds used for recency decay (the caller's clock; keeps results reproducible). */
  now: number;
  k: number;
  /** 0 = pure relevance, 1 = maximal diversity (MMR trade-off). */
  diversity: number;
  filters?: ItemFilters;
  /** Compute each item's explanation (default true); false leaves `because` empty, for batch runs. */
  explain?: boolean;
}

export interface FeedResponse {
  items: Recommendation[];
  /** `personal` once the history holds enough signal, else `popular` (new shopper). */
  mode: 'personal' | 'popular';
  /** Milliseconds spent in the engine (fold-in, score, top-K, re-rank), measured in the worker. */
  elapsedMs: number;
  /** True when served from the LRU cache for an identical request state. */
  cached: boolean;
  /** History events left out because the model does not know their item (e.g. removed from the catalog). */
  unknownHistoryItems?: number;
}

export type SimilarMode = 'visual' | 'content' | 'blend';

export interface SearchResponse {
  items: Recommendation[];
  elapsedMs: number;
}

/** An RGBA picture as `ImageData` holds it (what the page gets from a canvas), sent to the worker. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}
