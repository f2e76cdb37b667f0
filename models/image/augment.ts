/**
 * Cheap photo augmentation on typed arrays (S×S×3 RGB bytes), so a shopper's phone photo — shifted,
 * mirrored, differently lit, on a background that is not studio white — lands near its kind.
 */

import { SeededRandom } from '../random';

export interface AugmentOptions {
  /** Largest shift in pixels, each axis (white fills what comes in). */
  maxShift: number;
  /** Probability of a left-right mirror. */
  flip: number;
  /** Contrast factor drawn from [1 - c, 1 + c]. */
  contrast: number;
  /** Per-channel brightness offset drawn from [-b, b] (grey levels). */
  brightness: number;
  /** Probability of replacing the near-white background with a random light colour. */
  background: number;
}

export const DEFAULT_AUGMENT: AugmentOptions = { maxShift: 6, flip: 0.5, contrast: 0.15, brightness: 10, background: 0.3 };

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/**
 * Writes an augmented copy of image `row` of `src` into `dst` at `dstRow`. Both are packed
 * S×S×3 byte arrays.
 */
export function augmentInto(src: Uint8Array, row: number, dst: Uint8Array, dstRow: number, size: number, rng: SeededRandom, options: AugmentOptions = DEFAULT_AUGMENT): void {
  const rowBytes = size * size * 3;
  const s = row * rowBytes;
  const d = dstRow * rowBytes;
  const dx = rng.int(2 * options.maxShift + 1) - options.maxShift;
  const dy = rng.int(2 * options.maxShift + 1) - options.maxShift;
  const flip = rng.next() < options.flip;
  const c = rng.uniform(1 - options.contrast, 1 + options.contrast);
  const b = [rng.uniform(-options.brightness, options.brightness), rng.uniform(-options.brightness, options.brightness), rng.uniform(-options.brightness, options.brightness)];
  const bg = rng.next() < options.background ? [rng.uniform(150, 255), rng.uniform(150, 255), rng.uniform(150, 255)] : undefined;
  for (let y = 0; y < size; y++) {
    const sy = y - dy;
    for (let x = 0; x < size; x++) {
      const sx0 = x - dx;
      const sx = flip ? size - 1 - sx0 : sx0;
      const o = d + (y * size + x) * 3;
      let r = 255;
      let g = 255;
      let bl = 255;
      if (sy >= 0 && sy < size && sx >= 0 && sx < size) {
        const p = s + (sy * size + sx) * 3;
        r = src[p] as number;
        g = src[p + 1] as number;
        bl = src[p + 2] as number;
      }
      if (bg && r > 245 && g > 245 && bl > 245) {
        r = bg[0] as number;
        g = bg[1] as number;
        bl = bg[2] as number;
      }
      dst[o] = clamp((r - 128) * c + 128 + (b[0] as number));
      dst[o + 1] = clamp((g - 128) * c + 128 + (b[1] as number));
      dst[o + 2] = clamp((bl - 128) * c + 128 + (b[2] as number));
    }
  }
}

/**
 * "A phone photo of the garment": the studio shot seen at an angle and distance (a keystone warp of
 * the frame: corners moved independently, rotated, scaled, shifted), on a background that is not
 * studio white (a coloured surface with a light gradient and grain), under other light (white
 * balance, exposure, gamma, uneven illumination), with sensor noise and sometimes a little blur.
 */
export interface PhonePhotoOptions {
  /** Each corner of the frame moves by up to this share of the side (keystone / perspective). */
  keystone: number;
  /** Largest rotation in radians. */
  rotate: number;
  /** Scale drawn from [lo, hi] (below 1: the garment is further away). */
  scale: [number, number];
  /** Largest shift, as a share of the side. */
  shift: number;
  /** Probability of a left-right mirror. */
  flip: number;
  /** Probability of a non-white background (surface colour, gradient, grain). */
  background: number;
  /** Per-channel gain drawn from [1 - c, 1 + c] (white balance). */
  colourCast: number;
  /** Exposure gain drawn from [lo, hi]. */
  exposure: [number, number];
  /** Gamma drawn from [lo, hi]. */
  gamma: [number, number];
  /** Largest brightness fall-off across the frame (uneven light), 0..1. */
  shading: number;
  /** Standard deviation of the per-pixel noise, in grey levels. */
  noise: number;
  /** Probability of a 3×3 box blur (focus, motion). */
  blur: number;
}

