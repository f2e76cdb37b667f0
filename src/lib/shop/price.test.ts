import { describe, expect, it } from 'vitest';
import { cartTotal, currencyOf, formatPrice, itemPrice } from './price';

const item = (price?: number, currency?: string): { price?: number; attributes: Record<string, string> } => ({
  ...(price === undefined ? {} : { price }),
  attributes: currency ? { currency } : {},
});

describe('prices', () => {
  it('are plain numbers with two decimals unless the catalog names a currency', () => {
    // The H&M sample's scaled prices: no currency.
    expect(itemPrice(item(0.0508))).toBe('0.05');
    expect(itemPrice(item(12.5))).toBe('12.50');
    expect(itemPrice(item())).toBeUndefined();
    expect(currencyOf(item(1, ' eur '))).toBe('EUR');
    expect(currencyOf(item(1, 'euros'))).toBeUndefined();
    expect(itemPrice(item(12.5, 'EUR'))).toBe(new Intl.NumberFormat(undefined, { style: 'currency', currency: 'EUR' }).format(12.5));
    // A well-formed but unknown code still shows the amount.
    expect(formatPrice(3, 'ZZZ')).toMatch(/3/);
  });

  it('total price × quantity over the priced lines only', () => {
    const total = cartTotal([
      { item: item(0.05), quantity: 2 },
      { item: item(), quantity: 3 },
      { item: item(1.25), quantity: 1 },
    ]);
    expect(total).toEqual({ total: 1.35, priced: 2, unpriced: 1, mixedCurrencies: false });
    expect(cartTotal([{ item: item(), quantity: 1 }])).toEqual({ priced: 0, unpriced: 1, mixedCurrencies: false });
    expect(cartTotal([{ item: item(2, 'EUR'), quantity: 2 }])).toMatchObject({ total: 4, currency: 'EUR' });
    expect(cartTotal([{ item: item(2, 'EUR'), quantity: 1 }, { item: item(2, 'USD'), quantity: 1 }])).toEqual({ priced: 2, unpriced: 0, mixedCurrencies: true });
  });
});
