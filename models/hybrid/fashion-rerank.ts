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

/**
 * Fits a listwise (conditional logit) ranker: within each group of candidates (one shopper's list),
 * P(candidate j) = softmax_j(w·x_j), and the positives' log-likelihood is maximised with an L2
 * penalty on the standardised weights, by Newton's method. It learns how one shopper's candidates
 * compare with each other, which is what a ranking needs; a pointwise model also learns which
 * shoppers buy more, which orders nothing. The bias is 0 (it cancels within a group).
 *
 * @param x row-major [n, d], float32. @param y labels 0/1, shape [n]. @param sizes the groups' lengths, consecutive, summing to n.
 * @returns the ranker and the mean negative log-likelihood per positive after each step, falling.
 */
export function fitListwise(
  names: readonly string[],
  x: Float32Array,
  y: Uint8Array,
  sizes: readonly number[],
  options: { l2?: number; iterations?: number } = {},
): { ranker: LinearRanker; losses: number[] } {
  const d = names.length;
  const n = y.length;
  if (x.length !== n * d) throw new Error(`fitListwise: x holds ${x.length} values, expected ${n}×${d}`);
  if (sizes.reduce((s, v) => s + v, 0) !== n) throw new Error(`fitListwise: the group sizes add up to ${sizes.reduce((s, v) => s + v, 0)}, not ${n}`);
  let positives = 0;
  for (const v of y) positives += v;
  if (positives === 0) throw new Error('fitListwise: no positives');
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) mean[c]! += x[r * d + c]! / n;
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) std[c]! += (x[r * d + c]! - mean[c]!) ** 2 / n;
  for (let c = 0; c < d; c++) std[c] = Math.sqrt(std[c]!) || 1;
  const z = new Float64Array(n * d);
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) z[r * d + c] = (x[r * d + c]! - mean[c]!) / std[c]!;
  const lambda = options.l2 ?? 1;
  const expected = new Float64Array(d);
  const second = new Float64Array(d * d);
  const s = new Float64Array(Math.max(0, ...sizes));
  // Penalised negative log-likelihood at `beta`, with its gradient and (lower-triangle) Hessian when asked.
  const evaluate = (beta: Float64Array, derivatives: boolean) => {
    const g = new Float64Array(d);
    const h = new Float64Array(derivatives ? d * d : 0);
    let loss = 0;
    let offset = 0;
    for (const size of sizes) {
      let groupPositives = 0;
      for (let j = 0; j < size; j++) groupPositives += y[offset + j]!;
      if (groupPositives > 0 && size > 1) {
        let max = -Infinity;
        for (let j = 0; j < size; j++) {
          let v = 0;
          for (let c = 0; c < d; c++) v += beta[c]! * z[(offset + j) * d + c]!;
          s[j] = v;
          if (v > max) max = v;
        }
        let total = 0;
        for (let j = 0; j < size; j++) total += Math.exp(s[j]! - max);
        const logTotal = Math.log(total) + max;
        for (let j = 0; j < size; j++) if (y[offset + j] === 1) loss += logTotal - s[j]!;
        if (derivatives) {
          expected.fill(0);
          second.fill(0);
          for (let j = 0; j < size; j++) {
            const p = Math.exp(s[j]! - logTotal);
            const row = (offset + j) * d;
            for (let a = 0; a < d; a++) {
              const za = z[row + a]!;
              expected[a]! += p * za;
              for (let b = 0; b <= a; b++) second[a * d + b]! += p * za * z[row + b]!;
            }
          }
          for (let j = 0; j < size; j++) {
            if (y[offset + j] !== 1) continue;
            const row = (offset + j) * d;
            for (let a = 0; a < d; a++) g[a]! += expected[a]! - z[row + a]!;
          }
          for (let a = 0; a < d; a++) for (let b = 0; b <= a; b++) h[a * d + b]! += groupPositives * (second[a * d + b]! - expected[a]! * expected[b]!);
        }
      }
      offset += size;
    }
    for (let a = 0; a < d; a++) {
      loss += 0.5 * lambda * beta[a]! ** 2;
      if (!derivatives) continue;
      g[a]! += lambda * beta[a]!;
      h[a * d + a]! += lambda + 1e-9;
    }
    return { loss, g, h };
  };
  let beta = new Float64Array(d);
  let current = evaluate(beta, true);
  const losses: number[] = [current.loss / positives];
  const iterations = options.iterations ?? 30;
  for (let it = 0; it < iterations; it++) {
    const step = Float64Array.from(current.g);
    cholesky(current.h, d);
    choleskySolve(current.h, d, step);
    // Newton with step halving: the softmax's curvature changes fast far from the optimum.
    let t = 1;
    let next = beta;
    let nextLoss = Infinity;
    for (let tries = 0; tries < 30; tries++, t /= 2) {
      next = Float64Array.from(beta, (b, a) => b - t * step[a]!);
      nextLoss = evaluate(next, false).loss;
      if (nextLoss <= current.loss) break;
    }
    if (!(nextLoss <= current.loss)) break;
    const improvement = current.loss - nextLoss;
    beta = next;
    current = evaluate(beta, true);
    losses.push(current.loss / positives);
    if (improvement < 1e-9 * Math.max(1, Math.abs(nextLoss))) break;
  }
  const weights = Array.from({ length: d }, (_, c) => beta[c]! / std[c]!);
  let bias = 0;
  for (let c = 0; c < d; c++) bias -= (beta[c]! * mean[c]!) / std[c]!;
  return { ranker: { features: [...names], weights, bias }, losses };
}
