import { describe, expect, it } from 'vitest';
import { describeExplanation } from './explain';

const titles: Record<string, string> = { a: 'Blue Denim Jacket', b: 'Red Scarf' };
const title = (id: string) => titles[id];

describe('describeExplanation', () => {
  it('names the history items and the strongest thing the shopper did with the first one', () => {
    const text = describeExplanation(
      { kind: 'history', because: [{ itemId: 'a', share: 0.7 }, { itemId: 'b', share: 0.3 }] },
      title,
      (id) => (id === 'a' ? ['view', 'like'] : ['view']),
    );
    expect(text).toBe('Because you liked “Blue Denim Jacket” and “Red Scarf”.');
  });

  it('skips items no longer in the catalog and falls back when none is left', () => {
    expect(describeExplanation({ kind: 'history', because: [{ itemId: 'gone', share: 1 }] }, title, () => [])).toBe(
      'Picked from what you did in the shop.',
    );
    expect(describeExplanation({ kind: 'popular', because: [] }, title, () => [])).toMatch(/Popular/);
    expect(describeExplanation({ kind: 'similar', because: [{ itemId: 'b', share: 1 }] }, title, () => [])).toBe('Looks like Red Scarf.');
  });
});
