import { elementBySymbol } from './elements';

/**
 * Chemical formulae. Elements are ordered by Pauling electronegativity,
 * least electronegative first (the convention pymatgen uses, which gives the
 * familiar NaCl, MoS2, SrTiO3, GaAs), ties broken alphabetically.
 */

/** Amount of each element, summing occupancies (1 per site when ordered). */
export function composition(species: readonly string[], occupancy?: readonly number[]): Map<string, number> {
  const out = new Map<string, number>();
  species.forEach((el, i) => out.set(el, (out.get(el) ?? 0) + (occupancy?.[i] ?? 1)));
  return out;
}

function orderKey(el: string): number {
  // Noble gases have no Pauling value; put them last, as pymatgen does.
  return elementBySymbol(el)?.electronegativity ?? 100;
}

function sortedElements(comp: Map<string, number>): string[] {
  return [...comp.keys()].sort((a, b) => orderKey(a) - orderKey(b) || a.localeCompare(b));
}

function amount(x: number): string {
  if (Math.abs(x - 1) < 1e-8) return '';
  if (Math.abs(x - Math.round(x)) < 1e-8) return String(Math.round(x));
  return String(Number(x.toFixed(4)));
}

/** Formula with every element and its count in the cell, e.g. 'Mo16S32'. */
export function formula(species: readonly string[], occupancy?: readonly number[]): string {
  const comp = composition(species, occupancy);
  return sortedElements(comp)
    .map((el) => el + amount(comp.get(el)!))
    .join('');
}

/** Greatest common divisor of two whole numbers (formulas, generated crystals' compositions). */
export function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Formula divided by the greatest common divisor of the counts, e.g. 'MoS2'. */
export function reducedFormula(species: readonly string[], occupancy?: readonly number[]): string {
  const comp = composition(species, occupancy);
  const counts = [...comp.values()];
  // Partial occupancies do not reduce cleanly; show them as they are.
  if (!counts.every((c) => Math.abs(c - Math.round(c)) < 1e-8)) return formula(species, occupancy);
  const g = counts.map((c) => Math.round(c)).reduce(gcd);
  return sortedElements(comp)
    .map((el) => el + amount(Math.round(comp.get(el)!) / g))
    .join('');
}

/** Distinct elements, in formula order. */
export function elementsOf(species: readonly string[]): string[] {
  return sortedElements(composition(species));
}
