/**
 * The installable app in real Chromium, served by the project's own server: it loads, is
 * controlled by its service worker, is installable, works with the network off after one visit,
 * and offers a new version instead of swapping it in.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAppServer } from '../server/http/app';
import { Registry } from '../server/registry/registry';
import { APP_DIR, launchBrowser, waitForEngine } from '../test/browser';
import type { Browser } from '../test/browser';

/** Each test gets a copy of the build so it can change files (a new version) without affecting others. */
async function serveCopy(port = 0) {
  const dir = mkdtempSync(join(tmpdir(), 'fashionml-app-'));
  cpSync(APP_DIR, dir, { recursive: true });
  // The app syncs at start: an empty registry answers with a manifest that names nothing yet.
  const server = await buildAppServer({ appDir: dir, api: { registry: new Registry(join(dir, '.registry')) } });
  const url = await server.listen({ host: '127.0.0.1', port });
  return {
    dir,
    url,
    port: Number(new URL(url).port),
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForController(browser: Browser): Promise<void> {
  await browser.page.evaluate(() => navigator.serviceWorker.ready);
  // The first visit is not controlled; a reload is (the service worker does not claim clients).
  await browser.page.reload();
  await browser.page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 30_000 });
}

describe('installable PWA', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('loads from the local server without errors, and TF.js stays out of the page bundle', async () => {
    const app = await serveCopy();
    try {
      // The engine status is shown on Diagnostics (and Settings); the feed page shows the feed.
      const response = await browser.page.goto(`${app.url}/#/diagnostics`);
      expect(response?.status()).toBe(200);
      await expect(browser.page.title()).resolves.toBe('FashionML');
      expect(await waitForEngine(browser.page)).toBe('ready');
      expect(browser.errors).toEqual([]);

      // Every script the page itself loaded (not the worker) must be free of TF.js.
      const pageScripts = await browser.page.evaluate(() =>
        performance
          .getEntriesByType('resource')
          .filter((e) => (e as PerformanceResourceTiming).initiatorType === 'script')
          .map((e) => e.name),
      );
      const entryScript = await browser.page.evaluate(() => document.querySelector('script[type=module]')?.getAttribute('src'));
      const sources = [entryScript, ...pageScripts].filter((s): s is string => !!s);
      expect(sources.length).toBeGreaterThan(0);
      for (const source of sources) {
        const text = await (await fetch(new URL(source, app.url))).text();
        expect(text, source).not.toMatch(/tfjs-core|registerKernel\(|WebGPUBackend/);
      }
    } finally {
      await app.close();
    }
  });

  it('is installable: manifest fields, icons, and no installability errors from Chromium', async () => {
    const app = await serveCopy();
    try {
      await browser.page.goto(app.url);
      await waitForController(browser);
      const cdp = await browser.context.newCDPSession(browser.page);
      const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: unknown[] };
      expect(installabilityErrors).toEqual([]);

      const manifestHref = await browser.page.locator('link[rel=manifest]').getAttribute('href');
      const manifest = (await (await fetch(new URL(manifestHref ?? '', app.url))).json()) as {
        name: string;
        short_name: string;
        start_url: string;
        display: string;
        theme_color: string;
        icons: { src: string; sizes: string; purpose?: string }[];
      };
      expect(manifest).toMatchObject({ short_name: 'FashionML', start_url: '/', display: 'standalone', theme_color: '#1f2a44' });
      expect(manifest.name).toContain('FashionML');
      const sizes = manifest.icons.map((i) => `${i.sizes}:${i.purpose ?? 'any'}`);
      expect(sizes).toEqual(expect.arrayContaining(['192x192:any', '512x512:any', '512x512:maskable']));
      for (const icon of manifest.icons) {
        const res = await fetch(new URL(icon.src, app.url));
        expect(res.headers.get('content-type'), icon.src).toBe('image/png');
        const png = Buffer.from(await res.arrayBuffer());
        const [w, h] = [png.readUInt32BE(16), png.readUInt32BE(20)];
        expect(`${w}x${h}`, icon.src).toBe(icon.sizes);
      }
    } finally {
      await app.close();
    }
  });

  it('after one online visit, reloads and runs on-device with the server gone', async () => {
    const app = await serveCopy();
    try {
      await browser.page.goto(`${app.url}/?backend=wasm#/diagnostics`);
      await waitForController(browser);
      expect(await waitForEngine(browser.page)).toBe('ready');
      await app.close();

      // The server is gone: nothing answers on that port any more.
      await expect(fetch(app.url)).rejects.toThrow();
      await browser.context.setOffline(true);
      await browser.page.reload();
      expect(await waitForEngine(browser.page)).toBe('ready');
      expect(await browser.page.getByTestId('active-backend').textContent()).toBe('wasm');
      await browser.page.getByTestId('offline-indicator').waitFor();
      const result = await browser.page.evaluate(() =>
        window.fashionml!.runtime.engine.call((api) => api.runKnownComputation({ matmulSize: 32, cnnBatch: 1, runs: 1 })),
      );
      expect(result.backend).toBe('wasm');
      await browser.page.goto(`${app.url}/#/diagnostics`);
      await browser.page.getByRole('heading', { name: 'Diagnostics' }).waitFor();
    } finally {
      await browser.context.setOffline(false);
      await app.close();
    }
  });

  it('tells the user a new version is ready instead of swapping it in, and reloads into it on request', async () => {
    const app = await serveCopy();
    try {
      await browser.page.goto(app.url);
      await waitForController(browser);
      const firstScript = await browser.page.evaluate(() => navigator.serviceWorker.controller?.scriptURL);

      // Publish a "new version": any byte change to sw.js makes the browser install it.
      appendFileSync(join(app.dir, 'sw.js'), `\n// build ${Date.now()}\n`);
      await browser.page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
      const banner = browser.page.getByTestId('update-banner');
      await banner.waitFor({ timeout: 30_000 });
      expect(await banner.textContent()).toContain('A new version of FashionML is ready.');
      // Still the old worker in control until the user says so.
      const waiting = await browser.page.evaluate(async () => !!(await navigator.serviceWorker.getRegistration())?.waiting);
      expect(waiting).toBe(true);

      await Promise.all([
        browser.page.waitForEvent('framenavigated'),
        browser.page.getByRole('button', { name: 'Reload to update' }).click(),
      ]);
      await browser.page.waitForFunction(async () => {
        const registration = await navigator.serviceWorker.getRegistration();
        return !registration?.waiting && navigator.serviceWorker.controller?.state === 'activated';
      });
      expect(await browser.page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(firstScript);
      expect(readFileSync(join(app.dir, 'sw.js'), 'utf8')).toContain('// build');
      await expect(browser.page.getByTestId('update-banner').count()).resolves.toBe(0);
    } finally {
      await app.close();
    }
  });
});
