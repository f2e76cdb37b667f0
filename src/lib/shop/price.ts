import type { CatalogItem } from '../../../models/catalog/item';

/**
 * Prices as the shop gives them. The catalog contract's `price` is a bare number: a shop may
 * export real money or, as the H&M sample does, scaled numbers that are no currency at all. So a
 * price is shown as a plain number with two decimals, and as money only when the catalog names
 * the currency (an ISO 4217 code in the item's `currency` attribute).
 */

/** The item's currency when its catalog names one (e.g. `"EUR"`). */
export function currencyOf(item: Pick<CatalogItem, 'attributes'>): string | undefined {
  const code = item.attributes['currency']?.trim().toUpperCase();
  return code && /^[A-Z]{3}$/.test(code) ? code : undefined;
}

/** `12.5` → `"12.50"`, or `"€12.50"` (in the browser's locale) when a currency is named. */
export function formatPrice(value: number, currency?: string): string {
  if (currency) {
    try {
      return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(value);
    } catch {
      // An unknown code: the plain number below still says the amount.
    }
  }
  return value.toFixed(2);
}

/** An item's price as text, or undefined when it has none. */
export function itemPrice(item: Pick<CatalogItem, 'price' | 'attributes'>): string | undefined {
  return item.price === undefined ? undefined : formatPrice(item.price, currencyOf(item));
}

export interface CartTotal {
  /** Sum of price × quantity over the lines that have a price; undefined when none has. */
  total?: number;
  /** The currency every priced line shares, when the catalog names one. */
  currency?: string;
  /** Lines with a price, and lines without one (left out of the total). */
  priced: number;
  unpriced: number;
  /** Priced lines in different currencies: no single total can be given. */
  mixedCurrencies: boolean;
}

/** What a cart costs, counting only the lines whose item has a price. */
export function cartTotal(lines: readonly { item: Pick<CatalogItem, 'price' | 'attributes'>; quantity: number }[]): CartTotal {
  let total = 0;
  let priced = 0;
  const currencies = new Set<string | undefined>();
  for (const { item, quantity } of lines) {
    if (item.price === undefined) continue;
    total += item.price * quantity;
    priced++;
    currencies.add(currencyOf(item));
  }
  const result: CartTotal = { priced, unpriced: lines.length - priced, mixedCurrencies: currencies.size > 1 };
  if (priced > 0 && !result.mixedCurrencies) {
    result.total = total;
    const currency = [...currencies][0];
    if (currency) result.currency = currency;
  }
  return result;
}
