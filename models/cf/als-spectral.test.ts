import { describe, expect, it } from 'vitest';
import { topLists } from '../eval/protocols';
import { SeededRandom } from '../random';
import { fitAls, scoreWithVector } from './als';
import { alsSpectralFromParts, fitAlsSpectral } from './als-spectral';
import { symmetricEigen } from './dense';
import { fitSpectral, spectralFoldIn } from './spectral';
import { rowIndices, rowValues, toCsr } from './sparse';

/** A 30 × 40 matrix with two taste groups (even and odd indices), weights 1..5 like ratings. */
function tiny() {
  const rng = new SeededRandom(3);
  const rows: number[] = [];
  const cols: number[] = [];
  const vals: number[] = [];
  for (let u = 0; u < 30; u++) {
    for (let i = 0; i < 40; i++) {
      if (rng.next() < (u % 2 === i % 2 ? 0.35 : 0.05)) {
        rows.push(u);
        cols.push(i);
        vals.push(1 + Math.floor(rng.next() * 5));
      }
    }
  }
  return toCsr(30, 40, Int32Array.from(rows), Int32Array.from(cols), Float32Array.from(vals));
}

describe('symmetricEigen', () => {
  it('matches a hand-computed 2×2 case', () => {
    // [[2, 1], [1, 2]]: eigenvalues 3 and 1, eigenvectors (1, 1)/√2 and (1, −1)/√2.
    const { values, vectors } = symmetricEigen(Float64Array.of(2, 1, 1, 2), 2);
    expect(values[0]).toBeCloseTo(3, 12);
    expect(values[1]).toBeCloseTo(1, 12);
    expect(Math.abs(vectors[0]!)).toBeCloseTo(Math.SQRT1_2, 12);
    expect(vectors[0]! * vectors[2]!).toBeGreaterThan(0);
    expect(vectors[1]! * vectors[3]!).toBeLessThan(0);
  });
});

describe('spectral filter', () => {
  const m = tiny();

  it('finds the leading eigenpairs of the normalised item gram', () => {
    const model = fitSpectral(m, { rank: 4, iterations: 30 });
    // The dense R̃ᵀR̃ with the same normalisation, decomposed exactly.
    const n = 40;
    const deg = new Float64Array(n);
    for (const i of m.indices) deg[i]!++;
    const g = new Float64Array(n * n);
    for (let u = 0; u < 30; u++) {
      const items = rowIndices(m, u);
      const du = 1 / Math.sqrt(items.length);
      for (const p of items) for (const q of items) g[p * n + q]! += (du * du) / Math.sqrt(deg[p]! * deg[q]!);
    }
    const exact = symmetricEigen(g, n);
    for (let j = 0; j < 4; j++) expect(model.eigenvalues[j]).toBeCloseTo(exact.values[j]!, 6);
    // Each kept vector (history side times D^β gives V) lines up with the exact one up to sign.
    for (let j = 0; j < 4; j++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += model.historyVectors[i * 4 + j]! * Math.sqrt(deg[i]!) * exact.vectors[i * n + j]!;
      expect(Math.abs(dot)).toBeCloseTo(1, 4);
    }
  });

  it('counts each history item once and rejects a rank outside the catalog', () => {
    const model = fitSpectral(m, { rank: 3 });
    const once = spectralFoldIn(model.historyVectors, 3, Int32Array.of(2, 5));
    const twice = spectralFoldIn(model.historyVectors, 3, Int32Array.of(2, 5, 2));
    expect(twice).toEqual(once);
    expect(() => fitSpectral(m, { rank: 41 })).toThrow(/rank must be an integer in \[1, 40\]/);
  });
});

describe('ALS-ν + spectral', () => {
  const m = tiny();
  const options = { als: { factors: 8, regularization: 0.5, alpha: 0.5, regularizationExponent: 0.5, iterations: 8, seed: 1 }, spectral: { rank: 4 }, spectralWeight: 0.5 };

  it('evaluates every user through the device fold-in, bit for bit', () => {
    const model = fitAlsSpectral(m, options);
    // What the device rebuilds from the downloaded parts alone.
    const device = alsSpectralFromParts({
      nItems: model.nItems,
      alsFactors: model.alsFactors,
      rank: model.rank,
      alpha: model.alpha,
      regularization: model.regularization,
      regularizationExponent: model.regularizationExponent,
      itemVectors: model.itemVectors,
      historyVectors: model.historyVectors,
    });
    const evaluated = new Float32Array(40);
    const onDevice = new Float32Array(40);
    for (let u = 0; u < 30; u++) {
      const x = device.foldIn(rowIndices(m, u), rowValues(m, u));
      expect(x).toEqual(model.userVectors.subarray(u * model.dims, (u + 1) * model.dims));
      model.scoreUser(u, evaluated);
      scoreWithVector(device.itemVectors, device.dims, x, onDevice);
      expect(onDevice).toEqual(evaluated);
    }
    // The harness's top lists come out the same when it is handed the device's scorer.
    const relevant = Array.from({ length: 30 }, () => new Set([0, 1, 2, 3]));
    const viaDevice = { scoreUser: (u: number, out: Float32Array) => scoreWithVector(device.itemVectors, device.dims, device.foldIn(rowIndices(m, u), rowValues(m, u)), out) };
    expect(topLists(viaDevice, m, relevant, 5)).toEqual(topLists(model, m, relevant, 5));
  });

  it('is ALS-ν itself when the spectral weight is 0', () => {
    const model = fitAlsSpectral(m, { ...options, spectralWeight: 0 });
    const als = fitAls(m, options.als);
    expect(model.dims).toBe(8);
    expect(model.itemVectors).toEqual(als.itemFactors);
    expect(model.userVectors).toEqual(als.userFactors);
  });

  it('ranks a user’s own taste group first', () => {
    const model = fitAlsSpectral(m, options);
    const out = new Float32Array(40);
    for (const u of [0, 1]) {
      model.scoreUser(u, out);
      let same = 0;
      let other = 0;
      out.forEach((s, i) => (i % 2 === u % 2 ? (same += s) : (other += s)));
      expect(same).toBeGreaterThan(other);
    }
  });

  it('names the bad entry of a history', () => {
    const model = fitAlsSpectral(m, options);
    expect(() => model.foldIn(Int32Array.of(3, 40), Float32Array.of(1, 1))).toThrow(/history entry 1 has item index 40, outside \[0, 40\)/);
    expect(() => model.foldIn(Int32Array.of(3), Float32Array.of(-1))).toThrow(/history entry 0 has weight -1/);
    expect(() => model.foldIn(Int32Array.of(3), Float32Array.of(1, 2))).toThrow(/1 items but 2 weights/);
  });
});
