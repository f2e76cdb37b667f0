/**
 * What a shopper's own history says about a candidate, beyond the user vector: whether they bought
 * (or touched) this very item, another variant of the same garment, and how much of their history
 * shares its type, colour and categories. Real fashion purchases lean on these (repeat buys of
 * basics, a known garment in a new colour); the engine computes them on the device from the local
 * history, and the trainer computes the same numbers through this module.
 */
import type { CatalogItem } from '../catalog/item';

/** The attributes whose share of the history is a re-ranker feature. */
export const PROFILE_FIELDS = ['articleType', 'colour', 'subCategory', 'masterCategory', 'gender'] as const;
export type ProfileField = (typeof PROFILE_FIELDS)[number];

export type ProfileItem = Pick<CatalogItem, ProfileField | 'variantGroup'>;

/** Per-row integer codes of the profile attributes and the variant group (−1: none or unknown row). */
export interface ItemCodes {
  variantGroup: Int32Array;
  fields: Record<ProfileField, Int32Array>;
  /** Rows of each variant group, in row order. */
  groupRows: Map<number, number[]>;
}

export function codeItems(items: readonly (ProfileItem | undefined)[]): ItemCodes {
  const code = (value: (item: ProfileItem) => string | undefined): Int32Array => {
    const index = new Map<string, number>();
    return Int32Array.from(items, (item) => {
      const v = item === undefined ? undefined : value(item);
      if (v === undefined || v === '') return -1;
      let c = index.get(v);
      if (c === undefined) index.set(v, (c = index.size));
      return c;
    });
  };
  const variantGroup = code((item) => item.variantGroup);
  const groupRows = new Map<number, number[]>();
  variantGroup.forEach((g, row) => {
    if (g < 0) return;
    const rows = groupRows.get(g);
    if (rows) rows.push(row);
    else groupRows.set(g, [row]);
  });
  const fields = {} as Record<ProfileField, Int32Array>;
  for (const f of PROFILE_FIELDS) fields[f] = code((item) => item[f]);
  return { variantGroup, fields, groupRows };
}

/** A history summarised by row, variant group and attribute value (weights as the fold-in sums them). */
export interface HistoryProfile {
  /** Summed weight per history row. */
  itemWeight: Map<number, number>;
  /** Summed weight per variant group. */
  groupWeight: Map<number, number>;
  /** Distinct history rows per variant group. */
  groupRows: Map<number, number>;
  /** Share (0–1) of the history's total weight per attribute code, per field. */
  fieldShare: Record<ProfileField, Map<number, number>>;
  /** Rows the shopper bought. */
  bought: Set<number>;
}

/** @param rows distinct history rows. @param weights their summed weights (same length). @param bought rows with a purchase. */
export function historyProfile(codes: ItemCodes, rows: ArrayLike<number>, weights: ArrayLike<number>, bought: Iterable<number> = []): HistoryProfile {
  const itemWeight = new Map<number, number>();
  const groupWeight = new Map<number, number>();
  const groupRows = new Map<number, number>();
  const fieldShare = {} as Record<ProfileField, Map<number, number>>;
  for (const f of PROFILE_FIELDS) fieldShare[f] = new Map();
  const itemSeen = new Set<number>();
  let total = 0;
  for (let h = 0; h < rows.length; h++) {
    const row = rows[h]!;
    const w = Math.max(0, weights[h]!);
    itemWeight.set(row, (itemWeight.get(row) ?? 0) + w);
    const g = codes.variantGroup[row]!;
    if (g >= 0) {
      groupWeight.set(g, (groupWeight.get(g) ?? 0) + w);
      if (!itemSeen.has(row)) groupRows.set(g, (groupRows.get(g) ?? 0) + 1);
    }
    itemSeen.add(row);
    for (const f of PROFILE_FIELDS) {
      const c = codes.fields[f][row]!;
      if (c >= 0) fieldShare[f].set(c, (fieldShare[f].get(c) ?? 0) + w);
    }
    total += w;
  }
  if (total > 0) for (const f of PROFILE_FIELDS) for (const [c, w] of fieldShare[f]) fieldShare[f].set(c, w / total);
  return { itemWeight, groupWeight, groupRows, fieldShare, bought: new Set(bought) };
}

/** log(1 + the history's weight on this very row). */
export function repeatFeature(p: HistoryProfile, row: number): number {
  return Math.log1p(p.itemWeight.get(row) ?? 0);
}

/** log(1 + the history's weight on the row's other variants). */
export function variantFeature(p: HistoryProfile, codes: ItemCodes, row: number): number {
  const g = codes.variantGroup[row]!;
  if (g < 0) return 0;
  return Math.log1p(Math.max(0, (p.groupWeight.get(g) ?? 0) - (p.itemWeight.get(row) ?? 0)));
}

