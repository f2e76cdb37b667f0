import { describe, expect, it } from 'vitest';
import type { CatalogItem } from '../../../models/catalog/item';
import { groupVariants, renditionUrl, thumbnailUrl } from './catalog.svelte';
import { MAX_QUANTITY, readListEntries } from './lists.svelte';

describe('stored lists', () => {
  it('read a cart stored before quantities existed as one of each item', () => {
    expect(readListEntries([{ itemId: 'a', at: 5 }, { itemId: 'b', at: 6, quantity: 3 }])).toEqual([
      { itemId: 'a', at: 5, quantity: 1 },
      { itemId: 'b', at: 6, quantity: 3 },
    ]);
  });

  it('mend what they cannot use rather than fail', () => {
    expect(readListEntries(undefined)).toEqual([]);
    expect(readListEntries({ itemId: 'a' })).toEqual([]);
    expect(readListEntries([null, 7, { at: 1 }, { itemId: 'c', quantity: 0 }, { itemId: 'd', quantity: 2.5 }, { itemId: 'e', quantity: 1e9 }])).toEqual([
      { itemId: 'c', at: 0, quantity: 1 },
      { itemId: 'd', at: 0, quantity: 1 },
      { itemId: 'e', at: 0, quantity: MAX_QUANTITY },
    ]);
  });
});

const shirt = (id: string, extra: Partial<CatalogItem> = {}): CatalogItem => ({
  id,
  title: `Shirt ${id}`,
  gender: 'Men',
  masterCategory: 'Apparel',
  subCategory: 'Topwear',
  articleType: 'Shirts',
  colour: 'Black',
  attributes: {},
  ...extra,
});

describe('catalog lookups for the product page', () => {
  it('group variants in catalog order, leaving out items without a group', () => {
    const items = [shirt('1', { variantGroup: 'g' }), shirt('2'), shirt('3', { variantGroup: 'h' }), shirt('4', { variantGroup: 'g' })];
    const groups = groupVariants(items);
    expect([...groups.keys()]).toEqual(['g', 'h']);
    expect(groups.get('g')!.map((i) => i.id)).toEqual(['1', '4']);
  });

  it('link a rendition only when the catalog says ingest kept one', () => {
    const sha = 'a'.repeat(64);
    expect(renditionUrl(shirt('1', { imageSha256: sha, rendition: { width: 128, height: 192 } }))).toBe(`/v1/photos/${sha}.webp`);
    expect(renditionUrl(shirt('1', { imageSha256: sha }))).toBeUndefined();
    expect(thumbnailUrl(shirt('1', { imageSha256: sha }))).toBe(`/v1/thumbs/${sha}.webp`);
  });
});
