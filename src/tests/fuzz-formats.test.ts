/**
 * Seeded property-based fuzzing of the file formats (issue 26), a few
 * thousand cases per format per run, the same cases every run:
 *  - write → read is the identity within 1e-6 Å (CIF, which keeps only
 *    lengths and angles, is compared in its own frame: lattice parameters
 *    and fractional coordinates);
 *  - a valid file mutated at random (characters dropped, inserted or
 *    replaced, lines duplicated or cut, numbers swapped for absurd ones)
 *    either reads as finite structures within the sanity limits or throws
 *    the project's ParseError, never anything else.
 * A failure prints the seed and case, so it can be replayed.
 */
import { describe, expect, it } from 'vitest';
import { ELEMENTS } from '../core/elements';
import { type FormatId, ParseError, readStructures, writeStructures } from '../core/formats/index';
import { LIMITS } from '../core/formats/sanity';
import type { Mat3, Vec3 } from '../core/math3';
import { Structure } from '../core/structure';
import { rng } from './random';

const SEED = 26;
const CASES = 2000;
const MUTANTS = 2000;
const FILE: Record<FormatId, string> = { cif: 'f.cif', poscar: 'f.vasp', xyz: 'f.xyz', json: 'f.json' };
const symbols = ELEMENTS.filter((e) => e.Z <= 94).map((e) => e.symbol);

function randomStructure(r: () => number): Structure {
  const [a, b, c] = [0, 0, 0].map(() => 2 + 10 * r());
  const [al, be, ga] = [0, 0, 0].map(() => ((60 + 60 * r()) * Math.PI) / 180);
  const cx = c * Math.cos(be);
  const cy = (c * (Math.cos(al) - Math.cos(be) * Math.cos(ga))) / Math.sin(ga);
  const cz2 = c * c - cx * cx - cy * cy;
  const lattice: Mat3 = [
    [a, 0, 0],
    [b * Math.cos(ga), b * Math.sin(ga), 0],
    [cx, cy, Math.sqrt(cz2 > 0.5 ? cz2 : 0.5 + r())],
  ];
  const n = 1 + Math.floor(20 * r());
  return new Structure({
    lattice,
    species: Array.from({ length: n }, () => symbols[Math.floor(r() * symbols.length)]),
    frac: Array.from({ length: n }, () => [r(), r(), r()] as Vec3),
    title: `fuzz ${Math.floor(r() * 1e6)}`,
  });
}

const maxDiff = (a: readonly number[], b: readonly number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

describe('write → read is the identity (seeded)', () => {
  for (const format of ['cif', 'poscar', 'xyz', 'json'] as const) {
    it(`${format}: ${CASES} random structures`, () => {
      const r = rng(SEED);
      for (let k = 0; k < CASES; k++) {
        const s = randomStructure(r);
        const [back] = readStructures(FILE[format], writeStructures([s], format));
        const where = `seed ${SEED}, case ${k}`;
        if (format !== 'poscar') expect(back.species, where).toEqual(s.species);
        if (format === 'cif') {
          expect(maxDiff(back.lattice.parameters, s.lattice.parameters), where).toBeLessThan(1e-6);
          // Fractional coordinates to 1e-6 Å: scaled by the longest edge.
          const scale = Math.max(...s.lattice.abc);
          expect(maxDiff(back.frac.flat(), s.frac.flat()) * scale, where).toBeLessThan(1e-6);
        } else if (format === 'poscar') {
          // POSCAR groups atoms by element: compare as sets of (element, position).
          const key = (x: Structure) =>
            x.species.map((el, i) => ({ el, r: x.cart[i] })).sort((p, q) => p.el.localeCompare(q.el) || p.r[0] - q.r[0] || p.r[1] - q.r[1]);
          const [ka, kb] = [key(back), key(s)];
          expect(
            ka.map((p) => p.el),
            where,
          ).toEqual(kb.map((p) => p.el));
          expect(
            maxDiff(
              ka.flatMap((p) => p.r),
              kb.flatMap((p) => p.r),
            ),
            where,
          ).toBeLessThan(1e-6);
          expect(maxDiff(back.lattice.matrix.flat(), s.lattice.matrix.flat()), where).toBeLessThan(1e-6);
        } else {
          expect(maxDiff(back.cart.flat(), s.cart.flat()), where).toBeLessThan(1e-6);
          expect(maxDiff(back.lattice.matrix.flat(), s.lattice.matrix.flat()), where).toBeLessThan(1e-6);
        }
      }
    });
  }
});

const ABSURD = ['1e308', '-1e308', '1e400', 'NaN', 'Infinity', '.', '?', '0', '-0', '1e-320', '99999999999', '0.0000001', '-5'];

function mutate(text: string, r: () => number): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const at = Math.floor(r() * text.length);
  switch (Math.floor(r() * 6)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1 + Math.floor(r() * 5));
    case 1:
      return text.slice(0, at) + pick([' ', '\n', "'", '"', '#', '_', '1', '-', 'x', '(', ';', '\t']) + text.slice(at);
    case 2: {
      const lines = text.split('\n');
      const i = Math.floor(r() * lines.length);
      lines.splice(i, 0, lines[i]);
      return lines.join('\n');
    }
    case 3:
      return text.slice(0, at);
    default: {
      // Replace one number with an absurd one.
      const numbers = [...text.matchAll(/-?\d+\.?\d*(e[+-]?\d+)?/gi)];
      if (!numbers.length) return text;
      const m = pick(numbers);
      return text.slice(0, m.index) + pick(ABSURD) + text.slice(m.index! + m[0].length);
    }
  }
}

describe('mutated files read as valid structures or fail with ParseError (seeded)', () => {
  for (const format of ['cif', 'poscar', 'xyz', 'json'] as const) {
    it(`${format}: ${MUTANTS} mutants`, () => {
      const r = rng(SEED + 1);
      let refused = 0;
      for (let k = 0; k < MUTANTS; k++) {
        let text = writeStructures([randomStructure(r)], format);
        for (let m = 1 + Math.floor(r() * 3); m > 0; m--) text = mutate(text, r);
        const where = `seed ${SEED + 1}, mutant ${k}: ${JSON.stringify(text.slice(0, 300))}`;
        let read: Structure[];
        try {
          read = readStructures(FILE[format], text, format);
        } catch (e) {
          expect(e, where).toBeInstanceOf(ParseError);
          expect((e as Error).message, where).not.toContain('\n');
          if (format !== 'json') expect((e as ParseError).line, where).toBeTypeOf('number');
          refused++;
          continue;
        }
        for (const s of read) {
          expect(s.lattice.matrix.flat().every(Number.isFinite), where).toBe(true);
          expect(
            s.frac.flat().every((x) => Number.isFinite(x) && Math.abs(x) <= LIMITS.maxFrac),
            where,
          ).toBe(true);
          expect(
            s.species.every((x) => symbols.includes(x) || x === 'H'),
            where,
          ).toBe(true);
        }
      }
      // Both outcomes happen: the mutations are neither all harmless nor all fatal.
      expect(refused).toBeGreaterThan(MUTANTS / 20);
      expect(refused).toBeLessThan(MUTANTS);
    });
  }
});
