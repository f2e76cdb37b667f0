/**
 * Implicit-feedback matrix factorisation (Hu, Koren & Volinsky 2008), fitted by alternating least
 * squares with a few warm-started conjugate-gradient steps per row (Takács et al. 2011; the C++
 * `implicit` library's solver), plus the exact fold-in the device runs for one shopper.
 *
 * An observed (user, item) entry of weight w has preference 1 and confidence c = 1 + α·w; every
 * other pair has preference 0 and confidence 1. The loss is
 *   Σ_u,i c_ui (p_ui − x_u·y_i)² + λ (Σ_u |x_u|² + Σ_i |y_i|²).
 */
import type { Scorer } from '../eval/protocols';
import { SeededRandom } from '../random';
import { axpyAt, cholesky, choleskySolve, dotAt } from './dense';
import type { Csr } from './sparse';
import { transpose } from './sparse';

export interface AlsOptions {
  /** Latent dimensions f (default 64). */
  factors?: number;
  /** λ, the L2 penalty on every factor vector (default 0.1). */
  regularization?: number;
  /** α in c = 1 + α·w (default 1). */
  alpha?: number;
  /** Alternating sweeps, items then users (default 15). */
  iterations?: number;
  /** Conjugate-gradient steps per row per sweep (default 3). */
  cgSteps?: number;
  /**
   * ν in the per-row penalty λ·n^ν, n = the row's stored entries (frequency-scaled regularisation,
   * Rendle et al. 2022 "Revisiting the performance of iALS"); default 0 (one λ for every row).
   */
  regularizationExponent?: number;
  /**
   * Replace the last sweep's CG user vectors by {@link foldIn} on the float32 item vectors (default
   * true), so the evaluated user vectors are exactly the ones the device computes from the same history.
   */
  exactUsers?: boolean;
  /**
   * Leave the user vectors of the previous sweep and skip the last user solve altogether (default
   * false): for callers that fold every user in themselves (see als-spectral.ts).
   */
  skipFinalUsers?: boolean;
  /** Seed of the small uniform initial factors. */
  seed?: number;
  /** Called after each sweep (1-based), e.g. to record {@link alsLoss}. */
  onIteration?: (iteration: number, model: AlsModel) => void;
}

export interface AlsModel extends Scorer {
  factors: number;
  nUsers: number;
  nItems: number;
  alpha: number;
  regularization: number;
  /** ν of the per-row penalty λ·n^ν (0: plain λ). */
  regularizationExponent: number;
  /** Row-major user vectors, shape [nUsers, factors], float32. */
  userFactors: Float32Array;
  /** Row-major item vectors, shape [nItems, factors], float32: what the device downloads. */
  itemFactors: Float32Array;
}

/**
 * YᵀY + λI for row-major factors `y` (shape [rows, f]), float64 [f, f]: shared by every row's solve,
 * and precomputed once on the device for fold-in.
 */
export function itemGram(y: ArrayLike<number>, f: number, regularization: number): Float64Array {
  const g = new Float64Array(f * f);
  const rows = y.length / f;
  for (let r = 0; r < rows; r++) {
    const o = r * f;
    for (let a = 0; a < f; a++) {
      const ya = y[o + a]!;
      if (ya === 0) continue;
      axpyAt(ya, y, o + a, g, a * f + a, f - a);
    }
  }
  for (let a = 0; a < f; a++) {
    g[a * f + a]! += regularization;
    for (let b = 0; b < a; b++) g[a * f + b] = g[b * f + a]!;
  }
  return g;
}

/** λ_row = λ·max(n, 1)^ν for a row with n stored entries (ν = 0: the same λ for every row). */
export function rowRegularization(regularization: number, exponent: number, n: number): number {
  return exponent === 0 ? regularization : regularization * Math.pow(Math.max(n, 1), exponent);
}

/**
 * One conjugate-gradient pass over every row of `m`: solves (YᵀY + λ_u I + Yᵀ(C_u − I)Y) x_u = YᵀC_u p_u
 * approximately, starting from the current x_u (warm start makes a few steps enough). YᵀY is
 * built once per pass; the inner loops run on Float64Array scratch vectors with no allocation.
 */