/** 1 when the history holds another variant of the row's garment. */
export function variantOwnedFeature(p: HistoryProfile, codes: ItemCodes, row: number): number {
  const g = codes.variantGroup[row]!;
  if (g < 0 || !p.groupRows.has(g)) return 0;
  const rows = p.groupRows.get(g)!;
  return rows > (p.itemWeight.has(row) ? 1 : 0) ? 1 : 0;
}

export function shareFeature(p: HistoryProfile, codes: ItemCodes, field: ProfileField, row: number): number {
  const c = codes.fields[field][row]!;
  return c < 0 ? 0 : (p.fieldShare[field].get(c) ?? 0);
}

/** How many candidates each source adds beside the hybrid score's top (see {@link historyCandidates}). */
export const HISTORY_CANDIDATES = { historyItems: 50, variantsPerGroup: 12, trending: 50 } as const;

/**
 * Candidates the user vector may miss: the history's own items (repeat purchases; only with
 * `historyItems`, for a ranker that learned when a shopper buys again), the other variants of its
 * garments, and the best of the new-shopper order (popular and trending), each only where
 * `allowed`. Rows in that order, without repeats.
 *
 * @param popularOrder rows best first ({@link popularOrder}'s `order`).
 */
export function historyCandidates(
  p: HistoryProfile,
  codes: ItemCodes,
  popularOrder: ArrayLike<number>,
  allowed: (row: number) => boolean,
  historyItems: boolean,
): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  const add = (row: number): boolean => {
    if (seen.has(row) || !allowed(row) || (!historyItems && p.itemWeight.has(row))) return false;
    seen.add(row);
    out.push(row);
    return true;
  };
  const byWeight = [...p.itemWeight].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, HISTORY_CANDIDATES.historyItems);
  if (historyItems) for (const [row] of byWeight) add(row);
  const groups = [...p.groupWeight].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  for (const [g] of groups.slice(0, HISTORY_CANDIDATES.historyItems)) {
    let added = 0;
    for (const row of codes.groupRows.get(g) ?? []) {
      if (added >= HISTORY_CANDIDATES.variantsPerGroup) break;
      if (add(row)) added++;
    }
  }
  let trending = 0;
  for (let k = 0; k < popularOrder.length && trending < HISTORY_CANDIDATES.trending; k++) if (add(popularOrder[k]!)) trending++;
  return out;
}

/**
 * The new-shopper order: each item's popularity and trending scaled by their maxima, the larger of
 * the two as its score, and `kind` 1 where trending is the larger (the reason shown). Needs a
 * `popularity` or `trending` stats column.
 */
export function popularOrder(stats: Float32Array, columns: readonly string[], n: number): { order: Int32Array; score: Float64Array; kind: Uint8Array } {
  const pc = columns.indexOf('popularity');
  const tc = columns.indexOf('trending');
  if (pc < 0 && tc < 0) {
    throw new Error(`ranker.json itemStats needs a "popularity" or "trending" column for new shoppers (has: ${columns.join(', ') || 'none'})`);
  }
  const width = columns.length;
  const col = (c: number): Float64Array => Float64Array.from({ length: n }, (_, i) => (c < 0 ? 0 : Math.max(0, stats[i * width + c]!)));
  const pop = col(pc);
  const trend = col(tc);
  const pMax = pop.reduce((a, b) => Math.max(a, b), 0) || 1;
  const tMax = trend.reduce((a, b) => Math.max(a, b), 0) || 1;
  const score = new Float64Array(n);
  const kind = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const p = pop[i]! / pMax;
    const t = trend[i]! / tMax;
    score[i] = Math.max(p, t);
    kind[i] = t > p ? 1 : 0;
  }
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => score[b]! - score[a]! || a - b);
  return { order, score, kind };
}

/** At most this many variants of one garment in a feed (it would otherwise fill with one garment's colours). */
export const MAX_PER_VARIANT_GROUP = 2;

/**
 * Positions of `rows` (best first) keeping at most `cap` rows of each variant group (0: no cap);
 * rows without a group are always kept.
 */
export function capPerVariantGroup(rows: ArrayLike<number>, codes: ItemCodes, cap = MAX_PER_VARIANT_GROUP): number[] {
  const kept: number[] = [];
  const count = new Map<number, number>();
  for (let p = 0; p < rows.length; p++) {
    const g = codes.variantGroup[rows[p]!]!;
    if (cap > 0 && g >= 0) {
      const n = count.get(g) ?? 0;
      if (n >= cap) continue;
      count.set(g, n + 1);
    }
    kept.push(p);
  }
  return kept;
}
