/**
 * A MEGNet-style graph network forward pass (Chen et al., "Graph Networks as
 * a Universal Machine Learning Framework for Molecules and Crystals", Chem.
 * Mater. 31, 3564 (2019)), composed from the primitives of this folder. The
 * WebGPU version (src/gpu/graph/megnet.ts) encodes the same steps, so the
 * two are compared number for number in the tests.
 *
 *   encode:  v = φ_v0(v_in), e = φ_e0(RBF(d)), u = φ_u0(u_in)
 *   block k (with residual connections, as in MEGNet):
 *     e' = φ_e([v_src, v_dst, e, u_g])            per edge
 *     v' = φ_v([v, mean_{edges into v} e', u_g])  per node
 *     u' = φ_u([u, mean_nodes v', mean_edges e']) per graph
 *     v += v', e += e', u += u'
 *   readout: y = φ_out([Set2Set(v), Set2Set(e), u])
 *
 * Every φ is a stack of dense layers with softplus, except the last layer of
 * φ_out, which is linear.
 */
import { type Activation, type Matrix, matrix } from './types';
import { dense } from './dense';
import { type GaussianBasis, gaussianExpand } from './rbf';
import { concatCols, gatherRows } from './rows';
import { segmentReduce } from './segment';
import { type LstmWeights, set2set } from './set2set';
import type { GraphBatch } from './batch';

export interface DenseLayer {
  /** [in, out] */
  w: Matrix;
  b: Float32Array;
}

export type Mlp = DenseLayer[];

export interface MegnetBlockWeights {
  edge: Mlp;
  node: Mlp;
  state: Mlp;
}

export interface MegnetWeights {
  basis: GaussianBasis;
  nodeEncoder: Mlp;
  edgeEncoder: Mlp;
  stateEncoder: Mlp;
  blocks: MegnetBlockWeights[];
  set2setNodes: LstmWeights;
  set2setEdges: LstmWeights;
  set2setSteps: number;
  readout: Mlp;
}

/**
 * What a MEGNet reads is a GraphBatch (batch.ts) whose edge features are the
 * edge lengths in Å ([E, 1]; the Gaussian expansion happens inside the
 * model) and whose state holds the graph-level inputs [B, F_u_in].
 */
export function megnetInputs(batch: GraphBatch): { distances: Float32Array; state: Matrix } {
  if (batch.edges.cols !== 1) throw new RangeError(`MEGNet: edge features must be distances [E, 1], got [${batch.edges.rows}, ${batch.edges.cols}]`);
  if (!batch.state) throw new RangeError('MEGNet: every graph needs a state vector');
  return { distances: batch.edges.data, state: batch.state };
}

export function mlp(x: Matrix, layers: Mlp, lastActivation: Activation = 'softplus'): Matrix {
  let y = x;
  layers.forEach((l, k) => {
    y = dense(y, l.w, l.b, k === layers.length - 1 ? lastActivation : 'softplus');
  });
  return y;
}

function addInPlace(a: Matrix, b: Matrix): void {
  if (a.rows !== b.rows || a.cols !== b.cols) throw new RangeError(`residual: [${a.rows}, ${a.cols}] + [${b.rows}, ${b.cols}]`);
  for (let i = 0; i < a.data.length; i++) a.data[i] += b.data[i];
}

/** Node, edge and state features after the last block: what the readout reads. */
export interface MegnetTrunk {
  v: Matrix;
  e: Matrix;
  u: Matrix;
}

/** The encoders and the blocks (the expensive part: dense layers over every edge). */
export function megnetTrunk(w: MegnetWeights, batch: GraphBatch): MegnetTrunk {
  const { distances, state } = megnetInputs(batch);
  let v = mlp(batch.nodes, w.nodeEncoder);
  let e = mlp(gaussianExpand(distances, w.basis), w.edgeEncoder);
  let u = mlp(state, w.stateEncoder);
  for (const block of w.blocks) {
    const e1 = mlp(concatCols([gatherRows(v, batch.src), gatherRows(v, batch.dst), e, gatherRows(u, batch.edgeGraph)]), block.edge);
    const v1 = mlp(concatCols([v, segmentReduce(e1, batch.edgeOffsets, 'mean'), gatherRows(u, batch.nodeGraph)]), block.node);
    const u1 = mlp(concatCols([u, segmentReduce(v1, batch.nodeOffsets, 'mean'), segmentReduce(e1, batch.edgeGraphOffsets, 'mean')]), block.state);
    addInPlace(e1, e);
    addInPlace(v1, v);
    addInPlace(u1, u);
    [e, v, u] = [e1, v1, u1];
  }
  return { v, e, u };
}

