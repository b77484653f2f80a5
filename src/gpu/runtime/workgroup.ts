/**
 * Threads per workgroup of every kernel, in one place. Each shader that
 * takes a size declares `override WG: u32` (its default is the value here,
 * so the WGSL reads correctly on its own), and pipelines.ts passes the
 * value below when it compiles the pipeline; the TypeScript drivers size
 * their dispatch grids from the same numbers. dense.wgsl is the exception:
 * its 8x8 threads are tied to its 32x32 tiles and workgroup-memory layout.
 *
 * 256 threads fill a SIMD-32 or SIMD-64 machine 4-8 times over and are the
 * WebGPU default limit (maxComputeInvocationsPerWorkgroup); the neighbour
 * search uses 64, since one thread walks one atom's cells and long walks
 * diverge.
 */
import type { ShaderName } from './pipelines';

export const ELEMENTWISE_WG = 256;
export const NEIGHBORS_WG = 64;
/** Values per block of scan.wgsl: 4 per thread. */
export const SCAN_BLOCK = 4 * ELEMENTWISE_WG;

export function workgroupSize(shader: ShaderName): number {
  return shader === 'neighbors' ? NEIGHBORS_WG : ELEMENTWISE_WG;
}
