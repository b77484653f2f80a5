/**
 * A generated crystal as a Structure, with what a user wants to know about
 * it: formula, validity (CDVAE's two checks), space group (moyo, when the
 * symmetry library is loaded) and the model's predicted property.
 */
import { elementByZ } from '../elements';
import { reducedFormula } from '../formula';
import { Structure } from '../structure';
import { analyzeSymmetry, symmetryReady } from '../symmetry';
import type { GeneratedCrystal } from './langevin';
import type { CdvaeManifest } from './manifest';
import { compositionalValidity, structuralValidity } from './validity';

export interface GeneratedSummary {
  formula: string;
  numSites: number;
  /** Space group number and symbol, or null when it could not be found. */
  spaceGroup: { number: number; symbol: string } | null;
  structurallyValid: boolean;
  compositionallyValid: boolean;
  /** Shortest distance between two atoms, Å. */
  minDistance: number;
  /** g/cm³ */
  density: number;
  property: { name: string; unit: string; value: number } | null;
  notes: string[];
}

export function crystalToStructure(c: GeneratedCrystal, title: string, extra: Record<string, unknown> = {}): Structure {
  return new Structure({
    lattice: c.lattice,
    species: c.numbers.map((z) => elementByZ(z)?.symbol ?? 'X'),
    frac: c.frac,
    title,
    properties: extra,
  });
}

/**
 * Symmetry tolerance (Å) for generated crystals: Langevin sampling leaves
 * atoms ~0.01-0.1 Å off their ideal sites, so the library's 0.01 Å would call
 * nearly every sample P1.
 */
export const GENERATED_SYMPREC = 0.1;

export function summarize(c: GeneratedCrystal, manifest: CdvaeManifest): GeneratedSummary {
  const s = crystalToStructure(c, '');
  const sv = structuralValidity(c.lattice, c.frac);
  let spaceGroup: GeneratedSummary['spaceGroup'] = null;
  if (symmetryReady() && sv.valid) {
    try {
      const sym = analyzeSymmetry(s, GENERATED_SYMPREC);
      spaceGroup = { number: sym.number, symbol: sym.symbol };
    } catch {
      spaceGroup = null;
    }
  }
  return {
    formula: reducedFormula(s.species),
    numSites: s.numSites,
    spaceGroup,
    structurallyValid: sv.valid,
    compositionallyValid: compositionalValidity(c.numbers),
    minDistance: sv.minDistance,
    density: s.density!, // generated crystals are periodic along all three axes
    property: manifest.property ? { name: manifest.property.name, unit: manifest.property.unit, value: c.property } : null,
    notes: c.notes,
  };
}
