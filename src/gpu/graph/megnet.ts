/**
 * MEGNet forward on WebGPU: the same steps as src/core/graph/megnet.ts
 * (equations there), encoded into ONE GraphRun so a whole evaluation costs a
 * single submission and one small readback. Weights are uploaded once per
 * model; graph topology (indices and segments) once per graph batch, so a
 * defect editor that only moves or swaps atoms re-uploads just the changed
 * arrays.
 */
import type { GraphBatch } from '../../core/graph/batch';
import { megnetInputs, type MegnetWeights, type Mlp } from '../../core/graph/megnet';
import type { Activation, Matrix } from '../../core/graph/types';
import { addInPlace, concat, copyColumns, dense, gaussianExpand, segmentReduce } from './kernels';
import { GraphRun } from '../runtime/run';
import { GpuSet2Set } from './set2set';
import { GpuSegments, type GpuTensor, upload, uploadMatrix } from '../runtime/tensor';

interface GpuLayer {
  w: GpuTensor;
  b: GpuTensor;
}

/**
 * Graph topology on the GPU, reusable across forwards of graphs with the
 * same bonds, and the buffers of the model's inputs (node features,
 * distances, state), rewritten in place by each forward: a fixed topology
 * then binds the same buffers every time (run.ts caches bind groups).
 */
export class GpuMegnetGraph {
  readonly nodes: GpuTensor;
  readonly distances: GpuTensor;
  readonly state: GpuTensor;
  readonly src: GpuTensor;
  readonly dst: GpuTensor;
  readonly nodeGraph: GpuTensor;
  readonly edgeGraph: GpuTensor;
  readonly edgesByNode: GpuSegments;
  readonly nodesByGraph: GpuSegments;
  readonly edgesByGraph: GpuSegments;

  constructor(
    readonly device: GPUDevice,
    batch: GraphBatch,
  ) {
    const { distances, state } = megnetInputs(batch);
    this.nodes = uploadMatrix(device, batch.nodes, 'megnet nodes');
    this.distances = upload(device, distances, distances.length, 1, 'megnet distances');
    this.state = uploadMatrix(device, state, 'megnet state');
    this.src = upload(device, batch.src, batch.src.length, 1, 'megnet src');
    this.dst = upload(device, batch.dst, batch.dst.length, 1, 'megnet dst');
    this.nodeGraph = upload(device, batch.nodeGraph, batch.nodeGraph.length, 1, 'megnet node graph');
    this.edgeGraph = upload(device, batch.edgeGraph, batch.edgeGraph.length, 1, 'megnet edge graph');
    this.edgesByNode = new GpuSegments(device, batch.edgeOffsets);
    this.nodesByGraph = new GpuSegments(device, batch.nodeOffsets);
    this.edgesByGraph = new GpuSegments(device, batch.edgeGraphOffsets);
  }

  /** Writes a batch's inputs (same shapes as the topology's batch) for the next forward. */
  writeInputs(batch: GraphBatch): void {
    const { distances, state } = megnetInputs(batch);
    const put = (t: GpuTensor, data: Float32Array, what: string) => {
      if (data.length !== t.length) throw new RangeError(`GpuMegnetGraph: ${what} has ${data.length} values, the graph ${t.length}`);
      if (data.length) this.device.queue.writeBuffer(t.buffer, 0, data as Float32Array<ArrayBuffer>);
    };
    put(this.nodes, batch.nodes.data, 'node features');
    put(this.distances, distances, 'distances');
    put(this.state, state.data, 'state');
  }

  destroy(): void {
    for (const t of [this.nodes, this.distances, this.state, this.src, this.dst, this.nodeGraph, this.edgeGraph]) t.destroy();
    for (const s of [this.edgesByNode, this.nodesByGraph, this.edgesByGraph]) s.destroy();
  }
}

export class GpuMegnet {
  private readonly nodeEncoder: GpuLayer[];
  private readonly edgeEncoder: GpuLayer[];
  private readonly stateEncoder: GpuLayer[];
  private readonly blocks: { edge: GpuLayer[]; node: GpuLayer[]; state: GpuLayer[] }[];
  private readonly s2sNodes: GpuSet2Set;
  private readonly s2sEdges: GpuSet2Set;
  private readonly readout: GpuLayer[];

  constructor(
    readonly device: GPUDevice,
    private readonly weights: MegnetWeights,
  ) {
    const up = (layers: Mlp): GpuLayer[] => layers.map((l) => ({ w: uploadMatrix(device, l.w), b: upload(device, l.b, 1, l.b.length) }));
    this.nodeEncoder = up(weights.nodeEncoder);
    this.edgeEncoder = up(weights.edgeEncoder);
    this.stateEncoder = up(weights.stateEncoder);
    this.blocks = weights.blocks.map((b) => ({ edge: up(b.edge), node: up(b.node), state: up(b.state) }));
    this.s2sNodes = new GpuSet2Set(device, weights.set2setNodes);
    this.s2sEdges = new GpuSet2Set(device, weights.set2setEdges);
    this.readout = up(weights.readout);
  }

