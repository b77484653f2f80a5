/**
 * MEGNet forwards for the GPU lab page: the GPU parity test and the
 * message-passing benchmark. Graphs arrive as plain JSON (built in Node from
 * the core library), weights are made in the page from (shape, seed) with
 * the same deterministic generator the Node reference uses.
 *
 * Timing model of the live defect view: the model's weights and the graph
 * topology are uploaded once; each re-evaluation uploads node features,
 * distances and state, encodes the whole forward into one submission and
 * reads the outputs back. `ms` is the best of `repeat` such re-evaluations
 * (after one warm-up that compiles the pipelines).
 */
import { batchGraphs, type Graph } from '../core/graph/batch';
import { megnetForward, type MegnetShape, randomMegnet } from '../core/graph/megnet';
import { type Matrix, matrix } from '../core/graph/types';
import { getGpu } from '../gpu/device';
import { forwardEnsemble, GpuMegnet, GpuMegnetGraph } from '../gpu/graph/megnet';
import { bindGroupStats } from '../gpu/runtime/run';
import { loadDefectModel } from '../app/defect-model';
import { meanAndSpread } from '../core/defects/predict';
import { bestOf } from './timing';

export interface JsonGraph {
  nodes: number[];
  nodeCols: number;
  dist: number[];
  src: number[];
  dst: number[];
  state: number[];
}

function toGraph(g: JsonGraph): Graph {
  return {
    nodes: matrix(g.nodes.length / g.nodeCols, g.nodeCols, g.nodes),
    edges: matrix(g.dist.length, 1, g.dist),
    src: Int32Array.from(g.src),
    dst: Int32Array.from(g.dst),
    state: Float32Array.from(g.state),
  };
}

interface LabArgs {
  shape: MegnetShape;
  seed: number;
  graphs: JsonGraph[];
  repeat?: number;
}

export const megnetLab = {
  async megnetGpu(a: LabArgs) {
    const { device } = await getGpu();
    device.pushErrorScope('validation');
    const batch = batchGraphs(a.graphs.map(toGraph));
    const model = new GpuMegnet(device, randomMegnet(a.shape, a.seed));
    const t0 = performance.now();
    const topology = new GpuMegnetGraph(device, batch);
    const msTopology = performance.now() - t0;
    try {
      await model.forward(topology, batch); // warm-up: compiles the pipelines
      const { value: y, ms } = await bestOf(a.repeat ?? 3, () => model.forward(topology, batch));
      // Once more, counting bind groups: with the topology fixed, all are cached (run.ts).
      const before = bindGroupStats(device);
      await model.forward(topology, batch);
      const after = bindGroupStats(device);
      const bindGroups = { built: after.built - before.built, reused: after.reused - before.reused };
      const error = await device.popErrorScope();
      if (error) return { error: `WebGPU validation error: ${error.message}` };
      return { y: Array.from(y.data), rows: y.rows, cols: y.cols, ms, msTopology, nodes: batch.nodes.rows, edges: batch.edges.rows, bindGroups };
    } finally {
      topology.destroy();
      model.destroy();
    }
  },

  /** The shipped defect model on the CPU reference: best of `repeat` single-graph forwards of every member (what the editor does per edit). */
  async defectModelCpu(a: { graphs: JsonGraph[]; repeat?: number }) {
    const model = await loadDefectModel();
    const batch = batchGraphs(a.graphs.map(toGraph));
    model.forwardMembers(batch);
    const { value: each, ms } = await bestOf(a.repeat ?? 20, () => model.forwardMembers(batch));
    return { y: ensembleMean(each), members: each.map((y) => Array.from(y)), ms };
  },

  /**
   * The app's shipped defect model on WebGPU, a batch of graphs: each
   * member's de-normalised outputs [B, 2] (`members`) and their mean (`y`);
   * `ms` is the best of `repeat` forwards of all members (one submission,
   * or one per member with `perMember`) after a warm-up.
   */
  async defectModelGpu(a: { graphs: JsonGraph[]; repeat?: number; perMember?: boolean }) {
    const { device } = await getGpu();
    const model = await loadDefectModel();
    device.pushErrorScope('validation');
    const batch = batchGraphs(a.graphs.map(toGraph));
    const gpus = model.members.map((w) => new GpuMegnet(device, w));
    const topology = new GpuMegnetGraph(device, batch);
    // Every member in one submission (forwardEnsemble): one GPU round trip
    // per prediction. `perMember` times the old way, one submission per
    // member one after another, for the benchmark's comparison.
    const forwardMembers = async (): Promise<Matrix[]> => {
      if (!a.perMember) return forwardEnsemble(gpus, topology, batch);
      const ys: Matrix[] = [];
      for (const gpu of gpus) ys.push(await gpu.forward(topology, batch));
      return ys;
    };
    const forwardAll = async () => (await forwardMembers()).map((y) => Array.from(model.denormalise(y.data)));
    try {
      await forwardAll(); // warm-up
      const { value: each, ms } = await bestOf(a.repeat ?? 1, forwardAll);
      const error = await device.popErrorScope();
      if (error) return { error: `WebGPU validation error: ${error.message}` };
      return { y: ensembleMean(each), members: each, ms };
    } finally {
      topology.destroy();
      gpus.forEach((g) => g.destroy());
    }
  },

  /** The CPU reference in the same browser, for benchmark ratios. */
  async megnetCpu(a: LabArgs) {
    const batch = batchGraphs(a.graphs.map(toGraph));
    const w = randomMegnet(a.shape, a.seed);
    megnetForward(w, batch);
    const { value: y, ms } = await bestOf(a.repeat ?? 3, () => megnetForward(w, batch));
    return { y: Array.from(y.data), rows: y.rows, cols: y.cols, ms };
  },
};

/** Element-wise mean over the members' output arrays (what DefectModel.predict reports). */
function ensembleMean(each: ArrayLike<number>[]): number[] {
  return Array.from(each[0], (_, k) => meanAndSpread(Array.from(each, (y) => y[k])).mean);
}
