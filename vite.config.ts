import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

export const THEME_COLOUR = '#1f2a44';
/** Cache Storage name of the thumbnails the service worker keeps (see runtimeCaching below). */
export const THUMBS_CACHE = 'fashionml-thumbs';
/** Cache Storage name of the product-page renditions (`/v1/photos/`), kept like the thumbnails. */
export const PHOTOS_CACHE = 'fashionml-photos';

export default defineConfig({
  plugins: [
    svelte(),
    VitePWA({
      // The user decides when a new version takes over (see src/lib/pwa/pwa-manager.svelte.ts).
      registerType: 'prompt',
      injectRegister: false,
      includeAssets: ['favicon.svg', 'icons/apple-touch-icon-180.png'],
      manifest: {
        id: '/',
        name: 'FashionML — fashion picked for you, on your device',
        short_name: 'FashionML',
        description: 'Personal fashion recommendations computed on your device: private, and offline once synced.',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'any',
        theme_color: THEME_COLOUR,
        background_color: '#ffffff',
        categories: ['shopping', 'lifestyle'],
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        // The app shell, the worker and the TF.js wasm binaries, all from our own origin.
        globPatterns: ['**/*.{js,css,html,svg,png,wasm,webmanifest}'],
        // TF.js chunks and the wasm binaries are a few MB each.
        maximumFileSizeToCacheInBytes: 16 * 1024 * 1024,
        navigateFallback: 'index.html',
        navigateFallbackDenylist: [/^\/v1\//, /^\/metrics/, /^\/healthz/, /^\/status/],
        cleanupOutdatedCaches: true,
        // Product thumbnails are content-addressed (named by the photo's sha256), so a cached one is
        // never stale: served from the cache first, kept for the products the shopper has seen, and
        // trimmed by count and age. The catalog and models are synced into IndexedDB instead.
        runtimeCaching: [
          {
            urlPattern: /\/v1\/thumbs\/[0-9a-f]{64}\.(?:webp|jpg)$/,
            handler: 'CacheFirst',
            options: {
              cacheName: THUMBS_CACHE,
              expiration: { maxEntries: 4000, maxAgeSeconds: 90 * 24 * 60 * 60, purgeOnQuotaError: true },
              cacheableResponse: { statuses: [200] },
            },
          },
          // The product page's larger renditions: content-addressed the same way, a few times a
          // thumbnail's size, and only for the products opened, so fewer are kept.
          {
            urlPattern: /\/v1\/photos\/[0-9a-f]{64}\.(?:webp|jpg)$/,
            handler: 'CacheFirst',
            options: {
              cacheName: PHOTOS_CACHE,
              expiration: { maxEntries: 600, maxAgeSeconds: 90 * 24 * 60 * 60, purgeOnQuotaError: true },
              cacheableResponse: { statuses: [200] },
            },
          },
        ],
      },
    }),
  ],
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    manifest: true,
    sourcemap: true,
    chunkSizeWarningLimit: 4096,
  },
});
