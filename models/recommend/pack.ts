/**
 * The ranker pack: everything the device needs to recommend, published as one model version
 * (kind `fashion-ranker`) whose files are content-addressed blobs. `ranker.json` describes the
 * pack; the matrices are separate binary files so a sync can fetch, verify and cache each one.
 *
 * Matrices travel quantised to int8 with one float32 scale per row (`q8`): a quarter of float32,
 * and for L2-normalised or factor vectors the dot products move by well under 1 % (see the tests).
 * Row order of every matrix is `itemIds` order.
 */
import type { InteractionType } from '../catalog/item';

export const RANKER_PACK_FORMAT = 'fashionml.ranker-pack/1';
export const RANKER_META_FILE = 'ranker.json';

/** A matrix file inside the pack. */
export interface PackMatrix {
  file: string;
  rows: number;
  cols: number;
  encoding: 'q8' | 'f32';
}

export interface RankerPackMeta {
  format: typeof RANKER_PACK_FORMAT;
  /** Catalog version and content hash the pack was trained on (its rows are that catalog's items). */
  catalog: { version: number; contentHash: string };
  /** Row order of every matrix. */
  itemIds: string[];
  /** Hybrid item vectors (collaborative + features), the space the fold-in works in. */
  itemFactors: PackMatrix;
  /** Image embeddings of the catalog photos (rows of items without a photo are zero). */
  imageEmbeddings?: PackMatrix & {
    /** `id@version` of the image-encoder model whose embedding space this is (photo search uses it). */
    encoder: string;
  };
  /** Content vectors (title words and attributes) for similar items, text search and cold items. */
  contentVectors?: PackMatrix;
  /**
   * The content model (models/content/content-model.ts `ContentModelJSON`, e.g. `content.json`):
   * the device recomputes every item's content vector from the catalog rows with it, so the
   * vectors need not be synced; `dim` is its output width.
   */
  contentModel?: { file: string; dim: number };
  /** Per-item statistics (float32 columns), e.g. popularity, trending, freshness. */
  itemStats: PackMatrix & { columns: string[] };
  /** How a local history becomes a user vector (same numbers as training). */
  foldIn: {
    alpha: number;
    regularization: number;
    regularizationExponent: number;
    eventWeights: Record<InteractionType, number>;
    /** Recency decay: an event this many days old counts half. */
    halfLifeDays: number;
  };
  /** The learned re-ranker: a linear model over named features. */
  rerank: { features: string[]; weights: number[]; bias: number };
  /** Anything else the trainer wants to record (vocabulary, tuning results…). */
  extra?: Record<string, unknown>;
}

/** Bytes of a q8 matrix: int8 values (padded to 4 bytes) then one float32 scale per row. */
export function q8ByteLength(rows: number, cols: number): number {
  return align4(rows * cols) + rows * 4;
}

/** Quantises a row-major float32 matrix to int8 with a per-row scale (max |x| / 127). */
export function encodeQ8(values: Float32Array, rows: number, cols: number): Uint8Array {
  if (values.length !== rows * cols) throw new Error(`encodeQ8: ${values.length} values is not ${rows}×${cols}`);
  const out = new Uint8Array(q8ByteLength(rows, cols));
  const q = new Int8Array(out.buffer, 0, rows * cols);
  const scales = new Float32Array(out.buffer, align4(rows * cols), rows);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let c = 0; c < cols; c++) max = Math.max(max, Math.abs(values[r * cols + c]!));
    const scale = max / 127;
    scales[r] = scale;
    if (scale === 0) continue;
    for (let c = 0; c < cols; c++) q[r * cols + c] = Math.round(values[r * cols + c]! / scale);
  }
  return out;
}

/** The float32 matrix back from {@link encodeQ8}'s bytes. */
export function decodeQ8(bytes: Uint8Array, rows: number, cols: number): Float32Array {
  if (bytes.byteLength !== q8ByteLength(rows, cols)) {
    throw new Error(`decodeQ8: expected ${q8ByteLength(rows, cols)} bytes for ${rows}×${cols}, got ${bytes.byteLength}`);
  }
  const copy = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const q = new Int8Array(copy.buffer, copy.byteOffset, rows * cols);
  const scales = new Float32Array(copy.buffer, copy.byteOffset + align4(rows * cols), rows);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const s = scales[r]!;
    for (let c = 0; c < cols; c++) out[r * cols + c] = q[r * cols + c]! * s;
  }
  return out;
}

/** Decodes a pack matrix file by its declared encoding. */
export function decodeMatrix(matrix: PackMatrix, bytes: Uint8Array): Float32Array {
  if (matrix.encoding === 'q8') return decodeQ8(bytes, matrix.rows, matrix.cols);
  if (bytes.byteLength !== matrix.rows * matrix.cols * 4) {
    throw new Error(`${matrix.file}: expected ${matrix.rows * matrix.cols * 4} bytes for ${matrix.rows}×${matrix.cols} float32, got ${bytes.byteLength}`);
  }
  return new Float32Array(bytes.slice().buffer);
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
