/**
 * Retrieval precision@k for image embeddings: for each query row, the k most similar other rows
 * (dot product of L2-normalised vectors = cosine), never counting the query itself or any row in
 * the query's duplicate group (byte-identical photo) — those are left out of the ranking entirely.
 */
import type * as tfc from '@tensorflow/tfjs-core';

type TF = typeof tfc;

export interface RetrievalLabels {
  /** Duplicate group of each row (rows with one photo hash share a group). */
  group: Int32Array;
  articleType: Int32Array;
  colour: Int32Array;
}

export interface RetrievalResult {
  queries: number;
  k: number;
  /** Mean share of the top k with the query's article type. */
  precisionType: number;
  /** Mean share of the top k with the query's article type and colour. */
  precisionTypeColour: number;
}

/** Top-k of row `scores` (length n), skipping rows where `skip(j)`; indices best first. */
export function topK(scores: Float32Array, k: number, skip: (j: number) => boolean): Int32Array {
  const idx = new Int32Array(k).fill(-1);
  const val = new Float32Array(k).fill(-Infinity);
  for (let j = 0; j < scores.length; j++) {
    const s = scores[j] as number;
    if (s <= (val[k - 1] as number) || skip(j)) continue;
    let p = k - 1;
    while (p > 0 && (val[p - 1] as number) < s) {
      val[p] = val[p - 1] as number;
      idx[p] = idx[p - 1] as number;
      p--;
    }
    val[p] = s;
    idx[p] = j;
  }
  return idx;
}

/**
 * P@k for `queries` (row indices) against every row of `embeddings` (n×dim, row-major, rows
 * L2-normalised). Similarities are computed with `tf.matMul` in chunks. `queryEmbeddings`
 * (queries.length×dim), when given, replaces the query rows' own vectors as what is searched with
 * (e.g. altered photos of the query items searched against the clean catalog); the labels and the
 * duplicate group left out are still the query row's.
 */
export async function retrievalPrecision(tf: TF, embeddings: Float32Array, dim: number, queries: Int32Array, labels: RetrievalLabels, k = 10, queryEmbeddings?: Float32Array): Promise<RetrievalResult> {
  const n = embeddings.length / dim;
  if (!Number.isInteger(n)) throw new Error(`retrievalPrecision: ${embeddings.length} values are not rows of ${dim}`);
  if (queryEmbeddings && queryEmbeddings.length !== queries.length * dim) {
    throw new Error(`retrievalPrecision: queryEmbeddings hold ${queryEmbeddings.length} values, expected ${queries.length}×${dim}`);
  }
  const all = tf.tensor2d(embeddings, [n, dim]);
  const allT = tf.transpose(all);
  let hitsType = 0;
  let hitsBoth = 0;
  const chunk = 256;
  for (let start = 0; start < queries.length; start += chunk) {
    const rows = queries.subarray(start, Math.min(queries.length, start + chunk));
    const q = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => {
      const source = queryEmbeddings ? queryEmbeddings.subarray((start + i) * dim, (start + i + 1) * dim) : embeddings.subarray(r * dim, (r + 1) * dim);
      q.set(source, i * dim);
    });
    const simsT = tf.tidy(() => tf.matMul(tf.tensor2d(q, [rows.length, dim]), allT));
    const sims = (await simsT.data()) as Float32Array;
    simsT.dispose();
    rows.forEach((r, i) => {
      const g = labels.group[r];
      const top = topK(sims.subarray(i * n, (i + 1) * n), k, (j) => labels.group[j] === g);
      for (const j of top) {
        if (j < 0) continue;
        if (labels.articleType[j] === labels.articleType[r]) {
          hitsType++;
          if (labels.colour[j] === labels.colour[r]) hitsBoth++;
        }
      }
    });
  }
  tf.dispose([all, allT]);
  return { queries: queries.length, k, precisionType: hitsType / (queries.length * k), precisionTypeColour: hitsBoth / (queries.length * k) };
}

/**
 * The raw-pixel baseline's vectors: each S×S×3 image average-pooled to t×t×3, scaled to [0, 1]
 * and L2-normalised (so a dot product is the cosine).
 */
export function pixelThumbnails(images: Uint8Array, size: number, t = 16): Float32Array {
  const count = images.length / (size * size * 3);
  const f = size / t;
  const dim = t * t * 3;
  const out = new Float32Array(count * dim);
  for (let n = 0; n < count; n++) {
    const base = n * size * size * 3;
    const o = n * dim;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const p = base + (y * size + x) * 3;
        const q = o + ((Math.floor(y / f) * t + Math.floor(x / f)) * 3);
        out[q]! += images[p] as number;
        out[q + 1]! += images[p + 1] as number;
        out[q + 2]! += images[p + 2] as number;
      }
    }
    let norm = 0;
    for (let i = o; i < o + dim; i++) norm += (out[i] as number) ** 2;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let i = o; i < o + dim; i++) out[i]! *= inv;
  }
  return out;
}
