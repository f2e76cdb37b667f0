/**
 * The learned re-ranker: L2-regularised logistic regression over the features of
 * models/recommend/rerank-features.ts, fitted by Newton's method (iteratively reweighted least
 * squares; a handful of features makes the d×d solve trivial). Features are standardised while
 * fitting and the weights mapped back, so serving applies bias + w·(raw features) with no scaler.
 */
import { cholesky, choleskySolve } from '../cf/dense';

export interface LinearRanker {
  features: string[];
  weights: number[];
  bias: number;
}

export interface LogisticOptions {
  /** L2 penalty on the standardised weights (default 1e-2 per example weight sum). */
  l2?: number;
  /** Newton steps (default 25). */
  iterations?: number;
  /** Weight positives so both classes weigh the same in the loss (default true). */
  balance?: boolean;
}

/**
 * Fits P(y = 1 | x) = σ(bias + w·x).
 *
 * @param x row-major [n, d], float32. @param y labels 0/1, shape [n], uint8.
 * @returns the ranker and the mean log-loss (of the weighted examples) after each step, falling.
 */
export function fitLogistic(names: readonly string[], x: Float32Array, y: Uint8Array, options: LogisticOptions = {}): { ranker: LinearRanker; losses: number[] } {
  const d = names.length;
  const n = y.length;
  if (x.length !== n * d) throw new Error(`fitLogistic: x holds ${x.length} values, expected ${n}×${d}`);
  let positives = 0;
  for (const v of y) positives += v;
  if (positives === 0 || positives === n) throw new Error(`fitLogistic: need both classes, got ${positives} positives of ${n}`);
  const balance = options.balance ?? true;
  const wPos = balance ? n / (2 * positives) : 1;
  const wNeg = balance ? n / (2 * (n - positives)) : 1;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) mean[c]! += x[r * d + c]! / n;
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) std[c]! += (x[r * d + c]! - mean[c]!) ** 2 / n;
  for (let c = 0; c < d; c++) std[c] = Math.sqrt(std[c]!) || 1;
  const p = d + 1; // last: bias
  const beta = new Float64Array(p);
  const lambda = (options.l2 ?? 1e-2) * n;
  const z = new Float64Array(p);
  const losses: number[] = [];
  const iterations = options.iterations ?? 25;
  for (let it = 0; it < iterations; it++) {
    const h = new Float64Array(p * p);
    const g = new Float64Array(p);
    let loss = 0;
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < d; c++) z[c] = (x[r * d + c]! - mean[c]!) / std[c]!;
      z[d] = 1;
      let s = 0;
      for (let c = 0; c < p; c++) s += beta[c]! * z[c]!;
      const prob = 1 / (1 + Math.exp(-s));
      const label = y[r]!;
      const w = label ? wPos : wNeg;
      loss += w * (label ? Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s)));
      const resid = w * (prob - label);
      const curv = w * Math.max(prob * (1 - prob), 1e-9);
      for (let a = 0; a < p; a++) {
        g[a]! += resid * z[a]!;
        for (let b = 0; b <= a; b++) h[a * p + b]! += curv * z[a]! * z[b]!;
      }
    }
    for (let a = 0; a < d; a++) {
      g[a]! += lambda * beta[a]!;
      h[a * p + a]! += lambda;
      loss += 0.5 * lambda * beta[a]! ** 2;
    }
    h[d * p + d]! += 1e-9;
    losses.push(loss / n);
    cholesky(h, p);
    choleskySolve(h, p, g);
    let step = 0;
    for (let a = 0; a < p; a++) {
      beta[a]! -= g[a]!;
      step += g[a]! ** 2;
    }
    if (step < 1e-14) break;
  }
  const weights = Array.from({ length: d }, (_, c) => beta[c]! / std[c]!);
  let bias = beta[d]!;
  for (let c = 0; c < d; c++) bias -= (beta[c]! * mean[c]!) / std[c]!;
  return { ranker: { features: [...names], weights, bias }, losses };
}

/** bias + w·x for one feature row (shape [features.length]). */
export function linearScore(ranker: LinearRanker, row: ArrayLike<number>): number {
  let s = ranker.bias;
  for (let c = 0; c < ranker.weights.length; c++) s += ranker.weights[c]! * row[c]!;
  return s;
}
