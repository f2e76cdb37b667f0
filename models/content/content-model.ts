/**
 * The content model: an item's title words and attributes (gender, master / sub category, article
 * type, colour, usage, season) to a dense, L2-normalised vector, and a shopper's search text to a
 * vector in the same space.
 *
 * TF-IDF over title words plus field-tagged attribute tokens (`articleType=shirts`), reduced by a
 * truncated SVD of the catalog's TF-IDF matrix (latent semantic analysis, computed in plain TS at
 * training time). The model is small JSON (vocabulary, idf, projection as base64 int8 with per-row
 * scales), so the device recomputes every item's content vector from the catalog rows instead of
 * downloading them.
 */
import type { CatalogItem } from '../catalog/item';
import { symmetricEigen } from '../cf/dense';
import { SeededRandom } from '../random';
import { decodeQ8, encodeQ8, q8ByteLength } from '../recommend/pack';

export const CONTENT_MODEL_FORMAT = 'fashionml.content-model/1';

/** The catalog fields the content model reads. */
export type ContentItem = Pick<CatalogItem, 'title' | 'gender' | 'masterCategory' | 'subCategory' | 'articleType' | 'colour' | 'season' | 'usage'>;

/** Attribute fields, each a tagged token `field=value` (value normalised by {@link tokenize}). */
export const CONTENT_FIELDS = ['gender', 'masterCategory', 'subCategory', 'articleType', 'colour', 'usage', 'season'] as const;
export type ContentField = (typeof CONTENT_FIELDS)[number];

export interface ContentModelOptions {
  /** Output dimensions (default 64). */
  dim?: number;
  /** Title words kept need at least this many items (default 2); attribute tokens are always kept. */
  minDf?: number;
  /** At most this many title words, most frequent first (default 6000). */
  maxWords?: number;
  /** Weight of each attribute token relative to a title word (before idf). */
  fieldWeights?: Partial<Record<ContentField, number>>;
  /** `svd` (default): truncated SVD of the TF-IDF matrix; `random`: a seeded Gaussian projection. */
  reduction?: 'svd' | 'random';
  /** Subspace (power) iterations of the randomised SVD (default 4). */
  powerIterations?: number;
  seed?: number;
}

/** What `toJSON` writes and `fromJSON` reads (`content.json` in the ranker pack). */
export interface ContentModelJSON {
  format: typeof CONTENT_MODEL_FORMAT;
  dim: number;
  /** Term strings: title words as {@link tokenize} gives them, attribute tokens as `field=value`. */
  vocabulary: string[];
  /** Inverse document frequency per term, same order as `vocabulary`. */
  idf: number[];
  fieldWeights: Record<ContentField, number>;
  /** Term → latent projection, shape [vocabulary.length, dim]: int8 values then float32 row scales, base64. */
  projection: { encoding: 'q8-base64'; data: string };
  /** How the model was fitted (informational). */
  fit?: Record<string, number | string>;
}

const DEFAULT_FIELD_WEIGHTS: Record<ContentField, number> = {
  gender: 1,
  masterCategory: 0.5,
  subCategory: 1,
  articleType: 2,
  colour: 1.5,
  usage: 0.75,
  season: 0.5,
};

const STOP_WORDS = new Set(['a', 'an', 'and', 'by', 'for', 'in', 'of', 'on', 'the', 'to', 'with']);

