/**
 * A fashion fit (fashion-fit.ts) as a ranker pack (models/recommend/pack.ts): `ranker.json` and the
 * bytes of its matrix files. The trainer writes these files; the evaluation decodes the same bytes
 * with the device's `decodePack`, so it ranks with exactly the quantised vectors a device syncs.
 */
import { encodeQ8, RANKER_PACK_FORMAT } from '../recommend/pack';
import type { PackMatrix, RankerPackMeta } from '../recommend/pack';
import type { FashionFit } from './fashion-fit';

/** File names inside the pack (besides ranker.json). */
export const FASHION_PACK_FILES = {
  itemFactors: { q8: 'item-factors.q8', f32: 'item-factors.f32' },
  imageEmbeddings: { q8: 'image-embeddings.q8', f32: 'image-embeddings.f32' },
  contentVectors: 'content-vectors.f32',
  itemStats: 'item-stats.f32',
  contentModel: 'content.json',
} as const;

export interface FashionPackInput {
  /** Row order of every matrix: the fit's item rows. */
  itemIds: readonly string[];
  catalog: { version: number; contentHash: string };
  /**
   * The content model's JSON: the device recomputes content vectors from the catalog rows with it.
   * Without one, the fit's content vectors travel in the pack as a float32 matrix.
   */
  contentModel?: { json: unknown; dim: number };
  /** `image-encoder@N` whose space the fit's image embeddings are in (required when the fit has them). */
  imageEncoder?: string;
  /** How the item factors and image embeddings are stored (default q8, what the trainer publishes). */
  encoding?: 'q8' | 'f32';
  extra?: Record<string, unknown>;
}

export interface FashionPack {
  meta: RankerPackMeta;
  /** The pack's files by name (ranker.json is `meta`). */
  files: Map<string, Uint8Array>;
}

function f32Bytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}

/** The pack of `fit`: ranker.json and the bytes of every file it names. */
export function fashionPack(fit: FashionFit, input: FashionPackInput): FashionPack {
  const n = fit.hybrid.nItems;
  if (input.itemIds.length !== n) throw new Error(`fashionPack: itemIds has ${input.itemIds.length} ids, the fit has ${n} items`);
  const encoding = input.encoding ?? 'q8';
  if (encoding !== 'q8' && encoding !== 'f32') throw new Error(`fashionPack: encoding must be q8 or f32, got "${String(encoding)}"`);
  const files = new Map<string, Uint8Array>();
  const matrix = (names: { q8: string; f32: string }, values: Float32Array, cols: number): PackMatrix => {
    const file = names[encoding];
    files.set(file, encoding === 'q8' ? encodeQ8(values, n, cols) : f32Bytes(values));
    return { file, rows: n, cols, encoding };
  };

  const f = fit.hybrid.factors;
  const statColumns = fit.stats.columns;
  files.set(FASHION_PACK_FILES.itemStats, f32Bytes(fit.stats.values));
  const meta: RankerPackMeta = {
    format: RANKER_PACK_FORMAT,
    catalog: { version: input.catalog.version, contentHash: input.catalog.contentHash },
    itemIds: [...input.itemIds],
    itemFactors: matrix(FASHION_PACK_FILES.itemFactors, fit.hybrid.itemFactors, f),
    itemStats: { file: FASHION_PACK_FILES.itemStats, rows: n, cols: statColumns.length, encoding: 'f32', columns: [...statColumns] },
    foldIn: {
      alpha: fit.hybrid.foldIn.alpha,
      regularization: fit.hybrid.foldIn.regularization,
      regularizationExponent: fit.hybrid.foldIn.regularizationExponent,
      eventWeights: { ...fit.hybrid.foldIn.eventWeights },
      halfLifeDays: fit.hybrid.foldIn.halfLifeDays,
    },
    rerank: { features: [...fit.rerank.features], weights: [...fit.rerank.weights], bias: fit.rerank.bias },
  };
  if (input.contentModel) {
    files.set(FASHION_PACK_FILES.contentModel, new TextEncoder().encode(JSON.stringify(input.contentModel.json)));
    meta.contentModel = { file: FASHION_PACK_FILES.contentModel, dim: input.contentModel.dim };
  } else {
    files.set(FASHION_PACK_FILES.contentVectors, f32Bytes(fit.content.vectors));
    meta.contentVectors = { file: FASHION_PACK_FILES.contentVectors, rows: n, cols: fit.content.dim, encoding: 'f32' };
  }
  if (fit.image) {
    if (input.imageEncoder === undefined) throw new Error('fashionPack: the fit has image embeddings, so imageEncoder ("image-encoder@N") is required');
    meta.imageEmbeddings = { ...matrix(FASHION_PACK_FILES.imageEmbeddings, fit.image.vectors, fit.image.dim), encoder: input.imageEncoder };
  }
  if (input.extra) meta.extra = input.extra;
  return { meta, files };
}
