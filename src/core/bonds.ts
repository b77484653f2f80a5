import { elementBySymbol } from './elements';
import type { Vec3 } from './math3';
import type { Structure } from './structure';

/**
 * Bonds for display, found from covalent radii (Cordero et al. 2008, via
 * the element table) and carried with the periodic image they reach, so the
 * viewer can draw bonds that cross the cell boundary.
 *
 * Rule: i–j bonded when d < BOND_TOLERANCE · (r_i + r_j). Metal–metal pairs
 * in a structure that also has non-metals must be within r_i + r_j + 0.05 Å:
 * this keeps the real Ga–Ga and In–In bonds of GaSe/InSe while dropping the
 * Mo–Mo "bonds" that a looser rule draws across MoS2 (3.16 Å vs 3.08 Å
 * radii sum), which no chemist draws.
 */
export const BOND_TOLERANCE = 1.15;
const METAL_METAL_SLACK = 0.05;

/** Non-metals and metalloids that count as anion formers for the rule above. */
const NON_METALS = new Set(['H', 'He', 'B', 'C', 'N', 'O', 'F', 'Ne', 'Si', 'P', 'S', 'Cl', 'Ar', 'Ge', 'As', 'Se', 'Br', 'Kr', 'Sb', 'Te', 'I', 'Xe', 'At', 'Rn']);

/** Whether the metal–metal rule above applies to this structure. */
export function containsNonMetal(species: readonly string[]): boolean {
  return species.some((el) => NON_METALS.has(el));
}

export interface Bond {
  i: number;
  j: number;
  /** Lattice translation applied to j: the bond goes from r_i to r_j + image · L. */
  image: Vec3;
  distance: number;
}

function radius(el: string): number {
  return elementBySymbol(el)?.covalentRadius ?? 1.5;
}

/** Largest bonding distance between elements a and b in this structure. */
export function bondCutoff(a: string, b: string, hasNonMetal: boolean): number {
  const sum = radius(a) + radius(b);
  if (hasNonMetal && !NON_METALS.has(a) && !NON_METALS.has(b)) return sum + METAL_METAL_SLACK;
  return BOND_TOLERANCE * sum;
}

export interface Neighbor {
  j: number;
  image: Vec3;
  vector: Vec3;
  distance: number;
}

/**
 * All (j, image) within `cutoff` Å of site i, nearest first. Brute force over
 * the images a sphere of that radius can reach, which is exact in any cell
 * shape; fine for the unit cells the viewer works on (the GPU neighbour list
 * of the compute core handles large N).
 */
export function neighborsOf(s: Structure, i: number, cutoff: number): Neighbor[] {
  const h = s.lattice.heights;
  const range = h.map((hk, k) => (s.pbc[k] ? Math.ceil(cutoff / hk) + 1 : 0));
  const ri = s.frac[i];
  const out: Neighbor[] = [];
  const m = s.lattice.matrix;
  for (let j = 0; j < s.numSites; j++) {
    const fj = s.frac[j];
    const d0 = [fj[0] - ri[0], fj[1] - ri[1], fj[2] - ri[2]];
    // Start from the nearest image so a small range suffices even for unwrapped coordinates.
    const base = d0.map((x, k) => (s.pbc[k] ? -Math.round(x) : 0));
    for (let a = -range[0]; a <= range[0]; a++) {
      for (let b = -range[1]; b <= range[1]; b++) {
        for (let c = -range[2]; c <= range[2]; c++) {
          const image: Vec3 = [base[0] + a, base[1] + b, base[2] + c];
          const f = [d0[0] + image[0], d0[1] + image[1], d0[2] + image[2]];
          const v: Vec3 = [
            f[0] * m[0][0] + f[1] * m[1][0] + f[2] * m[2][0],
            f[0] * m[0][1] + f[1] * m[1][1] + f[2] * m[2][1],
            f[0] * m[0][2] + f[1] * m[1][2] + f[2] * m[2][2],
          ];
          const d = Math.hypot(v[0], v[1], v[2]);
          if (d < cutoff && d > 1e-6) out.push({ j, image, vector: v, distance: d });
        }
      }
    }
  }
  return out.sort((x, y) => x.distance - y.distance || x.j - y.j);
}

/** Every bond once (i < j, or i == j with the image in a canonical half-space). */
export function findBonds(s: Structure): Bond[] {
  const hasNonMetal = containsNonMetal(s.species);
  const elements = [...new Set(s.species)];
  let maxCut = 0;
  for (const a of elements) for (const b of elements) maxCut = Math.max(maxCut, bondCutoff(a, b, hasNonMetal));
  const bonds: Bond[] = [];
  for (let i = 0; i < s.numSites; i++) {
    for (const n of neighborsOf(s, i, maxCut)) {
      if (n.j < i) continue;
      if (n.j === i && !positiveImage(n.image)) continue;
      if (n.distance < bondCutoff(s.species[i], s.species[n.j], hasNonMetal)) bonds.push({ i, j: n.j, image: n.image, distance: n.distance });
    }
  }
  return bonds;
}

/** True for the first non-zero component positive: picks one of ±image. */
function positiveImage(v: Vec3): boolean {
  for (const x of v) if (x !== 0) return x > 0;
  return false;
}
