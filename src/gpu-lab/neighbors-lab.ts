/**
 * Neighbour-list functions for the GPU lab page. Inputs are plain JSON
 * (lattice rows, pbc, flat fractional coordinates); results come back as
 * plain arrays, or, with `summary`, as counts and checksums only (large
 * benchmarks would otherwise spend their time serialising edges).
 * `ms` is the best of `repeat` runs, each from the CPU grid build to the
 * last readback; the first run includes shader compilation.
 */
import type { Mat3 } from '../core/math3';
import { neighborListCpu } from '../core/neighbors/cpu';
import type { EdgeList } from '../core/neighbors/types';
import { getGpu } from '../gpu/device';
import { type GpuNeighborTimings, neighborListGpu } from '../gpu/neighbors';
import { bestOf } from './timing';

interface LabInput {
  lattice: Mat3;
  pbc: [boolean, boolean, boolean];
  frac: number[];
  cutoff: number;
  repeat?: number;
  summary?: boolean;
}

function result(e: EdgeList, summary: boolean) {
  if (summary) {
    let distSum = 0;
    let dstSum = 0;
    for (let k = 0; k < e.count; k++) {
      distSum += e.dist[k];
      dstSum += e.dst[k];
    }
    return { count: e.count, distSum, dstSum };
  }
  return { count: e.count, src: Array.from(e.src), dst: Array.from(e.dst), image: Array.from(e.image), vec: Array.from(e.vec), dist: Array.from(e.dist) };
}

export const neighborsLab = {
  async neighborsGpu(a: LabInput) {
    const gpu = await getGpu();
    const input = { lattice: a.lattice, pbc: a.pbc, frac: Float64Array.from(a.frac), cutoff: a.cutoff };
    const timings: GpuNeighborTimings = { grid: 0, count: 0, fill: 0 };
    try {
      const { value, ms } = await bestOf(a.repeat ?? 1, () => neighborListGpu(input, gpu, timings));
      return { ...result(value, a.summary ?? false), ms, timings };
    } catch (e) {
      return { error: `${(e as Error).name}: ${(e as Error).message}` };
    }
  },

  /** The CPU reference in the same browser, for benchmark ratios. */
  async neighborsCpu(a: LabInput) {
    const input = { lattice: a.lattice, pbc: a.pbc, frac: Float64Array.from(a.frac), cutoff: a.cutoff };
    const { value, ms } = await bestOf(a.repeat ?? 1, () => neighborListCpu(input));
    return { ...result(value, a.summary ?? false), ms };
  },
};
