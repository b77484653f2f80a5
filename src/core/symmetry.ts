import init, { analyze_cell, type InitInput, type MoyoCell } from '@spglib/moyo-wasm';
import { elementBySymbol } from './elements';
import type { Structure } from './structure';

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

export function initSymmetry(wasm: InitInput | Promise<InitInput>): Promise<unknown> {
  ready ??= Promise.resolve(wasm).then((w) => init({ module_or_path: w }));
  return ready;
}

export function symmetryReady(): boolean {
  return ready !== undefined;
}

/** Default tolerance (Å): loose enough for relaxed DFT cells, as in pymatgen's SpacegroupAnalyzer (0.01). */
export const DEFAULT_SYMPREC = 1e-2;

/**
 * Analyses a structure; call after initSymmetry has resolved. Partial
 * occupancy is ignored (sites are treated as full), as spglib does.
 */
export function analyzeSymmetry(s: Structure, symprec = DEFAULT_SYMPREC): SymmetryInfo {
  const cell: MoyoCell = {
    lattice: { basis: s.lattice.matrix.flat() as MoyoCell['lattice']['basis'] },
    positions: s.frac.map((f) => [f[0], f[1], f[2]]),
    numbers: s.species.map((el) => elementBySymbol(el)?.Z ?? 0),
  };
  const d = analyze_cell(JSON.stringify(cell), symprec, 'Standard');
  return {
    number: d.number,
    symbol: d.hm_symbol,
    hallNumber: d.hall_number,
    pearson: d.pearson_symbol,
    wyckoffs: d.wyckoffs,
    symprec,
  };
}
