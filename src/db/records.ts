import { structureFromJson, structureToJson } from '../core/formats/json';
import { elementsOf, formula, reducedFormula } from '../core/formula';
import type { Structure } from '../core/structure';
import type { SymmetryInfo } from '../core/symmetry';
import type { StructureRecord } from './schema';

/** Everything the browser lists and searches on is derived once, at import. */
export function makeRecord(
  s: Structure,
  datasetId: string,
  source: string,
  symmetry: Pick<SymmetryInfo, 'number' | 'symbol'> | null,
  name = s.title || reducedFormula(s.species, s.occupancy),
): StructureRecord {
  return {
    id: crypto.randomUUID(),
    datasetId,
    name,
    source,
    formula: formula(s.species, s.occupancy),
    reducedFormula: reducedFormula(s.species, s.occupancy),
    elements: elementsOf(s.species),
    numSites: s.numSites,
    spaceGroupNumber: symmetry?.number ?? null,
    spaceGroupSymbol: symmetry?.symbol ?? null,
    createdAt: Date.now(),
    data: structureToJson(s),
  };
}

export function recordStructure(r: StructureRecord): Structure {
  return structureFromJson(r.data, r.name);
}
