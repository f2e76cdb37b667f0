/**
 * A 2-D map of the catalog: the principal-component projection of item vectors (hybrid factors or
 * image embeddings). PCA is deterministic (the same version always gives the same map) and costs
 * O(items·d²) for the covariance plus a few power iterations on a d×d matrix: a few ms for 35k
 * items × 64 dims, in the lab worker. Plain TypeScript, no DOM.
 */

export interface Projection2D {
  /** Row-major [rows, 2]: each item's coordinates along the first two principal components. */
  xy: Float32Array;
  /** Share of the total variance each of the two components explains (0–1). */
  explained: [number, number];
  /** The two unit component vectors, row-major [2, cols]. */
  components: Float64Array;
}

export interface ProjectionOptions {
  /** Power-iteration steps per component (default 200; stops earlier once converged). */
  iterations?: number;
  /** Scale each row to unit length first (cosine geometry, as the engine compares them); default true. */
  normalise?: boolean;
}

/**
 * Projects `rows` vectors of `cols` values onto their first two principal components.
 * @param values row-major [rows, cols], float32. Rows that are all zero (e.g. items without a
 * photo) stay at the origin of the centred space and do not count toward the mean.
 */
export function pca2d(values: Float32Array, rows: number, cols: number, options: ProjectionOptions = {}): Projection2D {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) throw new RangeError(`pca2d: bad shape ${rows}×${cols}`);
  if (values.length !== rows * cols) throw new RangeError(`pca2d: ${values.length} values is not ${rows}×${cols}`);
  const iterations = options.iterations ?? 200;
  const normalise = options.normalise ?? true;

  // Rows as float64, optionally unit length; zero rows are marked and left out of the statistics.
  const x = new Float64Array(rows * cols);
  const live = new Uint8Array(rows);
  let liveCount = 0;
  for (let r = 0; r < rows; r++) {
    let norm = 0;
    for (let c = 0; c < cols; c++) norm += values[r * cols + c]! ** 2;
    if (norm === 0 || !Number.isFinite(norm)) continue;
    live[r] = 1;
    liveCount++;
    const scale = normalise ? 1 / Math.sqrt(norm) : 1;
    for (let c = 0; c < cols; c++) x[r * cols + c] = values[r * cols + c]! * scale;
  }
  const mean = new Float64Array(cols);
  if (liveCount > 0) {
    for (let r = 0; r < rows; r++) if (live[r]) for (let c = 0; c < cols; c++) mean[c]! += x[r * cols + c]!;
    for (let c = 0; c < cols; c++) mean[c]! /= liveCount;
  }
  for (let r = 0; r < rows; r++) if (live[r]) for (let c = 0; c < cols; c++) x[r * cols + c]! -= mean[c]!;

  // Covariance (d×d, symmetric).
  const cov = new Float64Array(cols * cols);
  for (let r = 0; r < rows; r++) {
    if (!live[r]) continue;
    const o = r * cols;
    for (let i = 0; i < cols; i++) {
      const xi = x[o + i]!;
      if (xi === 0) continue;
      for (let j = i; j < cols; j++) cov[i * cols + j]! += xi * x[o + j]!;
    }
  }
  const denominator = Math.max(1, liveCount - 1);
  let trace = 0;
  for (let i = 0; i < cols; i++) {
    for (let j = i; j < cols; j++) {
      const v = cov[i * cols + j]! / denominator;
      cov[i * cols + j] = v;
      cov[j * cols + i] = v;
    }
    trace += cov[i * cols + i]!;
  }

  const components = new Float64Array(2 * cols);
  const eigen: [number, number] = [0, 0];
  for (let k = 0; k < Math.min(2, cols); k++) {
    const v = components.subarray(k * cols, (k + 1) * cols);
    // A fixed, non-degenerate start keeps the map reproducible.
    for (let i = 0; i < cols; i++) v[i] = 1 + ((i * 7 + k * 3) % 11) / 11;
    let lambda = 0;
    for (let step = 0; step < iterations; step++) {
      const next = new Float64Array(cols);
      for (let i = 0; i < cols; i++) {
        let s = 0;
        for (let j = 0; j < cols; j++) s += cov[i * cols + j]! * v[j]!;
        next[i] = s;
      }
      // Deflate: stay orthogonal to the components already found.
      for (let p = 0; p < k; p++) {
        const u = components.subarray(p * cols, (p + 1) * cols);
        let d = 0;
        for (let i = 0; i < cols; i++) d += next[i]! * u[i]!;
        for (let i = 0; i < cols; i++) next[i]! -= d * u[i]!;
      }
      let norm = 0;
      for (let i = 0; i < cols; i++) norm += next[i]! ** 2;
      norm = Math.sqrt(norm);
      if (norm === 0) break;
      let change = 0;
      for (let i = 0; i < cols; i++) {
        const value = next[i]! / norm;
        change += Math.abs(value - v[i]!);
        v[i] = value;
      }
      lambda = norm;
      if (change < 1e-10) break;
    }
    // A sign convention so the map does not flip between runs: the largest entry is positive.
    let largest = 0;
    for (let i = 1; i < cols; i++) if (Math.abs(v[i]!) > Math.abs(v[largest]!)) largest = i;
    if (v[largest]! < 0) for (let i = 0; i < cols; i++) v[i] = -v[i]!;
    eigen[k] = lambda;
  }

  const xy = new Float32Array(rows * 2);
  for (let r = 0; r < rows; r++) {
    if (!live[r]) continue;
    for (let k = 0; k < 2; k++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += x[r * cols + c]! * components[k * cols + c]!;
      xy[r * 2 + k] = s;
    }
  }
  return { xy, explained: trace > 0 ? [eigen[0] / trace, eigen[1] / trace] : [0, 0], components };
}

/** Evenly spaced row indices, at most `max` of them (a map of 1M points would not be readable anyway). */
export function sampleRows(rows: number, max: number): Int32Array {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`sampleRows: max must be a positive integer, got ${max}`);
  const n = Math.min(rows, max);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor((i * rows) / n);
  return out;
}
