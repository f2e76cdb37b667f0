import { describe, expect, it } from 'vitest';
import { splitByPhoto } from './image-encoder';

describe('splitByPhoto', () => {
  it('keeps every group of byte-identical photos on one side and holds out about the fraction asked', () => {
    const sha = Array.from({ length: 2000 }, (_, i) => `h${Math.floor(i / 2)}`);
    const split = splitByPhoto(sha, 0.1, 7);
    expect(split.train.length + split.queries.length).toBe(2000);
    const trainGroups = new Set(Array.from(split.train, (r) => split.group[r]));
    for (const r of split.queries) expect(trainGroups.has(split.group[r]!)).toBe(false);
    expect(split.queries.length / 2000).toBeGreaterThan(0.06);
    expect(split.queries.length / 2000).toBeLessThan(0.14);
    expect(splitByPhoto(sha, 0.1, 7).queries).toEqual(split.queries);
  });
});
