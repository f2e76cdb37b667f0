/**
 * `fashionml evaluate --split DIR --out recs.csv`: trains on an outside evaluator's split and writes
 * our top-K for every test user, so any other tool can score our models on any split.
 *
 *   DIR/train.csv  user,item,rating,timestamp   (rating and timestamp optional; rating defaults to 1)
 *   DIR/valid.csv  same columns, optional       (only for choosing hyperparameters)
 *   DIR/test.csv   user,...                      (only the user column is read)
 *   DIR/items.csv  item,...                      (the catalog to rank)
 *
 * Output `user,item,rank,score` (rank 1 = best), K rows per test user, users in test.csv order.
 * Each user's train.csv and valid.csv items are never recommended.
 *
 * The default model is the one the device serves (models/cf/als-spectral.ts): ALS-ν on confidences
 * 1 + α·w plus the spectral low-pass part, every test user scored through the model's own fold-in
 * of their train.csv rows. The weight w of a row is its rating divided by the mean training rating,
 * so α means the same on a 1–5 scale, a 1–10 scale and binary data (no rating column: every w = 1).
 * With valid.csv, α and the spectral weight are chosen on it by NDCG@K; without, the defaults are
 * the MovieLens-100k validation choices.
 *
 * Items of items.csv with no training interaction get the score 0 (set explicitly): the ALS optimum
 * for an item vector with no observed entry is the zero vector and the spectral part leaves such an
 * item's rows at zero, so it ranks below every item the model scores positively and above the
 * negatively scored ones, and no popularity signal enters its score (ties among them go to
 * items.csv order). Test users with no training history have no user vector; they get the
 * most-interacted training items (popularity), the only information there is.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CsvError, parse } from 'csv-parse/sync';
import { fitAls } from '../../models/cf/als';
import type { AlsOptions } from '../../models/cf/als';
import { fitAlsSpectral } from '../../models/cf/als-spectral';
import type { AlsSpectralOptions } from '../../models/cf/als-spectral';
import { toCsr } from '../../models/cf/sparse';
import type { Csr } from '../../models/cf/sparse';
import { recboleMetrics } from '../../models/eval/metrics';
import type { Scorer } from '../../models/eval/protocols';
import { rankTopK } from '../../models/eval/rank';

/** 'als-spectral': the served model; 'als': ALS-ν alone on binary data; 'popularity': training counts. */
export type SplitModel = 'als-spectral' | 'als' | 'popularity';
export const SPLIT_MODELS: readonly SplitModel[] = ['als-spectral', 'als', 'popularity'];

export interface SplitEvaluateOptions {
  /** Where to write the recommendations (CSV); omitted: nothing is written. */
  out?: string;
  /** Recommendations per user (default 10). */
  k?: number;
  /** 'als-spectral' (default, the served model), 'als' or 'popularity'. */
  model?: SplitModel;
  /** Overrides of the ALS hyperparameters (skips the validation search for the keys given). */
  als?: AlsOptions;
  /** Overrides of the spectral weight of 'als-spectral' (skips its validation search). */
  spectralWeight?: number;
}

export interface SplitEvaluateResult {
  model: SplitModel;
  k: number;
  /** Test users ranked, and how many of them had no training history (popularity fallback). */
  users: number;
  coldUsers: number;
  /** Catalog items ranked, and how many had no training interaction (score 0). */
  items: number;
  coldItems: number;
  /** Hyperparameters used (null for popularity); α applies to weights rating / mean training rating. */
  params: AlsSpectralOptions | null;
  /** Whether train.csv had ratings, used as confidence weights ('als-spectral' only). */
  rated: boolean;
  /** NDCG@k on valid.csv of the chosen parameters, when valid.csv was given and searched. */
  validNdcg: number | null;
  fitSeconds: number;
  rows: number;
  out: string | null;
}

/** ALS-ν defaults chosen on MovieLens-100k validation data (bench/quality.bench.ts), binary data. */
export const DEFAULT_ALS: AlsOptions = { factors: 32, regularization: 2, alpha: 1, regularizationExponent: 0.5, iterations: 8, cgSteps: 3, seed: 0 };
const GRID: AlsOptions[] = [1, 2, 4].flatMap((regularization) => [1, 2].map((alpha) => ({ regularization, alpha })));

