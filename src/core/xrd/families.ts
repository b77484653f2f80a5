import type { Lattice } from '../lattice';

/**
 * Miller-index bookkeeping for a powder peak: which indices to print and how
 * to group the reflections that fall on one peak into families.
 */

/** One family of reflections on a peak: its representative indices and how many reflections it holds. */
export interface HklFamily {
  /** (h k l), or (h k i l) with i = −h−k on a hexagonal cell. */
  hkl: number[];
  multiplicity: number;
}

/**
 * Whether to print Miller–Bravais (h k i l) indices: a hexagonal cell in the
 * standard setting (γ ≈ 120°, α ≈ β ≈ 90°, |a − b| < 0.01 Å), where
 * i = −(h + k) is the index on the third basal axis −(a + b). The
 * tolerances are those of pymatgen's `Lattice.is_hexagonal` (5°, 0.01 Å),
 * so hexagonal crystals print as pymatgen prints them. pymatgen also
 * rewrites (h, k, l) as (h, k, −h−k, l) when the 120° (or 60°) angle is α
 * or β, or γ is 60°; those are not Miller–Bravais indices of the cell, so
 * such settings keep three indices here.
 */
export function usesMillerBravais(lattice: Lattice): boolean {
  const [a, b] = lattice.abc;
  const [alpha, beta, gamma] = lattice.angles;
  const TOL = 5;
  return Math.abs(alpha - 90) < TOL && Math.abs(beta - 90) < TOL && Math.abs(gamma - 120) < TOL && Math.abs(a - b) < 0.01;
}

/** Sorted absolute values: two index sets are one family here when these agree (pymatgen's `get_unique_families`). */
function familyKey(hkl: readonly number[]): string {
  return hkl
    .map(Math.abs)
    .sort((x, y) => x - y)
    .join(',');
}

/** Lexicographic order of index tuples, as Python compares tuples. */
function compareTuples(x: readonly number[], y: readonly number[]): number {
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

/**
 * Groups the reflections on one peak into families by permutation and sign
 * of their indices, the rule of pymatgen's `get_unique_families`: each
 * family is named by its largest index tuple ((1 1 1) rather than
 * (−1 1 −1)) and counts its members. This is a rule on the numbers, not
 * the crystal's point group: in a tetragonal cell (1 0 0) and (0 0 1) would
 * be one "family", but they lie on different peaks there, so only
 * accidental coincidences are affected. Families are listed in the order
 * their first member appears in `hkls`.
 */
export function uniqueFamilies(hkls: readonly (readonly number[])[]): HklFamily[] {
  const groups = new Map<string, (readonly number[])[]>();
  for (const hkl of hkls) {
    const key = familyKey(hkl);
    const g = groups.get(key);
    if (g) g.push(hkl);
    else groups.set(key, [hkl]);
  }
  return [...groups.values()].map((members) => ({
    hkl: [...members.reduce((best, m) => (compareTuples(m, best) > 0 ? m : best))],
    multiplicity: members.length,
  }));
}

/** Combining overline (U+0305): a negative index is written with a bar over it, as crystallographers do. */
const BAR = '\u0305';

/**
 * (1, 0, −1, 0) → "101̄0"; indices of 10 or more are separated by spaces
 * ("10 0 2̄") so the digits cannot run together.
 */
export function hklLabel(hkl: readonly number[]): string {
  const wide = hkl.some((i) => Math.abs(i) >= 10);
  return hkl.map((i) => (i < 0 ? [...String(-i)].map((c) => c + BAR).join('') : String(i))).join(wide ? ' ' : '');
}

/** Plain-text form for tooltips, screen readers and tests: (1, 0, −1, 0) → "1 0 -1 0". */
export function hklText(hkl: readonly number[]): string {
  return hkl.join(' ');
}
