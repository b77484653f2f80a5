import type { Mat3, Vec3 } from '../math3';

/**
 * Input of a periodic neighbour list, shared by the CPU reference and the
 * WebGPU kernels.
 *
 * `frac` may be an array of fractional triples or a flat Float64Array of
 * length 3·N. Coordinates outside [0, 1) are allowed: both backends wrap
 * them along periodic axes internally and fold the wrap back into the
 * reported image, so every edge refers to the ORIGINAL positions given here.
 */
export interface NeighborInput {
  /** Lattice vectors a, b, c as rows (Å); r = f · lattice. */
  lattice: Mat3;
  pbc: [boolean, boolean, boolean];
  frac: Vec3[] | Float64Array;
  /** Cutoff radius in Å; edges have 0 < distance < cutoff. */
  cutoff: number;
}

/**
 * Directed edges, both directions present, sorted by
 * (src, dst, image[0], image[1], image[2]).
 *
 * Edge e goes from atom src[e] to the periodic image of atom dst[e]
 * translated by image[3e..3e+2] (integer lattice vectors; always 0 along
 * non-periodic axes): vec = r_dst + image · L − r_src, with r the input
 * (unwrapped) Cartesian positions.
 */
export interface EdgeList {
  count: number;
  src: Int32Array;
  dst: Int32Array;
  /** 3·count integers. */
  image: Int32Array;
  /** 3·count, Å. */
  vec: Float32Array;
  /** count, Å. */
  dist: Float32Array;
}

/** Largest edge list either backend agrees to build (≈ 1.8 GB of output on the CPU). */
export const MAX_EDGES = 50_000_000;

/** Thrown for requests that cannot or should not be computed (bad input, absurd size). */
export class NeighborListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NeighborListError';
  }
}
