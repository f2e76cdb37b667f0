/**
 * The learned re-ranker's features: one definition shared by the trainer (which fits the weights in
 * `ranker.json` → `rerank`) and the engine (which computes the same numbers at serving time), so the
 * two cannot drift apart. The re-ranked score of a candidate is bias + Σ weight_f · feature_f, with
 * the features in the order `rerank.features` lists them (a subset of {@link RERANK_FEATURES} in any
 * order; an unknown name is an error).
 */
import { repeatFeature, shareFeature, variantFeature, variantOwnedFeature } from './history-profile';
import type { HistoryProfile, ItemCodes } from './history-profile';

/** Item statistics columns in the pack's `itemStats` matrix, by name. */
export const ITEM_STAT_COLUMNS = ['popularity', 'trending', 'freshness', 'recentSales', 'newness'] as const;
export type ItemStatColumn = (typeof ITEM_STAT_COLUMNS)[number];

export const RERANK_FEATURES = {
  /** y_i·x_u: the candidate's hybrid item vector with the folded-in user vector (the candidate score). */
  hybridScore: 'dot product of the hybrid item vector with the user vector',
  /**
   * max over the {@link RECENT_ITEMS} most recent distinct history items h of cos(image_i, image_h)
   * (image embeddings are L2-normalised, so a dot product); 0 without image embeddings or when
   * either row is all zeros (no photo).
   */
  visualSim: 'max cosine of the image embedding with the recent history items',
  /** The same as `visualSim` over the content vectors (content.json's embedItem). */
  contentSim: 'max cosine of the content vector with the recent history items',
  /** itemStats `popularity`: log(1 + weighted training interactions) / log(1 + the catalog maximum), 0–1. */
  popularity: 'log-scaled interaction count, 0–1',
  /** itemStats `trending`: the same over the last {@link TRENDING_DAYS} days of the training data, 0–1. */
  trending: 'log-scaled recent interaction count, 0–1',
  /** itemStats `freshness`: (year − oldest year) / (newest − oldest) over the catalog, 0–1; 0.5 when unknown. */
  freshness: 'catalog year scaled to 0–1',
  /** itemStats `recentSales`: log(1 + interactions halved every {@link TRENDING_DAYS} days before the latest) / its catalog maximum, 0–1. */
  recentSales: 'log-scaled recency-decayed interaction count, 0–1',
  /** itemStats `newness`: 0.5^(days since the item's first interaction / {@link NEWNESS_HALF_LIFE_DAYS}), 0 with none. */
  newness: 'how recently the item first sold, 0–1',
  /** log(1 + the history's weight on this very item): a repeat purchase (history-profile.ts). */
  repeat: "log of the shopper's own weight on the item",
  /** 1 when the shopper bought the item, however long ago (only with `repeat`). */
  bought: 'the shopper bought the item before',
  /** log(1 + the history's weight on the item's other variants: the same garment in another colour). */
  variant: "log of the shopper's weight on the item's variant group",
  /** 1 when the history holds another variant of the item's garment, however long ago. */
  variantOwned: "the shopper has another variant of the item's garment",
  /** Share of the history's weight on items of the candidate's article type, 0–1. */
  typeShare: "share of the shopper's history in the item's article type",
  colourShare: "share of the shopper's history in the item's colour",
  subCategoryShare: "share of the shopper's history in the item's sub category",
  masterCategoryShare: "share of the shopper's history in the item's master category",
  /** The gender field holds a shop's top segment (H&M's index group: Ladieswear, Menswear, Divided…). */
  genderShare: "share of the shopper's history in the item's gender or index group",
  /** typeShare × recentSales: what sells now in the types the shopper buys (trending by segment). */
  typeTrending: "recent sales within the shopper's article types",
  /** subCategoryShare × recentSales. */
  subCategoryTrending: "recent sales within the shopper's sub categories (departments)",
  /** genderShare × recentSales. */
  genderTrending: "recent sales within the shopper's gender or index group",
} as const;
export type RerankFeature = keyof typeof RERANK_FEATURES;
export const RERANK_FEATURE_NAMES = Object.keys(RERANK_FEATURES) as RerankFeature[];

const SHARE_FIELD = {
  typeShare: 'articleType',
  colourShare: 'colour',
  subCategoryShare: 'subCategory',
  masterCategoryShare: 'masterCategory',
  genderShare: 'gender',
} as const;
const TRENDING_FIELD = { typeTrending: 'articleType', subCategoryTrending: 'subCategory', genderTrending: 'gender' } as const;

/** How many of the most recent distinct history items the similarity features look at. */
export const RECENT_ITEMS = 5;
/** The `trending` window, and the half-life of `recentSales`. */
export const TRENDING_DAYS = 7;
/** Half-life of `newness`. */
export const NEWNESS_HALF_LIFE_DAYS = 14;

