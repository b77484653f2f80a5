/**
 * Segmented reductions over sorted segments, CPU reference (see types.ts for
 * the layout). Segments are CSR offsets; empty segments give 0 for every
 * reduction, including max (there is nothing to take the max of, and a
 * finite 0 keeps downstream layers finite).
 */
import { type Matrix, matrix } from './types';

export type SegmentReduce = 'sum' | 'mean' | 'max';

/**
 * CSR offsets (length count + 1) from sorted segment ids: segment s is rows
 * offsets[s] .. offsets[s+1]-1. Ids must be non-decreasing and in
 * [0, count); ids that never occur give empty segments.
 */
export function segmentOffsets(ids: Int32Array, count: number): Int32Array {
  const offsets = new Int32Array(count + 1);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (s < 0 || s >= count) throw new RangeError(`segmentOffsets: id ${s} at row ${i} is outside [0, ${count})`);
    if (i > 0 && s < ids[i - 1]) throw new RangeError(`segmentOffsets: ids are not sorted (row ${i}: ${ids[i - 1]} then ${s})`);
    offsets[s + 1]++;
  }
  for (let s = 0; s < count; s++) offsets[s + 1] += offsets[s];
  return offsets;
}

/** The inverse of segmentOffsets: the segment id of every row. */
export function segmentIds(offsets: Int32Array): Int32Array {
  const count = offsets.length - 1;
  const ids = new Int32Array(offsets[count]);
  for (let s = 0; s < count; s++) ids.fill(s, offsets[s], offsets[s + 1]);
  return ids;
}

/** Checks the CSR invariants the kernels rely on (they do not bounds-check segments). */
export function checkOffsets(offsets: Int32Array, rows: number): void {
  if (offsets.length < 1 || offsets[0] !== 0) throw new RangeError('segment offsets must start with 0');
  for (let s = 1; s < offsets.length; s++) {
    if (offsets[s] < offsets[s - 1]) throw new RangeError(`segment offsets decrease at ${s}`);
  }
  if (offsets[offsets.length - 1] !== rows) throw new RangeError(`segment offsets end at ${offsets[offsets.length - 1]} but there are ${rows} rows`);
}

/**
 * The stable permutation that sorts edges by destination: edge i of the
 * sorted list is edge perm[i] of the input. Edges with the same dst keep
 * their input order (so a src-sorted neighbour list stays src-sorted within
 * each dst segment, which keeps results reproducible). Counting sort, O(E + N).
 */
export function sortEdgesByDst(dst: Int32Array, nodeCount?: number): Int32Array {
  let n = nodeCount ?? 0;
  if (nodeCount === undefined) for (let i = 0; i < dst.length; i++) n = Math.max(n, dst[i] + 1);
  const start = new Int32Array(n + 1);
  for (let i = 0; i < dst.length; i++) {
    const d = dst[i];
    if (d < 0 || d >= n) throw new RangeError(`sortEdgesByDst: dst ${d} at edge ${i} is outside [0, ${n})`);
    start[d + 1]++;
  }
  for (let i = 0; i < n; i++) start[i + 1] += start[i];
  const perm = new Int32Array(dst.length);
  for (let i = 0; i < dst.length; i++) perm[start[dst[i]]++] = i;
  return perm;
}

/**
 * out[s, f] = reduce over rows r of segment s of x[r, f] (times weights[r]
 * when given: the weighted sum r = sum_i a_i x_i of attention readouts).
 */
export function segmentReduce(x: Matrix, offsets: Int32Array, mode: SegmentReduce, weights?: Float32Array): Matrix {
  checkOffsets(offsets, x.rows);
  if (weights && weights.length !== x.rows) throw new RangeError(`segmentReduce: ${weights.length} weights for ${x.rows} rows`);
  if (weights && mode === 'max') throw new RangeError('segmentReduce: weights are for sum and mean only');
  const { cols } = x;
  const count = offsets.length - 1;
  const out = matrix(count, cols);
  for (let s = 0; s < count; s++) {
    const a = offsets[s];
    const b = offsets[s + 1];
    if (a === b) continue;
    for (let f = 0; f < cols; f++) {
      let acc = mode === 'max' ? -Infinity : 0;
      for (let r = a; r < b; r++) {
        const v = x.data[r * cols + f] * (weights ? weights[r] : 1);
        acc = mode === 'max' ? Math.max(acc, v) : acc + v;
      }
      out.data[s * cols + f] = mode === 'mean' ? acc / (b - a) : acc;
    }
  }
  return out;
}

/**
 * Softmax within each segment, independently per column:
 * out[r, f] = exp(x[r, f] - m) / sum_{r' in seg} exp(x[r', f] - m), with m the
 * segment max (subtracted so exp never overflows). Each non-empty segment's
 * column sums to 1.
 */
export function segmentSoftmax(x: Matrix, offsets: Int32Array): Matrix {
  checkOffsets(offsets, x.rows);
  const { cols } = x;
  const out = matrix(x.rows, cols);
  for (let s = 0; s + 1 < offsets.length; s++) {
    const a = offsets[s];
    const b = offsets[s + 1];
    for (let f = 0; f < cols; f++) {
      let m = -Infinity;
      for (let r = a; r < b; r++) m = Math.max(m, x.data[r * cols + f]);
      let sum = 0;
      for (let r = a; r < b; r++) sum += Math.exp(x.data[r * cols + f] - m);
      for (let r = a; r < b; r++) out.data[r * cols + f] = Math.exp(x.data[r * cols + f] - m) / sum;
    }
  }
  return out;
}