/**
 * Set2Set over nodes and edges, then the readout MLP. Cheap next to the
 * trunk, so the fast CPU path (megnet-ort.ts) runs the trunk elsewhere and
 * this reference here.
 */
export function megnetReadout(w: MegnetWeights, batch: GraphBatch, { v, e, u }: MegnetTrunk): Matrix {
  const B = batch.graphs;
  const F = u.cols;
  if (v.rows !== batch.nodes.rows || e.rows !== batch.edges.rows || u.rows !== B || v.cols !== F || e.cols !== F) {
    throw new RangeError(
      `MEGNet readout: trunk [${v.rows}, ${v.cols}] / [${e.rows}, ${e.cols}] / [${u.rows}, ${u.cols}] does not fit a batch of ${B} graphs, ${batch.nodes.rows} nodes, ${batch.edges.rows} edges`,
    );
  }
  const readout = concatCols([
    set2set(v, batch.nodeOffsets, w.set2setNodes, w.set2setSteps),
    set2set(e, batch.edgeGraphOffsets, w.set2setEdges, w.set2setSteps),
    u,
  ]);
  return mlp(readout, w.readout, 'none');
}

export function megnetForward(w: MegnetWeights, batch: GraphBatch): Matrix {
  return megnetReadout(w, batch, megnetTrunk(w, batch));
}

/** Deterministic PRNG (mulberry32), so random weights are reproducible in tests and benchmarks. */
export function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface MegnetShape {
  nodeIn: number;
  stateIn: number;
  /** Gaussians for the edge distances. */
  rbf: number;
  cutoff: number;
  /** Hidden width of every φ (MEGNet uses 64 → 32). */
  hidden: number;
  /** Width of v, e and u between blocks. */
  features: number;
  blocks: number;
  outputs: number;
}

/**
 * Random weights of the right shapes (Glorot-uniform): for benchmarks and
 * parity tests of the machinery, never for predictions.
 */
export function randomMegnet(shape: MegnetShape, seed = 1): MegnetWeights {
  const rand = seededRandom(seed);
  const layer = (nIn: number, nOut: number): DenseLayer => {
    const lim = Math.sqrt(6 / (nIn + nOut));
    return {
      w: matrix(
        nIn,
        nOut,
        Array.from({ length: nIn * nOut }, () => (2 * rand() - 1) * lim),
      ),
      b: Float32Array.from({ length: nOut }, () => 0.1 * (2 * rand() - 1)),
    };
  };
  const phi = (nIn: number): Mlp => [layer(nIn, shape.hidden), layer(shape.hidden, shape.features)];
  const F = shape.features;
  const lstm = (): LstmWeights => {
    const l1 = layer(2 * F, 4 * F);
    const l2 = layer(F, 4 * F);
    return { wIh: l1.w, wHh: l2.w, b: l1.b };
  };
  return {
    basis: { rMin: 0, rMax: shape.cutoff, count: shape.rbf, width: shape.cutoff / Math.max(1, shape.rbf - 1) },
    nodeEncoder: phi(shape.nodeIn),
    edgeEncoder: phi(shape.rbf),
    stateEncoder: phi(shape.stateIn),
    blocks: Array.from({ length: shape.blocks }, () => ({ edge: phi(4 * F), node: phi(3 * F), state: phi(3 * F) })),
    set2setNodes: lstm(),
    set2setEdges: lstm(),
    set2setSteps: 3,
    readout: [layer(5 * F, shape.hidden), layer(shape.hidden, shape.hidden / 2), layer(shape.hidden / 2, shape.outputs)],
  };
}
