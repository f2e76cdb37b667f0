import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { DELTA_FORMAT, encodeDeltaPayload, encodeSnapshotPayload, SNAPSHOT_FORMAT } from '../../models/catalog/snapshot-codec';
import { experimentSchema } from '../experiments/schema';
import type { Experiment } from '../experiments/schema';
import type { FeatureStore } from '../store/feature-store';
import { writeFileAtomic } from './atomic-file';
import { BlobStore } from './blob-store';
import type { BlobRef } from './blob-store';

/**
 * The model and catalog registry behind sync: content-addressed blobs plus one small manifest that
 * names the current catalog snapshot (with deltas from recent versions), every model version with
 * its metrics and lineage, and aliases such as `champion` and `challenger`. Publishing writes blobs
 * first and the manifest last, atomically, so a client never sees a manifest naming a missing blob.
 */

const fileRef = z.object({ name: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() });

const modelVersion = z.object({
  id: z.string().regex(/^[a-z][a-z0-9-]*$/),
  version: z.number().int().positive(),
  kind: z.string().min(1),
  inputs: z.record(z.string(), z.unknown()).default({}),
  files: z.array(fileRef),
  metrics: z.record(z.string(), z.number()).default({}),
  lineage: z.object({
    dataVersion: z.number().int().nullable(),
    codeVersion: z.string(),
    parent: z.string().nullable(),
  }),
  createdAt: z.string(),
});

const catalogEntry = z.object({
  version: z.number().int().positive(),
  contentHash: z.string(),
  itemCount: z.number().int().nonnegative(),
  /** `format` names the blob's encoding (see models/catalog/snapshot-codec.ts); absent means format 1. */
  snapshot: z.object({ sha256: z.string(), size: z.number(), format: z.string().optional() }),
  deltas: z.array(z.object({ from: z.number().int(), sha256: z.string(), size: z.number(), format: z.string().optional() })),
  publishedAt: z.string(),
});

