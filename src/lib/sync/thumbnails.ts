/**
 * Product thumbnails: content-addressed files the server names by the photo's sha256. They are not
 * synced with the catalog (35k photos would be far over the sync budget); the service worker
 * caches each one the first time it is shown (CacheFirst, see vite.config.ts), so anything the
 * shopper has seen keeps its photo offline.
 */

const SHA256 = /^[0-9a-f]{64}$/;

/** `/v1/thumbs/<sha256>.webp` for an item with a photo, undefined for one without. */
export function thumbnailUrl(item: { imageSha256?: string | undefined }): string | undefined {
  return item.imageSha256 && SHA256.test(item.imageSha256) ? `/v1/thumbs/${item.imageSha256}.webp` : undefined;
}

/**
 * Fetches thumbnails ahead of time (e.g. the feed's first page) so the service worker has them
 * offline. At most `concurrency` requests at once; failures are counted, not thrown (a missing
 * photo must not break the page). Resolves to how many arrived.
 */
export async function warmThumbnails(
  items: readonly { imageSha256?: string | undefined }[],
  options: { concurrency?: number; fetch?: typeof fetch; signal?: AbortSignal } = {},
): Promise<{ fetched: number; failed: number }> {
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const urls = [...new Set(items.map(thumbnailUrl).filter((url): url is string => url !== undefined))];
  let next = 0;
  let fetched = 0;
  let failed = 0;
  const worker = async () => {
    while (next < urls.length && !options.signal?.aborted) {
      const url = urls[next++]!;
      try {
        const response = await fetchFn(url, options.signal ? { signal: options.signal } : {});
        // Read the body so the service worker's cache write completes with it.
        await response.arrayBuffer();
        if (response.ok) fetched++;
        else failed++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, urls.length) }, worker));
  return { fetched, failed };
}
