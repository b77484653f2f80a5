/**
 * Validity checks of a generated crystal, the two of CDVAE (Xie et al.,
 * ICLR 2022, sec. 5.2), the same rules as models/cdvae/metrics.py:
 *
 * - structural: no two different atoms closer than 0.5 Å (minimum image)
 *   and a cell volume of at least 0.1 Å³;
 * - compositional: some combination of the elements' known oxidation states
 *   is charge neutral with every cation less electronegative than every
 *   anion (SMACT's test with the Pauling test, on pymatgen's element data);
 *   single elements and all-metal compositions (alloys) count as valid.
 */
import { Lattice } from '../lattice';
import { type Mat3, type Vec3, det } from '../math3';
import { minimumImageFrac } from '../structure';
import { ELEMENT_CHEMISTRY } from './element-chemistry';

export const MIN_DISTANCE = 0.5; // Å, CDVAE

/** Shortest distance (Å) between two different sites, each pair at its exact minimum image. */
export function minInteratomicDistance(lattice: Mat3, frac: readonly Vec3[]): number {
  const L = new Lattice(lattice);
  let best = Infinity;
  for (let i = 0; i < frac.length; i++) {
    for (let j = i + 1; j < frac.length; j++) best = Math.min(best, minimumImageFrac(L, [true, true, true], frac[i], frac[j]).distance);
  }
  return best;
}

export interface StructuralValidity {
  valid: boolean;
  minDistance: number;
  volume: number;
}

export function structuralValidity(lattice: Mat3, frac: readonly Vec3[]): StructuralValidity {
  const volume = Math.abs(det(lattice));
  // A flat cell (which Lattice refuses) has every image of every atom in one plane: call it 0.
  const minDistance = volume > 1e-8 ? minInteratomicDistance(lattice, frac) : 0;
  return { valid: volume >= 0.1 && minDistance >= MIN_DISTANCE, minDistance, volume };
}

const CHEMISTRY = new Map(ELEMENT_CHEMISTRY.map(([z, states, x, metal]) => [z, { states, x, metal }]));

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Charge-neutral oxidation states exist (see the module comment). Atomic numbers in, any order. */
export function compositionalValidity(numbers: readonly number[]): boolean {
  const counts = new Map<number, number>();
  for (const z of numbers) counts.set(z, (counts.get(z) ?? 0) + 1);
  const zs = [...counts.keys()].sort((a, b) => a - b);
  if (zs.length <= 1) return true;
  const info = zs.map((z) => {
    const c = CHEMISTRY.get(z);
    if (!c) throw new Error(`no chemistry data for Z = ${z}`);
    return c;
  });
  if (info.every((e) => e.metal)) return true;
  const g = [...counts.values()].reduce(gcd);
  const n = zs.map((z) => counts.get(z)! / g);
  const states = info.map((e) => (e.states.length ? e.states : [0]));
  const choice = new Array<number>(zs.length).fill(0);
  // Odometer over all oxidation-state combinations (a handful of elements, a few states each).
  for (;;) {
    const q = choice.map((c, i) => states[i][c]);
    if (q.reduce((s, qi, i) => s + qi * n[i], 0) === 0) {
      if (info.some((e) => e.x === null)) return true;
      const cations = info.filter((_, i) => q[i] > 0).map((e) => e.x!);
      const anions = info.filter((_, i) => q[i] < 0).map((e) => e.x!);
      if (!cations.length || !anions.length || Math.max(...cations) < Math.min(...anions)) return true;
    }
    let k = 0;
    while (k < choice.length && ++choice[k] === states[k].length) choice[k++] = 0;
    if (k === choice.length) return false;
  }
}
