/**
 * What the server accepts about experiments, as zod schemas: the declaration the manifest lists
 * (imported by server/registry/registry.ts for the manifest's `experiments`), and the body of a
 * device's opt-in report. Both are strict: an unknown field is an error that names it, so nothing
 * beyond the declared aggregates can reach storage.
 */
import { z } from 'zod';
import { variantRanges } from '../../models/experiments/assign';
import { LATENCY_BUCKETS, OUTCOME_TYPES, PERIOD_PATTERN, REPORT_FORMAT, REPORT_KEY_PATTERN } from '../../models/experiments/types';

export const EXPERIMENT_ID = /^[a-z][a-z0-9-]{0,63}$/;
export const VARIANT_NAME = /^[a-z][a-z0-9_-]{0,31}$/;
/** `fashion-ranker@N`, or an alias such as `champion` (resolved when a device syncs). */
const MODEL_REF = /^[a-z][a-z0-9-]*(@[1-9][0-9]*)?$/;

export const experimentVariantSchema = z
  .object({
    name: z.string().regex(VARIANT_NAME, 'must be lower-case letters, digits, "-" or "_", starting with a letter, at most 32 characters'),
    model: z.string().regex(MODEL_REF, 'must be a model version such as "fashion-ranker@3" or an alias such as "champion"'),
    weight: z.number().positive('must be a positive number (a relative share)').finite(),
  })
  .strict();

export const experimentSchema = z
  .object({
    id: z.string().regex(EXPERIMENT_ID, 'must be lower-case letters, digits and "-", starting with a letter, at most 64 characters'),
    salt: z.string().min(8, 'must be at least 8 characters (a new salt reshuffles every device)').max(128),
    variants: z.array(experimentVariantSchema).min(2, 'needs at least two variants (the first is the control)').max(8),
    start: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2025-03-01T00:00:00Z' }),
    end: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2025-03-31T00:00:00Z' }),
    metrics: z.array(z.enum(OUTCOME_TYPES)).min(1).default([...OUTCOME_TYPES]),
    description: z.string().max(500).optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    const seen = new Set<string>();
    e.variants.forEach((v, i) => {
      if (seen.has(v.name)) ctx.addIssue({ code: 'custom', path: ['variants', i, 'name'], message: `"${v.name}" is used by two variants` });
      seen.add(v.name);
    });
    if (Date.parse(e.end) <= Date.parse(e.start)) ctx.addIssue({ code: 'custom', path: ['end'], message: `must be after start (${e.start})` });
    if (new Set(e.metrics).size !== e.metrics.length) ctx.addIssue({ code: 'custom', path: ['metrics'], message: 'lists a metric twice' });
    // Zod runs this even after a field failed; only a valid set of weights has bucket ranges.
    if (!e.variants.every((v) => v.weight > 0 && Number.isFinite(v.weight))) return;
    const empty = variantRanges(e.variants).filter((r) => r.to === r.from);
    if (empty.length > 0) ctx.addIssue({ code: 'custom', path: ['variants'], message: `weights leave ${empty.map((r) => r.name).join(', ')} without any of the 10,000 buckets` });
  });

export type Experiment = z.infer<typeof experimentSchema>;

/** The largest report body accepted, in bytes (counts alone are about 250; with a day's monitoring 1–3 KB). */
export const REPORT_BODY_LIMIT = 8192;

const count = z.number().int('must be a whole number').min(0, 'must not be negative').max(10_000_000, 'is implausibly large');
const OP = /^[a-z][a-z0-9-]{0,31}$/;
const BACKEND = /^[a-z0-9][a-z0-9._-]{0,39}$/;

/** Aggregated monitoring (models/experiments/types.ts MonitoringAggregate): counts only, no messages, no ids. */
export const monitoringSchema = z
  .object({
    latency: z
      .array(
        z
          .object({
            op: z.string().regex(OP, 'must be an operation name'),
            backend: z.string().regex(BACKEND, 'must be a backend name'),
            buckets: z
              .array(z.tuple([z.number().int().min(0).max(LATENCY_BUCKETS - 1, `must be a bucket index below ${LATENCY_BUCKETS}`), count.min(1)]))
              .max(LATENCY_BUCKETS)
              .refine((pairs) => new Set(pairs.map(([b]) => b)).size === pairs.length, 'lists a bucket twice'),
          })
          .strict(),
      )
      .max(32),
    errors: z.array(z.object({ op: z.string().regex(OP, 'must be an operation name'), count }).strict()).max(32),
    coverage: z.object({ lists: count, impressions: count, distinctItems: count, catalogSize: count.optional() }).strict(),
  })
  .strict();

export const reportBodySchema = z
  .object({
    format: z.literal(REPORT_FORMAT),
    reportKey: z.string().regex(REPORT_KEY_PATTERN, 'must be 43 base64url characters (32 random bytes)'),
    period: z.string().regex(PERIOD_PATTERN, 'must be a UTC day written YYYY-MM-DD'),
    variant: z.string().regex(VARIANT_NAME, 'must be a variant name'),
    counts: z
      .object({
        exposures: count,
        outcomes: z.object({ click: count, like: count, add_to_cart: count, purchase: count }).strict(),
      })
      .strict(),
    monitoring: monitoringSchema.optional(),
  })
  .strict();

export type ReportBody = z.infer<typeof reportBodySchema>;

/** One line naming the first problem of a failed parse: `variants.1.weight: must be a positive number`. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
  return `${path}: ${issue.message}`;
}
