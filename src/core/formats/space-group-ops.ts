/**
 * Symmetry operations for a CIF that names its space group but lists no
 * operations: from the Hall symbol, else the Hermann–Mauguin symbol (with
 * ':1'/':2' origin choices and ':H'/':R' axes), else the IT number, using
 * moyo's tables of the 530 Hall settings (the same tables spglib has). Only
 * available once moyo's WebAssembly is loaded (symmetry.ts); before that the
 * reader keeps its warning that the structure was not expanded.
 */
import { hall_symbol_entry, type MoyoHallSymbolEntry, operations_from_number } from '@spglib/moyo-wasm';
import type { Lattice } from '../lattice';
import type { Mat3, Vec3 } from '../math3';
import { symmetryReady } from '../symmetry';
import type { SymOp } from './symops';

const HALL_SETTINGS = 530;
let table: MoyoHallSymbolEntry[] | undefined;

function entries(): MoyoHallSymbolEntry[] {
  table ??= Array.from({ length: HALL_SETTINGS }, (_, k) => hall_symbol_entry(k + 1));
  return table;
}

const squash = (s: string) => s.replace(/[\s_]/g, '').toLowerCase();
/** An H-M symbol without its '1' axes ('P 1 2_1/n 1' → 'p21/n'), for matching the short forms files write. */
const hmKey = (s: string) =>
  squash(
    s
      .trim()
      .split(/\s+/)
      .filter((t, k) => k === 0 || t !== '1')
      .join(' '),
  );

/** a = b = c and α = β = γ ≠ 90°: rhombohedral axes. */
function rhombohedral(l: Lattice): boolean {
  const [a, b, c] = l.abc;
  const [al, be, ga] = l.angles;
  return Math.abs(a - b) < 1e-3 && Math.abs(b - c) < 1e-3 && Math.abs(al - be) < 1e-2 && Math.abs(be - ga) < 1e-2 && Math.abs(al - 90) > 0.5;
}

export interface SpaceGroupName {
  hall?: string;
  hm?: string;
  number?: number;
}

/** The Hall setting the names point to, and how it was chosen; undefined when none matches. */
export function resolveHallEntry(name: SpaceGroupName, lattice: Lattice): { entry: MoyoHallSymbolEntry; via: string } | undefined {
  const all = entries();
  if (name.hall) {
    const key = name.hall.trim().replace(/\s+/g, ' ').toLowerCase();
    const e = all.find((x) => x.hall_symbol.toLowerCase() === key);
    if (e) return { entry: e, via: `Hall symbol '${name.hall}'` };
  }
  if (name.hm) {
    const [base, setting] = name.hm.split(':').map((s) => s.trim());
    const key = hmKey(base);
    const fits = (x: MoyoHallSymbolEntry) => (setting ? x.setting.toLowerCase() === setting.toLowerCase() : true);
    let e = all.find((x) => hmKey(x.hm_full) === key && fits(x)) ?? all.find((x) => hmKey(x.hm_short) === key && fits(x));
    // No ':H'/':R' given: rhombohedral axes when the cell has them.
    if (e && !setting && e.setting === 'H' && rhombohedral(lattice)) e = all.find((x) => x.number === e!.number && x.setting === 'R') ?? e;
    if (e) return { entry: e, via: `H-M symbol '${name.hm}' (${e.hm_full}${e.setting ? `, setting ${e.setting}` : ''})` };
  }
  if (name.number !== undefined && name.number >= 1 && name.number <= 230) {
    const candidates = all.filter((x) => x.number === name.number);
    const e = candidates.find((x) => x.setting === 'R' && rhombohedral(lattice)) ?? candidates[0];
    if (e) return { entry: e, via: `IT number ${name.number} (${e.hm_full}${e.setting ? `, setting ${e.setting}` : ''}, the first setting)` };
  }
  return undefined;
}

/** The operations (conventional cell, centring included) for the named group, or undefined if moyo is not loaded or nothing matches. */
export function operationsForSpaceGroup(name: SpaceGroupName, lattice: Lattice): { ops: SymOp[]; via: string } | undefined {
  if (!symmetryReady()) return undefined;
  let found;
  try {
    found = resolveHallEntry(name, lattice);
  } catch {
    return undefined; // moyo still loading
  }
  if (!found) return undefined;
  const ops = operations_from_number(found.entry.number, { type: 'HallNumber', value: found.entry.hall_number }, false).map((o): SymOp => {
    // moyo's flat rotation is column-major: entry 3j + i is row i, column j
    // (checked: Si on 8a of Fd-3m :2 expands to 8 sites this way, 32 the other).
    const r = o.rotation;
    const rotation = [0, 1, 2].map((i) => [r[i], r[3 + i], r[6 + i]]) as Mat3;
    return { rotation, translation: [...o.translation] as Vec3, source: `moyo Hall ${found.entry.hall_number}` };
  });
  return { ops, via: found.via };
}
