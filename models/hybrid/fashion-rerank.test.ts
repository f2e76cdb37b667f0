import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../random';
import { fitListwise, fitLogistic, linearScore } from './fashion-rerank';

/** Groups of 20 candidates; the positive of each group is the one with the largest 2·a − b + noise. */
function groups(seed: number, n: number): { x: Float32Array; y: Uint8Array; sizes: number[] } {
  const random = new SeededRandom(seed);
  const x: number[] = [];
  const y: number[] = [];
  const sizes: number[] = [];
  for (let g = 0; g < n; g++) {
    // Each group has its own offset on feature c, which says nothing about order within it.
    const offset = random.next() * 10;
    const rows = Array.from({ length: 20 }, () => [random.next(), random.next(), offset + random.next()]);
    const utility = rows.map(([a, b]) => 2 * a! - b! + 0.2 * random.next());
    const best = utility.indexOf(Math.max(...utility));
    rows.forEach((row, j) => {
      x.push(...row);
      y.push(j === best ? 1 : 0);
    });
    sizes.push(rows.length);
  }
  return { x: Float32Array.from(x), y: Uint8Array.from(y), sizes };
}

describe('fitListwise', () => {
  it("learns the within-group order, its loss falls, and it ranks held-out groups' positives first", () => {
    const train = groups(1, 300);
    const { ranker, losses } = fitListwise(['a', 'b', 'c'], train.x, train.y, train.sizes);
    expect(ranker.weights[0]).toBeGreaterThan(0);
    expect(ranker.weights[1]).toBeLessThan(0);
    expect(ranker.weights[0]! / -ranker.weights[1]!).toBeGreaterThan(1.2);
    for (let i = 1; i < losses.length; i++) expect(losses[i]!).toBeLessThanOrEqual(losses[i - 1]! + 1e-12);
    const test = groups(2, 200);
    const top1 = (score: (row: Float32Array) => number) => {
      let hits = 0;
      let offset = 0;
      for (const size of test.sizes) {
        let best = 0;
        for (let j = 1; j < size; j++) if (score(test.x.subarray((offset + j) * 3, (offset + j + 1) * 3)) > score(test.x.subarray((offset + best) * 3, (offset + best + 1) * 3))) best = j;
        hits += test.y[offset + best]!;
        offset += size;
      }
      return hits / test.sizes.length;
    };
    const listwise = top1((row) => linearScore(ranker, row));
    expect(listwise).toBeGreaterThan(0.5);
    // The pointwise fit of the same data ranks no better (c only shifts whole groups).
    const pointwise = fitLogistic(['a', 'b', 'c'], train.x, train.y).ranker;
    expect(listwise).toBeGreaterThanOrEqual(top1((row) => linearScore(pointwise, row)) - 0.05);
  });

  it('refuses group sizes that do not cover the rows, and data without positives', () => {
    const d = groups(3, 2);
    expect(() => fitListwise(['a', 'b', 'c'], d.x, d.y, [20])).toThrow(/group sizes add up to 20, not 40/);
    expect(() => fitListwise(['a', 'b', 'c'], d.x, new Uint8Array(40), d.sizes)).toThrow(/no positives/);
  });
});
