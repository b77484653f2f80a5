import type { Lattice } from '../lattice';

/**
 * The reciprocal-lattice points g = h a* + k b* + l c* (crystallographer's
 * reciprocal lattice, |g| = 1/d) with rMin ≤ |g| ≤ rMax: the reflections a
 * powder pattern can show. By Bragg's law |g| = 2 sin θ / λ, so a 2θ range
 * is a spherical shell here, and all of 2θ ≤ 180° is the limiting sphere of
 * radius 2/λ (pymatgen's XRDCalculator step 1).
 *
 * Only one of each Friedel pair (h k l) / (−h −k −l) is listed: without
 * anomalous dispersion the atomic scattering factors are real, so
 * F(−g) = F(g)* and both have the same intensity. The caller counts both,
 * which halves the structure-factor work.
 */
export interface ReflectionSet {
  /** Miller indices of the listed half, [h0, k0, l0, h1, ...]. */
  hkl: Int32Array;
  /** |g| = 1/d (Å⁻¹) of each listed reflection. */
  g: Float64Array;
  count: number;
  /** Largest |h|, |k|, |l| that can occur (sizes the phase tables). */
  max: [number, number, number];
}

/** Above this many reflections (both halves) the pattern is refused; about a 60,000 Å³ cell at 2θ ≤ 90°. */
export const MAX_REFLECTIONS = 200_000;

export class TooManyReflections extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TooManyReflections';
  }
}

const count = (x: number) => Math.round(x).toLocaleString('en-US');

/** Tolerance on |g| at the outer edge, as pymatgen's get_points_in_sphere (1e-8). */
const EDGE_TOL = 1e-8;

export function reflectionsInShell(lattice: Lattice, rMin: number, rMax: number): ReflectionSet {
  // The number of reciprocal points per Å⁻³ is the real cell volume, so the
  // shell holds about (4/3)π(rMax³ − rMin³)V of them: refuse before looping.
  const estimate = (4 / 3) * Math.PI * (rMax ** 3 - rMin ** 3) * lattice.volume;
  if (estimate > MAX_REFLECTIONS) {
    throw new TooManyReflections(
      `the 2θ range holds about ${count(estimate)} reflections in this cell; the limit is ${count(MAX_REFLECTIONS)} ` +
        '(use the primitive or conventional cell rather than a supercell)',
    );
  }
  // g · a = h, so |h| ≤ |g| |a| ≤ rMax |a|: a box that holds the sphere,
  // however skewed the cell. (For a very flat cell the box can far exceed
  // the sphere; the estimate above bounds what is kept, this what is visited.)
  const [la, lb, lc] = lattice.abc;
  const max: [number, number, number] = [Math.floor(rMax * la + EDGE_TOL), Math.floor(rMax * lb + EDGE_TOL), Math.floor(rMax * lc + EDGE_TOL)];
  const visited = (max[0] + 1) * (2 * max[1] + 1) * (2 * max[2] + 1);
  if (visited > 50 * MAX_REFLECTIONS) {
    throw new TooManyReflections(
      `the cell is so oblique that finding its reflections means visiting ${count(visited)} lattice points (reduce the cell, e.g. to its Niggli form, first)`,
    );
  }
  const [as, bs, cs] = lattice.reciprocal.matrix;
  const r2max = (rMax + EDGE_TOL) ** 2;
  const r2min = rMin > 0 ? rMin * rMin : -1;
  const hkl: number[] = [];
  const g: number[] = [];
  for (let h = 0; h <= max[0]; h++) {
    for (let k = h === 0 ? 0 : -max[1]; k <= max[1]; k++) {
      for (let l = h === 0 && k === 0 ? 1 : -max[2]; l <= max[2]; l++) {
        const x = h * as[0] + k * bs[0] + l * cs[0];
        const y = h * as[1] + k * bs[1] + l * cs[1];
        const z = h * as[2] + k * bs[2] + l * cs[2];
        const g2 = x * x + y * y + z * z;
        if (g2 > r2max || g2 < r2min) continue;
        hkl.push(h, k, l);
        g.push(Math.sqrt(g2));
      }
    }
  }
  return { hkl: Int32Array.from(hkl), g: Float64Array.from(g), count: g.length, max };
}
