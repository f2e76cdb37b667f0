import { describe, expect, it } from 'vitest';
import { axpyAt, dotAt } from './dense';

describe('unrolled dot and axpy', () => {
  it('match hand-computed values at offsets, for lengths that are not multiples of four', () => {
    const x = Float32Array.of(9, 1, 2, 3, 4, 5, 6, 7);
    const y = Float64Array.of(1, 1, 1, 1, 1, 1, 1, 2, 0);
    // x[1..7] · y[0..6] = 1 + 2 + 3 + 4 + 5 + 6 + 7·1 = 28; length 0 is 0.
    expect(dotAt(x, 1, y, 0, 7)).toBe(28);
    expect(dotAt(x, 2, y, 2, 6)).toBe(2 + 3 + 4 + 5 + 6 + 7 * 2);
    expect(dotAt(x, 0, y, 0, 0)).toBe(0);
    const out = Float64Array.of(10, 10, 10, 10, 10, 10);
    axpyAt(2, x, 3, out, 1, 5);
    expect(Array.from(out)).toEqual([10, 16, 18, 20, 22, 24]);
  });
});
