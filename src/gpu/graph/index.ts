/** WebGPU graph-network primitives (kernels, Set2Set) on the shared runtime (../runtime/). */
export * from './kernels';
export * from './set2set';
