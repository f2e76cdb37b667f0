/**
 * Seeded pseudo-random numbers (mulberry32), the one generator of the code base: the same seed
 * gives the same splits, initial factors, augmentations, probe inputs and demo data in Node and in
 * the browser.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Shuffles `values[start, end)` in place (Fisher–Yates). */
  shuffle(values: Int32Array, start = 0, end = values.length): void {
    for (let i = end - 1; i > start; i--) {
      const j = start + this.int(i - start + 1);
      const t = values[i]!;
      values[i] = values[j]!;
      values[j] = t;
    }
  }
}
