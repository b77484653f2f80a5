/**
 * Validity checks of a generated crystal, the two of CDVAE (Xie et al.,
 * ICLR 2022, sec. 5.2), the same rules as models/cdvae/metrics.py:
 *
 * - structural: no two different atoms closer than 0.5 Å (minimum image)
 *   and a cell volume of at least 0.1 Å³;
 * - compositional: CDVAE's `smact_validity` with SMACT 2.2.1's rules and
 *   tables (element-chemistry.ts, generated from SMACT's data by
 *   models/cdvae/write_element_data.py), exactly as metrics.py's
 *   `compositional_valid`: counts reduced by their gcd; a single element is
 *   valid; all elements in SMACT's metals list is valid (alloys); otherwise
 *   some combination of oxidation states must be charge neutral for those
 *   exact reduced counts and pass SMACT's Pauling test (`eneg_states_test`)
 *   as CDVAE calls it (see `paulingOk`).
 */
import { gcd } from '../formula';
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

/**
 * SMACT's `eneg_states_test` as CDVAE calls it (metrics.py `pauling_ok`): the
 * pairs (i < j) in order, the first decisive one wins. A cation and an anion
 * must have the cation less electronegative; comparing a missing
 * electronegativity raises TypeError in SMACT, which CDVAE counts as passing
 * (true at once); a pair that is not cation/anion and has a missing value fails.
 */
export function paulingOk(states: readonly number[], x: readonly (number | null)[]): boolean {
  for (let i = 0; i < states.length; i++) {
    for (let j = i + 1; j < states.length; j++) {
      const [o1, e1, o2, e2] = [states[i], x[i], states[j], x[j]];
      if (o1 > 0 && o2 < 0) {
        if (e1 === null || e2 === null) return true;
        if (!(e1 < e2)) return false;
      } else if (o1 < 0 && o2 > 0) {
        if (e1 === null || e2 === null) return true;
        if (!(e2 < e1)) return false;
      } else if (e1 === null || e2 === null) return false;
    }
  }
  return true;
}

/** True when the pair (o1 with x1, o2 with x2), both electronegativities known, passes the Pauling test. */
const pairOk = (o1: number, x1: number, o2: number, x2: number) => !((o1 > 0 && o2 < 0 && !(x1 < x2)) || (o1 < 0 && o2 > 0 && !(x2 < x1)));

/**
 * CDVAE's `smact_validity` (see the module comment) for a crystal's atomic
 * numbers, any order. The same answer as trying every combination of
 * oxidation states (metrics.py), found by a depth-first search that only
 * extends a partial choice while the remaining elements can still make the
 * total charge zero and, when every electronegativity is known, while every
 * pair chosen so far passes the Pauling test (then the test is exactly "all
 * pairs pass", so the pruning changes nothing).
 */
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
  const n = zs.map((z) => counts.get(z)! / g); // as CDVAE (neutrality itself does not depend on the scale)
  const k = zs.length;
  const x = info.map((e) => e.x);
  const allKnown = x.every((v) => v !== null);
  // reach[i]: the charges that elements i..k-1 can sum to (reach[k] = {0})
  const reach: Set<number>[] = new Array(k + 1);
  reach[k] = new Set([0]);
  for (let i = k - 1; i >= 0; i--) {
    const next = new Set<number>();
    for (const q of info[i].states) for (const r of reach[i + 1]) next.add(q * n[i] + r);
    reach[i] = next;
  }
  const q = new Array<number>(k).fill(0);
  const search = (i: number, charge: number): boolean => {
    if (i === k) return allKnown || paulingOk(q, x);
    for (const s of info[i].states) {
      if (!reach[i + 1].has(-(charge + s * n[i]))) continue;
      if (allKnown) {
        let ok = true;
        for (let j = 0; j < i && ok; j++) ok = pairOk(q[j], x[j]!, s, x[i]!);
        if (!ok) continue;
      }
      q[i] = s;
      if (search(i + 1, charge + s * n[i])) return true;
    }
    return false;
  };
  return search(0, 0);
}
