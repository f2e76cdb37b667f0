/**
 * The servable collaborative model: implicit ALS-ν (weighted confidences) and the spectral
 * low-pass filter of {@link fitSpectral}, added score for score. Adding two factor models' scores
 * is one dot product over concatenated vectors, so the device keeps
 *
 *   itemVectors    [nItems, f + k] = [ALS item vectors | s·D^(β)V]     (what candidates are scored by)
 *   historyVectors [nItems, k]     = D^(−β)V                           (the spectral fold-in)
 *
 * and a shopper's vector is [ALS fold-in of the weighted history | sum of the history's rows of
 * historyVectors]. The spectral scale s = w·RMS(ALS scores)/RMS(spectral scores) over all training
 * (user, item) pairs is baked into itemVectors, so w is comparable across data sets.
 *
 * Evaluation scores every user through {@link AlsSpectralModel.foldIn} itself: the numbers the
 * bench reports are the device's path, not a training-time shortcut.
 */
import type { Scorer } from '../eval/protocols';
import { fitAls, foldIn as alsFoldIn, itemGram, scoreWithVector } from './als';
import type { AlsOptions } from './als';
import type { Csr } from './sparse';
import { fitSpectral, spectralFoldIn } from './spectral';
import type { SpectralOptions } from './spectral';

export interface AlsSpectralOptions {
  /** ALS-ν hyperparameters (`exactUsers` is ignored: users always come from the fold-in). */
  als?: AlsOptions;
  /** Spectral filter hyperparameters. */
  spectral?: SpectralOptions;
  /** w, the spectral part's weight relative to ALS after RMS matching (default 0.3; 0 = ALS-ν alone). */
  spectralWeight?: number;
}

/** What the device downloads and needs to fold a history in (plain data, no closures). */
export interface AlsSpectralParts {
  nItems: number;
  /** ALS factors f. */
  alsFactors: number;
  /** Spectral rank k. */
  rank: number;
  alpha: number;
  regularization: number;
  regularizationExponent: number;
  /** Shape [nItems, f + k], float32. */
  itemVectors: Float32Array;
  /** Shape [nItems, k], float32. */
  historyVectors: Float32Array;
}

export interface AlsSpectralModel extends AlsSpectralParts, Scorer {
  /** f + k: the width of user and item vectors. */
  dims: number;
  /**
   * The user vector for a history: item indices (int32, shape [h]) and weights w ≥ 0 (float32,
   * shape [h]; event type × recency on the device, ratings on MovieLens). Shape [f + k], float32.
   */
  foldIn(items: Int32Array, weights: Float32Array): Float32Array;
  /** The training users' vectors, each `foldIn` of its training row, shape [nUsers, f + k]. */
  userVectors: Float32Array;
}

/** Rebuilds the fold-in and scorer from the downloaded parts (the device's entry point). */
export function alsSpectralFromParts(parts: AlsSpectralParts, userVectors = new Float32Array(0)): AlsSpectralModel {
  const { nItems, alsFactors: f, rank: k, itemVectors, historyVectors } = parts;
  const dims = f + k;
  if (itemVectors.length !== nItems * dims) throw new Error(`alsSpectral: itemVectors has ${itemVectors.length} values, expected nItems × (f + k) = ${nItems * dims}`);
  if (historyVectors.length !== nItems * k) throw new Error(`alsSpectral: historyVectors has ${historyVectors.length} values, expected nItems × k = ${nItems * k}`);
  // The ALS block as its own contiguous table, and YᵀY + λI, once per model.
  const alsItems = new Float32Array(nItems * f);
  for (let i = 0; i < nItems; i++) alsItems.set(itemVectors.subarray(i * dims, i * dims + f), i * f);
  const gram = itemGram(alsItems, f, parts.regularization);
  const foldOptions = { alpha: parts.alpha, regularization: parts.regularization, regularizationExponent: parts.regularizationExponent, gram };
  const foldIn = (items: Int32Array, weights: Float32Array): Float32Array => {
    if (items.length !== weights.length) throw new Error(`alsSpectral.foldIn: ${items.length} items but ${weights.length} weights`);
    for (let h = 0; h < items.length; h++) {
      const i = items[h]!;
      if (!(i >= 0 && i < nItems && Number.isInteger(i))) throw new Error(`alsSpectral.foldIn: history entry ${h} has item index ${i}, outside [0, ${nItems})`);
      if (!(weights[h]! >= 0)) throw new Error(`alsSpectral.foldIn: history entry ${h} has weight ${weights[h]}, expected ≥ 0`);
    }
    const out = new Float32Array(dims);
    out.set(alsFoldIn(alsItems, f, items, weights, foldOptions));
    if (k > 0) spectralFoldIn(historyVectors, k, items, out.subarray(f));
    return out;
  };
  return {
    ...parts,
    dims,
    foldIn,
    userVectors,
    scoreUser(u, out) {
      scoreWithVector(itemVectors, dims, userVectors.subarray(u * dims, (u + 1) * dims), out);
    },
  };
}

