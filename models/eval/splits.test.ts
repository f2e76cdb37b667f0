import { describe, expect, it } from 'vitest';
import { parseUData } from './data';
import type { Interactions } from './data';
import { perUserRatioSplit, recboleSplitCounts, stratifiedSplit } from './splits';

/** A synthetic log: user u rated 20 + u items, item ids cycling so item groups vary in size. */
function synthetic(): Interactions {
  const lines: string[] = [];
  for (let u = 1; u <= 30; u++) {
    for (let k = 0; k < 20 + u; k++) lines.push(`${u}\t${1 + ((u * 7 + k * 3) % 97)}\t${1 + (k % 5)}\t${880000000 + k}`);
  }
  return parseUData(lines.join('\n'));
}

function groupCounts(keys: Int32Array, rows: Int32Array, n: number): Int32Array {
  const c = new Int32Array(n);
  for (const r of rows) c[keys[r]!]!++;
  return c;
}

describe('parseUData', () => {
  it('maps ids to dense sorted indices and keeps every column', () => {
    const d = parseUData('5\t10\t3\t100\n2\t10\t4\t200\n\n5\t7\t1\t300\n');
    expect(d.nUsers).toBe(2);
    expect(d.nItems).toBe(2);
    expect(Array.from(d.userIds)).toEqual([2, 5]);
    expect(Array.from(d.users)).toEqual([1, 0, 1]);
    expect(Array.from(d.items)).toEqual([1, 1, 0]);
    expect(Array.from(d.ratings)).toEqual([3, 4, 1]);
    expect(Array.from(d.timestamps)).toEqual([100, 200, 300]);
  });

  it('rejects a malformed line with its number', () => {
    expect(() => parseUData('1\t2\t3\t4\n1\tx\t3\t4')).toThrow(/line 2/);
  });
});

describe('stratifiedSplit (Microsoft protocol)', () => {
  const data = synthetic();
  const s = stratifiedSplit(data, { ratio: 0.75, filterBy: 'item', seed: 42 });

  it('partitions the rows with no overlap', () => {
    const all = new Set([...s.train, ...s.test]);
    expect(all.size).toBe(data.users.length);
    expect(s.train.length + s.test.length).toBe(data.users.length);
  });

  it('puts ⌊0.75·n⌋ of every item group in train (a single-rating item goes to test)', () => {
    const total = groupCounts(data.items, Int32Array.from(data.items.keys()), data.nItems);
    const train = groupCounts(data.items, s.train, data.nItems);
    for (let i = 0; i < data.nItems; i++) expect(train[i]).toBe(Math.floor(0.75 * total[i]!));
  });

  it("follows earlier releases' round-half-even when asked", () => {
    const tiny = parseUData(['1\t1\t1\t0', '1\t2\t1\t0', '2\t2\t1\t0', '1\t3\t1\t0', '2\t3\t1\t0', '3\t3\t1\t0', '4\t3\t1\t0', '5\t3\t1\t0', '6\t3\t1\t0'].join('\n'));
    const r = stratifiedSplit(tiny, { filterBy: 'item', rounding: 'round' });
    // n = 1 → round(0.75) = 1; n = 2 → round(1.5) = 2; n = 6 → round(4.5) = 4.
    expect(Array.from(groupCounts(tiny.items, r.train, 3))).toEqual([1, 2, 4]);
  });

  it('is deterministic by seed and differs across seeds', () => {
    const again = stratifiedSplit(data, { ratio: 0.75, filterBy: 'item', seed: 42 });
    expect(again.test).toEqual(s.test);
    const other = stratifiedSplit(data, { ratio: 0.75, filterBy: 'item', seed: 43 });
    expect(other.test).not.toEqual(s.test);
  });

  it('drops groups under minRating from both sides', () => {
    const f = stratifiedSplit(data, { filterBy: 'item', minRating: 10 });
    const total = groupCounts(data.items, Int32Array.from(data.items.keys()), data.nItems);
    for (const r of [...f.train, ...f.test]) expect(total[data.items[r]!]).toBeGreaterThanOrEqual(10);
  });
});

describe('perUserRatioSplit (RecBole protocol)', () => {
  it("reproduces RecBole's per-group counts", () => {
    expect(recboleSplitCounts(20, [0.8, 0.1, 0.1])).toEqual([16, 2, 2]);
    expect(recboleSplitCounts(29, [0.8, 0.1, 0.1])).toEqual([25, 2, 2]);
    // Small groups: each later part whose share is under one row still gets one.
    expect(recboleSplitCounts(5, [0.8, 0.1, 0.1])).toEqual([3, 1, 1]);
    // The last part is served first (ratios[-1], then ratios[-2]).
    expect(recboleSplitCounts(2, [0.8, 0.1, 0.1])).toEqual([1, 0, 1]);
  });

  it('splits every user 80/10/10 without overlap, deterministically', () => {
    const data = synthetic();
    const s = perUserRatioSplit(data, [0.8, 0.1, 0.1], 1);
    expect(new Set([...s.train, ...s.valid, ...s.test]).size).toBe(data.users.length);
    const all = groupCounts(data.users, Int32Array.from(data.users.keys()), data.nUsers);
    const v = groupCounts(data.users, s.valid, data.nUsers);
    const t = groupCounts(data.users, s.test, data.nUsers);
    for (let u = 0; u < data.nUsers; u++) {
      expect(v[u]).toBe(Math.floor(0.1 * all[u]!));
      expect(t[u]).toBe(Math.floor(0.1 * all[u]!));
    }
    expect(perUserRatioSplit(data, [0.8, 0.1, 0.1], 1).test).toEqual(s.test);
    expect(perUserRatioSplit(data, [0.8, 0.1, 0.1], 2).test).not.toEqual(s.test);
  });
});
