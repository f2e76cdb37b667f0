/**
 * The device's reading of the registry manifest (`GET /v1/manifest`, written by
 * server/registry/registry.ts as `fashionml.manifest/1`): only the parts sync uses, checked by hand
 * so the page does not carry a schema library. A manifest that does not fit is refused with the
 * path of the first field that is wrong.
 */

export const MANIFEST_FORMAT = 'fashionml.manifest/1';

/** A content-addressed blob: its sha256 (hex) names it and verifies it. */
export interface BlobRef {
  sha256: string;
  size: number;
}

export interface ManifestFile extends BlobRef {
  name: string;
}

/** One registered model version, as the manifest lists it. */
export interface ManifestModel {
  id: string;
  version: number;
  kind: string;
  inputs: Record<string, unknown>;
  files: ManifestFile[];
  metrics: Record<string, number>;
  lineage: { dataVersion: number | null; codeVersion: string; parent: string | null };
  createdAt: string;
}

export interface ManifestCatalog {
  version: number;
  contentHash: string;
  itemCount: number;
  snapshot: BlobRef & { format?: string };
  /** Deltas to this version from recent older ones. */
  deltas: (BlobRef & { from: number; format?: string })[];
  publishedAt: string;
}

export interface SyncManifest {
  format: typeof MANIFEST_FORMAT;
  sequence: number;
  catalog: ManifestCatalog | null;
  models: ManifestModel[];
  aliases: Record<string, { model: string; version: number }>;
  /** The manifest's `experiments`, unchecked: sync ignores them; the ranker chooser reads them (src/lib/experiments/manifest.ts). */
  experiments?: unknown;
}

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

const SHA256 = /^[0-9a-f]{64}$/;

type Json = Record<string, unknown>;

function fail(path: string, message: string): never {
  throw new ManifestError(`The manifest is not usable: ${path} ${message}`);
}

function object(value: unknown, path: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'must be an object');
  return value as Json;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) fail(path, 'must be an array');
  return value;
}

function string(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(path, 'must be a string');
  return value;
}

function integer(value: unknown, path: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(path, `must be an integer ≥ ${min}`);
  return value;
}

function blobRef(value: unknown, path: string): BlobRef & { format?: string } {
  const o = object(value, path);
  const sha256 = string(o.sha256, `${path}.sha256`);
  if (!SHA256.test(sha256)) fail(`${path}.sha256`, 'must be 64 lower-case hex digits');
  const ref: BlobRef & { format?: string } = { sha256, size: integer(o.size, `${path}.size`, 0) };
  if (o.format !== undefined) ref.format = string(o.format, `${path}.format`);
  return ref;
}

function catalog(value: unknown): ManifestCatalog | null {
  if (value === null) return null;
  const o = object(value, 'catalog');
  return {
    version: integer(o.version, 'catalog.version', 1),
    contentHash: string(o.contentHash, 'catalog.contentHash'),
    itemCount: integer(o.itemCount, 'catalog.itemCount', 0),
    snapshot: blobRef(o.snapshot, 'catalog.snapshot'),
    deltas: array(o.deltas, 'catalog.deltas').map((d, i) => ({
      ...blobRef(d, `catalog.deltas[${i}]`),
      from: integer(object(d, `catalog.deltas[${i}]`).from, `catalog.deltas[${i}].from`, 1),
    })),
    publishedAt: string(o.publishedAt, 'catalog.publishedAt'),
  };
}

function model(value: unknown, i: number): ManifestModel {
  const path = `models[${i}]`;
  const o = object(value, path);
  const lineage = object(o.lineage, `${path}.lineage`);
  const nullableInt = (v: unknown, p: string) => (v === null ? null : integer(v, p, 0));
  const nullableString = (v: unknown, p: string) => (v === null ? null : string(v, p));
  const metrics = object(o.metrics ?? {}, `${path}.metrics`);
  for (const [name, v] of Object.entries(metrics)) if (typeof v !== 'number') fail(`${path}.metrics.${name}`, 'must be a number');
  return {
    id: string(o.id, `${path}.id`),
    version: integer(o.version, `${path}.version`, 1),
    kind: string(o.kind, `${path}.kind`),
    inputs: object(o.inputs ?? {}, `${path}.inputs`),
    files: array(o.files, `${path}.files`).map((f, j) => ({
      ...blobRef(f, `${path}.files[${j}]`),
      name: string(object(f, `${path}.files[${j}]`).name, `${path}.files[${j}].name`),
    })),
    metrics: metrics as Record<string, number>,
    lineage: {
      dataVersion: nullableInt(lineage.dataVersion, `${path}.lineage.dataVersion`),
      codeVersion: string(lineage.codeVersion, `${path}.lineage.codeVersion`),
      parent: nullableString(lineage.parent, `${path}.lineage.parent`),
    },
    createdAt: string(o.createdAt, `${path}.createdAt`),
  };
}

/** Checks a parsed `/v1/manifest` body; throws {@link ManifestError} naming the first bad field. */
export function parseManifest(value: unknown): SyncManifest {
  const o = object(value, '(root)');
  if (o.format !== MANIFEST_FORMAT) fail('format', `must be ${JSON.stringify(MANIFEST_FORMAT)} (got ${JSON.stringify(o.format)}); this app may be out of date`);
  const aliases: SyncManifest['aliases'] = {};
  for (const [name, target] of Object.entries(object(o.aliases ?? {}, 'aliases'))) {
    const t = object(target, `aliases.${name}`);
    aliases[name] = { model: string(t.model, `aliases.${name}.model`), version: integer(t.version, `aliases.${name}.version`, 1) };
  }
  return {
    format: MANIFEST_FORMAT,
    sequence: integer(o.sequence, 'sequence', 0),
    catalog: catalog(o.catalog ?? null),
    models: array(o.models ?? [], 'models').map(model),
    aliases,
    ...(o.experiments !== undefined ? { experiments: o.experiments } : {}),
  };
}
