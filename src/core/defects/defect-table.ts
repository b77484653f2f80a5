/**
 * The defect editor's table of the configuration: each defect named as a
 * defect physicist writes it (V_S for a sulfur vacancy, W_Mo for tungsten on
 * a molybdenum site), its site and position, and how far it is from the
 * other defects (minimum image in the periodic supercell: in a 5x5 MoS2
 * cell two vacancies 3.16 Å apart are neighbours, and the model's inputs
 * depend on exactly these distances, models/defects/REPRESENTATION.md).
 */
import { elementByZ } from '../elements';
import type { Vec3 } from '../math3';
import type { Structure } from '../structure';

export interface DefectRow {
  /** 'V_S', 'W_Mo': the defect, then the species of the pristine site. */
  name: string;
  kind: 'vacancy' | 'substitution';
  site: number;
  /** Cartesian position of the pristine site (Å). */
  at: Vec3;
  /** The closest other defect and its distance (Å); null for a lone defect. */
  nearest: { name: string; site: number; distance: number } | null;
}

/** `edits`: [pristine site, Z] with Z = 0 for a vacancy, in the editor's order. */
export function defectTable(pristine: Structure, edits: readonly (readonly [number, number])[]): DefectRow[] {
  const named = edits.map(([site, z]) => {
    const host = pristine.species[site];
    const kind = z === 0 ? ('vacancy' as const) : ('substitution' as const);
    return { site, kind, name: `${z === 0 ? 'V' : (elementByZ(z)?.symbol ?? `Z${z}`)}_${host}` };
  });
  return named.map((d) => {
    let nearest: DefectRow['nearest'] = null;
    for (const o of named) {
      if (o.site === d.site) continue;
      const distance = pristine.minimumImage(d.site, o.site).distance;
      if (!nearest || distance < nearest.distance) nearest = { name: o.name, site: o.site, distance };
    }
    return { ...d, at: pristine.lattice.fracToCart(pristine.frac[d.site]), nearest };
  });
}
