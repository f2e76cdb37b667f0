import type { FeedResponse } from '../../../models/recommend/types';
import { history } from './history.svelte';
import { recommender } from './recommender.svelte';
import { shopSettings } from './settings.svelte';

/** Items in the "For you" feed. */
export const FEED_SIZE = 40;

export type FeedStatus = 'idle' | 'loading' | 'ready' | 'error';

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
        this.response = await recommender.feed({
          history: history.forEngine(),
          now: Date.now(),
          k: FEED_SIZE,
          diversity: shopSettings.diversity,
          filters: { excludePurchased: true },
        });
        this.status = 'ready';
        this.error = undefined;
        this.refreshes++;
      } catch (error) {
        this.status = 'error';
        this.error = error instanceof Error ? error.message : String(error);
      }
    } while (this.again);
  }

  reset(): void {
    this.response = undefined;
    this.status = 'idle';
    this.error = undefined;
  }
}

export const feed = new FeedState();
