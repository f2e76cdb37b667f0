import type { FeedResponse } from '../../../models/recommend/types';
import { storage } from '../storage/storage-manager.svelte';
import { history } from './history.svelte';
import { recommender } from './recommender.svelte';
import { shopSettings } from './settings.svelte';

/** Items in the "For you" feed. */
export const FEED_SIZE = 40;

export type FeedStatus = 'idle' | 'loading' | 'ready' | 'error';

/** Where the last feed is kept on the device (a `shop.` record: exported and deleted with the rest). */
export const LAST_FEED_KEY = 'shop.lastFeed';

/** The last computed feed and the state it was computed for. */
export interface StoredFeed {
  catalogVersion: number;
  /** Events in the history and the newest one's time: a different history makes it stale. */
  events: number;
  lastEventAt: number;
  response: FeedResponse;
}

/**
 * The "For you" feed: recomputed in the worker from the local history after every action.
 * Refreshes that arrive while one runs are folded into a single follow-up, so a burst of taps
 * costs two engine calls, not one per tap.
 */
class FeedState {
  response = $state.raw<FeedResponse | undefined>(undefined);
  status = $state<FeedStatus>('idle');
  error = $state<string | undefined>(undefined);
  /** Feed refreshes answered so far (tests wait on it). */
  refreshes = $state(0);
  /** The feed on screen is the one stored at the end of the last visit (the worker has not answered yet). */
  restored = $state(false);
  /** Catalog version the feed is computed on (set by the loader). */
  catalogVersion: number | undefined;

  /**
   * Shows the feed stored at the end of the last visit, when it was computed on this catalog for
   * this very history: a repeat visit shows it before the worker has started, then refreshes it.
   */
  async restore(catalogVersion: number): Promise<void> {
    this.catalogVersion = catalogVersion;
    if (this.response) return;
    try {
      await history.load();
      const stored = (await (await storage.store()).get('meta', LAST_FEED_KEY))?.value as StoredFeed | undefined;
      const last = history.events.at(-1);
      if (!stored || this.response || stored.catalogVersion !== catalogVersion) return;
      if (stored.events !== history.events.length || stored.lastEventAt !== (last?.at ?? 0)) return;
      this.response = stored.response;
      this.status = 'ready';
      this.restored = true;
    } catch {
      // Nothing restored: the worker computes the feed as on a first visit.
    }
  }

  private running: Promise<void> | undefined;
  private again = false;

  refresh(): Promise<void> {
    if (!recommender.ready) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      if (!this.response) this.status = 'loading';
      try {
        await history.load();
        // The state this answer is for (more events may arrive while it is computed).
        const state = { events: history.events.length, lastEventAt: history.events.at(-1)?.at ?? 0 };
        this.response = await recommender.feed({
          history: history.forEngine(),
          now: Date.now(),
          k: FEED_SIZE,
          diversity: shopSettings.diversity,
          filters: { excludePurchased: true },
        });
        this.status = 'ready';
        this.error = undefined;
        this.restored = false;
        this.refreshes++;
        void this.store(this.response, state);
      } catch (error) {
        this.status = 'error';
        this.error = error instanceof Error ? error.message : String(error);
      }
    } while (this.again);
  }

  private async store(response: FeedResponse, state: { events: number; lastEventAt: number }): Promise<void> {
    // Nothing to keep for a shopper with no history (and nothing about them after delete-my-data).
    if (this.catalogVersion === undefined || state.events === 0) return;
    const value: StoredFeed = { catalogVersion: this.catalogVersion, ...state, response };
    try {
      await (await storage.store()).put('meta', { key: LAST_FEED_KEY, value, updatedAt: Date.now() });
    } catch {
      // Only a head start for the next visit; storage errors are shown by the storage manager.
    }
  }

  reset(): void {
    this.restored = false;
    this.response = undefined;
    this.status = 'idle';
    this.error = undefined;
  }
}

export const feed = new FeedState();
