/**
 * Gradient kernels that TF.js 4.22's wasm backend lacks, written in plain TypeScript over typed
 * arrays and registered with `tf.registerKernel`, so the image encoder trains on wasm:
 *
 * - `DepthwiseConv2dNativeBackpropFilter` and `DepthwiseConv2dNativeBackpropInput` (the gradients
 *   of a depthwise convolution; the encoder's pointwise convolutions are matrix products, whose
 *   gradients wasm already has);
 * - `Conv2DBackpropFilter` (the filter gradient of a full convolution), for models that use one.
 *
 * NHWC only, any stride, padding `same` / `valid` / explicit, dilation 1. Each kernel reads its
 * inputs with the backend's `readSync` and writes one output; they are exported so tests can check
 * them against the cpu backend's own kernels.
 */
import type * as tfc from '@tensorflow/tfjs-core';

type TF = typeof tfc;
type Conv2DInfo = tfc.backend_util.Conv2DInfo;
type Pad = 'valid' | 'same' | number | tfc.backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

interface OutputBackend {
  readSync(dataId: object): unknown;
  makeOutput?: (shape: number[], dtype: 'float32', memoryOffset?: number, values?: Float32Array) => tfc.TensorInfo;
  makeTensorInfo?: (shape: number[], dtype: 'float32', values?: Float32Array) => tfc.TensorInfo;
}

function read(backend: OutputBackend, t: tfc.TensorInfo): Float32Array {
  const values = backend.readSync(t.dataId);
  return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
}

function output(backend: OutputBackend, shape: number[], values: Float32Array): tfc.TensorInfo {
  if (backend.makeOutput) return backend.makeOutput(shape, 'float32', undefined, values);
  if (backend.makeTensorInfo) return backend.makeTensorInfo(shape, 'float32', values);
  throw new Error('Backend cannot make an output tensor');
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`Missing ${what}`);
  return value;
}

/** First and last output index whose input index `o·stride − pad + k` falls inside [0, size). */
function validOutputs(outSize: number, inSize: number, stride: number, pad: number, k: number): [number, number] {
  const first = Math.max(0, Math.ceil((pad - k) / stride));
  const last = Math.min(outSize - 1, Math.floor((inSize - 1 + pad - k) / stride));
  return [first, last];
}

/**
 * dW of a depthwise convolution with channel multiplier 1 (the encoder's case), one filter tap at a
 * time: the rows and columns that tap reaches are worked out once, so the inner loop has no bounds
 * checks and, at stride 1, runs over a whole row of columns × channels at once; the sums are folded
 * to channels per tap (about 1.25× the general loop below on the encoder's layer shapes).
 */
function depthwiseBackpropFilterSingle(x: Float32Array, dy: Float32Array, info: Conv2DInfo): Float32Array {
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const dw = new Float32Array(filterHeight * filterWidth * c);
  // Products summed per (output column, channel) in one flat row; folded to channels per tap.
  const acc = new Float32Array(outWidth * c);
  for (let kh = 0; kh < filterHeight; kh++) {
    const [r0, r1] = validOutputs(outHeight, inHeight, strideHeight, top, kh);
    for (let kw = 0; kw < filterWidth; kw++) {
      const [c0, c1] = validOutputs(outWidth, inWidth, strideWidth, left, kw);
      const length = (c1 - c0 + 1) * c;
      acc.fill(0);
      for (let b = 0; b < batchSize; b++) {
        for (let yr = r0; yr <= r1; yr++) {
          const xr = yr * strideHeight - top + kh;
          const dyAt = ((b * outHeight + yr) * outWidth + c0) * c;
          const xAt = ((b * inHeight + xr) * inWidth + (c0 * strideWidth - left + kw)) * c;
          if (strideWidth === 1) {
            // Stride 1: the input pixels this tap meets along the row are contiguous too.
            for (let j = 0; j < length; j++) acc[j]! += (x[xAt + j] as number) * (dy[dyAt + j] as number);
          } else {
            const xStep = strideWidth * c;
            for (let yc = 0, j = 0, xi = xAt; yc <= c1 - c0; yc++, xi += xStep) {
              for (let d = 0; d < c; d++, j++) acc[j]! += (x[xi + d] as number) * (dy[dyAt + j] as number);
            }
          }
        }
      }
      const base = (kh * filterWidth + kw) * c;
      for (let j = 0; j < length; j++) dw[base + (j % c)]! += acc[j] as number;
    }
  }
  return dw;
}