export const PHONE_PHOTO: PhonePhotoOptions = {
  keystone: 0.12,
  rotate: 0.2,
  scale: [0.75, 1.05],
  shift: 0.1,
  flip: 0.5,
  background: 0.8,
  colourCast: 0.12,
  exposure: [0.75, 1.15],
  gamma: [0.8, 1.25],
  shading: 0.3,
  noise: 5,
  blur: 0.3,
};

/** Near-white in the source: the studio background, which a phone photo replaces. */
const WHITE = 235;

/** Standard normal from two uniforms (Box–Muller). */
function normal(rng: SeededRandom): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

/**
 * Writes a phone-photo version of image `row` of `src` into `dst` at `dstRow` (packed S×S×3 bytes;
 * `src` and `dst` must not be the same array). Deterministic for a given `rng` state.
 */
export function phonePhotoInto(src: Uint8Array, row: number, dst: Uint8Array, dstRow: number, size: number, rng: SeededRandom, options: PhonePhotoOptions = PHONE_PHOTO): void {
  if (src === dst) throw new Error('phonePhotoInto: src and dst must be different arrays');
  const rowBytes = size * size * 3;
  const s = row * rowBytes;
  const d = dstRow * rowBytes;
  // Where the output frame's corners fall in the source (pixel units), around the centre.
  const c = size / 2;
  const angle = rng.uniform(-options.rotate, options.rotate);
  const scale = rng.uniform(options.scale[0], options.scale[1]);
  const tx = rng.uniform(-options.shift, options.shift) * size;
  const ty = rng.uniform(-options.shift, options.shift) * size;
  const cos = Math.cos(angle) / scale;
  const sin = Math.sin(angle) / scale;
  const corners = [
    [-c, -c],
    [c, -c],
    [-c, c],
    [c, c],
  ].map(([x, y]) => {
    const jx = (x as number) + rng.uniform(-options.keystone, options.keystone) * size;
    const jy = (y as number) + rng.uniform(-options.keystone, options.keystone) * size;
    return [c + cos * jx - sin * jy - tx, c + sin * jx + cos * jy - ty] as const;
  });
  const [p00, p10, p01, p11] = corners as [readonly [number, number], readonly [number, number], readonly [number, number], readonly [number, number]];
  const flip = rng.next() < options.flip;
  // Background: a surface colour with a linear light gradient; grain added with the noise below.
  const useBackground = rng.next() < options.background;
  const base = [rng.uniform(60, 235), rng.uniform(60, 235), rng.uniform(60, 235)];
  const gradX = rng.uniform(-40, 40);
  const gradY = rng.uniform(-40, 40);
  // Light: white balance, exposure, gamma, and a fall-off across the frame in a random direction.
  const gain = [0, 1, 2].map(() => rng.uniform(1 - options.colourCast, 1 + options.colourCast) * rng.uniform(options.exposure[0], options.exposure[1]));
  const gamma = rng.uniform(options.gamma[0], options.gamma[1]);
  const shadeAngle = rng.uniform(0, 2 * Math.PI);
  const shadeAmount = rng.uniform(0, options.shading);
  const blur = rng.next() < options.blur;
  const sample = (x: number, y: number, ch: number): number => {
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const fx = x - x0;
    const fy = y - y0;
    const at = (xx: number, yy: number) => (xx < 0 || yy < 0 || xx >= size || yy >= size ? 255 : (src[s + (yy * size + xx) * 3 + ch] as number));
    return (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
  };
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = 255 * Math.pow(v / 255, gamma);
  const rgb = [0, 0, 0];
  for (let y = 0; y < size; y++) {
    const v = (y + 0.5) / size;
    for (let x = 0; x < size; x++) {
      const u = ((flip ? size - 1 - x : x) + 0.5) / size;
      // Bilinear map of the unit square onto the source quadrilateral (a keystone warp).
      const sx = (1 - u) * (1 - v) * p00[0] + u * (1 - v) * p10[0] + (1 - u) * v * p01[0] + u * v * p11[0] - 0.5;
      const sy = (1 - u) * (1 - v) * p00[1] + u * (1 - v) * p10[1] + (1 - u) * v * p01[1] + u * v * p11[1] - 0.5;
      for (let ch = 0; ch < 3; ch++) rgb[ch] = sample(sx, sy, ch);
      const isBackground = (rgb[0] as number) > WHITE && (rgb[1] as number) > WHITE && (rgb[2] as number) > WHITE;
      const shade = 1 - shadeAmount * (0.5 + 0.5 * ((u - 0.5) * Math.cos(shadeAngle) + (v - 0.5) * Math.sin(shadeAngle)) * 2);
      const o = d + (y * size + x) * 3;
      for (let ch = 0; ch < 3; ch++) {
        let value = useBackground && isBackground ? (base[ch] as number) + gradX * (u - 0.5) + gradY * (v - 0.5) : (rgb[ch] as number);
        value = (lut[clamp(value)] as number) * (gain[ch] as number) * shade + normal(rng) * options.noise;
        dst[o + ch] = clamp(value);
      }
    }
  }
  if (blur) boxBlur3(dst, dstRow, size);
}

/** 3×3 box blur of one packed image in place (edges use the pixels that exist). */
function boxBlur3(img: Uint8Array, row: number, size: number): void {
  const base = row * size * size * 3;
  const copy = img.slice(base, base + size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let ch = 0; ch < 3; ch++) {
        let sum = 0;
        let n = 0;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= size) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx < 0 || xx >= size) continue;
            sum += copy[(yy * size + xx) * 3 + ch] as number;
            n++;
          }
        }
        img[base + (y * size + x) * 3 + ch] = Math.round(sum / n);
      }
    }
  }
}

