/**
 * The experiments API: devices' opt-in aggregate reports in, analysis out.
 *
 * - `POST /v1/experiments/<id>/report`: one report of counts per device, experiment and period.
 *   Validated (zod, strict: an unknown field such as an item id is refused), at most
 *   {@link REPORT_BODY_LIMIT} bytes, rate limited per client and across all clients, and
 *   idempotent: a second report for the same report key and period is a 409 and changes nothing.
 * - `GET /v1/experiments/<id>/results`: the analysis (as `fashionml experiments report --json`).
 * - `GET /v1/experiments`: the declared experiments with links to their results.
 *
 * Errors are JSON `{ error, message }`, as everywhere in the API.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { periodEnd } from '../../models/experiments/types';
import { ExperimentError, experimentResults, findExperiment } from '../experiments/experiments';
import { firstIssue, REPORT_BODY_LIMIT, reportBodySchema } from '../experiments/schema';
import type { ExperimentStore } from '../experiments/store';
import type { Registry } from '../registry/registry';

export interface ExperimentsApiOptions {
  registry: Registry;
  store: ExperimentStore;
  /** Reports accepted per client address and across all clients, per window. */
  rateLimit?: { perClient: number; global: number; windowMs: number };
  /** Clock for the period checks (tests). */
  now?: () => number;
}

export const DEFAULT_REPORT_RATE_LIMIT = { perClient: 30, global: 600, windowMs: 60_000 };

function apiError(reply: FastifyReply, status: number, error: string, message: string) {
  return reply.code(status).send({ error, message });
}

/** Registers the experiments routes in their own scope (its rate limiter and error handler stay inside). */
export async function registerExperimentsApi(app: FastifyInstance, options: ExperimentsApiOptions): Promise<void> {
  await app.register(async (scope) => {
    const { registry, store } = options;
    const limits = options.rateLimit ?? DEFAULT_REPORT_RATE_LIMIT;
    const now = options.now ?? Date.now;
    await scope.register(rateLimit, { global: false });

    scope.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
      const status = error.statusCode ?? 500;
      if (status === 429) return apiError(reply, 429, 'rate_limited', error.message);
      if (status === 413) return apiError(reply, 413, 'payload_too_large', `Experiment reports are limited to ${REPORT_BODY_LIMIT} bytes`);
      if (status === 415) return apiError(reply, 415, 'unsupported_media_type', 'Send the report as application/json');
      if (status >= 400 && status < 500) return apiError(reply, status, 'bad_request', error.message);
      request.log.error(error);
      return apiError(reply, 500, 'internal_error', 'Internal server error');
    });

    const limitMessage = (what: string) => (_request: FastifyRequest, context: { max: number; after: string }) => ({
      statusCode: 429,
      message: `Too many experiment reports ${what} (at most ${context.max} per ${limits.windowMs / 1000} s); retry in ${context.after}`,
    });
    const perClient = scope.rateLimit({ max: limits.perClient, timeWindow: limits.windowMs, errorResponseBuilder: limitMessage('from this address') });
    // The plugin runs one of its limiters per request, so the cap across all clients is a plain
    // fixed window here.
    let windowStart = 0;
    let used = 0;
    const global = async (_request: FastifyRequest, reply: FastifyReply) => {
      const t = Date.now();
      if (t - windowStart >= limits.windowMs) {
        windowStart = t;
        used = 0;
      }
      if (++used > limits.global) {
        const retry = Math.ceil((windowStart + limits.windowMs - t) / 1000);
        reply.header('Retry-After', String(retry));
        throw Object.assign(new Error(`Too many experiment reports from all clients (at most ${limits.global} per ${limits.windowMs / 1000} s); retry in ${retry} s`), { statusCode: 429 });
      }
    };

    scope.get('/v1/experiments', async (_request, reply) => {
      reply.header('Cache-Control', 'no-cache');
      return { experiments: registry.manifest().experiments.map((e) => ({ ...e, results: `/v1/experiments/${e.id}/results` })) };
    });

    scope.get<{ Params: { id: string } }>('/v1/experiments/:id/results', async (request, reply) => {
      reply.header('Cache-Control', 'no-cache');
      try {
        return experimentResults(registry, store, request.params.id);
      } catch (error) {
        if (error instanceof ExperimentError) return apiError(reply, 404, 'not_found', error.message);
        throw error;
      }
    });

    scope.post<{ Params: { id: string } }>(
      '/v1/experiments/:id/report',
      { bodyLimit: REPORT_BODY_LIMIT, onRequest: [perClient, global] },
      async (request, reply) => {
        let experiment;
        try {
          experiment = findExperiment(registry, request.params.id);
        } catch (error) {
          if (error instanceof ExperimentError) return apiError(reply, 404, 'not_found', error.message);
          throw error;
        }
        const body = reportBodySchema.safeParse(request.body);
        if (!body.success) return apiError(reply, 400, 'bad_request', `Report field ${firstIssue(body.error)}`);
        const report = body.data;
        if (!experiment.variants.some((v) => v.name === report.variant)) {
          return apiError(reply, 422, 'unknown_variant', `Experiment "${experiment.id}" has no variant "${report.variant}" (variants: ${experiment.variants.map((v) => v.name).join(', ')})`);
        }
        const end = periodEnd(report.period);
        if (end <= Date.parse(experiment.start) || end - 86_400_000 >= Date.parse(experiment.end)) {
          return apiError(reply, 422, 'outside_experiment', `Period ${report.period} is outside experiment "${experiment.id}" (${experiment.start} → ${experiment.end})`);
        }
        // A device reports a day once it is over; a day more than a day ahead is a wrong clock.
        if (end - 86_400_000 > now() + 86_400_000) {
          return apiError(reply, 422, 'future_period', `Period ${report.period} has not begun yet`);
        }
        if (store.record(experiment.id, report) === 'duplicate') {
          return apiError(reply, 409, 'already_reported', `This device already reported period ${report.period} of experiment "${experiment.id}"; a report is accepted once`);
        }
        return reply.code(201).send({ stored: true, experiment: experiment.id, period: report.period, variant: report.variant });
      },
    );
  });
}
