/**
 * The fashion hybrid, in the spirit of LightFM: every item gets a vector in one collaborative space
 * from its id (ALS-ν on weighted, recency-decayed events) and from its features (attribute one-hots,
 * the content vector, the image embedding). A ridge regression maps features to the collaborative
 * space, fitted on the items that have interactions; each item's vector is then a blend of its own
 * collaborative vector and the features' prediction, leaning on the prediction the fewer shoppers
 * it has: y_i = n_i/(n_i + s)·cf_i + s/(n_i + s)·(φ_i·W). An item with no interactions (n_i = 0)
 * is served from its features alone, which is what makes cold items rankable.
 *
 * The device folds a shopper in with {@link foldIn} from models/cf/als.ts on these blended vectors
 * (the pack's `itemFactors`), with the event weights and recency half-life below.
 */
import type { InteractionType } from '../catalog/item';
import { fitAls, foldIn, itemGram } from '../cf/als';
import type { AlsModel } from '../cf/als';
import { toCsr } from '../cf/sparse';
import type { Csr } from '../cf/sparse';
import { fitFeatureRidge, projectFeatures } from './feature-ridge';

export const DAY_MS = 86_400_000;

/** Weights of each event type in the fold-in and the training matrix (a purchase says more than a view). */
export const DEFAULT_EVENT_WEIGHTS: Record<InteractionType, number> = { view: 1, click: 2, like: 4, add_to_cart: 6, purchase: 8 };

/** One event with dense indices (user row, item row in catalog order). */
export interface IndexedEvent {
  user: number;
  item: number;
  type: InteractionType;
  /** Epoch milliseconds. */
  at: number;
}

export interface HybridOptions {
  /** Latent dimensions (default 32). */
  factors?: number;
  alpha?: number;
  regularization?: number;
  regularizationExponent?: number;
  iterations?: number;
  eventWeights?: Record<InteractionType, number>;
  /** An event this many days before the shopper's latest counts half (default 14). */
  halfLifeDays?: number;
  /** Ridge penalty of the feature → factor map (default 1). */
  ridgeLambda?: number;
  /** s in the blend: the interaction count at which an item's own vector and its features weigh the same (default 2). */
  blendShrink?: number;
  seed?: number;
}

export interface HybridFoldIn {
  alpha: number;
  regularization: number;
  regularizationExponent: number;
  eventWeights: Record<InteractionType, number>;
  halfLifeDays: number;
}

export interface HybridModel {
  factors: number;
  nItems: number;
  /** Blended item vectors, shape [nItems, factors], float32: the pack's `itemFactors`. */
  itemFactors: Float32Array;
  /** The pure collaborative vectors (zeros for items without interactions), same shape. */
  cfFactors: Float32Array;
  /** The features' prediction φ_i·W, same shape. */
  featureFactors: Float32Array;
  /** Distinct training shoppers per item, shape [nItems], int32. */
  itemUsers: Int32Array;
  foldIn: HybridFoldIn;
  /** The ALS model (its user factors are the training users'). */
  als: AlsModel;
}

/** Resolved options with defaults. */
export function hybridDefaults(options: HybridOptions = {}): Required<HybridOptions> {
  return {
    factors: options.factors ?? 32,
    alpha: options.alpha ?? 2,
    regularization: options.regularization ?? 0.5,
    regularizationExponent: options.regularizationExponent ?? 0.5,
    iterations: options.iterations ?? 12,
    eventWeights: options.eventWeights ?? DEFAULT_EVENT_WEIGHTS,
    halfLifeDays: options.halfLifeDays ?? 14,
    ridgeLambda: options.ridgeLambda ?? 1,
    blendShrink: options.blendShrink ?? 2,
    seed: options.seed ?? 7,
  };
}

/** An event's fold-in weight: its type's weight, halved every `halfLifeDays` before `now`. */
export function eventWeight(type: InteractionType, at: number, now: number, eventWeights: Record<InteractionType, number>, halfLifeDays: number): number {
  const w = eventWeights[type];
  if (w === undefined) throw new Error(`event weight: unknown interaction type "${type}"`);
  const age = Math.max(0, now - at) / DAY_MS;
  return halfLifeDays > 0 ? w * Math.pow(0.5, age / halfLifeDays) : w;
}

/**
 * The user × item training matrix: Σ event weights per (user, item), each user's events decayed
 * from that user's latest event (what the device does with `now` just after the last action).
 */
export function weightedMatrix(events: readonly IndexedEvent[], nUsers: number, nItems: number, fold: Pick<HybridFoldIn, 'eventWeights' | 'halfLifeDays'>): Csr {
  const latest = new Float64Array(nUsers).fill(-Infinity);
  for (const e of events) if (e.at > latest[e.user]!) latest[e.user] = e.at;
  const rows = new Int32Array(events.length);
  const cols = new Int32Array(events.length);
  const values = new Float32Array(events.length);
  events.forEach((e, k) => {
    rows[k] = e.user;
    cols[k] = e.item;
    values[k] = eventWeight(e.type, e.at, latest[e.user]!, fold.eventWeights, fold.halfLifeDays);
  });
  return toCsr(nUsers, nItems, rows, cols, values);
}

