/** CPU reference of the graph-network primitives (layout: types.ts). */
export * from './types';
export * from './dense';
export * from './rbf';
export * from './rows';
export * from './segment';
export * from './set2set';
export * from './batch';