  /** Frees the weights on the GPU. */
  destroy(): void {
    const layers = [this.nodeEncoder, this.edgeEncoder, this.stateEncoder, ...this.blocks.flatMap((b) => [b.edge, b.node, b.state]), this.readout].flat();
    for (const l of layers) {
      l.w.destroy();
      l.b.destroy();
    }
    this.s2sNodes.destroy();
    this.s2sEdges.destroy();
  }

  private mlp(run: GraphRun, x: GpuTensor, layers: GpuLayer[], last: Activation = 'softplus'): GpuTensor {
    let y = x;
    layers.forEach((l, k) => {
      const next = dense(run, y, l.w, l.b, k === layers.length - 1 ? last : 'softplus');
      if (y !== x) run.release(y);
      y = next;
    });
    return y;
  }

  /** Encodes a forward into `run`; returns the output tensor [B, outputs] (read it after submitting). */
  encode(run: GraphRun, g: GpuMegnetGraph, nodes: GpuTensor, distances: GpuTensor, state: GpuTensor): GpuTensor {
    const rbf = gaussianExpand(run, distances, this.weights.basis);
    let v = this.mlp(run, nodes, this.nodeEncoder);
    let e = this.mlp(run, rbf, this.edgeEncoder);
    let u = this.mlp(run, state, this.stateEncoder);
    run.release(rbf);
    for (const block of this.blocks) {
      const eIn = concat(run, [{ tensor: v, index: g.src }, { tensor: v, index: g.dst }, e, { tensor: u, index: g.edgeGraph }]);
      const e1 = this.mlp(run, eIn, block.edge);
      run.release(eIn);

      const vIn = run.alloc(v.rows, v.cols + e1.cols + u.cols);
      copyColumns(run, v, vIn, 0);
      segmentReduce(run, e1, g.edgesByNode, 'mean', { out: vIn, outOffset: v.cols });
      copyColumns(run, u, vIn, v.cols + e1.cols, g.nodeGraph);
      const v1 = this.mlp(run, vIn, block.node);
      run.release(vIn);

      const uIn = run.alloc(u.rows, u.cols + v1.cols + e1.cols);
      copyColumns(run, u, uIn, 0);
      segmentReduce(run, v1, g.nodesByGraph, 'mean', { out: uIn, outOffset: u.cols });
      segmentReduce(run, e1, g.edgesByGraph, 'mean', { out: uIn, outOffset: u.cols + v1.cols });
      const u1 = this.mlp(run, uIn, block.state);
      run.release(uIn);

      // Residual connections, then the old features are free.
      addInPlace(run, e1, e);
      addInPlace(run, v1, v);
      addInPlace(run, u1, u);
      run.release(e, v, u);
      [e, v, u] = [e1, v1, u1];
    }
    const F2 = 2 * v.cols;
    const head = run.alloc(u.rows, 2 * F2 + u.cols);
    const sv = this.s2sNodes.encode(run, v, g.nodesByGraph, this.weights.set2setSteps);
    copyColumns(run, sv, head, 0);
    const se = this.s2sEdges.encode(run, e, g.edgesByGraph, this.weights.set2setSteps);
    copyColumns(run, se, head, F2);
    copyColumns(run, u, head, 2 * F2);
    run.release(sv, se, v, e, u);
    const out = this.mlp(run, head, this.readout, 'none');
    run.release(head);
    return out;
  }

  /** One complete forward: upload inputs, encode, submit once, read [B, outputs]. */
  async forward(g: GpuMegnetGraph, batch: GraphBatch): Promise<Matrix> {
    const [y] = await forwardEnsemble([this], g, batch);
    return y;
  }
}

/**
 * Forwards of several models of one shape (an ensemble's members) on the
 * same graphs, encoded into ONE GraphRun: the inputs are uploaded once and
 * the whole ensemble costs a single submission and one wait for the
 * readbacks, instead of one round trip per member (tens of ms each on
 * SwiftShader, bench/RESULTS.md). Returns each member's [B, outputs].
 */
export async function forwardEnsemble(models: readonly GpuMegnet[], g: GpuMegnetGraph, batch: GraphBatch): Promise<Matrix[]> {
  if (models.length === 0) return [];
  const device = models[0].device;
  if (models.some((m) => m.device !== device)) throw new Error('forwardEnsemble: the models live on different devices');
  if (g.device !== device) throw new Error('forwardEnsemble: the graph lives on another device');
  g.writeInputs(batch);
  const run = new GraphRun(device, models.length > 1 ? `megnet forward x${models.length}` : 'megnet forward');
  // encode() leaves its inputs alone, so every member reads the same nodes,
  // distances and state; each output stays allocated until its read is scheduled.
  const pending = models.map((m) => {
    const out = m.encode(run, g, g.nodes, g.distances, g.state);
    const read = run.readF32(out).then((data): Matrix => ({ data, rows: out.rows, cols: out.cols }));
    // The copy to the readback buffer is encoded; the pool gets it back after submit.
    run.release(out);
    return read;
  });
  await run.submit();
  return Promise.all(pending);
}