/**
 * Fits ALS on the events, the feature ridge on the items with interactions, and blends.
 *
 * @param features item features, row-major [nItems, featureDim], float32 (see {@link itemFeatures}).
 */
export function fitHybrid(
  events: readonly IndexedEvent[],
  nUsers: number,
  nItems: number,
  features: Float32Array,
  featureDim: number,
  options: HybridOptions = {},
  onIteration?: (iteration: number, model: AlsModel) => void,
): HybridModel {
  const o = hybridDefaults(options);
  if (features.length !== nItems * featureDim) throw new Error(`fitHybrid: features hold ${features.length} values, expected ${nItems}×${featureDim}`);
  const fold: HybridFoldIn = {
    alpha: o.alpha,
    regularization: o.regularization,
    regularizationExponent: o.regularizationExponent,
    eventWeights: o.eventWeights,
    halfLifeDays: o.halfLifeDays,
  };
  const matrix = weightedMatrix(events, nUsers, nItems, fold);
  const als = fitAls(matrix, {
    factors: o.factors,
    alpha: o.alpha,
    regularization: o.regularization,
    regularizationExponent: o.regularizationExponent,
    iterations: o.iterations,
    seed: o.seed,
    onIteration,
  });
  const f = o.factors;
  const itemUsers = new Int32Array(nItems);
  for (const i of matrix.indices) itemUsers[i]!++;
  const warm = Int32Array.from({ length: nItems }, (_, i) => i).filter((i) => itemUsers[i]! > 0);
  const cfFactors = als.itemFactors;
  let featureFactors: Float32Array;
  if (warm.length > 0 && featureDim > 0) {
    const ridge = fitFeatureRidge(features, featureDim, cfFactors, f, warm, o.ridgeLambda);
    featureFactors = projectFeatures(ridge, features);
  } else {
    featureFactors = new Float32Array(nItems * f);
  }
  const itemFactors = new Float32Array(nItems * f);
  for (let i = 0; i < nItems; i++) {
    const n = itemUsers[i]!;
    const w = n / (n + o.blendShrink);
    for (let a = 0; a < f; a++) itemFactors[i * f + a] = w * cfFactors[i * f + a]! + (1 - w) * featureFactors[i * f + a]!;
  }
  return { factors: f, nItems, itemFactors, cfFactors, featureFactors, itemUsers, foldIn: fold, als };
}

/**
 * Item features for the ridge: attribute one-hots (one column per attribute token), the content
 * vector and the image embedding, each block scaled by its weight.
 *
 * @param attributeTokens per item, the indices of its attribute columns (0 ≤ index < attributeColumns).
 * @param content content vectors [nItems, contentDim]. @param image image embeddings [nItems, imageDim] (optional).
 * @returns row-major [nItems, attributeColumns + contentDim + imageDim], float32.
 */
export function itemFeatures(
  attributeTokens: readonly (readonly number[])[],
  attributeColumns: number,
  content: { vectors: Float32Array; dim: number } | undefined,
  image: { vectors: Float32Array; dim: number } | undefined,
  weights: { attributes?: number; content?: number; image?: number } = {},
): { values: Float32Array; dim: number } {
  const n = attributeTokens.length;
  const cd = content?.dim ?? 0;
  const id = image?.dim ?? 0;
  const dim = attributeColumns + cd + id;
  const wa = weights.attributes ?? 1;
  const wc = weights.content ?? 1;
  const wi = weights.image ?? 1;
  const values = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    for (const t of attributeTokens[i]!) values[o + t] = wa;
    for (let c = 0; c < cd; c++) values[o + attributeColumns + c] = wc * content!.vectors[i * cd + c]!;
    for (let c = 0; c < id; c++) values[o + attributeColumns + cd + c] = wi * image!.vectors[i * id + c]!;
  }
  return { values, dim };
}

/** The device's user vector for a history (dense item rows, types, times) at `now`. */
export function foldInHistory(
  model: Pick<HybridModel, 'itemFactors' | 'factors' | 'foldIn'>,
  history: readonly { item: number; type: InteractionType; at: number }[],
  now: number,
  gram?: Float64Array,
): Float32Array {
  const items = Int32Array.from(history, (h) => h.item);
  const weights = Float32Array.from(history, (h) => eventWeight(h.type, h.at, now, model.foldIn.eventWeights, model.foldIn.halfLifeDays));
  return foldIn(model.itemFactors, model.factors, items, weights, {
    alpha: model.foldIn.alpha,
    regularization: model.foldIn.regularization,
    regularizationExponent: model.foldIn.regularizationExponent,
    gram: gram ?? itemGram(model.itemFactors, model.factors, model.foldIn.regularization),
  });
}
