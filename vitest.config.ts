import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

/**
 * Unit tests run in Node (fake IndexedDB where storage is involved); end-to-end tests drive the
 * built app in real Chromium and are a separate project so they can be run on their own.
 */
export default defineConfig({
  plugins: [svelte()],
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{src,models,workers,server}/**/*.test.ts'],
          exclude: ['**/*.e2e.test.ts', 'node_modules/**'],
          environment: 'node',
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['{src,models,workers,server}/**/*.e2e.test.ts'],
          globalSetup: ['test/e2e-global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
