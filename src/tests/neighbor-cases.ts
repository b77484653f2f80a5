/**
 * Inputs for the neighbour-list tests, shared by the CPU tests (Vitest) and
 * the GPU-against-CPU tests (Playwright): fixed-seed random triclinic cells
 * and the awkward families (cells smaller than the cutoff, nearly flat
 * angles, vacuum slabs, molecules, unwrapped coordinates).
 */
import { Lattice } from '../core/lattice';
import type { Mat3, Vec3 } from '../core/math3';
import type { NeighborInput } from '../core/neighbors/types';

import { rng } from './random';

export { rng };

export type Pbc = [boolean, boolean, boolean];

/** Random triclinic cell with lengths ~[lo, hi] Å, rejecting nearly flat ones. */
export function randomCell(r: () => number, lo: number, hi: number): Mat3 {
  for (;;) {
    const m = [0, 1, 2].map((k) => {
      const v = [0, 1, 2].map((c) => (c === k ? 1 : 0) + (r() - 0.5) * 1.2) as Vec3;
      const len = Math.hypot(...v);
      const target = lo + (hi - lo) * r();
      return v.map((x) => (x / len) * target) as Vec3;
    }) as Mat3;
    const L = new Lattice(m);
    if (Math.min(...L.heights) / Math.max(...L.abc) > 0.3) return m;
  }
}

export function randomFrac(
  r: () => number,
  n: number,
  box: [number, number][] = [
    [0, 1],
    [0, 1],
    [0, 1],
  ],
): Vec3[] {
  return Array.from({ length: n }, () => box.map(([a, b]) => a + (b - a) * r()) as Vec3);
}

export function crossUnit(a: Vec3, b: Vec3): Vec3 {
  const c: Vec3 = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
  const l = Math.hypot(...c);
  return [c[0] / l, c[1] / l, c[2] / l];
}

/** A slab of `n` random atoms `thick` Å thick under 20 Å of vacuum, c slightly tilted. */
export function vacuumSlab(r: () => number, n: number, thick: number): { lattice: Mat3; frac: Vec3[] } {
  const ab = randomCell(r, 10, 20);
  const c = thick + 20;
  const nrm = crossUnit(ab[0], ab[1]);
  const tilt: Vec3 = [1.5 * r(), -1.5 * r(), 0];
  const lattice: Mat3 = [ab[0], ab[1], [tilt[0] + nrm[0] * c, tilt[1] + nrm[1] * c, tilt[2] + nrm[2] * c]];
  return {
    lattice,
    frac: randomFrac(r, n, [
      [0, 1],
      [0, 1],
      [0, thick / c],
    ]),
  };
}

export interface NamedCase {
  name: string;
  input: NeighborInput & { frac: Vec3[] };
}

/** One of each awkward family, small enough to compare edge by edge. */
export function adversarialCases(seed = 100): NamedCase[] {
  const r = rng(seed);
  const cases: NamedCase[] = [];
  const add = (name: string, lattice: Mat3, pbc: Pbc, frac: Vec3[], cutoff: number) => cases.push({ name, input: { lattice, pbc, frac, cutoff } });
  for (let t = 0; t < 6; t++) {
    // At most 0.1 atoms/Å³ (solids are 0.03–0.2), so edge counts stay physical.
    const lattice = randomCell(r, 3, 12);
    const n = 1 + Math.floor(r() * Math.min(150, 0.1 * new Lattice(lattice).volume));
    add(`random triclinic ${t}`, lattice, [true, true, true], randomFrac(r, n), 1 + r() * 7);
  }
  add('one atom, cell much smaller than the cutoff', randomCell(r, 1.5, 3), [true, true, true], randomFrac(r, 1), 10);
  add('two atoms, cutoff of several cells', randomCell(r, 2, 3), [true, true, true], randomFrac(r, 2), 9);
  add('angle of 179°', Lattice.fromParameters(4, 4, 5, 90, 90, 179).matrix, [true, true, true], randomFrac(r, 6), 4);
  add('angle of 1°', Lattice.fromParameters(4, 5, 6, 90, 90, 1).matrix, [true, true, true], randomFrac(r, 6), 4);
  add('two angles near 0/90', Lattice.fromParameters(5, 5, 5, 2, 89, 90.5).matrix, [true, true, false], randomFrac(r, 5), 3);
  const slab = vacuumSlab(r, 400, 5);
  add('vacuum slab, pbc in-plane', slab.lattice, [true, true, false], slab.frac, 4.5);
  add('vacuum slab treated as 3D periodic', slab.lattice, [true, true, true], slab.frac, 4);
  add(
    'molecule outside [0, 1)',
    randomCell(r, 8, 25),
    [false, false, false],
    randomFrac(r, 300, [
      [-0.3, 0.9],
      [0.2, 1.6],
      [-1, 0.4],
    ]),
    3.5,
  );
  add(
    'flat molecule',
    randomCell(r, 8, 12),
    [false, false, false],
    randomFrac(r, 40).map(([x, y]) => [x, y, 0.5] as Vec3),
    4,
  );
  const unwrapped = randomFrac(r, 70).map((f) => f.map((x) => x + Math.floor(r() * 9) - 4) as Vec3);
  unwrapped.push([-1e-17, 1 - 1e-17, 3]);
  add('unwrapped coordinates, mixed periodicity', randomCell(r, 4, 10), [true, false, true], unwrapped, 5);
  add('single atom, no periodicity', Lattice.cubic(5).matrix, [false, false, false], [[0.1, 0.2, 0.3]], 3);
  add('no atoms', Lattice.cubic(5).matrix, [true, true, true], [], 3);
  return cases;
}