/** A light plural stemmer: the same on both sides, which is all that matters for matching. */
function stem(word: string): string {
  if (word.length <= 3 || /\d/.test(word)) return word;
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  if (/(ss|x|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

/**
 * Lower-cased, accent-free, stemmed words of `text`. Apostrophes vanish (`men's` → `men`), a hyphen
 * joins (`t-shirt` → `tshirt`), and a lone letter glues to the next word (`t shirt` → `tshirt`), so
 * titles and typed queries agree. Stop words are dropped.
 */
export function tokenize(text: string): string[] {
  const cleaned = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['’`]/g, '')
    .replace(/([a-z0-9])-(?=[a-z0-9])/g, '$1');
  const raw = cleaned.split(/[^a-z0-9]+/).filter((w) => w.length > 0);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    let w = raw[i]!;
    if (w.length === 1 && /[a-z]/.test(w) && w !== 'a' && i + 1 < raw.length) w += raw[++i]!;
    if (STOP_WORDS.has(w)) continue;
    out.push(stem(w));
  }
  return out;
}

/** The tagged token of an attribute value, or undefined when the value is empty. */
export function fieldToken(field: ContentField, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const words = tokenize(value);
  return words.length === 0 ? undefined : `${field}=${words.join(' ')}`;
}

/** Title word counts and attribute tokens of one item. */
function itemTokens(item: ContentItem): { words: Map<string, number>; fields: [ContentField, string][] } {
  const words = new Map<string, number>();
  for (const w of tokenize(item.title)) words.set(w, (words.get(w) ?? 0) + 1);
  const fields: [ContentField, string][] = [];
  for (const field of CONTENT_FIELDS) {
    const token = fieldToken(field, item[field]);
    if (token !== undefined) fields.push([field, token]);
  }
  return { words, fields };
}

/** A sparse, L2-normalised TF-IDF row: term indices and weights. */
export interface SparseTerms {
  indices: Int32Array;
  values: Float32Array;
}

export class ContentModel {
  readonly dim: number;
  readonly vocabulary: readonly string[];
  readonly idf: Float32Array;
  readonly fieldWeights: Readonly<Record<ContentField, number>>;
  /** Row-major [vocabulary.length, dim], float32 (decoded from the int8 file form). */
  readonly projection: Float32Array;
  readonly fitInfo: Record<string, number | string>;
  private readonly termIndex: Map<string, number>;
  /** Attribute value phrases (as word lists) a query may contain, with their tagged term index. */
  private readonly phrases: { words: string[]; term: number }[];

  private constructor(
    dim: number,
    vocabulary: string[],
    idf: Float32Array,
    fieldWeights: Record<ContentField, number>,
    projection: Float32Array,
    fitInfo: Record<string, number | string>,
  ) {
    this.dim = dim;
    this.vocabulary = vocabulary;
    this.idf = idf;
    this.fieldWeights = fieldWeights;
    this.projection = projection;
    this.fitInfo = fitInfo;
    this.termIndex = new Map(vocabulary.map((term, i) => [term, i]));
    this.phrases = [];
    vocabulary.forEach((term, i) => {
      const eq = term.indexOf('=');
      if (eq > 0) this.phrases.push({ words: term.slice(eq + 1).split(' '), term: i });
    });
    // Longer phrases first, so `navy blue` is matched before `blue`.
    this.phrases.sort((a, b) => b.words.length - a.words.length);
  }

  /**
   * Fits vocabulary, idf and the projection on a catalog's items (all of them: content needs no
   * interactions, so cold items take part too).
   */
  static fit(items: readonly ContentItem[], options: ContentModelOptions = {}): ContentModel {
    if (items.length === 0) throw new RangeError('ContentModel.fit: no items');
    const dim = options.dim ?? 64;
    const minDf = options.minDf ?? 2;
    const maxWords = options.maxWords ?? 6000;
    const fieldWeights = { ...DEFAULT_FIELD_WEIGHTS, ...options.fieldWeights };
    for (const [field, w] of Object.entries(fieldWeights)) {
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`ContentModel.fit: fieldWeights.${field} must be a finite number ≥ 0, got ${w}`);
    }
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`ContentModel.fit: dim must be a positive integer, got ${dim}`);

    const tokens = items.map(itemTokens);
    const wordDf = new Map<string, number>();
    const fieldDf = new Map<string, number>();
    for (const t of tokens) {
      for (const w of t.words.keys()) wordDf.set(w, (wordDf.get(w) ?? 0) + 1);
      for (const [, token] of t.fields) fieldDf.set(token, (fieldDf.get(token) ?? 0) + 1);
    }
    const words = [...wordDf]
      .filter(([, df]) => df >= minDf)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, maxWords)
      .map(([w]) => w);
    const fieldTerms = [...fieldDf.keys()].sort();
    const vocabulary = [...words, ...fieldTerms];
    const n = items.length;
    const idf = new Float32Array(vocabulary.length);
    vocabulary.forEach((term, i) => {
      const df = wordDf.get(term) ?? fieldDf.get(term) ?? 0;
      // Rounded as the file stores it, so the device's vectors equal the trainer's.
      idf[i] = Math.round((Math.log((1 + n) / (1 + df)) + 1) * 1e5) / 1e5;
    });

    const placeholder = new ContentModel(dim, vocabulary, idf, fieldWeights, new Float32Array(0), {});
    const rows = items.map((item) => placeholder.itemTerms(item));
    const random = new SeededRandom(options.seed ?? 1);
    const reduction = options.reduction ?? 'svd';
    const projection =
      reduction === 'svd'
        ? truncatedSvdProjection(rows, vocabulary.length, dim, options.powerIterations ?? 4, random)
        : gaussianProjection(vocabulary.length, dim, random);
    // The file form is int8: fit with what the device will decode.
    const stored = decodeProjection(encodeQ8(projection, vocabulary.length, dim), vocabulary.length, dim);
    return new ContentModel(dim, vocabulary, idf, fieldWeights, stored, { reduction, items: n, words: words.length, fieldTerms: fieldTerms.length });
  }

  /** Reads `content.json`; every malformed field is an error naming it. */
  static fromJSON(json: unknown): ContentModel {
    const where = 'content model JSON';
    if (typeof json !== 'object' || json === null) throw new TypeError(`${where}: expected an object`);
    const j = json as Partial<ContentModelJSON>;
    if (j.format !== CONTENT_MODEL_FORMAT) throw new TypeError(`${where}: format must be "${CONTENT_MODEL_FORMAT}", got ${JSON.stringify(j.format)}`);
    if (!Number.isInteger(j.dim) || (j.dim as number) < 1) throw new TypeError(`${where}: dim must be a positive integer, got ${JSON.stringify(j.dim)}`);
    if (!Array.isArray(j.vocabulary) || j.vocabulary.some((t) => typeof t !== 'string')) throw new TypeError(`${where}: vocabulary must be an array of strings`);
    if (!Array.isArray(j.idf) || j.idf.length !== j.vocabulary.length || j.idf.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
      throw new TypeError(`${where}: idf must be ${j.vocabulary.length} finite numbers (one per vocabulary term)`);
    }
    const fieldWeights = { ...DEFAULT_FIELD_WEIGHTS };
    for (const field of CONTENT_FIELDS) {
      const w = j.fieldWeights?.[field];
      if (typeof w !== 'number' || !(w >= 0)) throw new TypeError(`${where}: fieldWeights.${field} must be a number ≥ 0, got ${JSON.stringify(w)}`);
      fieldWeights[field] = w;
    }
    if (j.projection?.encoding !== 'q8-base64' || typeof j.projection.data !== 'string') {
      throw new TypeError(`${where}: projection must be {"encoding": "q8-base64", "data": "<base64>"}`);
    }
    const dim = j.dim as number;
    const projection = decodeProjection(base64ToBytes(j.projection.data, `${where}: projection.data`), j.vocabulary.length, dim);
    return new ContentModel(dim, [...j.vocabulary], Float32Array.from(j.idf), fieldWeights, projection, { ...(j.fit ?? {}) });
  }

  toJSON(): ContentModelJSON {
    return {
      format: CONTENT_MODEL_FORMAT,
      dim: this.dim,
      vocabulary: [...this.vocabulary],
      idf: Array.from(this.idf, (v) => Math.round(v * 1e5) / 1e5),
      fieldWeights: { ...this.fieldWeights },
      projection: { encoding: 'q8-base64', data: bytesToBase64(encodeQ8(this.projection, this.vocabulary.length, this.dim)) },
      fit: { ...this.fitInfo },
    };
  }

  /** The item's sparse TF-IDF row (sublinear title term frequency, weighted attribute tokens), L2-normalised. */
  itemTerms(item: ContentItem): SparseTerms {
    const { words, fields } = itemTokens(item);
    const weights = new Map<number, number>();
    for (const [w, count] of words) {
      const i = this.termIndex.get(w);
      if (i !== undefined) weights.set(i, (1 + Math.log(count)) * this.idf[i]!);
    }
    for (const [field, token] of fields) {
      const i = this.termIndex.get(token);
      if (i !== undefined) weights.set(i, (weights.get(i) ?? 0) + this.fieldWeights[field] * this.idf[i]!);
    }
    return normalisedTerms(weights);
  }

  /**
   * A query's sparse TF-IDF row: its words as title words, plus the attribute tokens whose value
   * phrase it contains (`navy blue shirt` → colour `navy blue`, article type `shirt`).
   */
  queryTerms(text: string): SparseTerms {
    const words = tokenize(text);
    const weights = new Map<number, number>();
    for (const w of words) {
      const i = this.termIndex.get(w);
      if (i !== undefined) weights.set(i, (weights.get(i) ?? 0) + this.idf[i]!);
    }
    for (const { words: phrase, term } of this.phrases) {
      if (containsPhrase(words, phrase)) {
        const field = this.vocabulary[term]!.slice(0, this.vocabulary[term]!.indexOf('=')) as ContentField;
        weights.set(term, (weights.get(term) ?? 0) + this.fieldWeights[field] * this.idf[term]!);
      }
    }
    return normalisedTerms(weights);
  }

  /** Projects sparse terms to the latent space, L2-normalised (all zeros when no term is known). */
  project(terms: SparseTerms, out: Float32Array = new Float32Array(this.dim)): Float32Array {
    out.fill(0);
    const d = this.dim;
    for (let k = 0; k < terms.indices.length; k++) {
      const o = terms.indices[k]! * d;
      const v = terms.values[k]!;
      for (let c = 0; c < d; c++) out[c]! += v * this.projection[o + c]!;
    }
    let norm = 0;
    for (let c = 0; c < d; c++) norm += out[c]! * out[c]!;
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let c = 0; c < d; c++) out[c]! *= inv;
    }
    return out;
  }

  /** The item's content vector, shape [dim], float32, L2-normalised (zeros when no term is known). */
  embedItem(item: ContentItem): Float32Array {
    return this.project(this.itemTerms(item));
  }

  /** A search text's vector in the item space, shape [dim], float32, L2-normalised (zeros when no term is known). */
  embedQuery(text: string): Float32Array {
    return this.project(this.queryTerms(text));
  }

  /** Content vectors of many items, row-major [items.length, dim], float32. */
  embedItems(items: readonly ContentItem[]): Float32Array {
    const out = new Float32Array(items.length * this.dim);
    items.forEach((item, i) => this.project(this.itemTerms(item), out.subarray(i * this.dim, (i + 1) * this.dim)));
    return out;
  }
}

