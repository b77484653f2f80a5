/** Deterministic random inputs for tests and benchmarks (Vitest and Playwright alike). */
import { type Matrix, matrix } from '../core/graph/types';

/** mulberry32: small, fast, deterministic, in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The same stream mapped to [-1, 1). */
export function signedRng(seed: number): () => number {
  const r = rng(seed);
  return () => r() * 2 - 1;
}

export function randomMatrix(rows: number, cols: number, r: () => number, scale = 1): Matrix {
  return matrix(rows, cols, Array.from({ length: rows * cols }, () => r() * scale));
}