function cgSweep(m: Csr, x: Float64Array, y: Float64Array, f: number, reg: number, exponent: number, alpha: number, steps: number): void {
  const g = itemGram(y, f, 0);
  const r = new Float64Array(f);
  const p = new Float64Array(f);
  const ap = new Float64Array(f);
  const xu = new Float64Array(f);
  const indptr = m.indptr;
  const indices = m.indices;
  const values = m.values;
  for (let u = 0; u < m.nRows; u++) {
    const xo = u * f;
    const a0 = indptr[u]!;
    const a1 = indptr[u + 1]!;
    const lam = rowRegularization(reg, exponent, a1 - a0);
    for (let a = 0; a < f; a++) xu[a] = x[xo + a]!;
    // r = YᵀC_u p_u − (YᵀY + λ_u I + Yᵀ(C_u − I)Y) x
    for (let a = 0; a < f; a++) r[a] = -(lam * xu[a]! + dotAt(g, a * f, xu, 0, f));
    for (let j = a0; j < a1; j++) {
      const cm1 = alpha * values[j]!;
      const yo = indices[j]! * f;
      axpyAt(1 + cm1 - cm1 * dotAt(y, yo, xu, 0, f), y, yo, r, 0, f);
    }
    let rsold = 0;
    for (let a = 0; a < f; a++) {
      const ra = r[a]!;
      p[a] = ra;
      rsold += ra * ra;
    }
    if (rsold < 1e-20) continue;
    for (let step = 0; step < steps; step++) {
      for (let a = 0; a < f; a++) ap[a] = lam * p[a]! + dotAt(g, a * f, p, 0, f);
      for (let j = a0; j < a1; j++) {
        const cm1 = alpha * values[j]!;
        const yo = indices[j]! * f;
        axpyAt(cm1 * dotAt(y, yo, p, 0, f), y, yo, ap, 0, f);
      }
      let pap = 0;
      for (let a = 0; a < f; a++) pap += p[a]! * ap[a]!;
      const step_ = rsold / pap;
      let rsnew = 0;
      for (let a = 0; a < f; a++) {
        xu[a]! += step_ * p[a]!;
        const ra = r[a]! - step_ * ap[a]!;
        r[a] = ra;
        rsnew += ra * ra;
      }
      if (rsnew < 1e-20) break;
      const beta = rsnew / rsold;
      for (let a = 0; a < f; a++) p[a] = r[a]! + beta * p[a]!;
      rsold = rsnew;
    }
    for (let a = 0; a < f; a++) x[xo + a] = xu[a]!;
  }
}

function makeModel(x: Float64Array, y: Float64Array, nUsers: number, nItems: number, f: number, alpha: number, reg: number, exponent: number): AlsModel {
  const userFactors = Float32Array.from(x);
  const itemFactors = Float32Array.from(y);
  return {
    factors: f,
    nUsers,
    nItems,
    alpha,
    regularization: reg,
    regularizationExponent: exponent,
    userFactors,
    itemFactors,
    scoreUser(u, out) {
      scoreWithVector(itemFactors, f, userFactors.subarray(u * f, (u + 1) * f), out);
    },
  };
}

/**
 * Scores every item for one user vector: out[i] = y_i · x.
 *
 * @param itemFactors shape [nItems, f], float32. @param x shape [f]. @param out shape [nItems], float32.
 */
export function scoreWithVector(itemFactors: Float32Array, f: number, x: ArrayLike<number>, out: Float32Array): void {
  const n = itemFactors.length / f;
  for (let i = 0; i < n; i++) {
    const o = i * f;
    let s = 0;
    for (let a = 0; a < f; a++) s += itemFactors[o + a]! * x[a]!;
    out[i] = s;
  }
}

/**
 * Fits on a user × item matrix of non-negative weights w (1 for binary feedback, or ratings, or
 * event weights): each sweep solves every item, then every user, so the final user vectors are
 * solved against the final item vectors, as {@link foldIn} does.
 */
export function fitAls(userItems: Csr, options: AlsOptions = {}): AlsModel {
  const f = options.factors ?? 64;
  const reg = options.regularization ?? 0.1;
  const alpha = options.alpha ?? 1;
  const iterations = options.iterations ?? 15;
  const steps = options.cgSteps ?? 3;
  const exponent = options.regularizationExponent ?? 0;
  const rng = new SeededRandom(options.seed ?? 0);
  const nUsers = userItems.nRows;
  const nItems = userItems.nCols;
  const x = new Float64Array(nUsers * f);
  const y = new Float64Array(nItems * f);
  for (let k = 0; k < x.length; k++) x[k] = rng.next() * 0.01;
  for (let k = 0; k < y.length; k++) y[k] = rng.next() * 0.01;
  const itemUsers = transpose(userItems);
  const exact = options.exactUsers ?? true;
  const skip = options.skipFinalUsers ?? false;
  for (let it = 1; it <= iterations; it++) {
    cgSweep(itemUsers, y, x, f, reg, exponent, alpha, steps);
    // The last sweep's CG user solve is wasted when the users are folded in exactly afterwards.
    if (it < iterations || (!exact && !skip)) cgSweep(userItems, x, y, f, reg, exponent, alpha, steps);
    options.onIteration?.(it, makeModel(x, y, nUsers, nItems, f, alpha, reg, exponent));
  }
  const model = makeModel(x, y, nUsers, nItems, f, alpha, reg, exponent);
  if (exact && !skip) {
    // The served user vectors: the device's fold-in on the float32 item vectors, row by row.
    const gram = itemGram(model.itemFactors, f, reg);
    const foldOptions = { alpha, regularization: reg, regularizationExponent: exponent, gram };
    for (let u = 0; u < nUsers; u++) {
      const a = userItems.indptr[u]!;
      const b = userItems.indptr[u + 1]!;
      const v = foldIn(model.itemFactors, f, userItems.indices.subarray(a, b), userItems.values.subarray(a, b), foldOptions);
      model.userFactors.set(v, u * f);
    }
  }
  return model;
}

