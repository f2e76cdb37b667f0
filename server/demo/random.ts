/**
 * A small seeded random stream for the demo generator: the same seed gives the same catalog,
 * pictures and shoppers on every machine, drawn from the code base's one seeded generator.
 */
import { SeededRandom } from '../../models/random';

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** Uniform in [low, high). */
  between(low: number, high: number): number;
  chance(probability: number): boolean;
  pick<T>(values: readonly T[]): T;
  /** One of `values`, with probability proportional to `weights` (non-negative, not all zero). */
  weighted<T>(values: readonly T[], weights: readonly number[]): T;
  /** An independent stream for a named part, so adding draws in one part leaves the others unchanged. */
  fork(label: string): Random;
}

/** A 32-bit hash of a string (FNV-1a), to derive fork seeds. */
function hash32(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function createRandom(seed: number): Random {
  const source = new SeededRandom(seed);
  const next = () => source.next();
  const random: Random = {
    next,
    int: (n) => Math.floor(next() * n),
    between: (low, high) => low + next() * (high - low),
    chance: (probability) => next() < probability,
    pick: (values) => {
      if (values.length === 0) throw new RangeError('pick: no values');
      return values[Math.floor(next() * values.length)] as (typeof values)[number];
    },
    weighted: (values, weights) => {
      let total = 0;
      for (const w of weights) total += w;
      if (values.length === 0 || !(total > 0)) throw new RangeError('weighted: no positive weight');
      let r = next() * total;
      for (let i = 0; i < values.length; i++) {
        r -= weights[i] ?? 0;
        if (r < 0) return values[i] as (typeof values)[number];
      }
      // Rounding can leave r at 0 after the last value: take the last one with weight.
      for (let i = values.length - 1; i >= 0; i--) if ((weights[i] ?? 0) > 0) return values[i] as (typeof values)[number];
      return values[values.length - 1] as (typeof values)[number];
    },
    fork: (label) => createRandom(hash32(label, seed)),
  };
  return random;
}
