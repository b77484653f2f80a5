import init, { analyze_cell, type InitInput, type MoyoCell } from '@spglib/moyo-wasm';
import { elementBySymbol, elementByZ } from './elements';
import type { Vec3 } from './math3';
import { Structure } from './structure';
import { MAX_SITES_FOR_REDUCTION, reduceByTranslations } from './primitive';

/**
 * Space group and Wyckoff letters from moyo (https://github.com/spglib/moyo),
 * the Rust successor of spglib, through its WebAssembly build. The wasm
 * binary is loaded once per process; the caller says where it is, because a
 * browser fetches a URL while Node reads a file.
 */
export interface SymmetryInfo {
  number: number;
  symbol: string;
  hallNumber: number;
  pearson: string;
  /** One Wyckoff letter per site, in site order. */
  wyckoffs: string[];
  symprec: number;
}

let ready: Promise<unknown> | undefined;
let loaded = false;

export function initSymmetry(wasm: InitInput | Promise<InitInput>): Promise<unknown> {
  ready ??= Promise.resolve(wasm)
    .then((w) => init({ module_or_path: w }))
    .then((m) => {
      loaded = true;
      return m;
    });
  return ready;
}

/** Whether moyo's WebAssembly is loaded, so the synchronous analysis can run now. */
export function symmetryReady(): boolean {
  return loaded;
}

/** Resolves once initSymmetry's WebAssembly is loaded (at once if it never was asked for: callers then get no symmetry). */
export function whenSymmetryReady(): Promise<unknown> {
  return ready ?? Promise.resolve();
}

/** Default tolerance (Å): loose enough for relaxed DFT cells, as in pymatgen's SpacegroupAnalyzer (0.01). */
export const DEFAULT_SYMPREC = 1e-2;

/**
 * Largest structure analysed. moyo's time grows steeply with the size of a
 * supercell (all its pure translations): on the dev machine (2026-12-06)
 * Si 3x3x3 (216 sites) took 0.28 s, 4x4x4 (512) 7.2 s and NaCl 5x5x5
 * (1,000) 102 s; a 30,720-site supercell did not finish in 5 min. Above
 * this size the space group is not analysed, and callers say so, rather
 * than freeze the page or the command line.
 */
export const SYMMETRY_MAX_SITES = 256;

export class SymmetryTooLarge extends Error {
  /** `primitiveSites`: the primitive cell found by pure translations, when one was found but is still too large. */
  constructor(sites: number, primitiveSites?: number) {
    const why =
      primitiveSites !== undefined
        ? `its primitive cell still has ${primitiveSites.toLocaleString('en-US')} sites`
        : sites > MAX_SITES_FOR_REDUCTION
          ? `supercells are reduced to their primitive cell only up to ${MAX_SITES_FOR_REDUCTION.toLocaleString('en-US')} sites`
          : 'it has no pure translations to reduce it by (not a supercell, or one with defects or partial occupancy)';
    super(
      `space group not analysed: ${sites.toLocaleString('en-US')} sites is above the ${SYMMETRY_MAX_SITES} this app analyses, and ${why} (moyo's time grows steeply with size)`,
    );
    this.name = 'SymmetryTooLarge';
  }
}

/**
 * Analyses a structure; call after initSymmetry has resolved. Partial
 * occupancy is ignored (sites are treated as full), as spglib does.
 * Above SYMMETRY_MAX_SITES the structure is reduced to its primitive cell by
 * its pure translations (core/primitive.ts) first; SymmetryTooLarge is
 * thrown when that cell is still too large (a supercell with a defect has
 * no pure translations).
 */
export function analyzeSymmetry(s: Structure, symprec = DEFAULT_SYMPREC): SymmetryInfo {
  if (s.numSites > SYMMETRY_MAX_SITES) {
    // A supercell: analyse its primitive cell (found by pure translations), and give each site its primitive site's letter.
    const reduced = reduceByTranslations(s, symprec);
    if (!reduced) throw new SymmetryTooLarge(s.numSites);
    if (reduced.primitive.numSites > SYMMETRY_MAX_SITES) throw new SymmetryTooLarge(s.numSites, reduced.primitive.numSites);
    const info = analyzeSymmetry(reduced.primitive, symprec);
    return { ...info, wyckoffs: reduced.siteOf.map((k) => info.wyckoffs[k]) };
  }
  const d = moyoDataset(s, symprec);
  return {
    number: d.number,
    symbol: d.hm_symbol,
    hallNumber: d.hall_number,
    pearson: d.pearson_symbol,
    wyckoffs: d.wyckoffs,
    symprec,
  };
}

/** moyo's analysis of a structure (lattice vectors as rows, site numbers as Z). Throws SymmetryTooLarge above the cap. */
function moyoDataset(s: Structure, symprec: number) {
  if (s.numSites > SYMMETRY_MAX_SITES) throw new SymmetryTooLarge(s.numSites);
  const cell: MoyoCell = {
    lattice: { basis: s.lattice.matrix.flat() as MoyoCell['lattice']['basis'] },
    positions: s.frac.map((f) => [f[0], f[1], f[2]]),
    numbers: s.species.map((el) => elementBySymbol(el)?.Z ?? 0),
  };
  return analyze_cell(JSON.stringify(cell), symprec, 'Standard');
}

/**
 * The standardised conventional and primitive cells (moyo's std_cell and
 * prim_std_cell: the International Tables setting, possibly rotated), as new
 * structures titled after the input. Refused for partial occupancy (the
 * analysis sees species, not occupancies) and non-periodic structures.
 */
export function standardCells(s: Structure, symprec = DEFAULT_SYMPREC): { conventional: Structure; primitive: Structure; symbol: string } {
  if (s.occupancy?.some((o) => o < 1)) throw new Error('a structure with partially occupied sites has no standard cell here');
  if (!s.pbc.every(Boolean)) throw new Error('only a crystal periodic in all three directions has a standard cell');
  const d = moyoDataset(s, symprec);
  // moyo writes the basis back as it read it: three lattice vectors, one after the other.
  const toStructure = (c: MoyoCell, what: string) => {
    const b = c.lattice.basis;
    return new Structure({
      lattice: [
        [b[0], b[1], b[2]],
        [b[3], b[4], b[5]],
        [b[6], b[7], b[8]],
      ],
      species: c.numbers.map((z) => elementByZ(z)?.symbol ?? 'X'),
      frac: c.positions.map((p) => [p[0], p[1], p[2]] as Vec3),
      title: `${s.title} (${what} cell, ${d.hm_symbol})`,
      properties: { ...s.properties, cell: what },
    });
  };
  return { conventional: toStructure(d.std_cell, 'conventional'), primitive: toStructure(d.prim_std_cell, 'primitive'), symbol: d.hm_symbol };
}
