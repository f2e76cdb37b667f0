/**
 * Device assignment: a hash of (salt, install id) into {@link BUCKETS} buckets, and the bucket into
 * a variant by the declared weights. Deterministic and computed on the device with Web Crypto's
 * SHA-256 (the same function in Node 20 and every browser), so no server is asked and the same
 * device always lands in the same variant for the same salt.
 */
import { BUCKETS } from './types';
import type { ExperimentDefinition, ExperimentVariant } from './types';

const encoder = new TextEncoder();

/**
 * The bucket (0 … BUCKETS - 1) of `installId` in the experiment salted `salt`. The salt is
 * length-prefixed so no (salt, id) pair can be spelt like another. The first 48 bits of the
 * digest taken modulo 10,000 are uniform to within 10,000 / 2^48 (about 4e-11).
 */
export async function bucketOf(salt: string, installId: string): Promise<number> {
  if (salt.length === 0) throw new RangeError('bucketOf: the experiment salt is empty');
  if (installId.length === 0) throw new RangeError('bucketOf: the install id is empty');
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(`${salt.length}:${salt}|${installId}`));
  const view = new DataView(digest);
  const high = view.getUint32(0);
  const low = view.getUint16(4);
  return (high * 65_536 + low) % BUCKETS;
}

/**
 * The buckets each variant owns, as `[from, to)` ranges in declaration order: cumulative weights
 * scaled to BUCKETS and rounded, so shares are exact to 1 / 10,000.
 */
export function variantRanges(variants: readonly Pick<ExperimentVariant, 'name' | 'weight'>[]): { name: string; from: number; to: number }[] {
  if (variants.length === 0) throw new RangeError('An experiment needs at least one variant');
  const total = variants.reduce((sum, v) => {
    if (!(v.weight > 0) || !Number.isFinite(v.weight)) throw new RangeError(`Variant ${JSON.stringify(v.name)} has weight ${v.weight}; weights must be positive numbers`);
    return sum + v.weight;
  }, 0);
  let cumulative = 0;
  let from = 0;
  return variants.map((v, i) => {
    cumulative += v.weight;
    const to = i === variants.length - 1 ? BUCKETS : Math.round((BUCKETS * cumulative) / total);
    const range = { name: v.name, from, to };
    from = to;
    return range;
  });
}

/** The variant that owns `bucket`. */
export function variantForBucket<V extends Pick<ExperimentVariant, 'name' | 'weight'>>(variants: readonly V[], bucket: number): V {
  if (!Number.isInteger(bucket) || bucket < 0 || bucket >= BUCKETS) throw new RangeError(`Bucket ${bucket} is outside 0…${BUCKETS - 1}`);
  const ranges = variantRanges(variants);
  const index = ranges.findIndex((r) => bucket >= r.from && bucket < r.to);
  return variants[index]!;
}

export interface Assignment {
  experimentId: string;
  variant: ExperimentVariant;
  bucket: number;
}

/** The variant this install gets in `experiment`. */
export async function assignVariant(experiment: Pick<ExperimentDefinition, 'id' | 'salt' | 'variants'>, installId: string): Promise<Assignment> {
  const bucket = await bucketOf(experiment.salt, installId);
  return { experimentId: experiment.id, variant: variantForBucket(experiment.variants, bucket), bucket };
}

const MODEL_REF = /^([a-z][a-z0-9-]*)@([1-9][0-9]*)$/;

/**
 * The model version a variant's `model` names: `id@N` as written, or an alias looked up in the
 * manifest's aliases. Throws naming the reference when it resolves to nothing.
 */
export function resolveVariantModel(model: string, aliases: Readonly<Record<string, { model: string; version: number }>>): { id: string; version: number } {
  const ref = MODEL_REF.exec(model);
  if (ref) return { id: ref[1]!, version: Number(ref[2]) };
  const alias = aliases[model];
  if (!alias) throw new RangeError(`Variant model ${JSON.stringify(model)} is neither id@version nor a known alias (aliases: ${Object.keys(aliases).join(', ') || 'none'})`);
  return { id: alias.model, version: alias.version };
}
