/**
 * The browser's compositional validity (core/generate/validity.ts) is
 * models/cdvae/metrics.py's `compositional_valid` (CDVAE's smact_validity,
 * SMACT 2.2.1): the same answer on the fixed compositions of
 * models/cdvae/fixtures/smact_validity.json (written by
 * models/cdvae/write_validity_fixture.py), and on a few named cases.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ELEMENT_CHEMISTRY } from '../core/generate/element-chemistry';
import { compositionalValidity, paulingOk } from '../core/generate/validity';

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

interface Case {
  tag: string;
  z: number[];
  count: number[];
  valid: boolean;
}

const fixture = JSON.parse(readFileSync(root('models/cdvae/fixtures/smact_validity.json'), 'utf8')) as { cases: Case[] };
const numbers = (c: Case) => c.z.flatMap((z, i) => new Array<number>(c.count[i]).fill(z));
const Z = { He: 2, C: 6, O: 8, F: 9, Na: 11, Cl: 17, Ca: 20, Ti: 22, Fe: 26, Ni: 28, Sr: 38, Pm: 61 };
const formula = (f: Partial<Record<keyof typeof Z, number>>) => Object.entries(f).flatMap(([s, n]) => new Array<number>(n).fill(Z[s as keyof typeof Z]));

describe('compositional validity = metrics.py compositional_valid (SMACT 2.2.1 as CDVAE calls it)', () => {
  it('agrees on every composition of the Python fixture', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(400);
    const tags = new Set(fixture.cases.map((c) => c.tag));
    for (const t of ['element', 'metals', 'missing-x', 'pauling-only', '2-element', '3-element', '4-element', '5-element']) expect(tags).toContain(t);
    const disagree = fixture.cases.filter((c) => compositionalValidity(numbers(c)) !== c.valid).map((c) => `${c.tag} ${c.z}×${c.count}`);
    expect(disagree).toEqual([]);
    // the answer does not depend on the order of the atoms
    for (const c of fixture.cases.slice(0, 50)) expect(compositionalValidity(numbers(c).reverse())).toBe(c.valid);
  });

  it('gives the named cases', () => {
    expect(compositionalValidity(formula({ Na: 1, Cl: 1 }))).toBe(true);
    expect(compositionalValidity(formula({ Na: 4, Cl: 4 }))).toBe(true); // gcd-reduced to NaCl
    expect(compositionalValidity(formula({ Na: 1, Cl: 2 }))).toBe(false);
    expect(compositionalValidity(formula({ Fe: 1, Ni: 2 }))).toBe(true); // all metals
    expect(compositionalValidity(formula({ Ca: 1, Ti: 1, O: 3 }))).toBe(true);
    expect(compositionalValidity(formula({ Fe: 3 }))).toBe(true); // single element
    // Na2Cl is neutral only as Na(-1)2 Cl(+2), and Cl as the cation fails the Pauling test
    expect(compositionalValidity(formula({ Na: 2, Cl: 1 }))).toBe(false);
    expect(compositionalValidity(formula({ Pm: 1, Cl: 3 }))).toBe(true); // Pm has no Pauling value: passes, as in CDVAE
    expect(compositionalValidity(formula({ He: 1, O: 1 }))).toBe(false); // He has no oxidation states
  });

  it('runs the Pauling test with SMACT-under-CDVAE missing values', () => {
    expect(paulingOk([1, -1], [0.93, 3.16])).toBe(true);
    expect(paulingOk([-1, 2], [0.93, 3.16])).toBe(false);
    expect(paulingOk([3, -1], [null, 3.16])).toBe(true); // cation vs anion with a missing value: TypeError, counted as passing
    expect(paulingOk([1, 3, -1], [0.93, null, 3.16])).toBe(false); // two cations, one missing: fails first
  });

  it('has SMACT data for Z = 1..103 with missing electronegativities as null', () => {
    expect(ELEMENT_CHEMISTRY.map(([z]) => z)).toEqual(Array.from({ length: 103 }, (_, i) => i + 1));
    const missing = ELEMENT_CHEMISTRY.filter(([, , x]) => x === null).map(([z]) => z);
    expect(missing).toEqual([2, 10, 18, 61, 86, 103]); // He, Ne, Ar, Pm, Rn, Lr
  });

  it('stays fast on many elements with many oxidation states', () => {
    // C, N, S, Cl, Mn, Fe, Os, Ru: up to 10 states each, 8 elements (~10^7 combinations by brute force)
    const many = [6, 7, 16, 17, 25, 26, 76, 44].flatMap((z, i) => new Array<number>(1 + (i % 3)).fill(z));
    const t0 = performance.now();
    compositionalValidity(many);
    compositionalValidity([...many, 9, 9, 9, 9, 9, 9, 9]);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});
