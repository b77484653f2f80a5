import { elementBySymbol } from './elements';
import type { Vec3 } from './math3';
import { neighborListCpu } from './neighbors/cpu';
import type { Structure } from './structure';

/**
 * Bonds for display, carried with the periodic image they reach, so the
 * viewer can draw bonds that cross the cell boundary. Distances are judged
 * against covalent radii (Cordero et al., Dalton Trans. 2008, 2832, via the
 * element table). The rule, chosen so that isostructural crystals get the
 * same picture and the textbook crystals the bonds a chemist draws:
 *
 * 1. A structure of metals only (elements, alloys): each atom is bonded to
 *    its nearest-neighbour shell, i.e. neighbours within 1.1x its nearest
 *    distance (and within 1.3x the radii sum, so an isolated atom does not
 *    reach across a vacuum). fcc Cu and Al get 12 bonds, bcc Fe 8, while the
 *    radii alone would give Al none (2.86 Å vs a 2.42 Å sum).
 * 2. A structure with non-metals (a compound): a pair with a non-metal is
 *    bonded when d < 1.15 (r_i + r_j). A metal–metal pair is bonded only when
 *    d < r_i + r_j + 0.05 Å AND the two metals share no bonded non-metal
 *    neighbour. Contacts across a shared anion are a consequence of the
 *    anion's bonds, not bonds of their own: Ti–Ti in rutile (2.96 Å),
 *    Sr–Ti and Sr–Sr in SrTiO3, Cs–Cs in CsCl, Mo–Mo and W–W in MoS2 and
 *    WS2 are all bridged and all dropped, while the unbridged Ga–Ga and
 *    In–In bonds of GaSe and InSe stay.
 *
 * This is the cation–anion view of CrystalNN's `cation_anion` option
 * (pymatgen) with metal–metal bonds kept where nothing else explains the
 * contact; tests in src/tests/bonds-scene.test.ts hold it to NaCl, CsCl,
 * SrTiO3, rutile, MoS2/WS2, GaSe, Si, Cu, Al and Fe.
 */
export const BOND_TOLERANCE = 1.15;
const METAL_METAL_SLACK = 0.05;
/** Rule 1: the nearest-neighbour shell of a metal, and its cap. */
const METAL_SHELL = 1.1;
const METAL_SHELL_CAP = 1.3;

/** Non-metals and metalloids that count as anion formers for the rule above. */
export const NON_METALS: ReadonlySet<string> = new Set([
  'H',
  'He',
  'B',
  'C',
  'N',
  'O',
  'F',
  'Ne',
  'Si',
  'P',
  'S',
  'Cl',
  'Ar',
  'Ge',
  'As',
  'Se',
  'Br',
  'Kr',
  'Sb',
  'Te',
  'I',
  'Xe',
  'At',
  'Rn',
]);

/** Whether the structure is a compound (rule 2) rather than metals only (rule 1). */
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

/**
 * Largest distance at which elements a and b can be bonded in this
 * structure (the rule above may still drop a pair inside it: a bridged
 * metal–metal contact, or a metal beyond its nearest-neighbour shell).
 */
export function bondCutoff(a: string, b: string, hasNonMetal: boolean): number {
  const sum = radius(a) + radius(b);
  if (!hasNonMetal) return METAL_SHELL_CAP * sum;
  if (!NON_METALS.has(a) && !NON_METALS.has(b)) return sum + METAL_METAL_SLACK;
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

/**
 * Every site's neighbours within `cutoff`, nearest first: the cell-list
 * neighbour list (linear in N) instead of neighborsOf per site (quadratic:
 * 250 ms for a 10x10 MoS2 supercell, paid again after every defect edit).
 * Distances and vectors are recomputed in double precision from the edge's
 * image, so a bond decision at a cutoff is the same as neighborsOf's.
 */
export function allNeighbors(s: Structure, cutoff: number): Neighbor[][] {
  const near: Neighbor[][] = Array.from({ length: s.numSites }, () => []);
  if (s.numSites === 0 || cutoff <= 0) return near;
  const edges = neighborListCpu({ lattice: s.lattice.matrix, pbc: s.pbc, frac: s.frac, cutoff });
  const m = s.lattice.matrix;
  for (let e = 0; e < edges.count; e++) {
    const i = edges.src[e];
    const j = edges.dst[e];
    const image: Vec3 = [edges.image[3 * e], edges.image[3 * e + 1], edges.image[3 * e + 2]];
    const fi = s.frac[i];
    const fj = s.frac[j];
    const f = [fj[0] - fi[0] + image[0], fj[1] - fi[1] + image[1], fj[2] - fi[2] + image[2]];
    const v: Vec3 = [
      f[0] * m[0][0] + f[1] * m[1][0] + f[2] * m[2][0],
      f[0] * m[0][1] + f[1] * m[1][1] + f[2] * m[2][1],
      f[0] * m[0][2] + f[1] * m[1][2] + f[2] * m[2][2],
    ];
    const d = Math.hypot(v[0], v[1], v[2]);
    // The float32 list may keep or drop a pair within rounding of the cutoff; judge it in double.
    if (d < cutoff && d > 1e-6) near[i].push({ j, image, vector: v, distance: d });
  }
  for (const list of near) list.sort((x, y) => x.distance - y.distance || x.j - y.j);
  return near;
}

const key = (j: number, image: Vec3) => `${j}:${image[0]},${image[1]},${image[2]}`;

/**
 * The user's own rule for some element pairs, over the automatic one: a
 * maximum distance (Å), or null for "never bonded". Keys are pairKey(a, b).
 * A chemist who wants the Mo–Mo contacts of MoS2, or no Sr–O bonds in
 * SrTiO3, sets them here (the viewer's "Bond rules").
 */
export type BondRules = Readonly<Record<string, number | null>>;

/** "Mo-S" for (S, Mo) and (Mo, S): one key per unordered pair. */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}

