/**
 * The two published MovieLens protocols' splits, seeded. Both return row indices into the input
 * interactions, so any column (ratings, timestamps) follows its row.
 *
 * Our random generator is not NumPy's, so a split has the same protocol as the reference library's
 * (group sizes, rounding, ordering rule), never the same rows.
 */
import type { Interactions } from './data';
import { SeededRandom } from '../random';

export interface TrainTest {
  /** Row indices of the training interactions, int32, ascending. */
  train: Int32Array;
  /** Row indices of the test interactions, int32, ascending. */
  test: Int32Array;
}

export interface TrainValidTest extends TrainTest {
  /** Row indices of the validation interactions, int32, ascending. */
  valid: Int32Array;
}

export interface StratifiedOptions {
  /** Fraction of each group that goes to train (Microsoft's `ratio`, default 0.75). */
  ratio?: number;
  /** Group column: 'item' or 'user' (Microsoft's `filter_by`, default 'user' as theirs). */
  filterBy?: 'user' | 'item';
  /** Drop groups with fewer rows than this before splitting (Microsoft's `min_rating`, default 1). */
  minRating?: number;
  seed?: number;
  /**
   * 'fraction' (default) follows the current `recommenders` code: a row of rank r (1-based, after a
   * random shuffle of its group) of a group of n rows is in train when r / n ≤ ratio, so train gets
   * ⌊ratio·n⌋ rows (a single-row group goes wholly to test). 'round' follows earlier releases,
   * `rank <= round(ratio * count)` with NumPy's round-half-to-even (a single-row group goes to train).
   */
  rounding?: 'fraction' | 'round';
}

function groupRows(keys: Int32Array, nGroups: number): { order: Int32Array; start: Int32Array } {
  const start = new Int32Array(nGroups + 1);
  for (let i = 0; i < keys.length; i++) start[keys[i]! + 1]!++;
  for (let g = 0; g < nGroups; g++) start[g + 1]! += start[g]!;
  const fill = start.slice(0, nGroups);
  const order = new Int32Array(keys.length);
  for (let i = 0; i < keys.length; i++) order[fill[keys[i]!]!++] = i;
  return { order, start };
}

/** NumPy's np.round: half to even. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Microsoft Recommenders' `python_stratified_split`: the rows of each group (each item when
 * `filterBy` is 'item') are shuffled and the first share goes to train, the rest to test, so every
 * group keeps the ratio. With `minRating` > 1, groups with fewer rows are dropped from both sides
 * (their `min_rating_filter_pandas`).
 */
export function stratifiedSplit(data: Interactions, options: StratifiedOptions = {}): TrainTest {
  const ratio = options.ratio ?? 0.75;
  const filterBy = options.filterBy ?? 'user';
  const minRating = options.minRating ?? 1;
  if (minRating < 1) throw new Error('minRating must be ≥ 1');
  const keys = filterBy === 'user' ? data.users : data.items;
  const nGroups = filterBy === 'user' ? data.nUsers : data.nItems;
  const rng = new SeededRandom(options.seed ?? 42);
  const { order, start } = groupRows(keys, nGroups);
  const train: number[] = [];
  const test: number[] = [];
  for (let g = 0; g < nGroups; g++) {
    const a = start[g]!;
    const b = start[g + 1]!;
    const n = b - a;
    if (n === 0 || n < minRating) continue;
    rng.shuffle(order, a, b);
    const roundCut = roundHalfEven(ratio * n);
    for (let k = 0; k < n; k++) {
      const rank = k + 1;
      const inTrain = options.rounding === 'round' ? rank <= roundCut : rank / n <= ratio;
      (inTrain ? train : test).push(order[a + k]!);
    }
  }
  return { train: Int32Array.from(train).sort(), test: Int32Array.from(test).sort() };
}

/**
 * RecBole's `_calcu_split_ids`: every part but the first gets ⌊ratio·n⌋ rows, the first the rest;
 * then each later part whose share is in (0, 1) row is given one row taken from the first part,
 * while the first keeps more than one.
 */
export function recboleSplitCounts(n: number, ratios: readonly number[]): number[] {
  const total = ratios.reduce((s, r) => s + r, 0);
  const norm = ratios.map((r) => r / total);
  const cnt = norm.map((r) => Math.floor(r * n));
  cnt[0] = n - cnt.slice(1).reduce((s, c) => s + c, 0);
  for (let i = 1; i < norm.length; i++) {
    if (cnt[0]! <= 1) break;
    const share = norm[norm.length - i]! * n;
    if (share > 0 && share < 1) {
      cnt[cnt.length - i]!++;
      cnt[0]!--;
    }
  }
  return cnt;
}

/**
 * RecBole's default general-recommendation split, `eval_args: {split: {RS: [0.8, 0.1, 0.1]},
 * order: RO, group_by: user}`: all interactions are shuffled, grouped by user (keeping the shuffled
 * order), and each user's rows are cut into train / valid / test by {@link recboleSplitCounts}.
 */
export function perUserRatioSplit(
  data: Interactions,
  ratios: readonly [number, number, number] = [0.8, 0.1, 0.1],
  seed = 2020,
): TrainValidTest {
  const rng = new SeededRandom(seed);
  const { order, start } = groupRows(data.users, data.nUsers);
  const parts: number[][] = [[], [], []];
  for (let u = 0; u < data.nUsers; u++) {
    const a = start[u]!;
    const b = start[u + 1]!;
    // Shuffling within the group is the same in distribution as RecBole's global shuffle then
    // a stable group-by.
    rng.shuffle(order, a, b);
    const cnt = recboleSplitCounts(b - a, ratios);
    let at = a;
    cnt.forEach((c, p) => {
      for (let k = 0; k < c; k++) parts[p]!.push(order[at++]!);
    });
  }
  const [train, valid, test] = parts.map((p) => Int32Array.from(p).sort());
  return { train: train!, valid: valid!, test: test! };
}
