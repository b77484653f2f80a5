import { GpuUnavailable } from '../gpu/device';

/**
 * WebGPU for Node through Dawn's `webgpu` npm package, when it is installed
 * (it is optional: ~130 MB, and it needs a Vulkan driver such as Mesa's
 * lavapipe). Returns the GPU object or throws GpuUnavailable saying why.
 */
export async function nodeGpu(): Promise<GPU> {
  let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    const name = 'webgpu';
    mod = (await import(/* @vite-ignore */ name)) as typeof mod;
  } catch {
    throw new GpuUnavailable(
      'The WebGPU backend is unavailable in Node: the optional `webgpu` package is not installed (npm install webgpu, plus a Vulkan driver such as mesa-vulkan-drivers). Use --backend cpu, or the browser.',
    );
  }
  Object.assign(globalThis, mod.globals);
  const gpu = mod.create([]);
  if (!(await gpu.requestAdapter())) {
    throw new GpuUnavailable('The `webgpu` package is installed but found no adapter (no Vulkan driver?). Use --backend cpu.');
  }
  return gpu;
}
