import { describe, expect, it } from 'vitest';
import type { CatalogItem } from '../ingest/types';
import { catalogLabels } from './image-data';

const item = (id: string, articleType: string, colour: string, gender: string, usage?: string): CatalogItem =>
  ({ id, title: id, articleType, colour, gender, masterCategory: 'Apparel', subCategory: 'Topwear', attributes: {}, ...(usage === undefined ? {} : { usage }) });

describe('catalogLabels', () => {
  it('indexes every task by sorted class names and marks an item without usage -1', () => {
    const { labels, classes } = catalogLabels([
      item('1', 'Tshirts', 'Red', 'Men', 'Sports'),
      item('2', 'Jeans', 'Blue', 'Women'),
      item('3', 'Tshirts', 'Blue', 'Men', 'Casual'),
    ]);
    expect(classes).toEqual({ articleType: ['Jeans', 'Tshirts'], colour: ['Blue', 'Red'], gender: ['Men', 'Women'], usage: ['Casual', 'Sports'] });
    expect(Array.from(labels.articleType)).toEqual([1, 0, 1]);
    expect(Array.from(labels.colour)).toEqual([1, 0, 0]);
    expect(Array.from(labels.gender)).toEqual([0, 1, 0]);
    expect(Array.from(labels.usage)).toEqual([1, -1, 0]);
  });
});