/** dW of a depthwise convolution: x [B,H,W,C], dy [B,OH,OW,C·M] → [FH,FW,C,M]. */
export function depthwiseBackpropFilter(x: Float32Array, dy: Float32Array, info: Conv2DInfo): Float32Array {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const mult = outChannels / inChannels;
  if (mult === 1) return depthwiseBackpropFilterSingle(x, dy, info);
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const dw = new Float32Array(filterHeight * filterWidth * outChannels);
  for (let b = 0; b < batchSize; b++) {
    for (let yr = 0; yr < outHeight; yr++) {
      for (let yc = 0; yc < outWidth; yc++) {
        const dyBase = ((b * outHeight + yr) * outWidth + yc) * outChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          const xr = yr * strideHeight - top + kh;
          if (xr < 0 || xr >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const xc = yc * strideWidth - left + kw;
            if (xc < 0 || xc >= inWidth) continue;
            const xBase = ((b * inHeight + xr) * inWidth + xc) * inChannels;
            const wBase = (kh * filterWidth + kw) * outChannels;
            if (mult === 1) {
              for (let d = 0; d < inChannels; d++) dw[wBase + d]! += (x[xBase + d] as number) * (dy[dyBase + d] as number);
            } else {
              for (let d = 0; d < inChannels; d++) {
                const xv = x[xBase + d] as number;
                for (let q = 0; q < mult; q++) dw[wBase + d * mult + q]! += xv * (dy[dyBase + d * mult + q] as number);
              }
            }
          }
        }
      }
    }
  }
  return dw;
}

/** dX of a depthwise convolution: dy [B,OH,OW,C·M], filter [FH,FW,C,M] → [B,H,W,C]. */
export function depthwiseBackpropInput(dy: Float32Array, w: Float32Array, info: Conv2DInfo): Float32Array {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const mult = outChannels / inChannels;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const dx = new Float32Array(batchSize * inHeight * inWidth * inChannels);
  for (let b = 0; b < batchSize; b++) {
    for (let yr = 0; yr < outHeight; yr++) {
      for (let yc = 0; yc < outWidth; yc++) {
        const dyBase = ((b * outHeight + yr) * outWidth + yc) * outChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          const xr = yr * strideHeight - top + kh;
          if (xr < 0 || xr >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const xc = yc * strideWidth - left + kw;
            if (xc < 0 || xc >= inWidth) continue;
            const xBase = ((b * inHeight + xr) * inWidth + xc) * inChannels;
            const wBase = (kh * filterWidth + kw) * outChannels;
            if (mult === 1) {
              for (let d = 0; d < inChannels; d++) dx[xBase + d]! += (dy[dyBase + d] as number) * (w[wBase + d] as number);
            } else {
              for (let d = 0; d < inChannels; d++) {
                let sum = 0;
                for (let q = 0; q < mult; q++) sum += (dy[dyBase + d * mult + q] as number) * (w[wBase + d * mult + q] as number);
                dx[xBase + d]! += sum;
              }
            }
          }
        }
      }
    }
  }
  return dx;
}

