/**
 * The shipped crystal-property model for the GPU parity test
 * (e2e/property-model.spec.ts): the fixture crystals' own graphs (pymatgen's
 * edges, as models/properties/export.py wrote them) through the WGSL MEGNet,
 * every ensemble member in one submission, and through the app's whole
 * WebGPU path (GpuPropertyModel, which builds its own graphs).
 */
import { batchGraphs, type Graph } from '../core/graph/batch';
import { matrix } from '../core/graph/types';
import { elementBySymbol } from '../core/elements';
import type { Mat3, Vec3 } from '../core/math3';
import { oneHotZ, STATE_IN } from '../core/properties/graph';
import { Structure } from '../core/structure';
import { loadPropertyModel } from '../app/properties/load-model';
import { getGpu } from '../gpu/device';
import { forwardEnsemble, GpuMegnet, GpuMegnetGraph } from '../gpu/graph/megnet';
import { GpuPropertyModel } from '../gpu/property-model';

export interface FixtureCrystal {
  lattice: Mat3;
  species: string[];
  frac: Vec3[];
  src: number[];
  dst: number[];
  dist: number[];
}

export const propertyParityLab = {
  /** Each member's de-normalised outputs on the fixture graphs, batched ([member][graph · targets + t]), and the app path's means. */
  async propertyModelGpu(a: { crystals: FixtureCrystal[] }): Promise<{ members: number[][]; appMeans: number[][] } | { error: string }> {
    try {
      const model = await loadPropertyModel();
      const gpu = await getGpu();
      const width = model.manifest.shape.nodeIn;
      const feat = oneHotZ(width);
      const graphs: Graph[] = a.crystals.map((c) => ({
        nodes: matrix(
          c.species.length,
          width,
          c.species.flatMap((s) => feat(elementBySymbol(s)!)),
        ),
        edges: matrix(c.dist.length, 1, c.dist),
        src: Int32Array.from(c.src),
        dst: Int32Array.from(c.dst),
        state: new Float32Array(STATE_IN),
      }));
      const batch = batchGraphs(graphs);
      gpu.device.pushErrorScope('validation');
      const members = model.members.map((w) => new GpuMegnet(gpu.device, w));
      const topology = new GpuMegnetGraph(gpu.device, batch);
      const ys = await forwardEnsemble(members, topology, batch);
      topology.destroy();
      for (const m of members) m.destroy();
      const app = new GpuPropertyModel(model, gpu);
      const predictions = await app.predict(a.crystals.map((c) => new Structure({ lattice: c.lattice, species: c.species, frac: c.frac })));
      app.destroy();
      const error = await gpu.device.popErrorScope();
      if (error) return { error: `WebGPU validation: ${error.message}` };
      return { members: ys.map((y) => Array.from(model.denormalise(y.data))), appMeans: predictions.map((p) => p.values.map((v) => v.raw)) };
    } catch (e) {
      return { error: (e as Error).message };
    }
  },
};