/** What computing one candidate's features needs (row-major matrices in `itemIds` order). */
export interface RerankContext {
  /** Hybrid item vectors, shape [nItems, f], and the user vector, shape [f]. */
  itemFactors: Float32Array;
  factors: number;
  user: Float32Array;
  /** Rows of the {@link RECENT_ITEMS} most recent distinct history items, most recent first. */
  recent: Int32Array;
  /** Image embeddings, shape [nItems, imageDim], L2-normalised rows (absent: `visualSim` is 0). */
  image?: { vectors: Float32Array; dim: number };
  /** Content vectors, shape [nItems, contentDim], L2-normalised rows (absent: `contentSim` is 0). */
  content?: { vectors: Float32Array; dim: number };
  /** itemStats, shape [nItems, columns.length], with its column names. */
  stats: { values: Float32Array; columns: readonly string[] };
  /** The history's profile and the items' codes (absent: the history features are 0). */
  profile?: { history: HistoryProfile; codes: ItemCodes };
}

/** The most recent distinct items of a history, most recent first (history rows and times). */
export function recentItems(rows: ArrayLike<number>, times: ArrayLike<number>, limit = RECENT_ITEMS): Int32Array {
  const order = Array.from({ length: rows.length }, (_, i) => i).sort((a, b) => times[b]! - times[a]! || b - a);
  const out: number[] = [];
  for (const h of order) {
    const row = rows[h]!;
    if (!out.includes(row)) out.push(row);
    if (out.length === limit) break;
  }
  return Int32Array.from(out);
}

function maxCosine(m: { vectors: Float32Array; dim: number } | undefined, row: number, recent: Int32Array): number {
  if (m === undefined || recent.length === 0) return 0;
  const d = m.dim;
  let best = -Infinity;
  for (const h of recent) {
    let s = 0;
    for (let c = 0; c < d; c++) s += m.vectors[row * d + c]! * m.vectors[h * d + c]!;
    if (s > best) best = s;
  }
  return best;
}

/**
 * The named features of candidate `row`, written into `out` in the order of `names`.
 * @returns `out`, shape [names.length], float32.
 */
export function rerankFeatures(
  ctx: RerankContext,
  row: number,
  names: readonly string[],
  out: Float32Array = new Float32Array(names.length),
): Float32Array {
  // A plain loop and a module-level helper: this runs for every candidate of every request.
  for (let k = 0; k < names.length; k++) {
    const name = names[k]!;
    switch (name as RerankFeature) {
      case 'hybridScore': {
        const f = ctx.factors;
        let s = 0;
        for (let a = 0; a < f; a++) s += ctx.itemFactors[row * f + a]! * ctx.user[a]!;
        out[k] = s;
        break;
      }
      case 'visualSim':
        out[k] = maxCosine(ctx.image, row, ctx.recent);
        break;
      case 'contentSim':
        out[k] = maxCosine(ctx.content, row, ctx.recent);
        break;
      case 'popularity':
      case 'trending':
      case 'freshness':
      case 'recentSales':
      case 'newness':
        out[k] = statValue(ctx, row, name);
        break;
      case 'repeat':
        out[k] = ctx.profile ? repeatFeature(ctx.profile.history, row) : 0;
        break;
      case 'bought':
        out[k] = ctx.profile?.history.bought.has(row) ? 1 : 0;
        break;
      case 'variant':
        out[k] = ctx.profile ? variantFeature(ctx.profile.history, ctx.profile.codes, row) : 0;
        break;
      case 'variantOwned':
        out[k] = ctx.profile ? variantOwnedFeature(ctx.profile.history, ctx.profile.codes, row) : 0;
        break;
      case 'typeShare':
      case 'colourShare':
      case 'subCategoryShare':
      case 'masterCategoryShare':
      case 'genderShare':
        out[k] = ctx.profile ? shareFeature(ctx.profile.history, ctx.profile.codes, SHARE_FIELD[name as keyof typeof SHARE_FIELD], row) : 0;
        break;
      case 'typeTrending':
      case 'subCategoryTrending':
      case 'genderTrending':
        out[k] = ctx.profile ? shareFeature(ctx.profile.history, ctx.profile.codes, TRENDING_FIELD[name as keyof typeof TRENDING_FIELD], row) * statValue(ctx, row, 'recentSales') : 0;
        break;
      default:
        throw new Error(`unknown rerank feature "${name}" (known: ${RERANK_FEATURE_NAMES.join(', ')})`);
    }
  }
  return out;
}

function statValue(ctx: RerankContext, row: number, column: string): number {
  const c = ctx.stats.columns.indexOf(column);
  if (c < 0) throw new Error(`rerank feature "${column}": itemStats has no column "${column}" (it has ${ctx.stats.columns.join(', ')})`);
  return ctx.stats.values[row * ctx.stats.columns.length + c]!;
}
