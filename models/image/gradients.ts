/**
 * Gradient definitions for the kernels the image encoder records on the tape.
 *
 * `@tensorflow/tfjs-core`'s Node entry point (and its bundles) registers no gradients at all: the
 * umbrella `@tensorflow/tfjs` package does that, and it is not a dependency here. These are the
 * same formulas as TF.js's own gradient configs, registered only for kernels that have none, so
 * they never replace TF.js's where those are loaded.
 */
import type * as tfc from '@tensorflow/tfjs-core';

type TF = typeof tfc;
type T = tfc.Tensor;

/**
 * Sum over the leading `lead` rows of x viewed as [lead, rest], as a product with a row of ones:
 * wasm's Sum over a leading axis transposes first and is several times slower than its matmul.
 */
export function sumLeading(tf: TF, x: T, lead: number): T {
  const rest = x.size / lead;
  return tf.matMul(tf.ones([1, lead]), tf.reshape(x, [lead, rest]));
}

function reduceTo(tf: TF, grad: T, shape: number[], outShape: number[]): T {
  const axes = tf.backend_util.getReductionAxes(shape, outShape);
  if (axes.length === 0) return tf.reshape(grad, shape);
  const leading = axes.every((a, i) => a === i) && axes.length < outShape.length;
  if (leading) {
    const lead = axes.reduce((p, a) => p * (outShape[a] ?? 1), 1);
    return tf.reshape(sumLeading(tf, grad, lead), shape);
  }
  return tf.reshape(tf.sum(grad, axes), shape);
}

function expandTo(tf: TF, dy: T, x: T, axis: number | number[] | undefined): T {
  const axes = tf.util.parseAxisParam(axis ?? x.shape.map((_, i) => i), x.shape);
  const shape = x.shape.slice();
  for (const a of axes) shape[a] = 1;
  return tf.mul(tf.reshape(dy, shape), tf.ones(x.shape, 'float32'));
}

/** x as float32; a float32→float32 cast is a full copy (Identity) on wasm, so it is skipped. */
function asFloat(tf: TF, x: T): T {
  return x.dtype === 'float32' ? x : tf.cast(x, 'float32');
}

function saved2(saved: T[]): [T, T] {
  const [a, b] = saved;
  if (!a || !b) throw new Error('Gradient is missing its saved inputs');
  return [a, b];
}

function saved1(saved: T[]): T {
  const [a] = saved;
  if (!a) throw new Error('Gradient is missing its saved input');
  return a;
}

/**
 * dX of a 3×3 depthwise convolution with `same` padding as a forward depthwise convolution of dy
 * (zero-dilated for stride 2) with the filter turned 180°: the backend's own fast forward kernel
 * instead of a gradient kernel. Undefined for any other case (the gradient kernel is used).
 */
function depthwiseInputGrad(tf: TF, dy: T, x: T, filter: T, strides: number | [number, number], pad: unknown): T | undefined {
  const stride = Array.isArray(strides) ? (strides[0] === strides[1] ? strides[0] : 0) : strides;
  if (pad !== 'same' || filter.shape[0] !== 3 || filter.shape[1] !== 3 || filter.shape[3] !== 1) return undefined;
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const flipped = tf.reverse(filter, [0, 1]) as tfc.Tensor4D;
  if (stride === 1) return tf.depthwiseConv2d(dy as tfc.Tensor4D, flipped, 1, 'same');
  if (stride !== 2 || h % 2 !== 0 || w % 2 !== 0) return undefined;
  // TF pads 'same' stride 2 on an even side by 0 before and 1 after, so y[i] reads x[2i .. 2i+2].
  const [, oh, ow] = dy.shape as [number, number, number, number];
  const zeros = tf.zerosLike(dy);
  const rows = tf.reshape(tf.stack([dy, zeros], 2), [b, oh * 2, ow, c]);
  const dilated = tf.reshape(tf.stack([rows, tf.zerosLike(rows)], 3), [b, oh * 2, ow * 2, c]);
  const padded = tf.pad(dilated, [[0, 0], [2, 0], [2, 0], [0, 0]]) as tfc.Tensor4D;
  return tf.depthwiseConv2d(padded, flipped, 1, 'valid');
}

