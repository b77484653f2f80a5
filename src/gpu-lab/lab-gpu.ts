import { getGpu, type GpuContext } from '../gpu/device';

/** The page's GPU, or the reason there is none as a lab result ({ error }), so benchmarks report it instead of throwing. */
export async function labGpu(): Promise<GpuContext | { error: string }> {
  try {
    return await getGpu();
  } catch (e) {
    return { error: `no WebGPU: ${(e as Error).message}` };
  }
}
