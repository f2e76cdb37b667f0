/**
 * A registry model version's files as a worker receives them (name → bytes), and what both the
 * shopper's inference worker and the Model Lab's worker make of them: the engine's parts from a
 * ranker pack, and the image encoder's files when they are the encoder the pack's embeddings came
 * from. One place, so the two workers cannot drift apart in what they accept.
 */
import type { CatalogItem } from '../catalog/item';
import type { EncoderModelJson } from '../image/serialize';
import { decodePack } from './engine';
import type { EngineParts } from './engine';
import { RANKER_META_FILE, RANKER_PACK_FORMAT } from './pack';
import type { RankerPackMeta } from './pack';

/** One registry model version's files, as the sync stored them. */
export interface ModelFiles {
  /** `id@version`, e.g. `fashion-ranker@3`. */
  ref: string;
  files: Record<string, ArrayBuffer>;
}

/** The bytes of `name`, or an error naming the version and the files it does have. */
export function modelFile(model: ModelFiles, name: string): ArrayBuffer {
  const bytes = model.files[name];
  if (!bytes) throw new Error(`${model.ref} has no file ${name} (it has ${Object.keys(model.files).sort().join(', ') || 'none'})`);
  return bytes;
}

/** `name` parsed as JSON, or an error naming the version and the file. */
export function modelJson<T>(model: ModelFiles, name: string): T {
  const bytes = modelFile(model, name);
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch (error) {
    throw new Error(`${model.ref}: ${name} is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

/**
 * The engine's parts (without a scorer) from a ranker pack's files and the device's catalog rows,
 * with the pack's `ranker.json` (checked to be a ranker pack) for whoever wants its extras.
 */
export function rankerPackParts(ranker: ModelFiles, items: CatalogItem[], catalogVersion: number): { parts: Omit<EngineParts, 'scorer'>; meta: RankerPackMeta } {
  const meta = modelJson<RankerPackMeta>(ranker, RANKER_META_FILE);
  if (meta.format !== RANKER_PACK_FORMAT) {
    throw new Error(`${ranker.ref}: ${RANKER_META_FILE} has format ${JSON.stringify(meta.format)}, expected ${RANKER_PACK_FORMAT}`);
  }
  if (meta.catalog.version !== catalogVersion) {
    // Not fatal: items the pack lacks are not ranked, pack items missing from the catalog are not shown.
    console.warn(`${ranker.ref} was trained on catalog version ${meta.catalog.version}; this device has ${catalogVersion}`);
  }
  const pack = decodePack(meta, (name) => {
    const bytes = ranker.files[name];
    return bytes === undefined ? undefined : new Uint8Array(bytes);
  });
  // The engine computes the items' content vectors and embeds text queries with the pack's content model.
  return { parts: { pack, catalog: items }, meta };
}

export interface EncoderFiles {
  modelJson: EncoderModelJson;
  weights: ArrayBuffer;
}

/**
 * The image encoder's files when `encoder` is the one whose embeddings the pack holds
 * (`packEncoder`, the ref the pack names); otherwise why photo search cannot run.
 */
export function matchingEncoderFiles(rankerRef: string, packEncoder: string | null, encoder: ModelFiles | undefined): { files: EncoderFiles } | { reason: string } {
  if (!packEncoder) return { reason: `${rankerRef} carries no image embeddings` };
  if (!encoder) return { reason: `the image encoder ${packEncoder} has not been synced` };
  if (encoder.ref !== packEncoder) return { reason: `the synced image encoder ${encoder.ref} is not ${packEncoder}, whose embeddings the pack holds` };
  return { files: { modelJson: modelJson<EncoderModelJson>(encoder, 'model.json'), weights: modelFile(encoder, 'weights.bin') } };
}
