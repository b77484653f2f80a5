/** WebGPU graph-network primitives: tensors, the single-submission run, kernels, Set2Set. */
export * from './tensor';
export * from './run';
export * from './kernels';
export * from './set2set';