/**
 * The served model's defaults. α = 1.06 on mean-scaled weights is the bench's α = 0.3 on MovieLens
 * ratings (mean 3.53); on binary data it is ALS-ν's own α = 1.
 */
export const DEFAULT_ALS_SPECTRAL = { als: { ...DEFAULT_ALS, alpha: 1.06 }, spectral: { rank: 32 }, spectralWeight: 0.3 } satisfies AlsSpectralOptions;
/** Its validation grid (the bench's α ∈ {0.3, 0.5} on ratings, spectral weight 0.2–0.4), defaults first. */
const SPECTRAL_GRID: { alpha: number; spectralWeight: number }[] = [1.06, 1.77].flatMap((alpha) => [0.3, 0.2, 0.4].map((spectralWeight) => ({ alpha, spectralWeight })));

interface Row {
  line: number;
  fields: Record<string, string>;
}

/** Reads a headered CSV; every error names the file and line. */
function readCsv(path: string, required: string[]): Row[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as Error).message})`);
  }
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, trim: true, bom: true, info: true }) as typeof records;
  } catch (e) {
    if (e instanceof CsvError) throw new Error(`${path}: line ${(e as CsvError & { lines?: number }).lines ?? '?'}: ${e.message}`);
    throw e;
  }
  const header = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0]!.split(',').map((c) => c.trim().toLowerCase());
  for (const c of required) if (!header.includes(c)) throw new Error(`${path}: line 1: missing column "${c}" (header: ${header.join(',')})`);
  return records.map((r) => ({ line: r.info.lines, fields: r.record }));
}

function need(path: string, row: Row, col: string): string {
  const v = row.fields[col] ?? '';
  if (v === '') throw new Error(`${path}: line ${row.line}: empty "${col}"`);
  return v;
}

function optionalNumber(path: string, row: Row, col: string, fallback: number): number {
  const v = row.fields[col];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${path}: line ${row.line}: "${col}" is not a number: "${v}"`);
  return n;
}

interface Log {
  users: string[];
  items: string[];
  weights: number[];
  /** Rows with a rating value (the rest default to 1). */
  rated: number;
}

function readLog(path: string): Log {
  const log: Log = { users: [], items: [], weights: [], rated: 0 };
  for (const row of readCsv(path, ['user', 'item'])) {
    log.users.push(need(path, row, 'user'));
    log.items.push(need(path, row, 'item'));
    const rating = optionalNumber(path, row, 'rating', 1);
    optionalNumber(path, row, 'timestamp', 0);
    if (rating < 0) throw new Error(`${path}: line ${row.line}: negative rating ${rating}`);
    if ((row.fields.rating ?? '') !== '') log.rated++;
    log.weights.push(rating);
  }
  return log;
}

class Index {
  readonly ids: string[] = [];
  readonly map = new Map<string, number>();
  get(id: string): number {
    let i = this.map.get(id);
    if (i === undefined) {
      i = this.ids.length;
      this.map.set(id, i);
      this.ids.push(id);
    }
    return i;
  }
}

/**
 * User × item matrix of `weights` (a repeated pair's weights add up), or binary when omitted (every
 * interaction counts once: all feedback is positive).
 */
function matrix(log: Log, users: Index, items: Index, weights?: Float32Array): Csr {
  const rows = Int32Array.from(log.users, (u) => users.get(u));
  const cols = Int32Array.from(log.items, (i) => items.get(i));
  const m = toCsr(users.ids.length, items.ids.length, rows, cols, weights);
  return weights ? m : { ...m, values: m.values.fill(1) };
}

/** Each row's rating over the mean training rating (1 where no row has a rating or all are 0). */
function scaledWeights(log: Log): Float32Array {
  const mean = log.weights.reduce((s, w) => s + w, 0) / Math.max(log.weights.length, 1);
  return Float32Array.from(log.weights, (w) => (log.rated > 0 && mean > 0 ? w / mean : 1));
}

