/**
 * The training-mode "pointwise convolution → batch norm → ReLU" of one encoder block as a single
 * op with its own gradient, written so that nothing but matrix products touches the big [N, C]
 * tensors where it can:
 *
 * - the batch statistics of z = X·W come from X's Gram matrix (mean = mean(X)·W,
 *   E[z²] = diag(Wᵀ·XᵀX·W) / N), so z itself is never formed;
 * - the normalisation and ReLU are folded into one fused product, relu(X·(W ⊙ scale) + shift);
 * - the backward pass reduces to small matrices plus three products over N rows.
 *
 * Same values as recording every op on the tape (checked in batch-norm.test.ts), about a third of
 * the big elementwise passes: on single-threaded wasm each such pass over [N, C] costs as much as
 * a product, so this is most of a training step's time.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { sumLeading } from './gradients';

type TF = typeof tfc;
type T = tfc.Tensor;
type T2 = tfc.Tensor2D;

export interface BnReluResult {
  /** relu(batchNorm(X·W)), [N, C]. */
  y: T2;
  /** Batch mean and (biased) variance of X·W, [C] each, kept: the caller disposes them. */
  mean: tfc.Tensor1D;
  variance: tfc.Tensor1D;
}

/**
 * relu(γ·(z − μ)/√(σ² + eps) + β) with z = x·w and μ, σ² the batch statistics of z, differentiable
 * in x [N, Cin], w [Cin, C], gamma [C] and beta [C].
 */
/**
 * a·b + bias (bias [C]), with a ReLU when asked, as one `_FusedMatMul` kernel call. Called directly:
 * `tf.fused.matMul` falls back to separate ops whenever a gradient is being recorded, and inside a
 * custom gradient's forward or backward pass nothing is recorded anyway.
 */
function fusedProduct(tf: TF, a: T2, b: T2, bias: T, activation: 'relu' | 'linear'): T2 {
  const [n, k] = a.shape;
  const c = b.shape[1];
  const out = tf.engine().runKernel(
    '_FusedMatMul',
    // wasm keeps a shape per buffer and wants a buffer made 1-D: a reshape would share the old one.
    { a: tf.reshape(a, [1, n, k]), b: tf.reshape(b, [1, k, c]), bias: tf.add(tf.reshape(bias, [c]), 0) },
    { transposeA: false, transposeB: false, activation, leakyreluAlpha: 0 } as unknown as tfc.NamedAttrMap,
  ) as T;
  return tf.reshape(out, [n, c]) as T2;
}

export function pointwiseBnRelu(tf: TF, x: T2, w: T2, gamma: T, beta: T, eps: number): BnReluResult {
  let mean: tfc.Tensor1D | undefined;
  let variance: tfc.Tensor1D | undefined;
  const [n, cin] = x.shape;
  const c = w.shape[1];
  const op = tf.customGrad((...args: (T | tfc.GradSaveFunc)[]) => {
    const [xIn, wIn, gammaIn, betaIn, save] = args as [T2, T2, T, T, tfc.GradSaveFunc];
    const X = xIn;
    const W = wIn;
    const xt = tf.transpose(X);
    const gram = tf.matMul(xt, X);
    const sx = sumLeading(tf, X, n) as T2; // [1, Cin]
    const mu = tf.div(tf.matMul(sx, W), n); // [1, C]
    const ez2 = tf.div(sumLeading(tf, tf.mul(tf.matMul(gram, W), W), cin), n); // [1, C]
    // E[z²] − μ² can dip below 0 by rounding; a variance is never negative.
    const v = tf.relu(tf.sub(ez2, tf.square(mu)));
    const inv = tf.rsqrt(tf.add(v, eps));
    const scale = tf.mul(inv, tf.reshape(gammaIn, [1, c]));
    const shift = tf.sub(tf.reshape(betaIn, [1, c]), tf.mul(mu, scale));
    const y = fusedProduct(tf, X, tf.mul(W, scale) as T2, shift, 'relu');
    mean = tf.keep(tf.reshape(mu, [c]) as tfc.Tensor1D);
    variance = tf.keep(tf.reshape(v, [c]) as tfc.Tensor1D);
    save([X, xt, gram, sx, W, y, mu, inv, scale]);
    return {
      value: y,
      gradFunc: (dy: T, saved: T[]): T[] => {
        const [sX, sXt, sGram, sSx, sW, sY, sMu, sInv, sScale] = saved as [T2, T2, T2, T2, T2, T2, T2, T2, T2];
        const dp = tf.mul(dy, tf.step(sY)) as T2; // through the ReLU: y > 0 exactly where p > 0
        const a = tf.matMul(sXt, dp); // Xᵀ·dp, [Cin, C]
        const dBeta = sumLeading(tf, dp, n) as T2; // [1, C]
        // Σ dp ⊙ z per channel = column sums of W ⊙ (Xᵀ·dp).
        const dpz = sumLeading(tf, tf.mul(sW, a), cin);
        const dGamma = tf.mul(sInv, tf.sub(dpz, tf.mul(sMu, dBeta))); // Σ dp ⊙ ẑ
        // dz = scale ⊙ dp − z ⊙ k + c0 (row constants), the usual batch-norm backward.
        const m1 = tf.div(tf.mul(sScale, dBeta), n);
        const k = tf.div(tf.mul(tf.mul(sScale, dGamma), sInv), n);
        const c0 = tf.sub(tf.mul(sMu, k), m1); // [1, C]
        // dW = Xᵀ·dz = (Xᵀ·dp) ⊙ scale − (XᵀX·W) ⊙ k + (Xᵀ1)·c0.
        const dW = tf.add(tf.sub(tf.mul(a, sScale), tf.mul(tf.matMul(sGram, sW), k)), tf.matMul(tf.transpose(sSx), c0));
        // dX = dz·Wᵀ = dp·(W ⊙ scale)ᵀ − X·((W ⊙ k)·Wᵀ) + 1·(c0·Wᵀ).
        const wa = tf.transpose(tf.mul(sW, sScale)) as T2;
        const wb = tf.neg(tf.matMul(tf.mul(sW, k), tf.transpose(sW))) as T2;
        const b = tf.reshape(tf.matMul(c0, tf.transpose(sW)), [cin]);
        const dX = tf.add(tf.matMul(dp, wa), fusedProduct(tf, sX, wb, b, 'linear'));
        return [dX, dW, tf.reshape(dGamma, [c]), tf.reshape(dBeta, [c])];
      },
    };
  });
  const y = op(x, w, gamma, beta) as T2;
  if (!mean || !variance) throw new Error('pointwiseBnRelu: the forward pass did not run');
  return { y, mean, variance };
}