/**
 * The full objective (see the module comment) of a model on its training matrix, computed without
 * touching the unobserved pairs: Σ_u x_uᵀ(YᵀY)x_u covers every pair with c = 1, p = 0, and each
 * observed pair adds c(1 − s)² − s² with s = x_u·y_i.
 */
export function alsLoss(model: AlsModel, userItems: Csr): number {
  const f = model.factors;
  const x = model.userFactors;
  const y = model.itemFactors;
  const g = itemGram(y, f, 0);
  let loss = 0;
  for (let u = 0; u < model.nUsers; u++) {
    const xo = u * f;
    for (let a = 0; a < f; a++) {
      let s = 0;
      for (let b = 0; b < f; b++) s += g[a * f + b]! * x[xo + b]!;
      loss += x[xo + a]! * s;
    }
    for (let j = userItems.indptr[u]!; j < userItems.indptr[u + 1]!; j++) {
      const c = 1 + model.alpha * userItems.values[j]!;
      const yo = userItems.indices[j]! * f;
      let s = 0;
      for (let a = 0; a < f; a++) s += x[xo + a]! * y[yo + a]!;
      loss += c * (1 - s) * (1 - s) - s * s;
    }
  }
  const itemCount = new Int32Array(model.nItems);
  for (const i of userItems.indices) itemCount[i]!++;
  const reg = model.regularization;
  const nu = model.regularizationExponent;
  let penalty = 0;
  for (let u = 0; u < model.nUsers; u++) {
    let s = 0;
    for (let a = 0; a < f; a++) s += x[u * f + a]! ** 2;
    penalty += rowRegularization(reg, nu, userItems.indptr[u + 1]! - userItems.indptr[u]!) * s;
  }
  for (let i = 0; i < model.nItems; i++) {
    let s = 0;
    for (let a = 0; a < f; a++) s += y[i * f + a]! ** 2;
    penalty += rowRegularization(reg, nu, itemCount[i]!) * s;
  }
  return loss + penalty;
}

export interface FoldInOptions {
  /** α of the fitted model. */
  alpha: number;
  /** λ of the fitted model. */
  regularization: number;
  /** ν of the fitted model (default 0): the history's λ is λ·max(distinct items, 1)^ν, as in training. */
  regularizationExponent?: number;
  /** {@link itemGram}(itemFactors, f, λ), precomputed once per model to save O(nItems·f²). */
  gram?: Float64Array;
}

/**
 * The user vector for a history the model has never seen (a shopper on the device), by solving
 * the same regularised least squares exactly (Cholesky on f×f) rather than by a few CG steps:
 *   (YᵀY + λ_u I + Σ_h α·w_h·y_h y_hᵀ) x = Σ_h (1 + α·w_h) y_h,  λ_u = λ·max(h, 1)^ν.
 * A repeated item's weights add up, as duplicate entries of the training matrix do.
 *
 * @param itemFactors shape [nItems, f], float32 (the model's item vectors).
 * @param items history item indices, shape [h], int32.
 * @param weights history weights w ≥ 0 (event type × recency, or 1), shape [h], float32.
 * @returns the user vector, shape [f], float32.
 */
export function foldIn(
  itemFactors: Float32Array,
  f: number,
  items: Int32Array,
  weights: Float32Array,
  options: FoldInOptions,
): Float32Array {
  const merged = new Map<number, number>();
  items.forEach((i, h) => merged.set(i, (merged.get(i) ?? 0) + weights[h]!));
  const a = Float64Array.from(options.gram ?? itemGram(itemFactors, f, options.regularization));
  // The gram carries λ on its diagonal; raise it to this history's λ_u (identical when ν = 0).
  const extra = rowRegularization(options.regularization, options.regularizationExponent ?? 0, merged.size) - options.regularization;
  if (extra !== 0) for (let p = 0; p < f; p++) a[p * f + p]! += extra;
  const b = new Float64Array(f);
  for (const [i, w] of merged) {
    const yo = i * f;
    const cm1 = options.alpha * w;
    for (let p = 0; p < f; p++) {
      const yp = itemFactors[yo + p]!;
      b[p]! += (1 + cm1) * yp;
      axpyAt(cm1 * yp, itemFactors, yo, a, p * f, p + 1);
    }
  }
  // Only the lower triangle is read by the factorisation.
  cholesky(a, f);
  choleskySolve(a, f, b);
  return Float32Array.from(b);
}
