import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { scoreWithVector } from '../../models/cf/als';
import { fitAlsSpectral } from '../../models/cf/als-spectral';
import { toCsr } from '../../models/cf/sparse';
import { evaluateSplit } from './split-evaluate';

const dirs: string[] = [];
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'split-eval-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function readRecs(path: string): { user: string; item: string; rank: string; score: string }[] {
  return parse(readFileSync(path, 'utf8'), { columns: true }) as { user: string; item: string; rank: string; score: string }[];
}

// Popularity in train: A 3, B 3, C 2; D and E have no interaction. u9 is not in train.
const TINY = {
  'train.csv': 'user,item,rating,timestamp\nu1,A,5,1\nu1,B,4,2\nu2,A,3,3\nu2,C,4,4\nu3,A,5,5\nu3,B,2,6\nu3,C,1,7\nu4,B,5,8\n',
  'test.csv': 'user,item,rating,timestamp\nu1,C,5,9\nu4,A,4,10\nu9,A,3,11\n',
  'items.csv': 'item,title\nA,a\nB,b\nC,c\nD,d\nE,e\n',
};

describe('evaluateSplit', () => {
  it('popularity on a hand-checked fixture: training items left out, ties in items.csv order', () => {
    const dir = folder(TINY);
    const out = join(dir, 'recs.csv');
    const r = evaluateSplit(dir, { out, k: 3, model: 'popularity' });
    expect(r).toMatchObject({ users: 3, items: 5, coldItems: 2, rows: 9, k: 3 });
    const recs = readRecs(out);
    const byUser = (u: string) => recs.filter((x) => x.user === u).map((x) => x.item);
    expect(byUser('u1')).toEqual(['C', 'D', 'E']);
    expect(byUser('u4')).toEqual(['A', 'C', 'D']);
    expect(byUser('u9')).toEqual(['A', 'B', 'C']);
    expect(recs.filter((x) => x.user === 'u1').map((x) => x.rank)).toEqual(['1', '2', '3']);
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe('user,item,rank,score');
  });

  it('the served model: cold catalog items are rankable with score 0, seen items never recommended', () => {
    const dir = folder({ ...TINY, 'valid.csv': 'user,item,rating,timestamp\nu4,C,3,12\n' });
    const out = join(dir, 'recs.csv');
    const r = evaluateSplit(dir, { out, k: 4 });
    expect(r.model).toBe('als-spectral');
    expect(r.rated).toBe(true);
    expect(r.validNdcg).not.toBeNull();
    expect(r.coldUsers).toBe(1);
    const recs = readRecs(out);
    const u1 = recs.filter((x) => x.user === 'u1');
    expect(u1.map((x) => x.item).sort()).toEqual(['C', 'D', 'E']);
    expect(u1.find((x) => x.item === 'D')!.score).toBe('0');
    // u4's valid item C is left out too.
    expect(recs.filter((x) => x.user === 'u4').map((x) => x.item).sort()).toEqual(['A', 'D', 'E']);
  });

  it('the served model scores a user by the fold-in of their rating-weighted history', () => {
    const dir = folder(TINY);
    const out = join(dir, 'recs.csv');
    const r = evaluateSplit(dir, { out, k: 5 });
    expect(r.validNdcg).toBeNull();
    expect(r.params?.spectralWeight).toBe(0.3);
    // Items A..E are indices 0..4 (items.csv order); the mean training rating is 29 / 8.
    const model = fitAlsSpectral(
      toCsr(4, 5, Int32Array.of(0, 0, 1, 1, 2, 2, 2, 3), Int32Array.of(0, 1, 0, 2, 0, 1, 2, 1), Float32Array.from([5, 4, 3, 4, 5, 2, 1, 5], (x) => (x * 8) / 29)),
      r.params!,
    );
    const user = model.foldIn(Int32Array.of(0, 1), Float32Array.of((5 * 8) / 29, (4 * 8) / 29));
    const scores = new Float32Array(5);
    scoreWithVector(model.itemVectors, model.dims, user, scores);
    const c = readRecs(out).find((x) => x.user === 'u1' && x.item === 'C')!;
    expect(Number(c.score)).toBeCloseTo(scores[2]!, 5);
    expect(Math.abs(scores[2]!)).toBeGreaterThan(1e-3);
  });

  it('ratings are confidences on their own scale: doubling every rating changes nothing, dropping them does', () => {
    const twice = TINY['train.csv'].replace(/^(u\d,[A-E]),(\d)/gm, (_, head: string, v: string) => `${head},${Number(v) * 2}`);
    expect(twice).toContain('u1,A,10,1');
    const a = folder(TINY);
    const b = folder({ ...TINY, 'train.csv': twice });
    const c = folder({ ...TINY, 'train.csv': TINY['train.csv'].replace(/^(u\d,[A-E]),\d/gm, '$1,') });
    evaluateSplit(a, { out: join(a, 'recs.csv'), k: 5 });
    evaluateSplit(b, { out: join(b, 'recs.csv'), k: 5 });
    const unrated = evaluateSplit(c, { out: join(c, 'recs.csv'), k: 5 });
    expect(unrated.rated).toBe(false);
    expect(readFileSync(join(b, 'recs.csv'), 'utf8')).toBe(readFileSync(join(a, 'recs.csv'), 'utf8'));
    expect(readFileSync(join(c, 'recs.csv'), 'utf8')).not.toBe(readFileSync(join(a, 'recs.csv'), 'utf8'));
  });

  it('ALS-ν alone stays available', () => {
    const dir = folder({ ...TINY, 'valid.csv': 'user,item,rating,timestamp\nu4,C,3,12\n' });
    const r = evaluateSplit(dir, { out: join(dir, 'recs.csv'), k: 4, model: 'als' });
    expect(r).toMatchObject({ model: 'als', rated: false, coldUsers: 1 });
    expect(r.params?.als?.regularizationExponent).toBe(0.5);
    expect(() => evaluateSplit(dir, { model: 'bpr' as never })).toThrow(/model must be one of als-spectral, als, popularity, got "bpr"/);
  });

  it('reports the file and line of a malformed row', () => {
    const bad = folder({ ...TINY, 'train.csv': 'user,item,rating,timestamp\nu1,A,5,1\nu2,B,lots,2\n' });
    expect(() => evaluateSplit(bad)).toThrow(/train\.csv: line 3: "rating" is not a number/);
    const empty = folder({ ...TINY, 'items.csv': 'item,title\nA,a\n\nB,b\n,x\n' });
    expect(() => evaluateSplit(empty)).toThrow(/items\.csv: line 5: empty "item"/);
    const noCol = folder({ ...TINY, 'test.csv': 'usr\nu1\n' });
    expect(() => evaluateSplit(noCol)).toThrow(/test\.csv: line 1: missing column "user"/);
    const ragged = folder({ ...TINY, 'train.csv': 'user,item,rating,timestamp\nu1,A,5,1,extra\n' });
    expect(() => evaluateSplit(ragged)).toThrow(/train\.csv: line 2/);
  });

  const ML = join(process.cwd(), '..', 'shared', 'data', 'movielens-100k');
  it.skipIf(!existsSync(join(ML, 'ua.base')))('round trip on MovieLens ua.base / ua.test: P@10 above a floor', () => {
    const toCsv = (text: string) =>
      'user,item,rating,timestamp\n' +
      text
        .trim()
        .split('\n')
        .map((l) => l.trim().split(/\s+/).join(','))
        .join('\n') +
      '\n';
    const test = readFileSync(join(ML, 'ua.test'), 'utf8');
    const items = Array.from({ length: 1682 }, (_, i) => String(i + 1));
    const dir = folder({ 'train.csv': toCsv(readFileSync(join(ML, 'ua.base'), 'utf8')), 'test.csv': toCsv(test), 'items.csv': 'item\n' + items.join('\n') + '\n' });
    const out = join(dir, 'recs.csv');
    const r = evaluateSplit(dir, { out });
    expect(r.users).toBe(943);
    const relevant = new Set(test.trim().split('\n').map((l) => l.split(/\s+/).slice(0, 2).join(':')));
    const recs = readRecs(out);
    expect(recs).toHaveLength(9430);
    const hits = recs.filter((x) => relevant.has(`${x.user}:${x.item}`)).length;
    const precision = hits / recs.length;
    // ua.test holds exactly 10 ratings per user; the served model reaches 0.267 here,
    // ALS-ν alone 0.264, popularity 0.122.
    expect(r.rated).toBe(true);
    expect(precision).toBeGreaterThan(0.2);
  }, 120_000);
});
