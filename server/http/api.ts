import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SHA256_HEX } from '../registry/blob-store';
import type { Registry } from '../registry/registry';

export interface ApiOptions {
  registry: Registry;
  /** Folder of content-addressed thumbnails (`<sha256>.webp`) written by ingest. */
  thumbsDir?: string;
  /** Folder of the larger product-page renditions (`<sha256>.webp`) written by ingest, when any. */
  photosDir?: string;
  /** Bearer token for endpoints that change anything; without one they are disabled. */
  adminToken?: string;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';

function apiError(reply: FastifyReply, status: number, error: string, message: string) {
  return reply.code(status).send({ error, message });
}

/** Constant-time check of `Authorization: Bearer <token>`. */
function authorised(request: FastifyRequest, token: string | undefined): boolean {
  if (!token) return false;
  const header = request.headers.authorization ?? '';
  const given = header.startsWith('Bearer ') ? header.slice(7) : '';
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return given.length > 0 && timingSafeEqual(a, b);
}

const aliasBody = z.object({ model: z.string().min(1).max(100), version: z.number().int().positive() }).strict();

/**
 * The sync API: one small manifest (ETag / 304), immutable content-addressed blobs (with Range for
 * resuming), thumbnails, and the admin endpoint that moves an alias.
 */
export function registerApi(app: FastifyInstance, options: ApiOptions): void {
  const { registry } = options;

  app.get('/v1/manifest', async (request, reply) => {
    const bytes = registry.manifestBytes();
    const etag = `"${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}"`;
    reply.header('ETag', etag).header('Cache-Control', 'no-cache');
    const match = request.headers['if-none-match'];
    if (match && match.split(',').some((tag) => tag.trim() === etag || tag.trim() === `W/${etag}`)) {
      return reply.code(304).send();
    }
    return reply.type('application/json').send(bytes);
  });

  // Blobs go out as stored (identity encoding): Range offsets must count the stored bytes for a
  // resumed download, and compressed blobs (the catalog snapshot) would only be compressed twice.
  app.get<{ Params: { sha256: string } }>('/v1/blobs/:sha256', { compress: false }, async (request, reply) => {
    const { sha256 } = request.params;
    if (!SHA256_HEX.test(sha256)) {
      return apiError(reply, 400, 'bad_request', `Blob names are lower-case sha256 hex digests (64 characters), not ${JSON.stringify(sha256.slice(0, 80))}`);
    }
    if (!registry.blobs.has(sha256)) return apiError(reply, 404, 'not_found', `No blob ${sha256}`);
    const path = registry.blobs.path(sha256);
    reply.header('Cache-Control', IMMUTABLE).header('ETag', `"${sha256}"`);
    // sendFile (via @fastify/send) answers Range requests with 206 and Content-Range.
    return reply.type('application/octet-stream').sendFile(basename(path), dirname(path), { cacheControl: false, etag: false, lastModified: false });
  });

  registerPhotoRoute(app, '/v1/thumbs/:file', 'Thumbnails', 'thumbnail', options.thumbsDir);
  registerPhotoRoute(app, '/v1/photos/:file', 'Product photos', 'product photo', options.photosDir);

  app.put<{ Params: { alias: string } }>('/v1/aliases/:alias', { bodyLimit: 4096 }, async (request, reply) => {
    if (!options.adminToken) {
      return apiError(reply, 403, 'forbidden', 'Changes over HTTP are disabled: set FASHIONML_ADMIN_TOKEN on the server');
    }
    if (!authorised(request, options.adminToken)) {
      reply.header('WWW-Authenticate', 'Bearer');
      return apiError(reply, 401, 'unauthorized', 'A valid bearer token is required (Authorization: Bearer <token>)');
    }
    const body = aliasBody.safeParse(request.body);
    if (!body.success) {
      const issue = body.error.issues[0];
      return apiError(reply, 400, 'bad_request', `Body field ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
    }
    try {
      registry.setAlias(request.params.alias, body.data.model, body.data.version);
    } catch (error) {
      return apiError(reply, 422, 'unprocessable', error instanceof Error ? error.message : String(error));
    }
    return { alias: request.params.alias, ...body.data, sequence: registry.manifest().sequence };
  });
}

/**
 * One content-addressed photo folder (`<sha256>.webp`, named by the source photo's hash): the
 * thumbnails and the product-page renditions share this code, so they validate names, cache and
 * answer Range / ETag requests alike. A data directory ingested before a folder existed answers 404.
 */
function registerPhotoRoute(app: FastifyInstance, route: string, plural: string, singular: string, dir: string | undefined): void {
  app.get<{ Params: { file: string } }>(route, async (request, reply) => {
    const { file } = request.params;
    if (!/^[0-9a-f]{64}\.(?:webp|jpg)$/.test(file)) return apiError(reply, 400, 'bad_request', `${plural} are named <sha256>.webp`);
    if (!dir || !existsSync(`${dir}/${file}`)) return apiError(reply, 404, 'not_found', `No ${singular} ${file}`);
    reply.header('Cache-Control', IMMUTABLE);
    return reply.sendFile(file, dir, { cacheControl: false });
  });
}