/** Phone-photo versions of `rows` of `images`, packed in that order (seeded: the same every run). */
export function phonePhotos(images: Uint8Array, rows: Int32Array, size: number, seed: number, options: PhonePhotoOptions = PHONE_PHOTO): Uint8Array {
  const out = new Uint8Array(rows.length * size * size * 3);
  const rng = new SeededRandom(seed);
  rows.forEach((row, i) => phonePhotoInto(images, row, out, i, size, rng, options));
  return out;
}

/**
 * Resizes `count` packed S×S×3 images to T×T×3 (T ≤ S) by averaging each output pixel's footprint
 * of source pixels (area weights), which does not alias the way point sampling does.
 */
export function downscale(src: Uint8Array, count: number, size: number, target: number): Uint8Array {
  if (!(Number.isInteger(target) && target >= 1 && target <= size)) throw new RangeError(`downscale: target side ${target} must be an integer in [1, ${size}]`);
  if (src.length !== count * size * size * 3) throw new RangeError(`downscale: ${src.length} bytes is not ${count} images of ${size}×${size}×3`);
  if (target === size) return src.slice();
  // Per output coordinate: the source pixels it covers and how much of each (the same for x and y).
  const scale = size / target;
  const taps: { from: number; weights: number[] }[] = [];
  for (let t = 0; t < target; t++) {
    const a = t * scale;
    const b = a + scale;
    const from = Math.floor(a);
    const weights: number[] = [];
    for (let p = from; p < Math.min(size, Math.ceil(b)); p++) weights.push((Math.min(b, p + 1) - Math.max(a, p)) / scale);
    taps.push({ from, weights });
  }
  const out = new Uint8Array(count * target * target * 3);
  for (let n = 0; n < count; n++) {
    const s = n * size * size * 3;
    const d = n * target * target * 3;
    for (let y = 0; y < target; y++) {
      const ty = taps[y]!;
      for (let x = 0; x < target; x++) {
        const tx = taps[x]!;
        let r = 0;
        let g = 0;
        let b = 0;
        for (let i = 0; i < ty.weights.length; i++) {
          for (let j = 0; j < tx.weights.length; j++) {
            const w = ty.weights[i]! * tx.weights[j]!;
            const p = s + ((ty.from + i) * size + tx.from + j) * 3;
            r += w * src[p]!;
            g += w * src[p + 1]!;
            b += w * src[p + 2]!;
          }
        }
        const o = d + (y * target + x) * 3;
        out[o] = clamp(r);
        out[o + 1] = clamp(g);
        out[o + 2] = clamp(b);
      }
    }
  }
  return out;
}