export const manifestSchema = z.object({
  format: z.literal('fashionml.manifest/1'),
  /** Increases with every publish; clients compare it to skip stale manifests. */
  sequence: z.number().int().nonnegative(),
  generatedAt: z.string(),
  catalog: catalogEntry.nullable(),
  /** Catalog versions published before the current one, newest first (kept for deltas and rollback). */
  catalogHistory: z.array(catalogEntry),
  models: z.array(modelVersion),
  aliases: z.record(z.string(), z.object({ model: z.string(), version: z.number().int() })),
  /** A/B experiments devices assign themselves to (server/experiments/schema.ts). */
  experiments: z.array(experimentSchema),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ModelVersion = z.infer<typeof modelVersion>;
export type CatalogEntry = z.infer<typeof catalogEntry>;

export interface RegisterModelInput {
  id: string;
  kind: string;
  /** Folder with the model's files (e.g. TF.js `model.json` and weight shards). */
  dir: string;
  inputs?: Record<string, unknown>;
  metrics?: Record<string, number>;
  dataVersion: number | null;
  codeVersion: string;
  /** `id@version` of the model this one was trained from, if any. */
  parent?: string | null;
}

/** How many older versions the garbage collector keeps, besides anything an alias names. */
export interface RetentionPolicy {
  modelVersions: number;
  catalogVersions: number;
}

const DEFAULT_RETENTION: RetentionPolicy = { modelVersions: 3, catalogVersions: 3 };
const DELTAS_KEPT = 3;

function emptyManifest(): Manifest {
  return {
    format: 'fashionml.manifest/1',
    sequence: 0,
    generatedAt: new Date(0).toISOString(),
    catalog: null,
    catalogHistory: [],
    models: [],
    aliases: {},
    experiments: [],
  };
}

export class Registry {
  readonly blobs: BlobStore;
  readonly manifestPath: string;
  private readonly lockPath: string;

  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
    this.blobs = new BlobStore(join(root, 'blobs'));
    this.manifestPath = join(root, 'manifest.json');
    this.lockPath = join(root, 'publish.lock');
  }

  /** The current manifest (an empty one before the first publish). */
  manifest(): Manifest {
    if (!existsSync(this.manifestPath)) return emptyManifest();
    const text = readFileSync(this.manifestPath, 'utf8');
    const parsed = manifestSchema.safeParse(JSON.parse(text));
    if (!parsed.success) {
      throw new Error(`${this.manifestPath} is not a valid manifest: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
    }
    return parsed.data;
  }

  /** The manifest's exact bytes as served (for ETags). */
  manifestBytes(): Buffer {
    return existsSync(this.manifestPath) ? readFileSync(this.manifestPath) : Buffer.from(JSON.stringify(emptyManifest()));
  }

  /**
   * Publishes a catalog version from the feature store: its snapshot and the deltas from the
   * last few published versions become blobs (compact, gzip-compressed format 2 of
   * models/catalog/snapshot-codec.ts), then the manifest points at them.
   */
  publishCatalog(store: FeatureStore, version: number): CatalogEntry {
    return this.update((manifest) => {
      const info = store.version(version);
      if (!info) throw new Error(`Catalog version ${version} is not in the feature store`);
      const snapshot = {
        ...this.putCompressed(encodeSnapshotPayload({ version, contentHash: info.contentHash, items: store.items(version) })),
        format: SNAPSHOT_FORMAT,
      };
      const previous = [manifest.catalog, ...manifest.catalogHistory].filter(
        (c): c is CatalogEntry => c !== null && c.version !== version,
      );
      const deltas = previous.slice(0, DELTAS_KEPT).map((from) => {
        const delta = store.delta(from.version, version);
        return { from: from.version, ...this.putCompressed(encodeDeltaPayload({ ...delta, contentHash: info.contentHash })), format: DELTA_FORMAT };
      });
      const entry: CatalogEntry = {
        version,
        contentHash: info.contentHash,
        itemCount: info.itemCount,
        snapshot,
        deltas,
        publishedAt: new Date().toISOString(),
      };
      manifest.catalogHistory = previous.slice(0, DEFAULT_RETENTION.catalogVersions);
      manifest.catalog = entry;
      return entry;
    });
  }

  /** Registers a new version of a model from a folder of files; versions count up per model id. */
  registerModel(input: RegisterModelInput): ModelVersion {
    const files = readdirSync(input.dir)
      .filter((name) => statSync(join(input.dir, name)).isFile())
      .sort();
    if (files.length === 0) throw new Error(`${input.dir} holds no model files`);
    return this.update((manifest) => {
      const version = Math.max(0, ...manifest.models.filter((m) => m.id === input.id).map((m) => m.version)) + 1;
      const entry = modelVersion.parse({
        id: input.id,
        version,
        kind: input.kind,
        inputs: input.inputs ?? {},
        files: files.map((name) => ({ name, ...this.blobs.putFile(join(input.dir, name)) })),
        metrics: input.metrics ?? {},
        lineage: { dataVersion: input.dataVersion, codeVersion: input.codeVersion, parent: input.parent ?? null },
        createdAt: new Date().toISOString(),
      });
      manifest.models.push(entry);
      return entry;
    });
  }

  /** Points an alias (e.g. `champion`) at a model version that is registered. */
  setAlias(alias: string, model: string, version: number): void {
    if (!/^[a-z][a-z0-9-]*$/.test(alias)) throw new Error(`Invalid alias ${JSON.stringify(alias)}: use lower-case letters, digits and dashes`);
    this.update((manifest) => {
      if (!manifest.models.some((m) => m.id === model && m.version === version)) {
        const known = manifest.models.filter((m) => m.id === model).map((m) => m.version);
        throw new Error(`No model ${model}@${version} (registered versions of ${model}: ${known.join(', ') || 'none'})`);
      }
      manifest.aliases[alias] = { model, version };
    });
  }

  /**
   * Replaces the manifest's experiments with what `change` returns, reading and writing under the
   * publish lock so checks against the models and aliases see the manifest that is written.
   */
  setExperiments(change: (current: Experiment[], manifest: Readonly<Manifest>) => Experiment[]): Experiment[] {
    return this.update((manifest) => (manifest.experiments = change(manifest.experiments, manifest)));
  }

  /**
   * Deletes blobs nothing needs any more: not named by an alias, the current catalog, a kept older
   * catalog version, or one of the newest versions of each model. Returns what was removed.
   */
  collectGarbage(policy: RetentionPolicy = DEFAULT_RETENTION): BlobRef[] {
    return this.withLock(() => {
      const manifest = this.manifest();
      const keep = new Set<string>();
      const catalogs = [manifest.catalog, ...manifest.catalogHistory.slice(0, policy.catalogVersions)].filter(
        (c): c is CatalogEntry => c !== null,
      );
      for (const c of catalogs) {
        keep.add(c.snapshot.sha256);
        c.deltas.forEach((d) => keep.add(d.sha256));
      }
      const aliased = new Set(Object.values(manifest.aliases).map((a) => `${a.model}@${a.version}`));
      const byId = new Map<string, ModelVersion[]>();
      for (const m of manifest.models) byId.set(m.id, [...(byId.get(m.id) ?? []), m]);
      for (const versions of byId.values()) {
        const newest = [...versions].sort((a, b) => b.version - a.version).slice(0, policy.modelVersions);
        for (const m of versions) {
          if (newest.includes(m) || aliased.has(`${m.id}@${m.version}`)) m.files.forEach((f) => keep.add(f.sha256));
        }
      }
      const removed = this.blobs.list().filter((b) => !keep.has(b.sha256));
      removed.forEach((b) => this.blobs.delete(b.sha256));
      return removed;
    });
  }

  /** gzip level 9 with Node's fixed header (no name, mtime 0): the same payload is always the same blob. */
  private putCompressed(payload: Uint8Array): BlobRef {
    return this.blobs.put(gzipSync(payload, { level: 9 }));
  }

  /** Reads, changes and atomically rewrites the manifest under the publish lock. */
  private update<T>(change: (manifest: Manifest) => T): T {
    return this.withLock(() => {
      const manifest = this.manifest();
      const result = change(manifest);
      manifest.sequence += 1;
      manifest.generatedAt = new Date().toISOString();
      writeFileAtomic(this.manifestPath, `${JSON.stringify(manifestSchema.parse(manifest), null, 2)}\n`);
      return result;
    });
  }

  /** One publisher at a time across processes: an exclusive lock file naming its holder. */
  private withLock<T>(work: () => T): T {
    let fd: number;
    try {
      fd = openSync(this.lockPath, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(this.lockPath, 'utf8'));
      if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) {
        throw new Error(`The registry at ${this.root} is being published to by process ${holder}; try again when it finishes`);
      }
      // The holder died without releasing the lock: take it over.
      rmSync(this.lockPath, { force: true });
      fd = openSync(this.lockPath, 'wx');
    }
    try {
      writeSync(fd, String(process.pid));
      return work();
    } finally {
      closeSync(fd);
      rmSync(this.lockPath, { force: true });
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
