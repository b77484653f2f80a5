/**
 * Limits every structure read from a file must meet, checked where the
 * readers still know the line (a cell on its line, each coordinate on its
 * own), and once more for the whole structure in readStructures as a net
 * for anything a reader missed. Outside them a file is refused with a
 * one-line ParseError rather than read as something absurd: a = 1e200 Å
 * used to give a cell of infinite length, a coordinate of 1e308 in an XYZ a
 * site at 3e307 in fractional units.
 *
 * The bounds are generous for real crystals: the shortest cell edge of any
 * crystal is above 1.5 Å (0.5 leaves room for odd primitive cells), the
 * largest unit cells (viruses, MOF supercells) are ~10^3 Å, fractional
 * coordinates are within a few cells of [0, 1) in any writer's output, and
 * the 3D view and the browser's memory end well before 10^6 atoms.
 */
import type { Lattice } from '../lattice';
import type { Vec3 } from '../math3';
import type { Structure } from '../structure';
import { ParseError } from './errors';

export const LIMITS = {
  /** Å, any periodic cell edge. */
  minCellLength: 0.5,
  maxCellLength: 1e4,
  /** Largest |fractional coordinate|. */
  maxFrac: 1e3,
  /** Sites after symmetry expansion. */
  maxAtoms: 1e6,
} as const;

/** Refuses a cell with a non-finite entry or a periodic edge outside the limits. */
export function checkCell(lattice: Lattice, file: string, line: number | undefined, pbc: readonly boolean[] = [true, true, true]): void {
  if (!lattice.matrix.flat().every(Number.isFinite) || !Number.isFinite(lattice.volume))
    throw new ParseError(file, line, 'the cell is not finite (a number overflowed)');
  lattice.abc.forEach((len, k) => {
    if (!pbc[k]) return;
    const axis = 'abc'[k];
    if (!Number.isFinite(len)) throw new ParseError(file, line, `cell length ${axis} is not finite (a number overflowed)`);
    if (len < LIMITS.minCellLength) throw new ParseError(file, line, `cell length ${axis} = ${len.toPrecision(3)} Å is below ${LIMITS.minCellLength} Å`);
    if (len > LIMITS.maxCellLength) throw new ParseError(file, line, `cell length ${axis} = ${len.toPrecision(3)} Å is above ${LIMITS.maxCellLength} Å`);
  });
}

/**
 * Refuses cell vectors that overflow or are absurdly long before a Lattice
 * is made of them: a row of 1e308 has a determinant that is not a number,
 * which the Lattice would report as "singular", the wrong reason.
 */
export function checkCellRows(
  rows: readonly (readonly number[])[],
  file: string,
  line: number | undefined,
  pbc: readonly boolean[] = [true, true, true],
): void {
  rows.forEach((r, k) => {
    const len = Math.hypot(...r);
    if (!r.every(Number.isFinite) || !Number.isFinite(len)) throw new ParseError(file, line, `cell vector ${'abc'[k]} is not finite (a number overflowed)`);
    if (pbc[k] && len > LIMITS.maxCellLength)
      throw new ParseError(file, line, `cell length ${'abc'[k]} = ${len.toPrecision(3)} Å is above ${LIMITS.maxCellLength} Å`);
  });
}

/** Refuses a non-finite or absurdly large fractional coordinate. */
export function checkFrac(f: Vec3, file: string, line: number | undefined, what: string): void {
  for (let k = 0; k < 3; k++) {
    if (!Number.isFinite(f[k])) throw new ParseError(file, line, `${what}: fractional ${'xyz'[k]} is not finite (a number overflowed)`);
    if (Math.abs(f[k]) > LIMITS.maxFrac)
      throw new ParseError(file, line, `${what}: fractional ${'xyz'[k]} = ${f[k].toPrecision(3)} is beyond ±${LIMITS.maxFrac} cells`);
  }
}

export function checkAtomCount(n: number, file: string, line: number | undefined): void {
  if (n > LIMITS.maxAtoms)
    throw new ParseError(file, line, `${n.toLocaleString('en-US')} atoms is more than the ${LIMITS.maxAtoms.toLocaleString('en-US')} this app reads`);
}

/** The whole structure, where no line is known (the net in readStructures). */
export function checkStructure(s: Structure, file: string): void {
  checkCell(s.lattice, file, undefined, s.pbc);
  checkAtomCount(s.numSites, file, undefined);
  s.frac.forEach((f, i) => checkFrac(f, file, undefined, `site ${i + 1}`));
}
