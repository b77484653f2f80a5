/**
 * Absurd numbers in files from the wild (issue 26): every reader refuses
 * them with a one-line ParseError naming the file and line, instead of
 * building a cell of infinite length or a site 10^307 cells away.
 */
import { describe, expect, it } from 'vitest';
import { ParseError, readStructures } from '../core/formats/index';
import { LIMITS } from '../core/formats/sanity';

const poscar = (scale: string, a: string, x = '0') => `t\n${scale}\n${a} 0 0\n0 3 0\n0 0 3\nCu\n1\nDirect\n${x} 0 0\n`;
const cif = (a: string, x = '0') =>
  `data_t\n_cell_length_a ${a}\n_cell_length_b 3\n_cell_length_c 3\n_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n` +
  `loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nCu1 Cu ${x} 0 0\n`;
const xyz = (a: string, x = '0') => `1\nLattice="${a} 0 0 0 3 0 0 0 3" Properties=species:S:1:pos:R:3 pbc="T T T"\nCu ${x} 0 0\n`;

function refusal(name: string, text: string): ParseError {
  try {
    readStructures(name, text);
  } catch (e) {
    expect(e).toBeInstanceOf(ParseError);
    expect((e as Error).message).not.toContain('\n');
    return e as ParseError;
  }
  throw new Error(`${name} was read`);
}

describe('absurd numbers are refused with file and line', () => {
  it.each([
    ['POSCAR, a = 1e200 Å', 'p.vasp', poscar('1', '1e200'), 3, /cell length a = 1.00e\+200 Å is above 10000 Å/],
    ['POSCAR, a = 0.1 Å', 'p.vasp', poscar('1', '0.1'), 3, /below 0\.5 Å/],
    ['POSCAR, scale 1e308', 'p.vasp', poscar('1e308', '3'), 3, /finite/],
    ['POSCAR, x = 1e5 cells', 'p.vasp', poscar('1', '3', '1e5'), 9, /beyond ±1000 cells/],
    ['CIF, a = 1e200 Å', 'c.cif', cif('1e200'), 2, /cell length a is not finite/],
    ['CIF, a = 0.1 Å', 'c.cif', cif('0.1'), 2, /below 0\.5 Å/],
    ['CIF, x = 1e5 cells', 'c.cif', cif('3', '100000.3'), 14, /beyond ±1000 cells/],
    ['XYZ, atom at 1e308 Å', 'x.xyz', xyz('3', '1e308'), 3, /fractional x .* beyond/],
    ['XYZ, box of 1e5 Å', 'x.xyz', xyz('1e5'), 2, /above 10000 Å/],
  ] as const)('%s', (_, name, text, line, why) => {
    const e = refusal(name, text);
    expect(e.file).toBe(name);
    expect(e.line).toBe(line);
    expect(e.problem).toMatch(why);
  });

  it('still reads the same files with sane numbers', () => {
    for (const [name, text] of [
      ['p.vasp', poscar('1', '3')],
      ['c.cif', cif('3')],
      ['x.xyz', xyz('3')],
    ])
      expect(readStructures(name, text)[0].numSites).toBe(1);
  });

  it('refuses more atoms than the limit before expanding a CIF', () => {
    const ops = Array.from({ length: 192 }, () => "'x, y, z'").join('\n');
    const rows = Array.from({ length: Math.ceil(LIMITS.maxAtoms / 192) + 1 }, (_, i) => `Cu${i} Cu 0.1 0.2 0.3`).join('\n');
    const text =
      `data_big\n_cell_length_a 3\n_cell_length_b 3\n_cell_length_c 3\n_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\nloop_\n_symmetry_equiv_pos_as_xyz\n${ops}\n` +
      `loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n${rows}\n`;
    expect(refusal('big.cif', text).problem).toMatch(/more than the 1,000,000/);
  });
});
