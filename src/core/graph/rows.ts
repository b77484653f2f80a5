/**
 * Row gathering and feature concatenation, CPU reference. MEGNet's edge
 * update feeds [v_src, v_dst, e, u_graph] to a dense layer: three gathers
 * (node rows by src and dst, the state row by edgeGraph) concatenated with
 * the edge features.
 */
import { type Matrix, matrix } from './types';

/** out[r] = x[idx[r]]; an index outside [0, x.rows) is an error. */
export function gatherRows(x: Matrix, idx: Int32Array): Matrix {
  const { cols } = x;
  const out = matrix(idx.length, cols);
  for (let r = 0; r < idx.length; r++) {
    const s = idx[r];
    if (s < 0 || s >= x.rows || !Number.isInteger(s)) throw new RangeError(`gatherRows: index ${s} at row ${r} is outside [0, ${x.rows})`);
    out.data.set(x.data.subarray(s * cols, (s + 1) * cols), r * cols);
  }
  return out;
}

/** Concatenates [R, F_i] blocks along the feature axis into [R, sum F_i]. */
export function concatCols(blocks: readonly Matrix[]): Matrix {
  if (blocks.length === 0) throw new RangeError('concatCols: no blocks');
  const rows = blocks[0].rows;
  let cols = 0;
  for (const b of blocks) {
    if (b.rows !== rows) throw new RangeError(`concatCols: blocks have ${rows} and ${b.rows} rows`);
    cols += b.cols;
  }
  const out = matrix(rows, cols);
  let offset = 0;
  for (const b of blocks) {
    for (let r = 0; r < rows; r++) out.data.set(b.data.subarray(r * b.cols, (r + 1) * b.cols), r * cols + offset);
    offset += b.cols;
  }
  return out;
}

/** out[i] = x[perm[i]] for the rows of a matrix (a gather with a permutation). */
export function permuteRows(x: Matrix, perm: Int32Array): Matrix {
  if (perm.length !== x.rows) throw new RangeError(`permuteRows: ${perm.length} indices for ${x.rows} rows`);
  return gatherRows(x, perm);
}

/** out[i] = a[perm[i]]. */
export function permuteArray<T extends Int32Array | Float32Array>(a: T, perm: Int32Array): T {
  const out = a.slice(0, perm.length) as T;
  for (let i = 0; i < perm.length; i++) out[i] = a[perm[i]];
  return out;
}
