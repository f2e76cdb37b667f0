import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from '../registry/registry';
import { buildAppServer } from './app';

let dir: string;
let app: FastifyInstance;
let registry: Registry;
let blob: { sha256: string; size: number };
const TOKEN = 'test-admin-token';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fashionml-api-'));
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'app', 'index.html'), '<!doctype html><title>FashionML</title>');
  registry = new Registry(join(dir, 'registry'));
  mkdirSync(join(dir, 'model'));
  writeFileSync(join(dir, 'model', 'model.json'), JSON.stringify({ weights: 'x'.repeat(5000) }));
  registry.registerModel({ id: 'hybrid', kind: 'hybrid-ranker', dir: join(dir, 'model'), dataVersion: 1, codeVersion: 't' });
  // A few more versions, so the manifest is large enough to be worth compressing.
  for (let i = 0; i < 4; i++) {
    registry.registerModel({ id: 'image', kind: 'image-encoder', dir: join(dir, 'model'), dataVersion: i, codeVersion: 't', metrics: { p10: 0.8 } });
  }
  blob = registry.manifest().models[0]!.files[0]!;
  mkdirSync(join(dir, 'thumbs'));
  writeFileSync(join(dir, 'thumbs', `${'a'.repeat(64)}.webp`), Buffer.from('RIFF....WEBP'));
  mkdirSync(join(dir, 'photos'));
  writeFileSync(join(dir, 'photos', `${'b'.repeat(64)}.webp`), Buffer.from(`RIFF....WEBP${'p'.repeat(2000)}`));
  app = await buildAppServer({
    appDir: join(dir, 'app'),
    api: { registry, thumbsDir: join(dir, 'thumbs'), photosDir: join(dir, 'photos'), adminToken: TOKEN },
  });
});

afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('sync API', () => {
  it('serves the manifest with an ETag and answers If-None-Match with 304', async () => {
    const first = await app.inject({ url: '/v1/manifest' });
    expect(first.statusCode).toBe(200);
    expect(first.headers['cache-control']).toBe('no-cache');
    expect(first.json()).toMatchObject({ format: 'fashionml.manifest/1', sequence: 5 });
    expect(first.json().models[0]).toMatchObject({ id: 'hybrid', version: 1 });
    const etag = first.headers.etag as string;
    const again = await app.inject({ url: '/v1/manifest', headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(first.body.length).toBeGreaterThan(1024);
    const compressed = await app.inject({ url: '/v1/manifest', headers: { 'accept-encoding': 'gzip' } });
    expect(compressed.headers['content-encoding']).toBe('gzip');
  });

  it('serves blobs as immutable, with byte ranges for resuming', async () => {
    const full = await app.inject({ url: `/v1/blobs/${blob.sha256}` });
    expect(full.statusCode).toBe(200);
    expect(full.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(full.rawPayload.length).toBe(blob.size);
    const part = await app.inject({ url: `/v1/blobs/${blob.sha256}`, headers: { range: 'bytes=100-199' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${blob.size}`);
    expect(part.rawPayload).toEqual(full.rawPayload.subarray(100, 200));
    const tail = await app.inject({ url: `/v1/blobs/${blob.sha256}`, headers: { range: `bytes=${blob.size - 10}-` } });
    expect(tail.rawPayload).toEqual(full.rawPayload.subarray(blob.size - 10));
  });

  it('sends blobs as stored even to clients that accept compression, so Range offsets hold', async () => {
    const res = await app.inject({ url: `/v1/blobs/${blob.sha256}`, headers: { 'accept-encoding': 'br, gzip', range: 'bytes=10-' } });
    expect(res.statusCode).toBe(206);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.rawPayload.length).toBe(blob.size - 10);
  });

  it('rejects malformed blob names and path traversal with a JSON 4xx', async () => {
    for (const url of ['/v1/blobs/..%2F..%2Fetc%2Fpasswd', '/v1/blobs/ABC', `/v1/blobs/${'g'.repeat(64)}`, '/v1/thumbs/..%2Fsecret.webp']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(400);
      expect(res.json(), url).toHaveProperty('error', 'bad_request');
    }
    const missing = await app.inject({ url: `/v1/blobs/${'0'.repeat(64)}` });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: 'not_found', message: `No blob ${'0'.repeat(64)}` });
  });

  it('serves content-addressed thumbnails', async () => {
    const res = await app.inject({ url: `/v1/thumbs/${'a'.repeat(64)}.webp` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('serves product-page renditions as thumbnails are served: immutable, ETag, Range, same name checks', async () => {
    const url = `/v1/photos/${'b'.repeat(64)}.webp`;
    const full = await app.inject({ url });
    expect(full.statusCode).toBe(200);
    expect(full.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(full.headers['content-type']).toBe('image/webp');
    expect(full.rawPayload.length).toBe(2012);
    const etag = full.headers.etag as string;
    expect(etag).toBeTruthy();
    expect((await app.inject({ url, headers: { 'if-none-match': etag } })).statusCode).toBe(304);
    const part = await app.inject({ url, headers: { range: 'bytes=0-11' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe('bytes 0-11/2012');
    expect(part.body).toBe('RIFF....WEBP');
    // The thumbnail route answers the same way.
    const thumb = await app.inject({ url: `/v1/thumbs/${'a'.repeat(64)}.webp` });
    expect((await app.inject({ url: `/v1/thumbs/${'a'.repeat(64)}.webp`, headers: { 'if-none-match': thumb.headers.etag as string } })).statusCode).toBe(304);
    for (const bad of ['/v1/photos/..%2Fsecret.webp', `/v1/photos/${'B'.repeat(64)}.webp`, `/v1/photos/${'b'.repeat(64)}.png`]) {
      const res = await app.inject({ url: bad });
      expect(res.statusCode, bad).toBe(400);
      expect(res.json(), bad).toEqual({ error: 'bad_request', message: 'Product photos are named <sha256>.webp' });
    }
    // A photo with only a thumbnail (or a data directory from before renditions) is a plain 404.
    const missing = await app.inject({ url: `/v1/photos/${'a'.repeat(64)}.webp` });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: 'not_found', message: `No product photo ${'a'.repeat(64)}.webp` });
    const without = await buildAppServer({ appDir: join(dir, 'app'), api: { registry, thumbsDir: join(dir, 'thumbs') } });
    expect((await without.inject({ url })).statusCode).toBe(404);
    await without.close();
  });

  it('moves an alias only with the bearer token, and validates the body', async () => {
    const body = { model: 'hybrid', version: 1 };
    const anonymous = await app.inject({ method: 'PUT', url: '/v1/aliases/champion', payload: body });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer');
    const wrong = await app.inject({ method: 'PUT', url: '/v1/aliases/champion', payload: body, headers: { authorization: 'Bearer nope' } });
    expect(wrong.statusCode).toBe(401);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const ok = await app.inject({ method: 'PUT', url: '/v1/aliases/champion', payload: body, headers: auth });
    expect(ok.statusCode).toBe(200);
    expect(registry.manifest().aliases.champion).toEqual({ model: 'hybrid', version: 1 });
    const unknown = await app.inject({ method: 'PUT', url: '/v1/aliases/champion', payload: { model: 'hybrid', version: 9 }, headers: auth });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().message).toContain('No model hybrid@9');
    const bad = await app.inject({ method: 'PUT', url: '/v1/aliases/champion', payload: { model: 'hybrid', version: 'one' }, headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/^Body field version:/);
    const malformed = await app.inject({
      method: 'PUT',
      url: '/v1/aliases/champion',
      payload: '{"model":',
      headers: { ...auth, 'content-type': 'application/json' },
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error).toBe('bad_request');
    expect(malformed.body).not.toMatch(/at .*\.js/);
    const huge = await app.inject({
      method: 'PUT',
      url: '/v1/aliases/champion',
      payload: JSON.stringify({ model: 'x'.repeat(10_000), version: 1 }),
      headers: { ...auth, 'content-type': 'application/json' },
    });
    expect(huge.statusCode).toBe(413);
  });

  it('exposes Prometheus metrics that parse, with request counts and latency', async () => {
    await app.inject({ url: '/v1/manifest' });
    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const sample = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*\})? -?(\d+(\.\d+)?(e[+-]?\d+)?|NaN|\+Inf|-Inf)( \d+)?$/;
    for (const line of res.body.split('\n').filter((l) => l !== '')) {
      if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
      expect(line).toMatch(sample);
    }
    expect(res.body).toMatch(/fashionml_http_requests_total\{method="GET",route="\/v1\/manifest",status="200"\} \d+/);
    expect(res.body).toContain('fashionml_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/v1/manifest"}');
    expect(res.body).toContain('fashionml_process_cpu_seconds_total');
    expect(res.body).toContain('fashionml_process_resident_memory_bytes');
  });
});

describe('sync API without an admin token', () => {
  it('disables changes over HTTP', async () => {
    const server = await buildAppServer({ appDir: join(dir, 'app'), api: { registry } });
    const res = await server.inject({ method: 'PUT', url: '/v1/aliases/champion', payload: { model: 'hybrid', version: 1 } });
    expect(res.statusCode).toBe(403);
    await server.close();
  });
});
