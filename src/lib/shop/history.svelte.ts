import type { InteractionType } from '../../../models/catalog/item';
import type { HistoryEvent } from '../../../models/recommend/types';
import type { InteractionRecord } from '../storage';
import { storage } from '../storage/storage-manager.svelte';

/**
 * The shopper's interactions (view, like, add to cart, purchase), kept in the on-device
 * `interactions` store and nowhere else: the feed is folded in from them inside the worker.
 */
class HistoryManager {
  /** Oldest first. */
  events = $state.raw<InteractionRecord[]>([]);
  loaded = $state(false);

  /** Reads the stored history (once per page; `reload` forces it). */
  async load(reload = false): Promise<void> {
    if (this.loaded && !reload) return;
    const store = await storage.store();
    this.events = await store.getAllFromIndex('interactions', 'byTime');
    this.loaded = true;
  }

  /** Stores one event; resolves once it is written. */
  async record(itemId: string, type: InteractionType, at = Date.now()): Promise<InteractionRecord> {
    if (!itemId) throw new Error(`history.record: an item id is required for a ${type} event`);
    const store = await storage.store();
    const record: InteractionRecord = { itemId, type, at };
    record.id = await store.put('interactions', record);
    this.events = [...this.events, record];
    return record;
  }

  /** Removes every event of `type` on `itemId` (un-liking an item takes its like back). */
  async forget(itemId: string, type: InteractionType): Promise<void> {
    const store = await storage.store();
    const gone = this.events.filter((e) => e.itemId === itemId && e.type === type);
    for (const event of gone) if (event.id !== undefined) await store.delete('interactions', event.id);
    this.events = this.events.filter((e) => !gone.includes(e));
  }

  has(itemId: string, type: InteractionType): boolean {
    return this.events.some((e) => e.itemId === itemId && e.type === type);
  }

  /** Distinct items of one event type, most recent first. */
  itemsOf(type: InteractionType, limit = Infinity): string[] {
    // Local scratch value, not state.
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    const seen = new Set<string>();
    for (let i = this.events.length - 1; i >= 0 && seen.size < limit; i--) {
      const event = this.events[i]!;
      if (event.type === type) seen.add(event.itemId);
    }
    return [...seen];
  }

  /** The history as the engine reads it (plain data for the worker). */
  forEngine(): HistoryEvent[] {
    return this.events.map((e) => ({ itemId: e.itemId, type: e.type, at: e.at }));
  }

  /** Forgets the in-memory copy (after delete-my-data, and in tests). */
  reset(): void {
    this.events = [];
    this.loaded = false;
  }
}

export const history = new HistoryManager();
