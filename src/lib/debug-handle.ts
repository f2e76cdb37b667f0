import { experiments } from './experiments/experiments-manager.svelte';
import { runtime } from './runtime/runtime-manager.svelte';
import { catalog } from './shop/catalog.svelte';
import { feed } from './shop/feed.svelte';
import { history } from './shop/history.svelte';
import { decodePhoto } from './shop/photo';
import { cart, saved } from './shop/lists.svelte';
import { recommender } from './shop/recommender.svelte';
import { shopSettings } from './shop/settings.svelte';
import { storage } from './storage/storage-manager.svelte';
import { sync } from './sync/sync-manager.svelte';

/**
 * A handle on `window.fashionml` for the browser console and end-to-end tests: the same objects the
 * screens use, nothing more. It exposes plain-data calls only; no tensor is reachable from it.
 */
export interface DebugHandle {
  runtime: typeof runtime;
  storage: typeof storage;
  /** Catalog and model sync (src/lib/sync). */
  sync: typeof sync;
  /** A/B experiment assignment, counts and the opt-in report (src/lib/experiments). */
  experiments: typeof experiments;
  /** The shopper app's state (catalog, local history, lists, feed, the worker-side recommender). */
  shop: {
    catalog: typeof catalog;
    history: typeof history;
    saved: typeof saved;
    cart: typeof cart;
    feed: typeof feed;
    recommender: typeof recommender;
    settings: typeof shopSettings;
    /** How the Search screen turns a picked photo into pixels for the worker. */
    decodePhoto: typeof decodePhoto;
  };
}

declare global {
  interface Window {
    fashionml?: DebugHandle;
  }
}

export function installDebugHandle(): void {
  window.fashionml = { runtime, storage, sync, experiments, shop: { catalog, history, saved, cart, feed, recommender, settings: shopSettings, decodePhoto } };
}
