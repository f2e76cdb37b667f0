import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../random';
import { RecommenderEngine } from './engine';
import { jsScorer, tfScorer, topKOfScores } from './scorer';
import type { Scorer } from './scorer';
import { HAND_ITEMS, handContent, handPack, NOW } from './testing/hand-pack';
import type { FeedRequest } from './types';

function randomMatrix(rows: number, cols: number, seed: number): Float32Array {
  const random = new SeededRandom(seed);
  return Float32Array.from({ length: rows * cols }, () => random.uniform(-1, 1));
}

describe('plain-JS scorer', () => {
  it('returns the top k by dot product, best first, ties to the lower row', async () => {
    const m = jsScorer().prepare(Float32Array.from([1, 0, 0, 1, 1, 1, 0.5, 0.5, 2, 0]), 5, 2);
    const top = await m.topK(Float32Array.from([1, 1]), 3);
    expect(Array.from(top.indices)).toEqual([2, 4, 0]); // 2, 2, then 1 (rows 0, 1 tie: row 0)
    expect(Array.from(top.scores)).toEqual([2, 2, 1]);
    const masked = await m.topK(Float32Array.from([1, 1]), 3, Uint8Array.from([1, 1, 0, 1, 0]));
    expect(Array.from(masked.indices)).toEqual([0, 1, 3]);
    expect(Array.from((await m.topK(Float32Array.from([1, 1]), 9)).indices)).toEqual([2, 4, 0, 1, 3]);
    expect(Array.from(await m.scores(Float32Array.from([1, -1])))).toEqual([1, -1, 0, 0, 2]);
    await expect(m.topK(Float32Array.from([1]), 1)).rejects.toThrow(/1 values, the matrix has 2 columns/);
  });

  it('agrees with a full sort on random data', () => {
    const random = new SeededRandom(3);
    const scores = Float32Array.from({ length: 500 }, () => Math.round(random.uniform(0, 50)));
    const allowed = Uint8Array.from({ length: 500 }, () => (random.next() < 0.7 ? 1 : 0));
    const expected = Array.from(scores.keys())
      .filter((i) => allowed[i] === 1)
      .sort((a, b) => scores[b]! - scores[a]! || a - b)
      .slice(0, 37);
    expect(Array.from(topKOfScores(scores, 37, allowed).indices)).toEqual(expected);
  });
});

describe.each(['cpu', 'wasm'])('TF.js scorer on %s', (backend) => {
  let ready: Promise<boolean> | undefined;
  const use = async (): Promise<Scorer> => {
    ready ??= tf.setBackend(backend);
    expect(await ready).toBe(true);
    await tf.ready();
    return tfScorer(tf);
  };
  afterAll(() => {
    tf.engine().reset();
  });

  it('gives the plain-JS scorer\'s top k and scores, with and without a mask, and leaks no tensor', async () => {
    const scorer = await use();
    expect(scorer.name).toBe(`tfjs-${backend}`);
    const rows = 3000;
    const cols = 24;
    const values = randomMatrix(rows, cols, 11);
    const before = tf.memory().numTensors;
    const tfm = scorer.prepare(values, rows, cols);
    const jsm = jsScorer().prepare(values, rows, cols);
    const random = new SeededRandom(5);
    for (let q = 0; q < 4; q++) {
      const x = Float32Array.from({ length: cols }, () => random.uniform(-1, 1));
      const mask = q % 2 === 1 ? Uint8Array.from({ length: rows }, () => (random.next() < 0.05 ? 1 : 0)) : undefined;
      const [a, b] = await Promise.all([tfm.topK(x, 50, mask), jsm.topK(x, 50, mask)]);
      expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
      a.scores.forEach((s, n) => expect(s).toBeCloseTo(b.scores[n]!, 4));
      const [sa, sb] = await Promise.all([tfm.scores(x), jsm.scores(x)]);
      expect(sa.length).toBe(rows);
      sa.forEach((s, n) => expect(s).toBeCloseTo(sb[n]!, 4));
    }
    // A mask allowing fewer rows than k: only allowed rows come back.
    const few = new Uint8Array(rows);
    few[7] = few[2999] = 1;
    expect(Array.from((await tfm.topK(Float32Array.from({ length: cols }, () => 1), 10, few)).indices).sort((p, q) => p - q)).toEqual([7, 2999]);
    expect(tf.memory().numTensors).toBe(before + 1); // the matrix itself
    tfm.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await expect(tfm.topK(new Float32Array(cols), 1)).rejects.toThrow(/disposed/);
  });

  it('runs the whole engine to the same feed, similar items and search as the plain-JS scorer', async () => {
    const scorer = await use();
    const before = tf.memory().numTensors;
    const viaTf = new RecommenderEngine({ pack: handPack(), catalog: HAND_ITEMS, content: handContent, scorer });
    const viaJs = new RecommenderEngine({ pack: handPack(), catalog: HAND_ITEMS, content: handContent, scorer: jsScorer() });
    expect(viaTf.info.scorer).toBe(`tfjs-${backend}`);
    const request: FeedRequest = {
      history: [
        { itemId: 'dress-red', type: 'like', at: NOW },
        { itemId: 'shoe-red', type: 'view', at: NOW },
      ],
      now: NOW,
      k: 5,
      diversity: 0.4,
      filters: { genders: ['Women', 'Men'] },
    };
    const strip = (r: { items: { itemId: string; score: number }[] }) => r.items.map((i) => [i.itemId, Number(i.score.toFixed(4))]);
    expect(strip(await viaTf.feed(request))).toEqual(strip(await viaJs.feed(request)));
    expect(strip(await viaTf.feed({ ...request, history: [] }))).toEqual(strip(await viaJs.feed({ ...request, history: [] })));
    for (const mode of ['visual', 'content', 'blend'] as const) {
      expect(strip(await viaTf.similar('dress-blue', 3, mode))).toEqual(strip(await viaJs.similar('dress-blue', 3, mode)));
    }
    expect(strip(await viaTf.searchText('red shoes', 3))).toEqual(strip(await viaJs.searchText('red shoes', 3)));
    expect(strip(await viaTf.nearestToEmbedding([0, 0.2, 1], 3))).toEqual(strip(await viaJs.nearestToEmbedding([0, 0.2, 1], 3)));
    // Three matrices (factors, image, content) live while the engine does; none after.
    expect(tf.memory().numTensors).toBe(before + 3);
    viaTf.setModel({ pack: handPack(), catalog: HAND_ITEMS, scorer });
    expect(tf.memory().numTensors).toBe(before + 3);
    viaTf.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
