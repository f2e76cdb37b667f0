import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../random';
import { decodeMatrix, decodeQ8, encodeQ8, q8ByteLength } from './pack';

describe('q8 matrices', () => {
  it('round-trips a hand-checked matrix', () => {
    const m = Float32Array.from([1, -0.5, 0, 0, 0, 0, 0.254, 0.127, -0.001]);
    const bytes = encodeQ8(m, 3, 3);
    expect(bytes.byteLength).toBe(q8ByteLength(3, 3));
    const back = decodeQ8(bytes, 3, 3);
    expect(Array.from(back.slice(0, 3))).toEqual([1, Math.round(-0.5 * 127) / 127, 0].map(Math.fround));
    expect(Array.from(back.slice(3, 6))).toEqual([0, 0, 0]); // an all-zero row stays zero
    expect(back[6]).toBeCloseTo(0.254, 6);
    expect(Math.abs(back[7]! - 0.127)).toBeLessThanOrEqual(0.001); // half a step of 0.254 / 127
  });

  it('keeps dot products of unit vectors within 1 %', () => {
    const random = new SeededRandom(7);
    const rows = 50;
    const cols = 64;
    const m = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      let n = 0;
      for (let c = 0; c < cols; c++) n += (m[r * cols + c] = random.uniform(-1, 1)) ** 2;
      for (let c = 0; c < cols; c++) m[r * cols + c]! /= Math.sqrt(n);
    }
    const back = decodeMatrix({ file: 'x', rows, cols, encoding: 'q8' }, encodeQ8(m, rows, cols));
    let worst = 0;
    for (let a = 0; a < rows; a++) {
      for (let b = 0; b < rows; b++) {
        let exact = 0;
        let approx = 0;
        for (let c = 0; c < cols; c++) {
          exact += m[a * cols + c]! * m[b * cols + c]!;
          approx += back[a * cols + c]! * back[b * cols + c]!;
        }
        worst = Math.max(worst, Math.abs(exact - approx));
      }
    }
    expect(worst).toBeLessThan(0.01);
  });

  it('says what is wrong with a file of the wrong size', () => {
    expect(() => decodeQ8(new Uint8Array(10), 3, 3)).toThrow(/expected 24 bytes for 3×3, got 10/);
    expect(() => decodeMatrix({ file: 'stats.f32', rows: 2, cols: 2, encoding: 'f32' }, new Uint8Array(4))).toThrow(/stats.f32: expected 16 bytes/);
  });
});
