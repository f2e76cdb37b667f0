/**
 * Compressed sparse rows: the user × item matrices every model here trains on.
 */

export interface Csr {
  nRows: number;
  nCols: number;
  /** Row start offsets, shape [nRows + 1], int32: row r is `indices[indptr[r] .. indptr[r+1])`. */
  indptr: Int32Array;
  /** Column index of each stored entry, shape [nnz], int32, ascending within a row. */
  indices: Int32Array;
  /** Value of each stored entry, shape [nnz], float32. */
  values: Float32Array;
}

/**
 * Builds a CSR matrix from coordinates (each shape [nnz]). Duplicate (row, col) pairs are summed.
 * `values` defaults to all ones (binary implicit feedback).
 */
export function toCsr(
  nRows: number,
  nCols: number,
  rows: Int32Array,
  cols: Int32Array,
  values?: Float32Array,
): Csr {
  const n = rows.length;
  const counts = new Int32Array(nRows + 1);
  for (let k = 0; k < n; k++) counts[rows[k]! + 1]!++;
  for (let r = 0; r < nRows; r++) counts[r + 1]! += counts[r]!;
  const order = new Int32Array(n);
  const fill = counts.slice(0, nRows);
  for (let k = 0; k < n; k++) order[fill[rows[k]!]!++] = k;
  // Sort each row by column, then merge duplicates.
  const indptr = new Int32Array(nRows + 1);
  const indices = new Int32Array(n);
  const vals = new Float32Array(n);
  let nnz = 0;
  for (let r = 0; r < nRows; r++) {
    const seg = order.subarray(counts[r]!, counts[r + 1]!);
    const sorted = Array.from(seg).sort((a, b) => cols[a]! - cols[b]!);
    for (const k of sorted) {
      const c = cols[k]!;
      const v = values ? values[k]! : 1;
      if (nnz > indptr[r]! && indices[nnz - 1] === c) vals[nnz - 1]! += v;
      else {
        indices[nnz] = c;
        vals[nnz] = v;
        nnz++;
      }
    }
    indptr[r + 1] = nnz;
  }
  return { nRows, nCols, indptr, indices: indices.slice(0, nnz), values: vals.slice(0, nnz) };
}

/** The transpose (item × user from user × item), still with sorted columns. */
export function transpose(m: Csr): Csr {
  const nnz = m.indices.length;
  const rows = new Int32Array(nnz);
  for (let r = 0; r < m.nRows; r++) rows.fill(r, m.indptr[r]!, m.indptr[r + 1]!);
  return toCsr(m.nCols, m.nRows, m.indices, rows, m.values);
}

/** Row r's column indices (a view, no copy). */
export function rowIndices(m: Csr, r: number): Int32Array {
  return m.indices.subarray(m.indptr[r]!, m.indptr[r + 1]!);
}

/** Row r's values (a view, no copy). */
export function rowValues(m: Csr, r: number): Float32Array {
  return m.values.subarray(m.indptr[r]!, m.indptr[r + 1]!);
}

/** A copy of `m` with every stored value replaced by f(value). */
export function mapValues(m: Csr, f: (v: number) => number): Csr {
  return { ...m, values: m.values.map(f) };
}
