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
