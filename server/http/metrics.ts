import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry as MetricsRegistry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics for one server: request rate and latency by route and status, errors, and
 * the process's CPU and memory. Routes are labelled by their pattern (`/v1/blobs/:sha256`), never
 * by the raw URL, so label cardinality stays bounded.
 */
export function installMetrics(app: FastifyInstance): MetricsRegistry {
  const registry = new MetricsRegistry();
  collectDefaultMetrics({ register: registry, prefix: 'fashionml_' });
  const requests = new Counter({
    name: 'fashionml_http_requests_total',
    help: 'HTTP requests by method, route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'fashionml_http_request_duration_seconds',
    help: 'HTTP request latency by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'fashionml_http_errors_total',
    help: 'Requests answered with a 5xx status',
    labelNames: ['route'] as const,
    registers: [registry],
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    if (reply.statusCode >= 500) errors.inc({ route });
  });

  app.get('/metrics', async (_request, reply) => {
    reply.header('Content-Type', registry.contentType).header('Cache-Control', 'no-store');
    return registry.metrics();
  });
  return registry;
}
