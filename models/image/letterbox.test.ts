import { describe, expect, it } from 'vitest';
import { letterboxRgb as ingestLetterbox } from '../../server/ingest/images';
import { SeededRandom } from '../random';
import { letterboxRgb, rgbaOnWhite } from './letterbox';

describe('device letterbox', () => {
  it('is the function ingest packs the catalog photos with, so a shopper photo is prepared identically', () => {
    expect(ingestLetterbox).toBe(letterboxRgb);
  });

  it('keeps every photo size inside the square, with white bands', () => {
    const random = new SeededRandom(7);
    for (const [w, h] of [[60, 80], [80, 60], [13, 200], [301, 157]] as const) {
      const rgb = new Uint8Array(w * h * 3).map(() => random.int(256));
      const out = letterboxRgb(rgb, w, h, 64);
      expect(out.length, `${w}×${h}`).toBe(64 * 64 * 3);
      // The corner pixel is a band (white) for any photo that is not square.
      expect(Array.from(out.subarray(0, 3)), `${w}×${h}`).toEqual([255, 255, 255]);
    }
  });

  it('flattens transparency onto white like ingest does, and names a wrong buffer size', () => {
    const rgba = new Uint8ClampedArray([10, 20, 30, 255, 0, 0, 0, 0, 200, 100, 0, 128]);
    expect(Array.from(rgbaOnWhite(rgba, 3, 1))).toEqual([10, 20, 30, 255, 255, 255, 227, 177, 127]);
    expect(() => rgbaOnWhite(rgba, 2, 2)).toThrow(/12 bytes is not 2×2×4/);
  });
});
