/**
 * A seven-item ranker pack small enough to check by hand (used by the engine's tests).
 *
 * Factors are 2-dimensional and their gram is diagonal: YᵀY = diag(1.75, 1.75), so with λ = 0.25
 * the fold-in's A starts at diag(2, 2). With α = 1, liking dress-red now (w = 1) and viewing
 * shoe-red now (w = 0.5) gives A = diag(3, 2.5), b = (2, 1.5), x = (2/3, 0.6) and scores
 *   dress-red 0.6667, watch-gold 0.6333, shoe-red 0.6, dress-blue 0.3333, shoe-black 0.3,
 *   watch-steel 0.0333, bag 0.
 * Image and content vectors are 3-dimensional unit vectors (dresses, shoes, watches on the axes);
 * the bag has no photo (zero image row).
 */
import type { InteractionType } from '../../catalog/item';
import type { EngineItem, LoadedPack } from '../engine';
import { RANKER_PACK_FORMAT } from '../pack';
import type { RankerPackMeta } from '../pack';

export const HAND_ITEMS: EngineItem[] = [
  { id: 'dress-red', title: 'Red Wrap Dress', gender: 'Women', masterCategory: 'Apparel', subCategory: 'Dress', articleType: 'Dresses', colour: 'Red', season: 'Summer', year: 2024, usage: 'Casual' },
  { id: 'dress-blue', title: 'Blue Midi Dress', gender: 'Women', masterCategory: 'Apparel', subCategory: 'Dress', articleType: 'Dresses', colour: 'Blue', season: 'Summer', year: 2023, usage: 'Casual' },
  { id: 'shoe-red', title: 'Red Stiletto Heels', gender: 'Women', masterCategory: 'Footwear', subCategory: 'Shoes', articleType: 'Heels', colour: 'Red', season: 'Fall', year: 2024, usage: 'Party' },
  { id: 'shoe-black', title: 'Black Leather Loafers', gender: 'Men', masterCategory: 'Footwear', subCategory: 'Shoes', articleType: 'Casual Shoes', colour: 'Black', season: 'Fall', year: 2022, usage: 'Formal' },
  { id: 'watch-gold', title: 'Gold Chronograph Watch', gender: 'Men', masterCategory: 'Accessories', subCategory: 'Watches', articleType: 'Watches', colour: 'Gold', season: 'Winter', year: 2024, usage: 'Formal' },
  { id: 'watch-steel', title: 'Steel Diver Watch', gender: 'Unisex', masterCategory: 'Accessories', subCategory: 'Watches', articleType: 'Watches', colour: 'Silver', season: 'Winter', year: 2021, usage: 'Sports' },
  { id: 'bag', title: 'Red Leather Handbag', gender: 'Women', masterCategory: 'Accessories', subCategory: 'Bags', articleType: 'Handbags', colour: 'Red', season: 'Summer', year: 2024, usage: 'Casual' },
];

const FACTORS = [
  [1, 0],
  [0.5, 0],
  [0, 1],
  [0, 0.5],
  [0.5, 0.5],
  [0.5, -0.5],
  [0, 0],
];

const IMAGE = [
  [1, 0, 0],
  [0.8, 0.6, 0],
  [0, 1, 0],
  [0, 0.8, 0.6],
  [0, 0, 1],
  [0.6, 0, 0.8],
  [0, 0, 0],
];

const CONTENT = [...IMAGE.slice(0, 6), [0.6, 0, 0.8]];

/** popularity, trending, freshness per item. */
const STATS = [
  [10, 0, 1],
  [2, 4, 0.5],
  [8, 0, 1],
  [1, 0, 0.2],
  [0, 1, 1],
  [0, 0, 0],
  [5, 2, 1],
];

export const HAND_EVENT_WEIGHTS: Record<InteractionType, number> = { view: 0.5, click: 0.5, like: 1, add_to_cart: 2, purchase: 3 };

export function handMeta(rerank: RankerPackMeta['rerank'] = { features: ['hybridScore'], weights: [1], bias: 0 }): RankerPackMeta {
  const rows = HAND_ITEMS.length;
  return {
    format: RANKER_PACK_FORMAT,
    catalog: { version: 1, contentHash: 'hand' },
    itemIds: HAND_ITEMS.map((i) => i.id),
    itemFactors: { file: 'factors.f32', rows, cols: 2, encoding: 'f32' },
    imageEmbeddings: { file: 'image.f32', rows, cols: 3, encoding: 'f32', encoder: 'image-encoder@1' },
    contentVectors: { file: 'content.f32', rows, cols: 3, encoding: 'f32' },
    itemStats: { file: 'stats.f32', rows, cols: 3, encoding: 'f32', columns: ['popularity', 'trending', 'freshness'] },
    foldIn: { alpha: 1, regularization: 0.25, regularizationExponent: 0, eventWeights: { ...HAND_EVENT_WEIGHTS }, halfLifeDays: 7 },
    rerank,
  };
}

/** A fresh decoded pack (the engine normalises embedding rows in place, so never share one). */
export function handPack(rerank?: RankerPackMeta['rerank']): LoadedPack {
  return {
    meta: handMeta(rerank),
    itemFactors: Float32Array.from(FACTORS.flat()),
    imageEmbeddings: Float32Array.from(IMAGE.flat()),
    contentVectors: Float32Array.from(CONTENT.flat()),
    itemStats: Float32Array.from(STATS.flat()),
  };
}

/** A content "model" for the hand pack: a query's words vote for the dress, shoe and watch axes. */
export const handContent = {
  embedQuery(text: string): Float32Array {
    const words = text.toLowerCase().split(/\W+/);
    const v = new Float32Array(3);
    for (const w of words) {
      if (/dress/.test(w)) v[0]! += 1;
      if (/shoe|heel|loafer/.test(w)) v[1]! += 1;
      if (/watch|bag/.test(w)) v[2]! += 1;
    }
    return v;
  },
};

export const DAY = 86_400_000;
export const NOW = Date.UTC(2026, 0, 15);
