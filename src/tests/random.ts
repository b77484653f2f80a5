/** Deterministic random inputs for tests and benchmarks (Vitest and Playwright alike). */
import { Rng } from '../core/generate/rng';
import { type Matrix, matrix } from '../core/graph/types';

/** mulberry32 in [0, 1): the sampler's generator (src/core/generate/rng.ts), as a function. */
export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.uniform();
}

/** The same stream mapped to [-1, 1). */
export function signedRng(seed: number): () => number {
  const r = rng(seed);
  return () => r() * 2 - 1;
}

export function randomMatrix(rows: number, cols: number, r: () => number, scale = 1): Matrix {
  return matrix(
    rows,
    cols,
    Array.from({ length: rows * cols }, () => r() * scale),
  );
}
