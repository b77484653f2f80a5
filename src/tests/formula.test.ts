import { describe, expect, it } from 'vitest';
import { elementsOf, formula, reducedFormula } from '../core/formula';

describe('formulae', () => {
  it('orders by electronegativity like pymatgen', () => {
    expect(reducedFormula(['S', 'Mo', 'S'])).toBe('MoS2');
    expect(reducedFormula(['Cl', 'Na'])).toBe('NaCl');
    expect(reducedFormula(['O', 'Ti', 'O', 'Sr', 'O'])).toBe('SrTiO3');
    expect(reducedFormula(['As', 'Ga'])).toBe('GaAs');
    expect(reducedFormula(['N', 'B'])).toBe('BN');
  });

  it('counts and reduces', () => {
    const sp = [...Array(16).fill('Mo'), ...Array(31).fill('S')];
    expect(formula(sp)).toBe('Mo16S31');
    expect(reducedFormula(sp)).toBe('Mo16S31');
    expect(reducedFormula([...Array(4).fill('Si')])).toBe('Si');
    expect(formula(['Si', 'Si'])).toBe('Si2');
  });

  it('shows partial occupancy as fractional amounts', () => {
    expect(formula(['Fe', 'O'], [0.5, 1])).toBe('Fe0.5O');
    expect(reducedFormula(['Fe', 'O'], [0.5, 1])).toBe('Fe0.5O');
  });

  it('lists distinct elements in formula order', () => {
    expect(elementsOf(['S', 'Mo', 'S', 'W'])).toEqual(['Mo', 'W', 'S']);
  });
});
