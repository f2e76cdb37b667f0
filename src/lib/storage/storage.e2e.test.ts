/**
 * On-device storage in real Chromium: data survives a reload, persistence is requested and the
 * quota shown. (A full quota is covered by the unit tests: Chromium 156 ignores the DevTools
 * quota override for IndexedDB writes, so it cannot be forced here.)
 */
import { describe, expect, it } from 'vitest';
import { useAppAndBrowser, waitForEngine } from '../../../test/browser';

const env = useAppAndBrowser();

describe('on-device storage', () => {
  it('keeps what was written across a reload', async () => {
    const page = env.browser.page;
    await page.goto(`${env.app.url}/#/diagnostics`);
    await waitForEngine(page);
    await page.evaluate(async () => {
      const store = await window.fashionml!.storage.store();
      await store.putMany('interactions', [
        { itemId: '15970', type: 'like', at: 1_700_000_000_000 },
        { itemId: '39386', type: 'view', at: 1_700_000_001_000, weight: 0.5 },
      ]);
      await store.put('blobs', {
        sha256: 'ab'.repeat(32),
        bytes: new Uint8Array([1, 2, 3, 250]).buffer,
        size: 4,
        contentType: 'application/octet-stream',
        storedAt: 1,
      });
    });
    await page.reload();
    await waitForEngine(page);
    const read = await page.evaluate(async () => {
      const store = await window.fashionml!.storage.store();
      const likes = await store.getAllFromIndex('interactions', 'byType', 'like');
      const blob = await store.get('blobs', 'ab'.repeat(32));
      return {
        interactions: await store.count('interactions'),
        likedItem: likes[0]?.itemId,
        bytes: blob ? Array.from(new Uint8Array(blob.bytes)) : [],
      };
    });
    expect(read).toEqual({ interactions: 2, likedItem: '15970', bytes: [1, 2, 3, 250] });
  });

  it('remembers the chosen backend across visits', async () => {
    const page = env.browser.page;
    await page.goto(`${env.app.url}/#/diagnostics`);
    await waitForEngine(page);
    await page.getByTestId('backend-select').selectOption('cpu');
    await page.getByTestId('restart-engine').click();
    await page.getByTestId('active-backend').filter({ hasText: 'cpu' }).waitFor();
    // A new visit (the engine status is shown on Diagnostics and Settings, not on the feed).
    await page.goto(`${env.app.url}/`);
    await page.goto(`${env.app.url}/#/diagnostics`);
    await page.reload();
    await waitForEngine(page);
    expect(await page.getByTestId('active-backend').textContent()).toBe('cpu');
    // The URL parameter still wins over the saved setting.
    await page.goto(`${env.app.url}/?backend=wasm#/diagnostics`);
    await waitForEngine(page);
    expect(await page.getByTestId('active-backend').textContent()).toBe('wasm');
    await page.evaluate(async () => (await window.fashionml!.storage.store()).delete('meta', 'settings.backend'));
  });

  it('requests persistent storage and reports usage and quota', async () => {
    const page = env.browser.page;
    await page.goto(`${env.app.url}/#/diagnostics`);
    await waitForEngine(page);
    await page.getByTestId('storage-persisted').filter({ hasNotText: 'checking' }).waitFor();
    const persisted = await page.evaluate(() => navigator.storage.persisted());
    const shown = await page.getByTestId('storage-persisted').textContent();
    expect(shown).toContain(persisted ? 'yes' : 'no');
    expect(await page.getByTestId('storage-usage').textContent()).toMatch(/[\d.]+ [kMG]?B of [\d.]+ [kMG]?B used/);
  });
});
