/**
 * Data layout shared by the CPU reference (src/core/graph) and the WebGPU
 * kernels (src/gpu/graph). Everything is flat typed arrays so the same bytes
 * can be uploaded to the GPU without repacking.
 *
 * - Matrices are float32, row-major: element (r, c) of an [R, C] matrix is
 *   data[r * C + c]. Node features are [N, F], edge features [E, F_e],
 *   graph-level (state) features [B, F_u].
 * - Edges are directed pairs src[e] -> dst[e] (Int32Array) and are kept
 *   SORTED BY dst, so the edges arriving at node n form one contiguous run
 *   ("segment"). Aggregating messages per node is then a segmented reduction
 *   over contiguous rows: deterministic, and no float atomics on the GPU.
 *   The neighbour list emits edges sorted by src; `sortEdgesByDst`
 *   (segment.ts) gives the (stable) permutation that reorders them.
 * - Batching: several graphs are concatenated. Node indices of graph g are
 *   shifted by the number of nodes before it; `nodeGraph[n]` (sorted, so the
 *   nodes of a graph are a segment) and `edgeGraph[e]` say which graph a row
 *   belongs to. Because each graph's edges are sorted by dst and the graphs
 *   are concatenated in order, the batch's edges are globally sorted by dst
 *   and edgeGraph is sorted too.
 * - Segments are given CSR-style as offsets (Int32Array of length S + 1,
 *   offsets[0] = 0, offsets[S] = rows): segment s is rows
 *   offsets[s] .. offsets[s + 1] - 1. They are computed once per batch on
 *   the CPU (`segmentOffsets`) and reused by every layer. Empty segments
 *   (an isolated atom, a graph without edges) are allowed; every reduction
 *   over an empty segment gives 0.
 */

export interface Matrix {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

/** Activation applied after a dense layer. */
export type Activation = 'none' | 'softplus' | 'silu' | 'relu';

export const ACTIVATIONS: readonly Activation[] = ['none', 'softplus', 'silu', 'relu'];

/** A [rows, cols] matrix; zero-filled when no data is given. */
export function matrix(rows: number, cols: number, data?: ArrayLike<number>): Matrix {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new RangeError(`matrix: bad shape [${rows}, ${cols}]`);
  }
  const out = new Float32Array(rows * cols);
  if (data) {
    if (data.length !== rows * cols) throw new RangeError(`matrix: ${data.length} values for shape [${rows}, ${cols}]`);
    out.set(data);
  }
  return { data: out, rows, cols };
}

/** Row-major transpose, e.g. to turn a PyTorch Linear weight [out, in] into W [in, out]. */
export function transpose(m: Matrix): Matrix {
  const out = matrix(m.cols, m.rows);
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) out.data[c * m.rows + r] = m.data[r * m.cols + c];
  }
  return out;
}