/** dW of a full convolution: x [B,H,W,Ci], dy [B,OH,OW,Co] → [FH,FW,Ci,Co]. */
export function conv2dBackpropFilter(x: Float32Array, dy: Float32Array, info: Conv2DInfo): Float32Array {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const dw = new Float32Array(filterHeight * filterWidth * inChannels * outChannels);
  for (let b = 0; b < batchSize; b++) {
    for (let yr = 0; yr < outHeight; yr++) {
      for (let yc = 0; yc < outWidth; yc++) {
        const dyBase = ((b * outHeight + yr) * outWidth + yc) * outChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          const xr = yr * strideHeight - top + kh;
          if (xr < 0 || xr >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const xc = yc * strideWidth - left + kw;
            if (xc < 0 || xc >= inWidth) continue;
            const xBase = ((b * inHeight + xr) * inWidth + xc) * inChannels;
            const wBase = (kh * filterWidth + kw) * inChannels * outChannels;
            for (let ci = 0; ci < inChannels; ci++) {
              const xv = x[xBase + ci] as number;
              if (xv === 0) continue;
              const row = wBase + ci * outChannels;
              for (let co = 0; co < outChannels; co++) dw[row + co]! += xv * (dy[dyBase + co] as number);
            }
          }
        }
      }
    }
  }
  return dw;
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: Pad;
  dimRoundingMode?: Rounding;
  dilations?: number | [number, number];
}

function dilationIsOne(d: number | [number, number] | undefined): boolean {
  return d === undefined || d === 1 || (Array.isArray(d) && d[0] === 1 && d[1] === 1);
}

function info4(tf: TF, inShape: number[], filterShape: number[], attrs: ConvAttrs, depthwise: boolean): Conv2DInfo {
  if (!dilationIsOne(attrs.dilations)) throw new Error('Only dilation 1 is supported by these gradient kernels');
  return tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
  );
}

/** The kernels this file provides. */
export const TRAINING_KERNELS = ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'Conv2DBackpropFilter'] as const;

/**
 * Registers the kernels above for `backendName` (default `wasm`) where that backend has none of its
 * own. Returns the names it registered. Safe to call more than once.
 */
export function registerTrainingKernels(tf: TF, backendName = 'wasm'): string[] {
  const registered: string[] = [];
  const add = (kernelName: (typeof TRAINING_KERNELS)[number], kernelFunc: tfc.KernelFunc) => {
    if (tf.getKernel(kernelName, backendName)) return;
    tf.registerKernel({ kernelName, backendName, kernelFunc });
    registered.push(kernelName);
  };
  add('DepthwiseConv2dNativeBackpropFilter', ({ inputs, backend, attrs }) => {
    const x = need(inputs.x, 'x');
    const dy = need(inputs.dy, 'dy');
    const a = attrs as unknown as ConvAttrs & { filterShape: number[] };
    const info = info4(tf, x.shape, a.filterShape, a, true);
    return output(backend as OutputBackend, a.filterShape, depthwiseBackpropFilter(read(backend as OutputBackend, x), read(backend as OutputBackend, dy), info));
  });
  add('DepthwiseConv2dNativeBackpropInput', ({ inputs, backend, attrs }) => {
    const dy = need(inputs.dy, 'dy');
    const filter = need(inputs.filter, 'filter');
    const a = attrs as unknown as ConvAttrs & { inputShape: number[] };
    const info = info4(tf, a.inputShape, filter.shape, a, true);
    return output(backend as OutputBackend, a.inputShape, depthwiseBackpropInput(read(backend as OutputBackend, dy), read(backend as OutputBackend, filter), info));
  });
  add('Conv2DBackpropFilter', ({ inputs, backend, attrs }) => {
    const x = need(inputs.x, 'x');
    const dy = need(inputs.dy, 'dy');
    const a = attrs as unknown as ConvAttrs & { filterShape: number[]; dataFormat?: string };
    if (a.dataFormat !== undefined && a.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropFilter: NHWC only');
    const info = info4(tf, x.shape, a.filterShape, a, false);
    return output(backend as OutputBackend, a.filterShape, conv2dBackpropFilter(read(backend as OutputBackend, x), read(backend as OutputBackend, dy), info));
  });
  return registered;
}
