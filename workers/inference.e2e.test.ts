/**
 * The inference worker in real Chromium: every backend computes the known computation with the
 * same result, explicit choices are honoured or refused with the available backends named, and a
 * lost GPU device moves work to the next backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapabilityReport } from '../models/runtime/capabilities';
import type { KnownComputationResult } from './inference.worker';
import { launchBrowser, useAppAndBrowser, waitForEngine } from '../test/browser';
import type { Browser } from '../test/browser';

interface BackendRun {
  backend: string;
  result?: KnownComputationResult;
  error?: string;
  mismatch?: string;
}

const env = useAppAndBrowser();

async function capabilityReport(): Promise<CapabilityReport> {
  const report = await env.browser.page.evaluate(() => window.fashionml?.runtime.report);
  if (!report) throw new Error('no capability report');
  return JSON.parse(JSON.stringify(report)) as CapabilityReport;
}

describe('inference worker backends', () => {
  it('auto picks WebGPU (SwiftShader adapter) and reports why the others were not used', async () => {
    await env.browser.page.goto(`${env.app.url}/#/diagnostics`);
    expect(await waitForEngine(env.browser.page)).toBe('ready');
    const report = await capabilityReport();
    expect(report.active).toBe('webgpu');
    expect(report.device).toMatch(/swiftshader/i);
    expect(report.features.length).toBeGreaterThan(0);
    for (const probe of report.backends.filter((b) => b.backend !== 'webgpu')) {
      expect(probe.reason, probe.backend).toMatch(/not tried: webgpu ranks higher/);
    }
    expect(await env.browser.page.getByTestId('capability-table').textContent()).toContain('active');
  });

  it('computes the same matmul and CNN results on webgpu, webgl, wasm and cpu', async () => {
    const page = env.browser.page;
    await page.goto(`${env.app.url}/?matmul=128&batch=4#/diagnostics`);
    await waitForEngine(page);
    await page.getByTestId('run-all').click();
    await page.getByTestId('results-json').waitFor({ state: 'attached', timeout: 120_000 });
    const runs = JSON.parse((await page.getByTestId('results-json').textContent()) ?? '[]') as BackendRun[];
    expect(runs.map((r) => r.backend)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    for (const run of runs) {
      expect(run.error, run.backend).toBeUndefined();
      expect(run.mismatch, run.backend).toBeUndefined();
      expect(run.result?.backend).toBe(run.backend);
      expect(run.result?.matmul.sample).toHaveLength(16);
      expect(run.result?.cnn.imagesPerSecond).toBeGreaterThan(0);
    }
    // The comparison is only meaningful if results are not trivially equal (e.g. all zeros).
    const cpu = runs.find((r) => r.backend === 'cpu')?.result;
    expect(new Set(cpu?.matmul.sample.map((v) => v.toFixed(3))).size).toBeGreaterThan(8);
    expect(new Set(cpu?.cnn.sample.map((v) => v.toFixed(4))).size).toBeGreaterThan(4);
    await expect(page.getByTestId('agreement').allTextContents()).resolves.toEqual(Array(4).fill('matches cpu'));
  });

  for (const backend of ['webgpu', 'webgl', 'wasm', 'cpu'] as const) {
    it(`honours an explicit ?backend=${backend}`, async () => {
      await env.browser.page.goto(`${env.app.url}/?backend=${backend}#/diagnostics`);
      expect(await waitForEngine(env.browser.page)).toBe('ready');
      const report = await capabilityReport();
      expect(report.requested).toBe(backend);
      expect(report.active).toBe(backend);
      expect(await env.browser.page.getByTestId('active-backend').textContent()).toBe(backend);
    });
  }

  it('does not leak tensors across calls', async () => {
    const page = env.browser.page;
    await page.goto(`${env.app.url}/?backend=wasm#/diagnostics`);
    await waitForEngine(page);
    const counts = await page.evaluate(async () => {
      const engine = window.fashionml!.runtime.engine;
      const options = { matmulSize: 32, cnnBatch: 2, runs: 1 };
      await engine.call((api) => api.runKnownComputation(options));
      const before = await engine.call((api) => api.tensorCount());
      await engine.call((api) => api.runKnownComputation(options));
      await engine.call((api) => api.runKnownComputation(options, 'cpu'));
      return { before, after: await engine.call((api) => api.tensorCount()) };
    });
    expect(counts.after).toBe(counts.before);
  });

  it('rejects an unknown backend name with the valid ones listed', async () => {
    await env.browser.page.goto(`${env.app.url}/?backend=cuda#/diagnostics`);
    expect(await waitForEngine(env.browser.page)).toBe('error');
    await expect(env.browser.page.getByTestId('engine-error').textContent()).resolves.toBe(
      'URL parameter "backend": "cuda" is not a backend. Valid values: auto, webgpu, webgl, wasm, cpu.',
    );
  });

  it('moves to the next backend when the WebGPU device is lost, and says so', async () => {
    const page = env.browser.page;
    await page.goto(`${env.app.url}/?matmul=64&batch=2#/diagnostics`);
    await waitForEngine(page);
    expect((await capabilityReport()).active).toBe('webgpu');
    await page.getByTestId('lose-device').click();
    const result = await page.evaluate(() =>
      window.fashionml!.runtime.engine.call((api) => api.runKnownComputation({ matmulSize: 64, cnnBatch: 2, runs: 1 })),
    );
    expect(result.backend).toBe('webgl');
    await page.evaluate(() => window.fashionml!.runtime.refreshReport());
    const report = await capabilityReport();
    expect(report.active).toBe('webgl');
    expect(report.fallbacks).toHaveLength(1);
    expect(report.fallbacks[0]).toMatchObject({ from: 'webgpu', to: 'webgl' });
    expect(report.fallbacks[0]?.reason).toMatch(/WebGPU device lost \(destroyed\)/);
    expect(await page.getByTestId('fallbacks').textContent()).toContain('webgpu → webgl');
  });
});

describe('a device without WebGPU', () => {
  let noGpu: Browser;
  beforeAll(async () => {
    // Without the unsafe-WebGPU flag, Chromium offers no adapter on a machine without a GPU.
    noGpu = await launchBrowser({ withoutArgs: ['--enable-unsafe-webgpu', '--enable-features=Vulkan'] });
  });
  afterAll(async () => {
    await noGpu?.close();
  });

  it('refuses an explicit webgpu request with an error naming the available backends', async () => {
    await noGpu.page.goto(`${env.app.url}/?backend=webgpu#/diagnostics`);
    expect(await waitForEngine(noGpu.page)).toBe('error');
    const message = await noGpu.page.getByTestId('engine-error').textContent();
    expect(message).toMatch(/^Backend "webgpu" is not available on this device: .+\. Available: webgl, wasm, cpu\.$/);
  });

  it('auto falls to the next backend and says why webgpu was skipped', async () => {
    await noGpu.page.goto(`${env.app.url}/#/diagnostics`);
    expect(await waitForEngine(noGpu.page)).toBe('ready');
    const report = (await noGpu.page.evaluate(() => JSON.parse(JSON.stringify(window.fashionml?.runtime.report)))) as CapabilityReport;
    expect(report.active).toBe('webgl');
    expect(report.backends[0]?.reason).toMatch(/navigator\.gpu|adapter/);
  });
});