/** Top k of `scores`, never an item of `catalogMask` (non-zero: outside items.csv) or of `seen`. */
function topFor(scores: Float32Array, seen: Iterable<number> | undefined, catalogMask: Uint8Array, k: number): Int32Array {
  const set: number[] = [];
  if (seen) {
    for (const i of seen) {
      if (catalogMask[i] === 0) {
        catalogMask[i] = 1;
        set.push(i);
      }
    }
  }
  const top = rankTopK(scores, catalogMask, k);
  for (const i of set) catalogMask[i] = 0;
  return top;
}

/**
 * Trains on DIR/train.csv (tuning on DIR/valid.csv when present), ranks DIR/items.csv for every
 * user of DIR/test.csv and writes `user,item,rank,score` to `options.out`.
 */
export function evaluateSplit(dir: string, options: SplitEvaluateOptions = {}): SplitEvaluateResult {
  const k = options.k ?? 10;
  if (!Number.isInteger(k) || k < 1) throw new Error(`evaluateSplit: k must be a positive integer, got ${k}`);
  const modelName = options.model ?? 'als-spectral';
  if (!SPLIT_MODELS.includes(modelName)) throw new Error(`evaluateSplit: model must be one of ${SPLIT_MODELS.join(', ')}, got ${JSON.stringify(modelName)}`);
  const trainPath = join(dir, 'train.csv');
  const validPath = join(dir, 'valid.csv');
  const testPath = join(dir, 'test.csv');
  const itemsPath = join(dir, 'items.csv');
  const train = readLog(trainPath);
  const valid: Log | null = existsSync(validPath) ? readLog(validPath) : null;
  const catalog = readCsv(itemsPath, ['item']).map((r) => need(itemsPath, r, 'item'));
  const testUsers: string[] = [];
  const testSeen = new Set<string>();
  for (const row of readCsv(testPath, ['user'])) {
    const u = need(testPath, row, 'user');
    if (!testSeen.has(u)) {
      testSeen.add(u);
      testUsers.push(u);
    }
  }

  // Items: the catalog first (so cold-item ties follow items.csv order), then training-only items.
  const items = new Index();
  for (const i of catalog) items.get(i);
  const nCatalog = items.ids.length;
  const users = new Index();
  for (const u of train.users) users.get(u);
  for (const i of train.items) items.get(i);
  if (valid) for (const i of valid.items) items.get(i);
  const m = matrix(train, users, items);
  const counts = new Float32Array(m.nCols);
  for (const i of m.indices) counts[i]!++;

  // What each user may not be recommended: train and valid items; items outside the catalog.
  const seen = new Map<number, Set<number>>();
  const addSeen = (log: Log) =>
    log.users.forEach((u, n) => {
      const ui = users.map.get(u);
      if (ui === undefined) return;
      let s = seen.get(ui);
      if (!s) seen.set(ui, (s = new Set()));
      s.add(items.map.get(log.items[n]!)!);
    });
  addSeen(train);
  if (valid) addSeen(valid);
  const mask = new Uint8Array(m.nCols);
  for (let i = nCatalog; i < m.nCols; i++) mask[i] = 1;

  let params: AlsSpectralOptions | null = null;
  let validNdcg: number | null = null;
  let model: Scorer | null = null;
  const relevant = new Map<number, Set<number>>();
  valid?.users.forEach((u, n) => {
    const ui = users.map.get(u);
    if (ui === undefined) return;
    let s = relevant.get(ui);
    if (!s) relevant.set(ui, (s = new Set()));
    s.add(items.map.get(valid.items[n]!)!);
  });
  /** The candidate with the best validation NDCG@k (the first when there is nothing to choose). */
  const search = <P extends object>(candidates: P[], fit: (p: P) => Scorer): P => {
    if (candidates.length < 2 || relevant.size === 0) return candidates[0]!;
    let best = -Infinity;
    let chosen = candidates[0]!;
    for (const p of candidates) {
      const score = meanNdcg(fit(p), m, relevant, mask, k);
      if (score > best) {
        best = score;
        chosen = p;
      }
    }
    validNdcg = best;
    return chosen;
  };
  const rated = modelName === 'als-spectral' && train.rated > 0;
  const t0 = performance.now();
  if (modelName === 'als') {
    const base: AlsOptions = { ...DEFAULT_ALS, ...options.als };
    const searchable = GRID.filter((g) => Object.keys(g).every((key) => options.als?.[key as keyof AlsOptions] === undefined));
    const chosen = search(searchable.length ? searchable.map((g) => ({ ...base, ...g })) : [base], (p) => fitAls(m, p));
    params = { als: chosen };
    model = fitAls(m, chosen);
  } else if (modelName === 'als-spectral') {
    const weighted = matrix(train, users, items, rated ? scaledWeights(train) : undefined);
    const grid = SPECTRAL_GRID.filter((g) => (options.als?.alpha ?? g.alpha) === g.alpha && (options.spectralWeight ?? g.spectralWeight) === g.spectralWeight);
    const given = { alpha: options.als?.alpha ?? DEFAULT_ALS_SPECTRAL.als.alpha, spectralWeight: options.spectralWeight ?? DEFAULT_ALS_SPECTRAL.spectralWeight };
    // A tiny catalog caps the spectral rank at the items that have interactions.
    const rank = Math.max(1, Math.min(DEFAULT_ALS_SPECTRAL.spectral.rank, counts.filter((c) => c > 0).length));
    const optionsFor = (g: { alpha: number; spectralWeight: number }): AlsSpectralOptions => ({
      als: { ...DEFAULT_ALS_SPECTRAL.als, ...options.als, alpha: g.alpha },
      spectral: { ...DEFAULT_ALS_SPECTRAL.spectral, rank },
      spectralWeight: g.spectralWeight,
    });
    const chosen = optionsFor(search(grid.length ? grid : [given], (g) => fitAlsSpectral(weighted, optionsFor(g))));
    params = chosen;
    // Every user's vector is the device's fold-in of their training rows (see fitAlsSpectral).
    model = fitAlsSpectral(weighted, chosen);
  }
  const fitSeconds = (performance.now() - t0) / 1000;

  const lines = ['user,item,rank,score'];
  const scores = new Float32Array(m.nCols);
  let coldUsers = 0;
  for (const u of testUsers) {
    const ui = users.map.get(u);
    if (model && ui !== undefined) {
      model.scoreUser(ui, scores);
      for (let i = 0; i < nCatalog; i++) if (counts[i] === 0) scores[i] = 0;
    } else {
      if (model) coldUsers++;
      scores.set(counts);
    }
    const top = topFor(scores, ui === undefined ? undefined : seen.get(ui), mask, k);
    top.forEach((i, r) => lines.push(`${csvField(u)},${csvField(items.ids[i]!)},${r + 1},${formatScore(scores[i]!)}`));
  }
  let coldItems = 0;
  for (let i = 0; i < nCatalog; i++) if (counts[i] === 0) coldItems++;
  if (options.out) writeFileSync(options.out, lines.join('\n') + '\n');
  return {
    model: modelName,
    k,
    users: testUsers.length,
    coldUsers,
    items: nCatalog,
    coldItems,
    params,
    rated,
    validNdcg,
    fitSeconds,
    rows: lines.length - 1,
    out: options.out ?? null,
  };
}

/** RecBole-style NDCG@k on validation: train items masked, every validation item relevant. */
function meanNdcg(model: Scorer, m: Csr, relevant: Map<number, Set<number>>, catalogMask: Uint8Array, k: number): number {
  const scores = new Float32Array(m.nCols);
  const recs: (Int32Array | null)[] = [];
  const rel: (Set<number> | null)[] = [];
  for (const [u, r] of relevant) {
    model.scoreUser(u, scores);
    recs.push(topFor(scores, m.indices.subarray(m.indptr[u]!, m.indptr[u + 1]!), catalogMask, k));
    rel.push(r);
  }
  return rel.length ? recboleMetrics(recs, rel, k).ndcg : 0;
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function formatScore(v: number): string {
  return Number.isFinite(v) ? String(Math.round(v * 1e6) / 1e6) : '0';
}