function configs(tf: TF): tfc.GradConfig[] {
  const binary = (kernelName: string, da: (dy: T, a: T, b: T) => T, db: (dy: T, a: T, b: T) => T): tfc.GradConfig => ({
    kernelName,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved2(saved);
      const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const g = dy as T;
      return { a: () => reduceTo(tf, da(g, a, b), a.shape, outShape), b: () => reduceTo(tf, db(g, a, b), b.shape, outShape) };
    },
  });
  return [
    binary('Add', (dy) => dy, (dy) => dy),
    binary('Sub', (dy) => dy, (dy) => tf.neg(dy)),
    binary('Multiply', (dy, _a, b) => tf.mul(dy, asFloat(tf, b)), (dy, a) => tf.mul(dy, asFloat(tf, a))),
    binary('RealDiv', (dy, _a, b) => tf.div(dy, b), (dy, a, b) => tf.neg(tf.div(tf.mul(dy, a), tf.square(b)))),
    {
      kernelName: 'Neg',
      gradFunc: (dy) => ({ x: () => tf.neg(dy as T) }),
    },
    {
      kernelName: 'Square',
      inputsToSave: ['x'],
      gradFunc: (dy, saved) => ({ x: () => tf.mul(dy as T, tf.mul(saved1(saved), 2)) }),
    },
    {
      kernelName: 'Rsqrt',
      inputsToSave: ['x'],
      gradFunc: (dy, saved) => {
        const x = saved1(saved);
        return { x: () => tf.div(tf.neg(dy as T), tf.mul(tf.mul(x, tf.sqrt(x)), 2)) };
      },
    },
    {
      kernelName: 'Relu',
      inputsToSave: ['x'],
      gradFunc: (dy, saved) => {
        const x = saved1(saved);
        return { x: () => tf.mul(dy as T, tf.step(asFloat(tf, x))) };
      },
    },
    {
      kernelName: 'Reshape',
      inputsToSave: ['x'],
      gradFunc: (dy, saved) => ({ x: () => tf.reshape(dy as T, saved1(saved).shape) }),
    },
    {
      kernelName: 'Sum',
      inputsToSave: ['x'],
      gradFunc: (dy, saved, attrs) => ({ x: () => expandTo(tf, dy as T, saved1(saved), (attrs as { axis?: number | number[] }).axis) }),
    },
    {
      kernelName: 'Mean',
      inputsToSave: ['x'],
      gradFunc: (dy, saved, attrs) => {
        const x = saved1(saved);
        const axes = tf.util.parseAxisParam((attrs as { axis?: number | number[] }).axis ?? x.shape.map((_, i) => i), x.shape);
        const n = axes.reduce((p, a) => p * (x.shape[a] ?? 1), 1);
        return { x: () => tf.div(expandTo(tf, dy as T, x, axes), n) };
      },
    },
    {
      kernelName: 'BatchMatMul',
      inputsToSave: ['a', 'b'],
      gradFunc: (dy, saved, attrs) => {
        const [a, b] = saved2(saved);
        const g = dy as T;
        const { transposeA, transposeB } = attrs as { transposeA?: boolean; transposeB?: boolean };
        // Explicit transposes: wasm's matmul with a transpose flag is about 10× slower than a
        // transpose followed by a plain product.
        if (!transposeA && !transposeB) return { a: () => tf.matMul(g, tf.transpose(b)), b: () => tf.matMul(tf.transpose(a), g) };
        if (!transposeA && transposeB) return { a: () => tf.matMul(g, b, false, false), b: () => tf.matMul(g, a, true, false) };
        if (transposeA && !transposeB) return { a: () => tf.matMul(b, g, false, true), b: () => tf.matMul(a, g, false, false) };
        return { a: () => tf.matMul(b, g, true, true), b: () => tf.matMul(g, a, true, true) };
      },
    },
    {
      kernelName: 'DepthwiseConv2dNative',
      inputsToSave: ['x', 'filter'],
      gradFunc: (dy, saved, attrs) => {
        const [x, filter] = saved2(saved);
        const a = attrs as { strides: number | [number, number]; pad: unknown; dilations?: number | [number, number]; dimRoundingMode?: string };
        const common = { strides: a.strides, pad: a.pad, dilations: a.dilations ?? [1, 1], dimRoundingMode: a.dimRoundingMode };
        const engine = tf.engine();
        return {
          x: () => depthwiseInputGrad(tf, dy as T, x, filter, a.strides, a.pad) ??
            (engine.runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dy as T, filter }, { ...common, inputShape: x.shape } as unknown as tfc.NamedAttrMap) as T),
          filter: () => engine.runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy: dy as T }, { ...common, filterShape: filter.shape } as unknown as tfc.NamedAttrMap) as T,
        };
      },
    },
  ];
}

/** Registers the encoder's gradients where TF.js has none loaded. Returns the kernel names added. */
export function registerEncoderGradients(tf: TF): string[] {
  const added: string[] = [];
  for (const config of configs(tf)) {
    if (tf.getGradient(config.kernelName)) continue;
    tf.registerGradient(config);
    added.push(config.kernelName);
  }
  return added;
}
