/**
 * The crystal-property MEGNet on WebGPU: the same weights as the CPU path
 * (core/properties/model.ts), every ensemble member encoded into one
 * submission per batch of structures (forwardEnsemble). Graphs are built on
 * the CPU (neighbour list + one-hot), then the whole forward runs in WGSL.
 */
import type { GraphBatch } from '../core/graph/batch';
import type { PropertyModel, PropertyPrediction } from '../core/properties/model';
import type { Structure } from '../core/structure';
import type { GpuContext } from './device';
import { forwardEnsemble, GpuMegnet, GpuMegnetGraph } from './graph/megnet';

export class GpuPropertyModel {
  private readonly members: GpuMegnet[];

  constructor(
    readonly model: PropertyModel,
    readonly gpu: GpuContext,
  ) {
    this.members = model.members.map((w) => new GpuMegnet(gpu.device, w));
  }

  /** Every member's de-normalised outputs for the structures, [member][graph · targets + t]. */
  forwardMembers(structures: readonly Structure[]): Promise<Float64Array[]> {
    return this.forwardBatch(this.model.batch(structures));
  }

  /** The same for a batch already built: topology up, every member in one submission, read back. */
  async forwardBatch(batch: GraphBatch): Promise<Float64Array[]> {
    const g = new GpuMegnetGraph(this.gpu.device, batch);
    try {
      const ys = await forwardEnsemble(this.members, g, batch);
      return ys.map((y) => this.model.denormalise(y.data));
    } finally {
      g.destroy();
    }
  }

  async predict(structures: readonly Structure[]): Promise<PropertyPrediction[]> {
    if (!structures.length) return [];
    return this.model.summarise(await this.forwardMembers(structures), structures);
  }

  destroy(): void {
    for (const m of this.members) m.destroy();
  }
}
