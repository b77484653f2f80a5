/**
 * Defect formation energies at other chemical potentials (issue 28). E_f is
 * linear in the chemical potentials,
 *
 *   E_f(mu) = E_f(mu_ref) + sum_i n_i (mu_i - mu_ref_i),
 *
 * with n_i the atoms of element i removed from the pristine supercell
 * (negative when added), so the model's prediction at its labels' reference
 * (the manifest's `referencePotentials`) moves to any other mu without
 * retraining.
 *
 * The range a host allows: in equilibrium with the host M_a X_b,
 * a mu_M + b mu_X = E(M_a X_b); each element at most its elemental phase's
 * mu. So the anion X runs from X-poor (mu_X - mu_X^0 = dH/b, M-rich) to
 * X-rich (0), and the metal follows: mu_M - mu_M^0 = (dH - b (mu_X - mu_X^0)) / a,
 * with dH the host's formation enthalpy per formula unit
 * (models/defects/host_enthalpies.py, GPAW at the labels' settings:
 * data/host-enthalpies.json). Dopant elements stay at their reference
 * (their elemental phase: the dopant-rich limit).
 *
 * The labels take every element from its elemental phase (2DMD's
 * convention), which is not a point of this range for the metal: even at
 * the X-rich end a metal vacancy's E_f differs from the label by dH.
 */
import enthalpies from '../../../models/defects/data/host-enthalpies.json';
import { elementByZ } from '../elements';
import type { Structure } from '../structure';
import type { HostName } from './representation';

export interface HostRange {
  host: HostName;
  /** The element the slider moves: the anion (S, Se, N). */
  variable: string;
  /** The element that follows through the host's equilibrium. */
  follower: string;
  /** dH per formula unit (eV), negative for a stable host. */
  formationEnthalpy: number;
  /** Atoms of the variable and the follower per formula unit (b and a). */
  perFormula: { variable: number; follower: number };
  /** Bounds of mu_variable - mu_variable^0 (eV): [dH/b, 0]. */
  min: number;
  max: number;
  /** Elemental-phase mu of the host's elements (eV per atom), as in the references. */
  elemental: Record<string, number>;
  /** Where the numbers come from, in words. */
  sources: string[];
}

interface EnthalpyFile {
  hosts: Record<
    string,
    { formula: Record<string, number>; variable?: string; formation_enthalpy: number; elemental: Record<string, { mu: number; system: string }> }
  >;
}

/** Why a host has no range yet, for the panel to say. */
export const NO_RANGE: Partial<Record<HostName, string>> = {
  BP: 'black phosphorus is one element: its chemical potential is fixed by the host itself',
};

/** The slider's range for a host, or null (NO_RANGE says why). */
export function hostRange(host: HostName, file: EnthalpyFile = enthalpies as EnthalpyFile): HostRange | null {
  const h = file.hosts[host];
  if (!h) return null;
  const elements = Object.keys(h.formula);
  // Older files name no variable: the element twice in MX2.
  const variable = h.variable ?? elements.find((el) => h.formula[el] === 2);
  const follower = elements.find((el) => el !== variable);
  if (!variable || !follower || elements.length !== 2) return null;
  const b = h.formula[variable];
  return {
    host,
    variable,
    follower,
    perFormula: { variable: b, follower: h.formula[follower] },
    formationEnthalpy: h.formation_enthalpy,
    min: h.formation_enthalpy / b,
    max: 0,
    elemental: Object.fromEntries(Object.entries(h.elemental).map(([el, r]) => [el, r.mu])),
    sources: Object.entries(h.elemental).map(([el, r]) => `${el}: ${r.system}`),
  };
}

/**
 * mu_i - mu_ref_i for the host's elements at chalcogen offset `delta` =
 * mu_X - mu_X^0 (eV), against the labels' reference potentials `reference`.
 */
export function potentialShifts(range: HostRange, delta: number, reference: Record<string, number>): Record<string, number> {
  const { variable: x, follower: m } = range;
  const muX = range.elemental[x] + delta;
  const muM = range.elemental[m] + followerOffset(range, delta);
  return { [x]: muX - reference[x], [m]: muM - reference[m] };
}

/** mu_M - mu_M^0 of the follower when the variable sits at `delta` = mu_X - mu_X^0: (dH - b delta) / a. */
export function followerOffset(range: HostRange, delta: number): number {
  return (range.formationEnthalpy - range.perFormula.variable * delta) / range.perFormula.follower;
}

/** Atoms of each element removed from the pristine supercell by the edits (added ones count negative). */
export function removedAtoms(pristine: Structure, edits: readonly (readonly [number, number])[]): Record<string, number> {
  const n: Record<string, number> = {};
  for (const [site, z] of edits) {
    const was = pristine.species[site];
    n[was] = (n[was] ?? 0) + 1;
    if (z !== 0) {
      const el = elementByZ(z)?.symbol ?? `Z${z}`;
      n[el] = (n[el] ?? 0) - 1;
    }
  }
  return n;
}

/** The shift of the whole configuration's E_f (eV): sum_i n_i (mu_i - mu_ref_i); elements without a shift stay at the reference. */
export function formationShift(removed: Record<string, number>, shifts: Record<string, number>): number {
  return Object.entries(removed).reduce((sum, [el, n]) => sum + n * (shifts[el] ?? 0), 0);
}
