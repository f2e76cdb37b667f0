import { describe, expect, it } from 'vitest';
import { codeItems, historyCandidates, historyProfile, popularOrder, repeatFeature, shareFeature, variantFeature, variantOwnedFeature } from './history-profile';
import type { ProfileItem } from './history-profile';

// Rows 0–2 are one garment in three colours, rows 3–4 another, row 5 stands alone.
const ITEMS: ProfileItem[] = [
  { articleType: 'Dress', colour: 'Red', subCategory: 'Dresses', masterCategory: 'Garment', gender: 'Ladieswear', variantGroup: 'g1' },
  { articleType: 'Dress', colour: 'Blue', subCategory: 'Dresses', masterCategory: 'Garment', gender: 'Ladieswear', variantGroup: 'g1' },
  { articleType: 'Dress', colour: 'Black', subCategory: 'Dresses', masterCategory: 'Garment', gender: 'Ladieswear', variantGroup: 'g1' },
  { articleType: 'Trousers', colour: 'Black', subCategory: 'Trousers', masterCategory: 'Garment', gender: 'Menswear', variantGroup: 'g2' },
  { articleType: 'Trousers', colour: 'Blue', subCategory: 'Trousers', masterCategory: 'Garment', gender: 'Menswear', variantGroup: 'g2' },
  { articleType: 'Bag', colour: 'Red', subCategory: 'Bags', masterCategory: 'Accessories', gender: 'Ladieswear' },
];

describe('the history profile', () => {
  const codes = codeItems(ITEMS);
  // Bought the red dress (weight 3) and the black trousers (weight 1).
  const p = historyProfile(codes, [0, 3], [3, 1]);

  it('codes variant groups and attributes per row', () => {
    expect(codes.groupRows.get(codes.variantGroup[0]!)).toEqual([0, 1, 2]);
    expect(codes.variantGroup[5]).toBe(-1);
    expect(codes.fields.colour[0]).toBe(codes.fields.colour[5]);
  });

  it('gives the repeat, variant and share features by hand', () => {
    expect(repeatFeature(p, 0)).toBeCloseTo(Math.log1p(3), 12);
    expect(repeatFeature(p, 1)).toBe(0);
    // The blue dress: the history's weight on its garment's other variants is the red dress's 3.
    expect(variantFeature(p, codes, 1)).toBeCloseTo(Math.log1p(3), 12);
    // The red dress itself: no other variant of it was bought.
    expect(variantFeature(p, codes, 0)).toBe(0);
    expect(variantOwnedFeature(p, codes, 1)).toBe(1);
    expect(variantOwnedFeature(p, codes, 0)).toBe(0);
    expect(variantOwnedFeature(p, codes, 5)).toBe(0);
    expect(shareFeature(p, codes, 'articleType', 2)).toBeCloseTo(0.75, 12);
    expect(shareFeature(p, codes, 'colour', 2)).toBeCloseTo(0.25, 12);
    expect(shareFeature(p, codes, 'gender', 5)).toBeCloseTo(0.75, 12);
    expect(shareFeature(p, codes, 'articleType', 5)).toBe(0);
  });

  it("proposes the history's own items only when asked, then their other variants, then the new-shopper order", () => {
    const order = popularOrder(Float32Array.from([0, 0, 0, 0, 0, 1]), ['popularity'], 6).order;
    expect(order[0]).toBe(5);
    expect(historyCandidates(p, codes, order, () => true, true)).toEqual([0, 3, 1, 2, 4, 5]);
    expect(historyCandidates(p, codes, order, () => true, false)).toEqual([1, 2, 4, 5]);
    expect(historyCandidates(p, codes, order, (row) => row !== 2 && row !== 5, false)).toEqual([1, 4]);
  });
});
