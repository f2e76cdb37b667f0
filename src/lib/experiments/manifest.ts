/**
 * The experiments of a `/v1/manifest` body, checked by hand (the page carries no schema library;
 * the server validated them with zod when they were declared). An entry that does not fit is left
 * out and named in `problems`, so one bad experiment never stops the others or the app.
 */
import { OUTCOME_TYPES } from '../../../models/experiments/types';
import type { ExperimentDefinition, OutcomeType } from '../../../models/experiments/types';

export interface ParsedExperiments {
  experiments: ExperimentDefinition[];
  problems: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseOne(value: unknown, i: number): ExperimentDefinition | string {
  const where = `experiments[${i}]`;
  if (!isObject(value)) return `${where} is not an object`;
  const { id, salt, variants, start, end, metrics, description } = value;
  if (typeof id !== 'string' || id.length === 0) return `${where}.id must be a string`;
  if (typeof salt !== 'string' || salt.length === 0) return `${where} (${id}).salt must be a string`;
  if (!Array.isArray(variants) || variants.length < 2) return `${where} (${id}).variants must list at least two variants`;
  const parsed = [];
  for (const [j, v] of variants.entries()) {
    if (!isObject(v) || typeof v.name !== 'string' || typeof v.model !== 'string' || typeof v.weight !== 'number' || !(v.weight > 0)) {
      return `${where} (${id}).variants[${j}] needs a name, a model and a positive weight`;
    }
    parsed.push({ name: v.name, model: v.model, weight: v.weight });
  }
  if (typeof start !== 'string' || Number.isNaN(Date.parse(start))) return `${where} (${id}).start must be a date-time`;
  if (typeof end !== 'string' || Number.isNaN(Date.parse(end))) return `${where} (${id}).end must be a date-time`;
  const list = Array.isArray(metrics) ? metrics.filter((m): m is OutcomeType => (OUTCOME_TYPES as readonly unknown[]).includes(m)) : [...OUTCOME_TYPES];
  return { id, salt, variants: parsed, start, end, metrics: list, ...(typeof description === 'string' ? { description } : {}) };
}

/** The experiments of a manifest body (anything without an `experiments` array has none). */
export function parseManifestExperiments(manifest: unknown): ParsedExperiments {
  const list = isObject(manifest) && Array.isArray(manifest.experiments) ? manifest.experiments : [];
  const out: ParsedExperiments = { experiments: [], problems: [] };
  list.forEach((value, i) => {
    const result = parseOne(value, i);
    if (typeof result === 'string') out.problems.push(result);
    else out.experiments.push(result);
  });
  return out;
}
