/**
 * Sync: the catalog and the models onto the device, verified, resumable, switched atomically.
 *
 * ## Using it (page code)
 *
 * ```ts
 * import { sync, thumbnailUrl } from '../lib/sync'; // src/lib/sync/index.ts
 *
 * void sync.start();                   // once, at app start: sync now, then in the background
 * sync.phase; sync.progress;           // $state: render a progress bar
 * sync.lastUpdated; sync.error;        // "Last updated 5 min ago" / "Sync failed: …"
 * await sync.syncNow();                // a "Sync now" button (joins a run in flight)
 * const set = await sync.loadActiveSet(); // what the worker needs, or null before the first sync
 * sync.onActivated(() => reloadEngine()); // a new set became active: hand it to the worker again
 * ```
 *
 * - `sync.phase`: `idle` (not run yet) → `checking` → `downloading` → `applying` → `up-to-date`;
 *   or `offline` (server unreachable; not an error, retried on reconnect) or `error` (`sync.error`
 *   says why, `sync.errorKind` is `server | manifest | integrity | catalog | storage`).
 * - `sync.progress`: `{ bytesDone, bytesTotal, filesDone, filesTotal }` while downloading (bytes
 *   resumed from an earlier attempt count as done), `{ itemsDone, itemsTotal }` while applying.
 * - `sync.lastUpdated`: epoch ms when the device was last confirmed current; survives reloads.
 * - `sync.active`: `{ catalogVersion, itemCount, models: ['fashion-ranker@2', 'image-encoder@1'], activatedAt }`.
 * - `sync.refused`: blobs refused because their bytes did not hash to their name. A background run
 *   does not fetch them again for the same manifest for 6 hours; `sync.syncNow({ retryRefused: true })` does.
 * - `sync.start()` refreshes on start, on the `online` event, when the connectivity check
 *   (src/lib/pwa/connectivity) finds the server again, and every 15 minutes while visible.
 *
 * `loadActiveSet()` returns `ActiveSet`: `catalogVersion`, `contentHash`, `items` (every
 * `ItemRecord` of the active catalog, in id order), `models` (each `{ role, entry, files }`: the
 * manifest entry and every file's bytes as an `ArrayBuffer` keyed by file name), and the shortcuts
 * `ranker` (the champion `fashion-ranker`: `files['ranker.json']` and its matrices, see
 * models/recommend/pack.ts) and `imageEncoder` (the `image-encoder` version the ranker names in
 * `inputs.imageEncoder`). Both are absent while the registry has no champion. Send the
 * ArrayBuffers to the worker with `Comlink.transfer` to avoid a copy (they are then detached
 * here; call `loadActiveSet()` again when needed).
 *
 * Thumbnails are not part of a sync: `thumbnailUrl(item)` gives `/v1/thumbs/<sha256>.webp`, which
 * the service worker caches on first use (CacheFirst, see vite.config.ts), so every product the
 * shopper has seen keeps its photo offline; `warmThumbnails(items)` fetches a few ahead of time
 * (e.g. the feed's first page) so they are there offline too.
 *
 * ## How it works
 *
 * The manifest (`GET /v1/manifest`, `If-None-Match` → 304) names the catalog snapshot and deltas
 * and the model versions; everything else is an immutable blob named by its sha256
 * (`/v1/blobs/<sha256>`). `plan.ts` decides what to fetch; `download.ts` fetches each blob
 * (three at a time), keeping received bytes in the `downloads` store so an interrupted download
 * resumes with a Range request, and stores it in `blobs` only once its sha256 matches; `engine.ts`
 * decodes the catalog (format in models/catalog/snapshot-codec.ts) and switches in ONE IndexedDB
 * transaction: the new version's items in chunks of 2,000 (`catalog` store), the `sync.active`
 * meta record naming the set, the sync state, and the old set's leftovers deleted. Until then the
 * previous set stays active; a sync that fails or is cut off changes nothing it uses. Runs on one
 * origin take turns through the Web Lock `fashionml-sync`.
 */
export { sync, DEFAULT_REFRESH_MS } from './sync-manager.svelte';
export type { ActiveSummary, SyncNowOptions } from './sync-manager.svelte';
export { loadActiveSet, runSync, readActiveRecord, readSyncState, SyncError, ACTIVE_KEY, STATE_KEY, REFUSED_BACKOFF_MS, SYNC_LOCK } from './engine';
export type { ActiveModel, ActiveSet, RefusedBlob, SyncErrorKind, SyncOptions, SyncPhase, SyncProgress, SyncResult, SyncStateRecord } from './engine';
export { planSync, targetModels, CHAMPION_ALIAS, RANKER_KIND, PlanError } from './plan';
export type { ActiveModelRef, ActiveSetRecord, ModelRole, SyncPlan } from './plan';
export { parseManifest, ManifestError } from './manifest';
export type { ManifestModel, SyncManifest } from './manifest';
export { IntegrityError, DownloadError } from './download';
export { thumbnailUrl, warmThumbnails } from './thumbnails';
