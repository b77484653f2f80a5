/**
 * Batching several graphs into one set of arrays (layout in types.ts), so a
 * single GPU dispatch serves them all.
 */
import { permuteArray, permuteRows } from './rows';
import { segmentOffsets, sortEdgesByDst } from './segment';
import { type Matrix, matrix } from './types';

export interface Graph {
  nodes: Matrix;
  edges: Matrix;
  src: Int32Array;
  dst: Int32Array;
  /** Graph-level (state) features [F_u], optional. */
  state?: Float32Array;
}

export interface GraphBatch {
  graphs: number;
  nodes: Matrix;
  /** Edge features, rows sorted by dst. */
  edges: Matrix;
  src: Int32Array;
  dst: Int32Array;
  /** Graph of each node (sorted). */
  nodeGraph: Int32Array;
  /** Graph of each edge (sorted). */
  edgeGraph: Int32Array;
  /** Nodes per graph, CSR [B + 1]. */
  nodeOffsets: Int32Array;
  /** Edges per destination node, CSR [N + 1]. */
  edgeOffsets: Int32Array;
  /** Edges per graph, CSR [B + 1]. */
  edgeGraphOffsets: Int32Array;
  /** [B, F_u] when every graph has a state vector. */
  state: Matrix | null;
}

function concatRows(ms: readonly Matrix[], cols: number): Matrix {
  const rows = ms.reduce((n, m) => n + m.rows, 0);
  const out = matrix(rows, cols);
  let at = 0;
  for (const m of ms) {
    if (m.cols !== cols) throw new RangeError(`batchGraphs: feature widths ${cols} and ${m.cols} differ`);
    out.data.set(m.data, at);
    at += m.data.length;
  }
  return out;
}

/** Concatenates graphs; edges of each graph are (stably) sorted by dst on the way. */
export function batchGraphs(graphs: readonly Graph[]): GraphBatch {
  if (graphs.length === 0) throw new RangeError('batchGraphs: no graphs');
  const sorted = graphs.map((g) => {
    if (g.src.length !== g.dst.length || g.src.length !== g.edges.rows) throw new RangeError('batchGraphs: src, dst and edge rows differ in length');
    const perm = sortEdgesByDst(g.dst, g.nodes.rows);
    return { ...g, edges: permuteRows(g.edges, perm), src: permuteArray(g.src, perm), dst: permuteArray(g.dst, perm) };
  });
  const nodes = concatRows(
    sorted.map((g) => g.nodes),
    graphs[0].nodes.cols,
  );
  const edges = concatRows(
    sorted.map((g) => g.edges),
    graphs[0].edges.cols,
  );
  const E = edges.rows;
  const src = new Int32Array(E);
  const dst = new Int32Array(E);
  const nodeGraph = new Int32Array(nodes.rows);
  const edgeGraph = new Int32Array(E);
  let n0 = 0;
  let e0 = 0;
  sorted.forEach((g, gi) => {
    for (let e = 0; e < g.src.length; e++) {
      if (g.src[e] < 0 || g.src[e] >= g.nodes.rows)
        throw new RangeError(`batchGraphs: graph ${gi} edge ${e} has src ${g.src[e]} outside its ${g.nodes.rows} nodes`);
      src[e0 + e] = g.src[e] + n0;
      dst[e0 + e] = g.dst[e] + n0;
    }
    nodeGraph.fill(gi, n0, n0 + g.nodes.rows);
    edgeGraph.fill(gi, e0, e0 + g.src.length);
    n0 += g.nodes.rows;
    e0 += g.src.length;
  });
  const B = graphs.length;
  const states = sorted.map((g) => g.state);
  const state = states.every((s): s is Float32Array => s !== undefined)
    ? concatRows(
        states.map((s) => matrix(1, s.length, s)),
        states[0].length,
      )
    : null;
  return {
    graphs: B,
    nodes,
    edges,
    src,
    dst,
    nodeGraph,
    edgeGraph,
    nodeOffsets: segmentOffsets(nodeGraph, B),
    edgeOffsets: segmentOffsets(dst, nodes.rows),
    edgeGraphOffsets: segmentOffsets(edgeGraph, B),
    state,
  };
}
