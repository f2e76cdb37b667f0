import { storage } from '../storage/storage-manager.svelte';

export interface ListEntry {
  itemId: string;
  /** Epoch ms it was added. */
  at: number;
  quantity: number;
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
    this.entries = Array.isArray(record?.value) ? (record.value as ListEntry[]) : [];
    this.loaded = true;
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
      ? this.entries.map((e) => (e === existing ? { ...e, quantity: e.quantity + (this.key === 'shop.cart' ? 1 : 0) } : e))
      : [{ itemId, at: Date.now(), quantity: 1 }, ...this.entries];
    await this.save(next);
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
