import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import compress from '@fastify/compress';
import fastifyStatic from '@fastify/static';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { registerApi } from './api';
import type { ApiOptions } from './api';
import { registerExperimentsApi } from './experiments';
import type { ExperimentsApiOptions } from './experiments';
import { installMetrics } from './metrics';
import { registerStatusPage } from './status';
import type { StatusPageOptions } from './status';

export interface AppServerOptions {
  /** The built web app (vite build output). */
  appDir: string;
  /** Log requests (off in tests), or a pino level such as `{ level: 'warn' }`. */
  logger?: boolean | { level: string };
  /** The sync API over a registry; without it only the app, /healthz and /metrics are served. */
  api?: ApiOptions;
  /** Experiment reports and results (server/http/experiments.ts). */
  experiments?: ExperimentsApiOptions;
  /** The status page (server/http/status.ts); default: the api's registry and the `reports/` beside it. */
  status?: StatusPageOptions;
}

/** Files that must be revalidated on every load so a new version is noticed. */
const ALWAYS_REVALIDATE = new Set(['/', '/index.html', '/sw.js', '/manifest.webmanifest', '/registerSW.js']);

/**
 * The HTTP server: the built PWA with caching headers that suit it (hashed assets immutable; the
 * shell and the service worker revalidated), the sync API, Prometheus metrics, compression for
 * JSON, and JSON errors (never a stack trace) for bad requests.
 */
export async function buildAppServer(options: AppServerOptions): Promise<FastifyInstance> {
  const appDir = resolve(options.appDir);
  if (!existsSync(resolve(appDir, 'index.html'))) {
    throw new Error(`No built app in ${appDir} (index.html is missing): run "npm run build" first.`);
  }
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 64 * 1024, forceCloseConnections: 'idle' });

  installMetrics(app);
  await app.register(compress, { global: true, threshold: 1024, encodings: ['br', 'gzip'] });

  app.get('/healthz', async () => ({ status: 'ok' }));

  await app.register(fastifyStatic, {
    root: appDir,
    index: ['index.html'],
    cacheControl: false,
    setHeaders(reply, path) {
      const url = path.slice(appDir.length) || '/';
      if (ALWAYS_REVALIDATE.has(url) || url.endsWith('.html')) {
        reply.setHeader('Cache-Control', 'no-cache');
      } else if (url.startsWith('/assets/') || /^\/workbox-[\w-]+\.js$/.test(url)) {
        reply.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      } else {
        reply.setHeader('Cache-Control', 'public, max-age=3600');
      }
    },
  });

  if (options.api) registerApi(app, options.api);
  if (options.experiments) await registerExperimentsApi(app, options.experiments);
  registerStatusPage(app, options.status ?? (options.api ? { registry: options.api.registry, reportsDir: join(dirname(options.api.registry.root), 'reports') } : {}));

  app.setNotFoundHandler((request, reply) => {
    // Unknown API paths are errors; every other path is the single-page app.
    if (request.url.startsWith('/v1/') || request.method !== 'GET') {
      return reply.code(404).send({ error: 'not_found', message: `No route for ${request.method} ${request.url}` });
    }
    reply.header('Cache-Control', 'no-cache');
    return reply.sendFile('index.html');
  });

  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error(error);
    return reply
      .code(status)
      .send({ error: status === 500 ? 'internal_error' : 'bad_request', message: status === 500 ? 'Internal server error' : error.message });
  });

  return app;
}

/** Closes the server on SIGINT/SIGTERM, letting requests in flight finish. */
export function closeOnSignals(app: FastifyInstance): void {
  const close = (signal: string) => {
    app.log.info(`${signal}: shutting down`);
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', close);
  process.once('SIGTERM', close);
}
