/**
 * Reduction of the periodic lattice vectors before a neighbour search.
 *
 * A cell like (a, b, γ = 179°) describes the same lattice as a nearly
 * orthogonal one, but searched as given it needs dozens of images per axis
 * and, in float32, suffers cancellation: a vector like 45 a − 45 b of a few Å
 * is formed from terms of ~180 Å, losing 1e-5 Å. Both backends therefore
 * search in a reduced basis L' = T L (T integer, det ±1) and report images
 * back in the caller's basis, n = n' T.
 *
 * The reduction is pairwise size reduction (b_i −= round(b_i·b_j / b_j·b_j) b_j
 * until no pair changes; Lagrange–Gauss in 2-D, a Minkowski-like basis in
 * 3-D), applied only among periodic axes: a non-periodic axis keeps its
 * vector and its fractional coordinate.
 */
import type { Mat3 } from '../math3';

export interface ReducedBasis {
  /** L' = T L (rows). */
  matrix: Mat3;
  /** Integer, det ±1. Images: n_original = n_reduced · T. */
  t: Mat3;
  /** T⁻¹ (integer). Coordinates: f_reduced = f_original · T⁻¹. */
  tInv: Mat3;
}

const dot = (a: readonly number[], b: readonly number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const identity = (): Mat3 => [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];

export function reducePeriodicBasis(lattice: Mat3, pbc: readonly boolean[]): ReducedBasis {
  const m = lattice.map((r) => [...r]) as Mat3;
  const t = identity();
  const tInv = identity();
  const axes = [0, 1, 2].filter((k) => pbc[k]);
  // Each change shortens b_i strictly (|μ| > 1/2), so this terminates; the
  // cap only guards against a non-finite input slipping through.
  for (let sweep = 0; sweep < 1000; sweep++) {
    let changed = false;
    for (const i of axes) {
      for (const j of axes) {
        if (i === j) continue;
        const mu = dot(m[i], m[j]) / dot(m[j], m[j]);
        if (!(Math.abs(mu) > 0.5 + 1e-9)) continue;
        const k = Math.round(mu);
        for (let c = 0; c < 3; c++) {
          m[i][c] -= k * m[j][c];
          t[i][c] -= k * t[j][c];
          // (I − k e_i e_jᵀ)⁻¹ = I + k e_i e_jᵀ acts on T⁻¹ from the right: column j += k · column i.
          tInv[c][j] += k * tInv[c][i];
        }
        changed = true;
      }
    }
    if (!changed) break;
  }
  return { matrix: m, t, tInv };
}
