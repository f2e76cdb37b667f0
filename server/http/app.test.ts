import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAppServer } from './app';

let dir: string;
let app: FastifyInstance;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fashionml-app-test-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>FashionML</title>');
  writeFileSync(join(dir, 'sw.js'), 'self.addEventListener("fetch", () => {});');
  writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log("x");'.repeat(200));
  writeFileSync(join(dir, 'assets', 'tfjs-backend-wasm-simd-abc.wasm'), Buffer.from([0, 97, 115, 109]));
  writeFileSync(join(tmpdir(), 'fashionml-secret.txt'), 'secret');
  app = await buildAppServer({ appDir: dir });
});

afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('app server', () => {
  it('refuses to start without a built app, saying what to run', async () => {
    await expect(buildAppServer({ appDir: join(dir, 'missing') })).rejects.toThrow(/index\.html is missing.*npm run build/);
  });

  it('serves the shell and the service worker for revalidation on every load', async () => {
    for (const url of ['/', '/sw.js']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['cache-control'], url).toBe('no-cache');
    }
  });

  it('serves hashed assets as immutable, wasm with its MIME type, compressed when asked', async () => {
    const js = await app.inject({ url: '/assets/index-abc123.js', headers: { 'accept-encoding': 'gzip' } });
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['content-encoding']).toBe('gzip');
    const wasm = await app.inject({ url: '/assets/tfjs-backend-wasm-simd-abc.wasm' });
    expect(wasm.headers['content-type']).toBe('application/wasm');
  });

  it('answers unknown app paths with the app shell and unknown API paths with a JSON 404', async () => {
    const page = await app.inject({ url: '/product/123' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<title>FashionML</title>');
    const api = await app.inject({ url: '/v1/nothing' });
    expect(api.statusCode).toBe(404);
    expect(api.json()).toEqual({ error: 'not_found', message: 'No route for GET /v1/nothing' });
  });

  it('never serves files outside the app folder', async () => {
    for (const url of ['/../fashionml-secret.txt', '/%2e%2e/fashionml-secret.txt', '/assets/..%2f..%2ffashionml-secret.txt']) {
      const res = await app.inject({ url });
      expect(res.body, url).not.toContain('secret');
    }
  });

  it('reports health', async () => {
    const res = await app.inject({ url: '/healthz' });
    expect(res.json()).toEqual({ status: 'ok' });
  });
});