function containsPhrase(words: readonly string[], phrase: readonly string[]): boolean {
  outer: for (let s = 0; s + phrase.length <= words.length; s++) {
    for (let k = 0; k < phrase.length; k++) if (words[s + k] !== phrase[k]) continue outer;
    return true;
  }
  return false;
}

function normalisedTerms(weights: Map<number, number>): SparseTerms {
  const entries = [...weights].sort((a, b) => a[0] - b[0]);
  let norm = 0;
  for (const [, v] of entries) norm += v * v;
  const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  return { indices: Int32Array.from(entries, ([i]) => i), values: Float32Array.from(entries, ([, v]) => v * inv) };
}

function gaussianProjection(terms: number, dim: number, random: SeededRandom): Float32Array {
  const out = new Float32Array(terms * dim);
  for (let i = 0; i < out.length; i++) out[i] = gaussian(random) / Math.sqrt(dim);
  return out;
}

function gaussian(random: SeededRandom): number {
  const u = Math.max(random.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
}

/**
 * The top-`dim` right singular vectors of the sparse rows (shape [n, terms]) by randomised subspace
 * iteration (Halko, Martinsson & Tropp 2011), returned as the projection V, shape [terms, dim].
 * Projecting by V (without dividing by the singular values) keeps the dominant directions
 * dominant, which is what LSA retrieval wants.
 */
function truncatedSvdProjection(rows: readonly SparseTerms[], terms: number, dim: number, iterations: number, random: SeededRandom): Float32Array {
  const n = rows.length;
  const k = Math.min(dim + 10, terms, n);
  // Ω: terms × k; Y = A Ω: n × k.
  let v = new Float64Array(terms * k);
  for (let i = 0; i < v.length; i++) v[i] = gaussian(random);
  const y = new Float64Array(n * k);
  const mulA = (src: Float64Array, dst: Float64Array) => {
    dst.fill(0);
    for (let r = 0; r < n; r++) {
      const row = rows[r]!;
      const o = r * k;
      for (let e = 0; e < row.indices.length; e++) {
        const so = row.indices[e]! * k;
        const w = row.values[e]!;
        for (let c = 0; c < k; c++) dst[o + c]! += w * src[so + c]!;
      }
    }
  };
  const mulAt = (src: Float64Array, dst: Float64Array) => {
    dst.fill(0);
    for (let r = 0; r < n; r++) {
      const row = rows[r]!;
      const o = r * k;
      for (let e = 0; e < row.indices.length; e++) {
        const dO = row.indices[e]! * k;
        const w = row.values[e]!;
        for (let c = 0; c < k; c++) dst[dO + c]! += w * src[o + c]!;
      }
    }
  };
  for (let it = 0; it <= iterations; it++) {
    mulA(v, y);
    orthonormalise(y, n, k);
    v = new Float64Array(terms * k);
    mulAt(y, v); // V = Aᵀ Q: terms × k
    if (it < iterations) orthonormalise(v, terms, k);
  }
  // B = Qᵀ A, stored transposed as v (terms × k). Eigen-decompose BBᵀ = vᵀv (k × k) to rotate v
  // onto the singular directions, ordered by singular value.
  const g = new Float64Array(k * k);
  for (let t = 0; t < terms; t++) {
    const o = t * k;
    for (let a = 0; a < k; a++) {
      const va = v[o + a]!;
      if (va === 0) continue;
      for (let b = 0; b < k; b++) g[a * k + b]! += va * v[o + b]!;
    }
  }
  // Eigenvalues come sorted, largest first.
  const { values, vectors } = symmetricEigen(g, k);
  const order = [...values.keys()].slice(0, dim);
  const out = new Float32Array(terms * dim);
  for (let t = 0; t < terms; t++) {
    for (let c = 0; c < order.length; c++) {
      const col = order[c]!;
      const sigma = Math.sqrt(Math.max(values[col]!, 1e-30));
      let s = 0;
      for (let a = 0; a < k; a++) s += v[t * k + a]! * vectors[a * k + col]!;
      out[t * dim + c] = s / sigma; // a unit right singular vector
    }
  }
  return out;
}

/** Modified Gram–Schmidt on the k columns of a row-major [rows, k] matrix, in place. */
function orthonormalise(m: Float64Array, rows: number, k: number): void {
  for (let c = 0; c < k; c++) {
    for (let p = 0; p < c; p++) {
      let dot = 0;
      for (let r = 0; r < rows; r++) dot += m[r * k + c]! * m[r * k + p]!;
      for (let r = 0; r < rows; r++) m[r * k + c]! -= dot * m[r * k + p]!;
    }
    let norm = 0;
    for (let r = 0; r < rows; r++) norm += m[r * k + c]! ** 2;
    const inv = norm > 1e-24 ? 1 / Math.sqrt(norm) : 0;
    for (let r = 0; r < rows; r++) m[r * k + c]! *= inv;
  }
}

/** The projection travels as the pack's q8 matrices do (int8 values, one float32 scale per row). */
function decodeProjection(bytes: Uint8Array, rows: number, cols: number): Float32Array {
  if (bytes.byteLength !== q8ByteLength(rows, cols)) {
    throw new TypeError(`content model JSON: projection holds ${bytes.byteLength} bytes, expected ${q8ByteLength(rows, cols)} for ${rows} terms × ${cols} dims`);
  }
  return decodeQ8(bytes, rows, cols);
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(binary);
}

function base64ToBytes(text: string, where: string): Uint8Array {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new TypeError(`${where}: not valid base64`);
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
