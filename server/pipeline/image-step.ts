/**
 * The image step of the pipeline: train the image encoder on the photos ingest packed for the
 * catalog version (`<data>/images/encoder-input-<S>.{u8,json}`), measure retrieval on held-out
 * photos, save it in the TF.js-loadable format, and embed every catalog item for the ranker.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { CatalogItem } from '../../models/catalog/item';
import { embed } from '../../models/image/encoder';
import type { Encoder } from '../../models/image/encoder';
import type { EncoderInputIndex } from '../ingest/images';
import { catalogLabels } from '../train/image-data';
import type { LabelledImages } from '../train/image-data';
import { evaluateEncoder, prepareBackend, saveEncoder, splitByPhoto, trainEncoder } from '../train/image-encoder';

export const ENCODER_INPUT_SIZE = 64;

export interface ImageStepResult {
  encoder: Encoder;
  /** `image-encoder` metrics for the registry: retrieval on held-out photos and speed. */
  metrics: Record<string, number>;
  /** Embeddings aligned to the catalog items (rows without a photo are zero). */
  embeddings: Float32Array;
  dim: number;
  photos: number;
}

/** The packed photos of `items` (in the packed file's row order) with their labels; null when ingest read no photos. */
export async function loadCatalogPhotos(imagesDir: string, items: readonly CatalogItem[], size = ENCODER_INPUT_SIZE): Promise<LabelledImages | null> {
  const indexFile = join(imagesDir, `encoder-input-${size}.json`);
  const dataFile = join(imagesDir, `encoder-input-${size}.u8`);
  if (!existsSync(indexFile) || !existsSync(dataFile)) return null;
  const index = JSON.parse(await readFile(indexFile, 'utf8')) as EncoderInputIndex;
  const bytes = await readFile(dataFile);
  const rowBytes = size * size * 3;
  if (index.size !== size || bytes.length !== index.count * rowBytes) throw new Error(`${dataFile} does not match ${indexFile} (${index.count} rows of ${size}×${size}×3)`);
  const byId = new Map(items.map((item) => [item.id, item]));
  // Keep the rows of this catalog's items only (the packed file may come from a later ingest).
  const rows = index.ids.flatMap((id, row) => (byId.has(id) ? [row] : []));
  if (rows.length === 0) return null;
  const images = new Uint8Array(rows.length * rowBytes);
  rows.forEach((row, k) => images.set(bytes.subarray(row * rowBytes, (row + 1) * rowBytes), k * rowBytes));
  const kept = rows.map((row) => byId.get(index.ids[row] as string) as CatalogItem);
  return {
    images,
    size,
    count: rows.length,
    ids: kept.map((item) => item.id),
    sha256: rows.map((row) => index.sha256[row] as string),
    ...catalogLabels(kept),
  };
}

export interface ImageStepOptions {
  photos: LabelledImages;
  items: readonly CatalogItem[];
  budgetSeconds: number;
  seed: number;
  /** Embedding size: 64 keeps the 35k catalog's synced image vectors at 2.3 MB (int8), inside the sync budget. */
  embeddingDim?: number;
  outDir: string;
  log: (line: string) => void;
}

export const DEFAULT_EMBEDDING_DIM = 64;

export async function trainImageStep(options: ImageStepOptions): Promise<ImageStepResult> {
  const { photos, log } = options;
  await prepareBackend('wasm');
  const split = splitByPhoto(photos.sha256, 0.1, 42);
  log(`image encoder: ${photos.count} photos (${split.train.length} train, ${split.queries.length} held-out queries), budget ${options.budgetSeconds} s`);
  const trained = await trainEncoder(photos, split.train, {
    budgetSeconds: options.budgetSeconds,
    seed: options.seed,
    config: { embeddingDim: options.embeddingDim ?? DEFAULT_EMBEDDING_DIM },
    onEpoch: (e) => log(`image encoder epoch ${e.epoch + 1}: ${e.imagesPerSecond.toFixed(0)} img/s, loss ${e.meanLoss.toFixed(3)}`),
  });
  const evaluation = await evaluateEncoder(trained.encoder, photos, split);
  const metrics = {
    p10Type: evaluation.retrieval.precisionType,
    p10TypeColour: evaluation.retrieval.precisionTypeColour,
    queries: evaluation.retrieval.queries,
    trainSeconds: trained.trainSeconds,
    epochs: trained.epochs.length,
    steps: trained.steps,
    lowResolutionSteps: trained.lowResolutionSteps,
    embedImagesPerSecond: photos.count / evaluation.embedSeconds,
  };
  log(`image encoder: P@10 same type ${metrics.p10Type.toFixed(3)}, same type and colour ${metrics.p10TypeColour.toFixed(3)} (${metrics.queries} held-out photos)`);
  await saveEncoder(trained.encoder, options.outDir, { retrieval: evaluation.retrieval, classes: photos.classes, trainSeconds: trained.trainSeconds });
  const dim = trained.encoder.config.embeddingDim;
  return { encoder: trained.encoder, metrics, embeddings: alignEmbeddings(photos, evaluation.embeddings, dim, options.items), dim, photos: photos.count };
}

/** Re-embeds with an already trained encoder (when the pipeline reuses one). */
export async function embedCatalog(encoder: Encoder, photos: LabelledImages, items: readonly CatalogItem[]): Promise<Float32Array> {
  await prepareBackend('wasm');
  const vectors = await embed(tf, encoder, photos.images, 256);
  return alignEmbeddings(photos, vectors, encoder.config.embeddingDim, items);
}

function alignEmbeddings(photos: LabelledImages, vectors: Float32Array, dim: number, items: readonly CatalogItem[]): Float32Array {
  const rowOf = new Map(photos.ids.map((id, row) => [id, row]));
  const out = new Float32Array(items.length * dim);
  items.forEach((item, i) => {
    const row = rowOf.get(item.id);
    if (row !== undefined) out.set(vectors.subarray(row * dim, (row + 1) * dim), i * dim);
  });
  return out;
}
