import { storage } from '../storage/storage-manager.svelte';

export interface ListEntry {
  itemId: string;
  /** Epoch ms it was added. */
  at: number;
  quantity: number;
}

/** The most of one item a cart line holds (a guard against a stuck button, not a shop rule). */
export const MAX_QUANTITY = 99;

/**
 * A stored list as this version reads it. Lists written before quantities existed (or by hand)
 * may lack one: such a line counts as one of the item. Entries without an item id are dropped.
 */
export function readListEntries(value: unknown): ListEntry[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((raw: unknown) => {
    const entry = raw as Partial<ListEntry> | null;
    if (typeof entry !== 'object' || entry === null || typeof entry.itemId !== 'string') return [];
    const q = entry.quantity;
    const quantity = typeof q === 'number' && Number.isInteger(q) && q >= 1 ? Math.min(q, MAX_QUANTITY) : 1;
    return [{ itemId: entry.itemId, at: typeof entry.at === 'number' ? entry.at : 0, quantity }];
  });
}

/**
 * A list the shopper keeps (saved items, the cart), stored as one `meta` record on the device so
 * a change is one atomic write. Newest first.
 */
export class ShopList {
  entries = $state.raw<ListEntry[]>([]);
  loaded = $state(false);

  constructor(readonly key: 'shop.saved' | 'shop.cart') {}

  async load(reload = false): Promise<void> {
    if (this.loaded && !reload) return;
    const record = await (await storage.store()).get('meta', this.key);
    this.entries = readListEntries(record?.value);
    this.loaded = true;
  }

  quantity(itemId: string): number {
    return this.entries.find((e) => e.itemId === itemId)?.quantity ?? 0;
  }

  has(itemId: string): boolean {
    return this.entries.some((e) => e.itemId === itemId);
  }

  get count(): number {
    return this.entries.reduce((sum, e) => sum + e.quantity, 0);
  }

  async add(itemId: string): Promise<void> {
    const existing = this.entries.find((e) => e.itemId === itemId);
    const next = existing
      ? this.entries.map((e) => (e === existing ? { ...e, quantity: Math.min(MAX_QUANTITY, e.quantity + (this.key === 'shop.cart' ? 1 : 0)) } : e))
      : [{ itemId, at: Date.now(), quantity: 1 }, ...this.entries];
    await this.save(next);
  }

  /** Sets how many of a listed item there are (1 to {@link MAX_QUANTITY}); unlisted items are left alone. */
  async setQuantity(itemId: string, quantity: number): Promise<void> {
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY) {
      throw new RangeError(`A quantity is a whole number from 1 to ${MAX_QUANTITY}, not ${quantity}`);
    }
    if (!this.has(itemId)) return;
    await this.save(this.entries.map((e) => (e.itemId === itemId ? { ...e, quantity } : e)));
  }

  async remove(itemId: string): Promise<void> {
    await this.save(this.entries.filter((e) => e.itemId !== itemId));
  }

  async clear(): Promise<void> {
    await this.save([]);
  }

  reset(): void {
    this.entries = [];
    this.loaded = false;
  }

  private async save(next: ListEntry[]): Promise<void> {
    await (await storage.store()).put('meta', { key: this.key, value: next, updatedAt: Date.now() });
    this.entries = next;
  }
}

export const saved = new ShopList('shop.saved');
export const cart = new ShopList('shop.cart');
