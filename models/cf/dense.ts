/**
 * Small dense linear algebra on row-major Float64Arrays: what ALS fold-in and EASE need.
 */

/**
 * In-place Cholesky factorisation of a symmetric positive-definite n×n matrix: on return the lower
 * triangle holds L with A = L·Lᵀ (the upper triangle is left as it was). Throws when A is not
 * positive definite.
 */
export function cholesky(a: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j]!;
    for (let k = 0; k < j; k++) d -= a[rj + k]! * a[rj + k]!;
    if (!(d > 0)) throw new Error(`cholesky: matrix is not positive definite (pivot ${j}: ${d})`);
    const l = Math.sqrt(d);
    a[rj + j] = l;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j]!;
      for (let k = 0; k < j; k++) s -= a[ri + k]! * a[rj + k]!;
      a[ri + j] = s / l;
    }
  }
}

/** Solves L·Lᵀ·x = b in place in `b`, with L from {@link cholesky}. */
export function choleskySolve(l: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * n + k]! * b[k]!;
    b[i] = s / l[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * b[k]!;
    b[i] = s / l[i * n + i]!;
  }
}

/**
 * In-place inverse of a symmetric positive-definite n×n matrix by Gauss–Jordan elimination without
 * pivoting (stable for SPD matrices). Row-major inner loops, O(n³).
 */
export function invertSpd(a: Float64Array, n: number): void {
  const rowK = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    const pivot = a[rk + k]!;
    if (!(pivot > 0)) throw new Error(`invertSpd: matrix is not positive definite (pivot ${k}: ${pivot})`);
    const inv = 1 / pivot;
    for (let j = 0; j < n; j++) rowK[j] = a[rk + j]! * inv;
    rowK[k] = inv;
    for (let i = 0; i < n; i++) {
      if (i === k) continue;
      const ri = i * n;
      const f = a[ri + k]!;
      if (f === 0) continue;
      for (let j = 0; j < n; j++) a[ri + j]! -= f * rowK[j]!;
      a[ri + k] = -f * inv;
    }
    for (let j = 0; j < n; j++) a[rk + j] = rowK[j]!;
  }
}

/**
 * Eigen-decomposition of a small symmetric n×n matrix by cyclic Jacobi rotations (exact to rounding,
 * O(n³) per sweep; meant for n up to a few hundred). `a` is overwritten.
 *
 * @returns eigenvalues, shape [n], descending, and the matching eigenvectors as the columns of a
 *   row-major n×n matrix.
 */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let scale = 0;
  for (let k = 0; k < n * n; k++) scale += a[k]! * a[k]!;
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    if (off <= 1e-24 * scale) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < n; r++) {
          const arp = a[r * n + p]!;
          const arq = a[r * n + q]!;
          a[r * n + p] = c * arp - s * arq;
          a[r * n + q] = s * arp + c * arq;
        }
        for (let r = 0; r < n; r++) {
          const apr = a[p * n + r]!;
          const aqr = a[q * n + r]!;
          a[p * n + r] = c * apr - s * aqr;
          a[q * n + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < n; r++) {
          const vrp = v[r * n + p]!;
          const vrq = v[r * n + q]!;
          v[r * n + p] = c * vrp - s * vrq;
          v[r * n + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y * n + y]! - a[x * n + x]!);
  const values = Float64Array.from(order, (i) => a[i * n + i]!);
  const vectors = new Float64Array(n * n);
  for (let r = 0; r < n; r++) for (let j = 0; j < n; j++) vectors[r * n + j] = v[r * n + order[j]!]!;
  return { values, vectors };
}

/**
 * Σ_j x[xo + j]·y[yo + j] for j < n, four partial sums at a time: the inner loop of every ALS and
 * spectral sweep, where V8 does not unroll on its own (about 20 % of a MovieLens-100k fit).
 */
export function dotAt(x: ArrayLike<number>, xo: number, y: ArrayLike<number>, yo: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    s0 += x[xo + j]! * y[yo + j]!;
    s1 += x[xo + j + 1]! * y[yo + j + 1]!;
    s2 += x[xo + j + 2]! * y[yo + j + 2]!;
    s3 += x[xo + j + 3]! * y[yo + j + 3]!;
  }
  for (; j < n; j++) s0 += x[xo + j]! * y[yo + j]!;
  return s0 + s1 + s2 + s3;
}

/** y[yo + j] += c·x[xo + j] for j < n, unrolled like {@link dotAt}. */
export function axpyAt(c: number, x: ArrayLike<number>, xo: number, y: Float64Array, yo: number, n: number): void {
  let j = 0;
  for (; j + 3 < n; j += 4) {
    y[yo + j]! += c * x[xo + j]!;
    y[yo + j + 1]! += c * x[xo + j + 1]!;
    y[yo + j + 2]! += c * x[xo + j + 2]!;
    y[yo + j + 3]! += c * x[xo + j + 3]!;
  }
  for (; j < n; j++) y[yo + j]! += c * x[xo + j]!;
}
