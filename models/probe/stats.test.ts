import { describe, expect, it } from 'vitest';
import { summarise } from './stats';

describe('summarise', () => {
  it('gives nearest-rank median and p95', () => {
    const values = Array.from({ length: 20 }, (_, i) => 20 - i); // 20..1, unsorted
    expect(summarise(values)).toEqual({ n: 20, median: 10, p95: 19, min: 1, max: 20 });
    expect(summarise([5])).toEqual({ n: 1, median: 5, p95: 5, min: 5, max: 5 });
  });

  it('refuses an empty set', () => {
    expect(() => summarise([])).toThrow('no values');
  });
});
