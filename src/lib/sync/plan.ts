/**
 * What a sync has to fetch, decided from the manifest and what the device already holds. Pure: no
 * I/O, so every case is a unit test.
 *
 * The target set is the current catalog, the `fashion-ranker` version the alias `champion` names,
 * and the image-encoder version that ranker's manifest entry names in `inputs.imageEncoder`
 * (`"image-encoder@N"`). The catalog comes as a delta when the manifest has one from the version
 * on the device and it is smaller than the snapshot; otherwise as the whole snapshot.
 */
import type { BlobRef, ManifestCatalog, ManifestModel, SyncManifest } from './manifest';

export const CHAMPION_ALIAS = 'champion';
export const RANKER_KIND = 'fashion-ranker';

export type ModelRole = 'ranker' | 'image-encoder';

/** A model of the active set: its role and its manifest entry (files with sha256 and size). */
export interface ActiveModelRef {
  role: ModelRole;
  entry: ManifestModel;
}

/** The meta record (`sync.active`) that names what the device is using; written last, atomically. */
export interface ActiveSetRecord {
  catalog: { version: number; contentHash: string; itemCount: number };
  models: ActiveModelRef[];
  /** Sequence of the manifest this set came from. */
  manifestSequence: number;
  /** Epoch ms of the switch. */
  activatedAt: number;
}

/** One blob the sync needs and does not have. */
export interface PlannedBlob extends BlobRef {
  /** For progress and errors: e.g. `catalog v3 (delta from v2)` or `fashion-ranker@2 ranker.json`. */
  label: string;
  contentType: string;
}

export type CatalogSource = { kind: 'snapshot'; blob: PlannedBlob } | { kind: 'delta'; from: number; blob: PlannedBlob };

export interface SyncPlan {
  sequence: number;
  /** The catalog to be active after the sync (null: the server has published none yet). */
  catalog: ManifestCatalog | null;
  /** How the catalog gets onto the device; null when the device already has that version. */
  catalogSource: CatalogSource | null;
  /** The models to be active after the sync. */
  models: ActiveModelRef[];
  /** Blobs to download, catalog first; blobs already on the device are left out. */
  fetch: PlannedBlob[];
  /** True when the target set differs from the active one (a switch is needed). */
  changes: boolean;
}

/** The manifest names something that is not there or not what it should be. */
export class PlanError extends Error {
  override readonly name = 'PlanError';
}

const MODEL_REF = /^([a-z][a-z0-9-]*)@([1-9][0-9]*)$/;

function findModel(manifest: SyncManifest, id: string, version: number, why: string): ManifestModel {
  const found = manifest.models.find((m) => m.id === id && m.version === version);
  if (!found) {
    const known = manifest.models.filter((m) => m.id === id).map((m) => m.version);
    throw new PlanError(`${why} names ${id}@${version}, which the manifest does not list (versions of ${id}: ${known.join(', ') || 'none'})`);
  }
  return found;
}

/** A ranker version chosen for this device instead of the champion (its A/B experiment variant). */
export interface RankerChoice {
  id: string;
  version: number;
  /** Why, for errors: e.g. `experiment ranker-v2, variant challenger`. */
  why: string;
}

/**
 * The models the device should run: the champion ranker (or the version its experiment variant
 * names) and the image encoder it was built with.
 */
