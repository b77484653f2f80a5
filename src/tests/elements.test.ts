import { describe, it, expect } from 'vitest';
import { ELEMENTS, elementBySymbol, elementByZ, elementFromLabel, isElementSymbol, normalizeSymbol } from '../core/elements';

describe('element table', () => {
  it('holds Z = 1..103 at index Z - 1', () => {
    expect(ELEMENTS).toHaveLength(103);
    ELEMENTS.forEach((e, i) => expect(e.Z).toBe(i + 1));
    expect(ELEMENTS[0].symbol).toBe('H');
    expect(ELEMENTS[102].symbol).toBe('Lr');
  });

  it('has unique, well-formed symbols and names', () => {
    expect(new Set(ELEMENTS.map((e) => e.symbol)).size).toBe(103);
    expect(new Set(ELEMENTS.map((e) => e.name)).size).toBe(103);
    for (const e of ELEMENTS) expect(e.symbol).toMatch(/^[A-Z][a-z]?$/);
  });

  it('has plausible numbers in every row', () => {
    for (const e of ELEMENTS) {
      expect(e.mass).toBeGreaterThan(0);
      expect(e.covalentRadius).toBeGreaterThan(0.2);
      expect(e.covalentRadius).toBeLessThan(2.7);
      if (e.electronegativity !== null) {
        expect(e.electronegativity).toBeGreaterThanOrEqual(0.7);
        expect(e.electronegativity).toBeLessThanOrEqual(3.98);
      }
    }
    // Masses rise with Z except for the known inversions Ar/K, Co/Ni, Te/I, Th/Pa, U/Np, Pu/Am.
    const inversions = ELEMENTS.slice(1)
      .filter((e, i) => e.mass < ELEMENTS[i].mass)
      .map((e) => e.symbol);
    expect(inversions).toEqual(['K', 'Ni', 'I', 'Pa', 'Np', 'Am']);
  });

  it('uses valid #rrggbb colours (Jmol)', () => {
    for (const e of ELEMENTS) expect(e.color).toMatch(/^#[0-9a-f]{6}$/);
    expect(elementBySymbol('H')?.color).toBe('#ffffff');
    expect(elementBySymbol('C')?.color).toBe('#909090');
    expect(elementBySymbol('O')?.color).toBe('#ff0d0d');
    expect(elementBySymbol('Mo')?.color).toBe('#54b5b5');
    expect(elementBySymbol('Lr')?.color).toBe('#c70066');
  });

  it('has IUPAC 2021 atomic weights', () => {
    const m = (s: string) => elementBySymbol(s)?.mass;
    expect(m('H')).toBe(1.008);
    expect(m('C')).toBe(12.011);
    expect(m('O')).toBe(15.999);
    expect([28.085, 28.086]).toContain(m('Si'));
    expect(m('Mo')).toBe(95.95);
    expect(m('Fe')).toBe(55.845);
    expect(m('Ar')).toBe(39.95);
    expect(m('Pb')).toBe(207.2);
    // No standard atomic weight: mass number of the longest-lived isotope.
    expect(m('Tc')).toBe(98);
    expect(m('Pm')).toBe(145);
    expect(m('Po')).toBe(209);
    expect(m('Lr')).toBe(266);
  });

  it('has Cordero covalent radii (Pyykkö beyond Cm)', () => {
    const r = (s: string) => elementBySymbol(s)?.covalentRadius;
    expect(r('C')).toBe(0.76);
    expect(r('Si')).toBe(1.11);
    expect(r('Mo')).toBe(1.54);
    expect(r('S')).toBe(1.05);
    expect(r('O')).toBe(0.66);
    expect(r('H')).toBe(0.31);
    expect(r('Fe')).toBe(1.32); // low spin
    expect(r('Cm')).toBe(1.69);
    expect(r('Bk')).toBe(1.68);
    expect(r('Lr')).toBe(1.61);
  });

  it('has Pauling electronegativities, null for He, Ne, Ar', () => {
    const x = (s: string) => elementBySymbol(s)?.electronegativity;
    expect(x('F')).toBe(3.98);
    expect(x('Mo')).toBe(2.16);
    expect(x('S')).toBe(2.58);
    expect(x('Na')).toBe(0.93);
    expect(x('O')).toBe(3.44);
    expect(x('Kr')).toBe(3.0);
    expect(x('He')).toBeNull();
    expect(x('Ne')).toBeNull();
    expect(x('Ar')).toBeNull();
  });

  it('is frozen', () => {
    expect(Object.isFrozen(ELEMENTS)).toBe(true);
    expect(Object.isFrozen(ELEMENTS[0])).toBe(true);
  });
});

describe('lookups', () => {
  it('elementBySymbol is exact', () => {
    expect(elementBySymbol('Mo')?.Z).toBe(42);
    expect(elementBySymbol('MO')).toBeUndefined();
    expect(elementBySymbol('mo')).toBeUndefined();
    expect(elementBySymbol('')).toBeUndefined();
    expect(elementBySymbol('Xx')).toBeUndefined();
  });

  it('elementByZ takes 1..103', () => {
    expect(elementByZ(1)?.symbol).toBe('H');
    expect(elementByZ(42)?.symbol).toBe('Mo');
    expect(elementByZ(103)?.symbol).toBe('Lr');
    for (const z of [0, -1, 104, 1.5, NaN, Infinity]) expect(elementByZ(z)).toBeUndefined();
    for (const e of ELEMENTS) expect(elementByZ(e.Z)).toBe(e);
  });

  it('isElementSymbol is exact', () => {
    expect(isElementSymbol('Fe')).toBe(true);
    expect(isElementSymbol('W')).toBe(true);
    expect(isElementSymbol('FE')).toBe(false);
    expect(isElementSymbol('fe')).toBe(false);
    expect(isElementSymbol('X')).toBe(false);
    expect(isElementSymbol('D')).toBe(false);
    expect(isElementSymbol('')).toBe(false);
  });

  it('normalizeSymbol fixes case', () => {
    expect(normalizeSymbol('MO')).toBe('Mo');
    expect(normalizeSymbol('mo')).toBe('Mo');
    expect(normalizeSymbol('Mo')).toBe('Mo');
    expect(normalizeSymbol('mO')).toBe('Mo');
    expect(normalizeSymbol('o')).toBe('O');
    expect(normalizeSymbol(' Fe ')).toBe('Fe');
    expect(normalizeSymbol('Xx')).toBeUndefined();
    expect(normalizeSymbol('Moo')).toBeUndefined();
    expect(normalizeSymbol('')).toBeUndefined();
    for (const e of ELEMENTS) {
      expect(normalizeSymbol(e.symbol.toUpperCase())).toBe(e.symbol);
      expect(normalizeSymbol(e.symbol.toLowerCase())).toBe(e.symbol);
    }
  });
});

describe('elementFromLabel', () => {
  it('reads the examples', () => {
    const cases: [string, string | undefined][] = [
      ['Fe2+', 'Fe'],
      ['O1', 'O'],
      ['Mo_pv', 'Mo'],
      ['S1a', 'S'],
      ['Ca', 'Ca'],
      ['C12', 'C'],
      ['Cl-', 'Cl'],
      ['Os1', 'Os'],
      ['O2-', 'O'],
      ['OH', undefined],
    ];
    for (const [label, el] of cases) expect(elementFromLabel(label), label).toBe(el);
  });

  it('handles species with charges and POTCAR names', () => {
    expect(elementFromLabel('Fe3+')).toBe('Fe');
    expect(elementFromLabel('Fe+3')).toBe('Fe');
    expect(elementFromLabel('O-2')).toBe('O');
    expect(elementFromLabel('Mn4+')).toBe('Mn');
    expect(elementFromLabel('Fe_sv_GW')).toBe('Fe');
    expect(elementFromLabel('Ga_d')).toBe('Ga');
    expect(elementFromLabel('  Si  ')).toBe('Si');
  });

  it('handles CIF labels', () => {
    expect(elementFromLabel('Fe1')).toBe('Fe');
    expect(elementFromLabel('Cl1')).toBe('Cl');
    expect(elementFromLabel('CL1')).toBe('Cl'); // upper-case SHELX style
    expect(elementFromLabel('Sia')).toBe('Si');
    expect(elementFromLabel('Si1A')).toBe('Si');
    expect(elementFromLabel('H1A')).toBe('H');
    expect(elementFromLabel('O1W')).toBe('O');
    expect(elementFromLabel('Ow')).toBe('O');
    expect(elementFromLabel('Oa')).toBe('O');
    expect(elementFromLabel('OH1')).toBe('O'); // hydroxyl oxygen 1
    expect(elementFromLabel('Wat')).toBe('O');
  });

  it('handles case variants as in XYZ files', () => {
    expect(elementFromLabel('FE')).toBe('Fe');
    expect(elementFromLabel('fe')).toBe('Fe');
    expect(elementFromLabel('mo')).toBe('Mo');
    expect(elementFromLabel('c')).toBe('C');
    expect(elementFromLabel('W')).toBe('W');
  });

  it('returns undefined when no element can be read', () => {
    for (const label of ['', '   ', '12', '+', 'X', 'X1', 'Xx', 'D', 'Q1', 'OH2', 'OH-', 'H2O', 'bulk', 'relaxed']) {
      expect(elementFromLabel(label), label).toBeUndefined();
    }
  });

  it('reads every symbol back, in any case and with a site number', () => {
    for (const e of ELEMENTS) {
      expect(elementFromLabel(e.symbol)).toBe(e.symbol);
      expect(elementFromLabel(`${e.symbol}1`)).toBe(e.symbol);
      expect(elementFromLabel(`${e.symbol}2+`)).toBe(e.symbol);
      expect(elementFromLabel(e.symbol.toUpperCase())).toBe(e.symbol);
    }
  });
});
