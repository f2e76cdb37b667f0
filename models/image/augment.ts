/**
 * Cheap photo augmentation on typed arrays (S×S×3 RGB bytes), so a shopper's phone photo — shifted,
 * mirrored, differently lit, on a background that is not studio white — lands near its kind.
 */

import type { SeededRandom } from '../random';

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
