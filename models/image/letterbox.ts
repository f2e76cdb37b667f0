/**
 * The encoder's input from a shopper's photo, made on the device exactly as ingest makes it from a
 * catalog photo (server/ingest/images.ts): transparency flattened onto white, scaled to fit a
 * `size`×`size` square (aspect kept), centred on white, resampled with a triangle filter widened by
 * the scale factor. Same arithmetic, same bytes: a catalog photo searched on the device lands on
 * its own embedding. Pure TypeScript, no DOM: runs in the worker and in Node.
 */

/**
 * RGBA (as `ImageData` holds it, not premultiplied) to RGB composited over white.
 *
 * @param rgba `width`×`height`×4 bytes, row-major.
 * @returns `width`×`height`×3 bytes, row-major.
 */
export function rgbaOnWhite(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Uint8Array {
  const pixels = width * height;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`rgbaOnWhite: image size must be positive integers, got ${width}×${height}`);
  }
  if (rgba.length !== pixels * 4) throw new RangeError(`rgbaOnWhite: ${rgba.length} bytes is not ${width}×${height}×4`);
  const out = new Uint8Array(pixels * 3);
  for (let p = 0, i = 0, o = 0; p < pixels; p++, i += 4, o += 3) {
    const a = rgba[i + 3] as number;
    if (a === 255) {
      out[o] = rgba[i] as number;
      out[o + 1] = rgba[i + 1] as number;
      out[o + 2] = rgba[i + 2] as number;
    } else {
      const t = a / 255;
      out[o] = Math.round((rgba[i] as number) * t + 255 * (1 - t));
      out[o + 1] = Math.round((rgba[i + 1] as number) * t + 255 * (1 - t));
      out[o + 2] = Math.round((rgba[i + 2] as number) * t + 255 * (1 - t));
    }
  }
  return out;
}

/**
 * Letterboxes an RGB image into a `size`×`size` RGB square on white (see the module comment).
 *
 * @param rgb `height`×`width`×3 bytes, row-major.
 * @returns `size`×`size`×3 bytes, row-major.
 */
export function letterboxRgb(rgb: Uint8Array, width: number, height: number, size: number): Uint8Array {
  if (rgb.length < width * height * 3) throw new RangeError(`letterboxRgb: ${rgb.length} bytes is less than ${width}×${height}×3`);
  const scale = Math.min(size / width, size / height);
  const outWidth = Math.max(1, Math.min(size, Math.round(width * scale)));
  const outHeight = Math.max(1, Math.min(size, Math.round(height * scale)));
  const left = Math.floor((size - outWidth) / 2);
  const top = Math.floor((size - outHeight) / 2);
  const out = new Uint8Array(size * size * 3).fill(255);

  const columns = filterTaps(width, outWidth);
  const rows = filterTaps(height, outHeight);
  // Horizontal pass into floats (height × outWidth × 3), then vertical pass into the square.
  const temp = new Float32Array(height * outWidth * 3);
  for (let y = 0; y < height; y++) {
    const srcRow = y * width * 3;
    const tmpRow = y * outWidth * 3;
    for (let x = 0; x < outWidth; x++) {
      const first = columns.first[x] as number;
      const count = columns.count[x] as number;
      const base = x * columns.stride;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0; k < count; k++) {
        const w = columns.weights[base + k] as number;
        const s = srcRow + (first + k) * 3;
        r += w * (rgb[s] as number);
        g += w * (rgb[s + 1] as number);
        b += w * (rgb[s + 2] as number);
      }
      const t = tmpRow + x * 3;
      temp[t] = r;
      temp[t + 1] = g;
      temp[t + 2] = b;
    }
  }
  for (let y = 0; y < outHeight; y++) {
    const first = rows.first[y] as number;
    const count = rows.count[y] as number;
    const base = y * rows.stride;
    const outRow = ((top + y) * size + left) * 3;
    for (let x = 0; x < outWidth * 3; x++) {
      let v = 0;
      for (let k = 0; k < count; k++) v += (rows.weights[base + k] as number) * (temp[(first + k) * outWidth * 3 + x] as number);
      out[outRow + x] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
    }
  }
  return out;
}

interface Taps {
  first: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  stride: number;
}

/** Triangle-filter taps mapping `inSize` samples onto `outSize` (normalised to sum 1). */
function filterTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const support = Math.max(1, scale);
  const stride = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * stride);
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(inSize, Math.ceil(centre + support));
    let sum = 0;
    let n = 0;
    for (let i = lo; i < hi && n < stride; i++, n++) {
      const w = Math.max(0, 1 - Math.abs((i + 0.5 - centre) / support));
      weights[o * stride + n] = w;
      sum += w;
    }
    for (let k = 0; k < n; k++) weights[o * stride + k] = (weights[o * stride + k] as number) / sum;
    first[o] = lo;
    count[o] = n;
  }
  return { first, count, weights, stride };
}