export function targetModels(manifest: SyncManifest, choice?: RankerChoice): ActiveModelRef[] {
  const champion = manifest.aliases[CHAMPION_ALIAS];
  const pick = choice ? { model: choice.id, version: choice.version } : champion;
  if (!pick) return [];
  const why = choice ? choice.why : `The alias "${CHAMPION_ALIAS}"`;
  const ranker = findModel(manifest, pick.model, pick.version, why);
  if (ranker.kind !== RANKER_KIND) {
    throw new PlanError(`${why} names ${ranker.id}@${ranker.version} of kind "${ranker.kind}", not a ${RANKER_KIND}`);
  }
  const models: ActiveModelRef[] = [{ role: 'ranker', entry: ranker }];
  const encoder = ranker.inputs.imageEncoder;
  if (encoder !== undefined && encoder !== null) {
    const match = typeof encoder === 'string' ? MODEL_REF.exec(encoder) : null;
    if (!match) {
      throw new PlanError(`${ranker.id}@${ranker.version} inputs.imageEncoder must look like "image-encoder@3", not ${JSON.stringify(encoder)}`);
    }
    models.push({ role: 'image-encoder', entry: findModel(manifest, match[1]!, Number(match[2]), `${ranker.id}@${ranker.version} inputs.imageEncoder`) });
  }
  return models;
}

function contentTypeOf(name: string): string {
  return name.endsWith('.json') ? 'application/json' : 'application/octet-stream';
}

function sameModels(a: readonly ActiveModelRef[], b: readonly ActiveModelRef[]): boolean {
  const key = (m: ActiveModelRef) => `${m.role}:${m.entry.id}@${m.entry.version}:${m.entry.files.map((f) => f.sha256).join(',')}`;
  return a.length === b.length && a.map(key).join('|') === b.map(key).join('|');
}

/**
 * Decides what to fetch. `have(sha256)` says whether a verified blob is already stored on the
 * device (from an earlier, interrupted sync, or shared with the active set).
 * Throws {@link PlanError} when the manifest's aliases point at models it does not list.
 */
export function planSync(manifest: SyncManifest, active: ActiveSetRecord | null, have: (sha256: string) => boolean, choice?: RankerChoice): SyncPlan {
  const catalog = manifest.catalog;
  if (!catalog) return { sequence: manifest.sequence, catalog: null, catalogSource: null, models: [], fetch: [], changes: false };
  const models = targetModels(manifest, choice);

  let catalogSource: CatalogSource | null = null;
  const current = active?.catalog;
  if (!current || current.version !== catalog.version || current.contentHash !== catalog.contentHash) {
    const delta = current ? catalog.deltas.find((d) => d.from === current.version) : undefined;
    catalogSource =
      delta && delta.size < catalog.snapshot.size
        ? {
            kind: 'delta',
            from: delta.from,
            blob: { sha256: delta.sha256, size: delta.size, label: `catalog v${catalog.version} (delta from v${delta.from})`, contentType: 'application/gzip' },
          }
        : {
            kind: 'snapshot',
            blob: { sha256: catalog.snapshot.sha256, size: catalog.snapshot.size, label: `catalog v${catalog.version}`, contentType: 'application/gzip' },
          };
  }

  const wanted: PlannedBlob[] = [];
  if (catalogSource) wanted.push(catalogSource.blob);
  for (const { entry } of models) {
    for (const file of entry.files) {
      wanted.push({ sha256: file.sha256, size: file.size, label: `${entry.id}@${entry.version} ${file.name}`, contentType: contentTypeOf(file.name) });
    }
  }
  const seen = new Set<string>();
  const fetch = wanted.filter((blob) => {
    if (seen.has(blob.sha256) || have(blob.sha256)) return false;
    seen.add(blob.sha256);
    return true;
  });

  return {
    sequence: manifest.sequence,
    catalog,
    catalogSource,
    models,
    fetch,
    changes: catalogSource !== null || !sameModels(active?.models ?? [], models),
  };
}

/** Every blob sha256 the plan's target set needs on the device (to check which are there). */
export function neededBlobs(manifest: SyncManifest, choice?: RankerChoice): string[] {
  const out = new Set<string>();
  if (manifest.catalog) {
    out.add(manifest.catalog.snapshot.sha256);
    manifest.catalog.deltas.forEach((d) => out.add(d.sha256));
  }
  try {
    for (const { entry } of targetModels(manifest, choice)) entry.files.forEach((f) => out.add(f.sha256));
  } catch {
    // planSync reports the broken alias; here it only means fewer blobs to look up.
  }
  return [...out];
}