/** Mean of (x_u·y_i)² over every user and item: (1/(nU·nI)) Σ_u x_uᵀ(YᵀY)x_u. */
function meanSquaredScore(users: Float32Array, items: Float32Array, d: number): number {
  const g = itemGram(items, d, 0);
  const nUsers = users.length / d;
  let total = 0;
  for (let u = 0; u < nUsers; u++) {
    const o = u * d;
    for (let a = 0; a < d; a++) {
      let s = 0;
      for (let b = 0; b < d; b++) s += g[a * d + b]! * users[o + b]!;
      total += users[o + a]! * s;
    }
  }
  return total / (nUsers * (items.length / d));
}

/**
 * Fits both parts on a user × item matrix of weights w ≥ 0 (ALS confidence 1 + α·w; the spectral
 * filter uses each stored entry once), then folds every training user in through the model's own
 * {@link AlsSpectralModel.foldIn}.
 */
export function fitAlsSpectral(userItems: Csr, options: AlsSpectralOptions = {}): AlsSpectralModel {
  const w = options.spectralWeight ?? 0.3;
  if (!(w >= 0)) throw new Error(`fitAlsSpectral: spectralWeight must be ≥ 0, got ${w}`);
  // Users come from the model's own fold-in below; the ALS user vectors only set the score scale.
  const als = fitAls(userItems, { ...options.als, skipFinalUsers: true });
  const f = als.factors;
  const nItems = userItems.nCols;
  const spectral = w > 0 ? fitSpectral(userItems, options.spectral) : null;
  const k = spectral?.rank ?? 0;
  const dims = f + k;
  const itemVectors = new Float32Array(nItems * dims);
  for (let i = 0; i < nItems; i++) itemVectors.set(als.itemFactors.subarray(i * f, (i + 1) * f), i * dims);
  if (spectral) {
    // The spectral user vectors of the training users, to match the two parts' score scales.
    const specUsers = new Float32Array(userItems.nRows * k);
    for (let u = 0; u < userItems.nRows; u++) {
      spectralFoldIn(spectral.historyVectors, k, userItems.indices.subarray(userItems.indptr[u]!, userItems.indptr[u + 1]!), specUsers.subarray(u * k, (u + 1) * k));
    }
    const alsMs = meanSquaredScore(als.userFactors, als.itemFactors, f);
    const specMs = meanSquaredScore(specUsers, spectral.itemVectors, k);
    const s = specMs > 0 ? w * Math.sqrt(alsMs / specMs) : 0;
    for (let i = 0; i < nItems; i++) {
      for (let j = 0; j < k; j++) itemVectors[i * dims + f + j] = s * spectral.itemVectors[i * k + j]!;
    }
  }
  const parts: AlsSpectralParts = {
    nItems,
    alsFactors: f,
    rank: k,
    alpha: als.alpha,
    regularization: als.regularization,
    regularizationExponent: als.regularizationExponent,
    itemVectors,
    historyVectors: spectral?.historyVectors ?? new Float32Array(0),
  };
  const model = alsSpectralFromParts(parts, new Float32Array(userItems.nRows * dims));
  for (let u = 0; u < userItems.nRows; u++) {
    const a = userItems.indptr[u]!;
    const b = userItems.indptr[u + 1]!;
    model.userVectors.set(model.foldIn(userItems.indices.subarray(a, b), userItems.values.subarray(a, b)), u * dims);
  }
  return model;
}
