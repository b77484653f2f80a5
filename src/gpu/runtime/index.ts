/**
 * The WebGPU runtime every kernel driver shares (the neighbour list, the
 * graph-network primitives, the defect and property models): tensors and
 * their pools, the single-submission GraphRun with its error scopes and
 * readbacks, and the compiled-pipeline cache. Device acquisition is
 * ../device.ts.
 */
export * from './tensor';
export * from './run';
export * from './pipelines';