/** Every bond once (i < j, or i == j with the image in a canonical half-space), by the rule above and the user's `rules`. */
export function findBonds(s: Structure, rules: BondRules = {}): Bond[] {
  const hasNonMetal = containsNonMetal(s.species);
  const elements = [...new Set(s.species)];
  let maxCut = 0;
  for (const a of elements) for (const b of elements) maxCut = Math.max(maxCut, rules[pairKey(a, b)] ?? bondCutoff(a, b, hasNonMetal));
  const near = allNeighbors(s, maxCut);
  const within = (i: number, n: Neighbor) => n.distance < bondCutoff(s.species[i], s.species[n.j], hasNonMetal);
  let bonded: (i: number, n: Neighbor) => boolean;
  if (!hasNonMetal) {
    // Rule 1: the nearest-neighbour shell of either atom.
    const shell = near.map((list) => METAL_SHELL * (list[0]?.distance ?? 0));
    bonded = (i, n) => within(i, n) && (n.distance <= shell[i] || n.distance <= shell[n.j]);
  } else {
    // Rule 2: each atom's bonded non-metals (site and image, relative to the atom's own cell) ...
    const anions = near.map((list, i) => list.filter((n) => NON_METALS.has(s.species[n.j]) && within(i, n)));
    const anionKeys = anions.map((list) => new Set(list.map((n) => key(n.j, n.image))));
    // ... and a metal–metal contact is a bond only if no non-metal bridges the two
    // (j's anions, seen from i's cell, are shifted by j's image).
    const bridged = (i: number, n: Neighbor) =>
      anions[n.j].some((a) => anionKeys[i].has(key(a.j, [a.image[0] + n.image[0], a.image[1] + n.image[1], a.image[2] + n.image[2]])));
    bonded = (i, n) => within(i, n) && (NON_METALS.has(s.species[i]) || NON_METALS.has(s.species[n.j]) || !bridged(i, n));
  }
  // A pair the user has ruled on follows the rule alone: bonded within its distance, never if null.
  const decide = (i: number, n: Neighbor): boolean => {
    const k = pairKey(s.species[i], s.species[n.j]);
    if (k in rules) {
      const max = rules[k];
      return max !== null && n.distance < max;
    }
    return bonded(i, n);
  };
  const bonds: Bond[] = [];
  for (let i = 0; i < s.numSites; i++) {
    for (const n of near[i]) {
      if (n.j < i) continue;
      if (n.j === i && !positiveImage(n.image)) continue;
      if (decide(i, n)) bonds.push({ i, j: n.j, image: n.image, distance: n.distance });
    }
  }
  return bonds;
}

const bondCache = new WeakMap<Structure, { rules: string; bonds: Bond[] }>();

/** findBonds, once per structure and rule set (structures are immutable): the viewer and the properties panel share it. */
export function bondsOf(s: Structure, rules: BondRules = {}): Bond[] {
  const key = JSON.stringify(Object.entries(rules).sort());
  const hit = bondCache.get(s);
  if (hit && hit.rules === key) return hit.bonds;
  const bonds = findBonds(s, rules);
  bondCache.set(s, { rules: key, bonds });
  return bonds;
}

/** What the automatic rule allows for a pair in this structure (Å): the distance below which it may bond. */
export function automaticCutoff(s: Structure, a: string, b: string): number {
  return bondCutoff(a, b, containsNonMetal(s.species));
}

/** Site i's bonded neighbours (from findBonds' list), nearest first. */
export function bondedNeighbors(s: Structure, i: number, bonds: readonly Bond[]): Neighbor[] {
  const all = neighborsOf(s, i, Math.max(0, ...bonds.map((b) => b.distance)) + 1e-6);
  const keys = new Set<string>();
  for (const b of bonds) {
    if (b.i === i) keys.add(key(b.j, b.image));
    if (b.j === i) keys.add(key(b.i, [-b.image[0], -b.image[1], -b.image[2]]));
  }
  return all.filter((n) => keys.has(key(n.j, n.image)));
}

/** True for the first non-zero component positive: picks one of ±image. */
function positiveImage(v: Vec3): boolean {
  for (const x of v) if (x !== 0) return x > 0;
  return false;
}
