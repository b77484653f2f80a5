/**
 * Files as crystallographers and codes write them (issue 26): CIF water and
 * deuterium labels, dummy and centroid sites, ICSD's '.' for zero, a tag
 * given twice, DDLm names that only meet after '.' → '_', split sites,
 * Pauling File mixed sites; VASP 4 POSCARs without a species line. Each is
 * read (with a warning saying what was done) instead of refused or, worse,
 * misread.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initSymmetryNode } from '../node/moyo';
import { cifCell, siteLoop } from './cif-text';
import { readStructures } from '../core/formats/index';

const head = cifCell(5);
const typed = (rows: string) => siteLoop(rows);
const labelled = (rows: string) => siteLoop(rows, { typed: false });
const read = (text: string) => readStructures('t.cif', head + text)[0];

describe('CIF labels that are not element symbols', () => {
  it('reads water labels as oxygen, not tungsten', () => {
    const s = read(labelled('Wat1 0.1 0.1 0.1\nWat(5) 0.2 0.2 0.2\nWatOW 0.3 0.3 0.3'));
    expect(s.species).toEqual(['O', 'O', 'O']);
    expect(s.warnings.join()).toMatch(/3 water label\(s\) \(Wat1, Wat\(5\), WatOW\) as oxygen/);
  });

  it('skips dummy and centroid sites with a warning', () => {
    const s = read(labelled('Cg1 0.1 0.1 0.1\nQ1 0.2 0.2 0.2\ndum 0.25 0.25 0.25\nCu1 0.3 0.3 0.3'));
    expect(s.species).toEqual(['Cu']);
    expect(s.warnings.join()).toMatch(/skipped 3 dummy or centroid site\(s\)/);
  });

  it('reads deuterium as hydrogen, from labels and type symbols, but leaves Dy alone', () => {
    expect(read(labelled('D1 0.1 0.1 0.1\nDWH1 0.2 0.2 0.2\nDy1 0.4 0.4 0.4')).species).toEqual(['H', 'H', 'Dy']);
    const s = read(typed('D1 D0+ 0.1 0.1 0.1\nO1 O 0.3 0.3 0.3'));
    expect(s.species).toEqual(['H', 'O']);
    expect(s.warnings.join()).toMatch(/deuterium site\(s\) \(D1\) as hydrogen/);
  });
});

describe('CIF values and tags from real files', () => {
  it("reads ICSD's '.' as a coordinate of 0, with a warning", () => {
    const s = read(typed('Cu1 Cu . 0.5 0.5'));
    expect(s.frac).toEqual([[0, 0.5, 0.5]]);
    expect(s.warnings.join()).toMatch(/'\.' as a coordinate of 0/);
    // '?' (unknown) is still refused: it is not a position.
    expect(() => read(typed('Cu1 Cu ? 0.5 0.5'))).toThrow(/line 14: .* is unknown/);
  });

  it('keeps the last of a repeated single-value tag, with a warning (as pymatgen)', () => {
    const s = read("_chemical_formula_sum 'Cu2'\n_chemical_formula_sum 'Cu'\n" + typed('Cu1 Cu 0 0 0'));
    expect(s.title).toBe('Cu');
    expect(s.warnings.join()).toMatch(/_chemical_formula_sum appears twice \(lines 8 and 9\)/);
  });

  it('treats DDLm names that only collide after "." → "_" as different tags', () => {
    const s = read('_diffrn_radiation.wavelength_id 1\n_diffrn_radiation_wavelength.id 2\n' + typed('Cu1 Cu 0 0 0'));
    expect(s.numSites).toBe(1);
    expect(s.warnings).toEqual([]);
  });
});

describe('split sites', () => {
  it("adds the occupancies of one element split over one position (Cl1 0.773 + Cl1' 0.227), so the composition is whole", () => {
    const s = read(siteLoop(`Na1 Na 0 0 0 1\nCl1 Cl 0.5 0.5 0.5 0.773\nCl1' Cl 0.5 0.5 0.5 0.227`, { extra: ['_atom_site_occupancy'] }));
    expect(s.species).toEqual(['Na', 'Cl']);
    expect(s.occupancy?.[1] ?? 1).toBeCloseTo(1, 6);
    expect(s.hasPartialOccupancy).toBe(false);
    expect(s.warnings.join()).toMatch(/merged, occupancies added \(Cl1' = Cl1\)/);
  });
});

describe('Pauling File mixed sites', () => {
  it("reads '0.8Nb + 0.2Zr' as a mixed site with those occupancies", () => {
    const s = read(typed("M1 '0.8Nb + 0.2Zr' 0 0 0\nO1 O 0.5 0.5 0.5"));
    expect(s.species).toEqual(['Nb', 'Zr', 'O']);
    expect(s.occupancy).toEqual([0.8, 0.2, 1]);
    expect(s.frac[0]).toEqual(s.frac[1]);
    expect(s.warnings.join()).toMatch(/1 mixed site\(s\) \(M1\)/);
  });

  it('drops the uncertainties of a three-element mixed site', () => {
    const s = read(typed("M1 '0.56(4)Mg + 0.29(3)Ta + 0.15(5)Zr' 0 0 0"));
    expect(s.species).toEqual(['Mg', 'Ta', 'Zr']);
    expect(s.occupancy?.map((x) => Number(x.toFixed(2)))).toEqual([0.56, 0.29, 0.15]);
  });
});

describe('VASP 4 POSCARs without a species line', () => {
  const vasp4 = (comment: string, coords: string) => `${comment}\n1\n5 0 0\n0 5 0\n0 0 5\n1 2\nDirect\n${coords}\n`;
  it('reads species from the comment line, with a warning', () => {
    const [s] = readStructures('POSCAR', vasp4('Na Cl', '0 0 0\n0.5 0.5 0.5\n0.5 0 0'));
    expect(s.species).toEqual(['Na', 'Cl', 'Cl']);
    expect(s.warnings).toEqual(['VASP 4 file: species read from the comment line']);
  });

  it('reads species written after the coordinates, as ASE and pymatgen do', () => {
    const [s] = readStructures('POSCAR', vasp4('made by hand', '0 0 0 Na\n0.5 0.5 0.5 Cl\n0.5 0 0 Cl'));
    expect(s.species).toEqual(['Na', 'Cl', 'Cl']);
    expect(s.warnings).toEqual(['VASP 4 file: species read from the symbols after the coordinates']);
  });

  it('refuses symbols that contradict the counts, naming the line', () => {
    expect(() => readStructures('POSCAR', vasp4('made by hand', '0 0 0 Na\n0.5 0.5 0.5 Cl\n0.5 0 0 Na'))).toThrow(/POSCAR, line 10: .*expected Cl/);
    expect(() => readStructures('POSCAR', vasp4('made by hand', '0 0 0\n0.5 0.5 0.5\n0.5 0 0'))).toThrow(/POSCAR, line 6: VASP 4 file without species names/);
  });
});

describe('thirds are snapped only within the written precision', () => {
  const hexagonal = (x: string) =>
    cifCell(3, { c: 5, gamma: 120 }) + `loop_\n_symmetry_equiv_pos_as_xyz\n'x, y, z'\n'-y, x-y, z'\n'-x+y, -x, z'\n` + siteLoop(`Mo1 Mo ${x} 0.6667 0.25`);
  it("snaps '0.3333' to 1/3 (3 images merge into one site)", () => {
    const [s] = readStructures('t.cif', hexagonal('0.3333'));
    expect(s.numSites).toBe(1);
    expect(s.frac[0][0]).toBe(1 / 3);
  });

  it("leaves '0.3336' where it is written: it is not a third at 4 decimals", () => {
    const [s] = readStructures('t.cif', hexagonal('0.3336'));
    expect(s.frac.some((f) => f[0] === 0.3336)).toBe(true);
  });
});

describe('magnetic CIF (.mcif)', () => {
  const mcif = `data_NiO_like
_cell_length_a 4.17
_cell_length_b 4.17
_cell_length_c 4.17
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
loop_
_space_group_symop_magn_operation.id
_space_group_symop_magn_operation.xyz
1 x,y,z,+1
2 -x,-y,-z,+1
loop_
_space_group_symop_magn_centering.id
_space_group_symop_magn_centering.xyz
1 x,y,z,+1
2 x+1/2,y+1/2,z,-1
3 x+1/2,y,z+1/2,-1
4 x,y+1/2,z+1/2,+1
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Ni1 Ni 0 0 0
O1 O 0.5 0.5 0.5
loop_
_atom_site_moment.label
_atom_site_moment.crystalaxis_x
_atom_site_moment.crystalaxis_y
_atom_site_moment.crystalaxis_z
Ni1 1.0 1.0 -2.0
`;
  it('expands the magnetic operations with every centring (time reversal ignored for positions)', () => {
    const [s] = readStructures('NiO.mcif', mcif);
    // Rock salt, conventional cell: 4 Ni + 4 O, not the 2-site asymmetric unit.
    expect(s.numSites).toBe(8);
    expect(s.species.filter((x) => x === 'Ni')).toHaveLength(4);
    expect(s.properties.magneticMoments).toEqual({ Ni1: [1, 1, -2] });
  });

  it('gives every site its own moment: reversed by the time-reversing centrings, kept by inversion (an axial vector)', () => {
    const [s] = readStructures('NiO.mcif', mcif);
    const moments = s.properties.siteMagneticMoments as number[][];
    expect(moments).toHaveLength(8);
    const at = (x: number, y: number, z: number) => {
      const i = s.frac.findIndex((f) => s.species[s.frac.indexOf(f)] === 'Ni' && [x, y, z].every((v, k) => Math.abs(f[k] - v) < 1e-9));
      expect(i).toBeGreaterThanOrEqual(0);
      return moments[i];
    };
    // Centrings 1 and 4 (+1) keep the moment; 2 and 3 (-1) reverse it: the antiferromagnet's up and down Ni.
    expect(at(0, 0, 0)).toEqual([1, 1, -2]);
    expect(at(0, 0.5, 0.5)).toEqual([1, 1, -2]);
    expect(at(0.5, 0.5, 0)).toEqual([-1, -1, 2]);
    expect(at(0.5, 0, 0.5)).toEqual([-1, -1, 2]);
    // O carries none; the net moment of the cell is zero.
    s.species.forEach((el, i) => el === 'O' && expect(moments[i]).toEqual([0, 0, 0]));
    expect([0, 1, 2].map((k) => moments.reduce((sum, m) => sum + m[k], 0))).toEqual([0, 0, 0]);
  });

  it('turns a moment with a rotation, scaled by the axis lengths of a non-cubic cell', async () => {
    const { transformMoment, parseMagneticSymop } = await import('../core/formats/symops');
    // A fourfold rotation about c in a tetragonal cell takes a moment along a to one along b, sign kept (+1).
    const { op } = parseMagneticSymop('-y,x,z,+1');
    expect(transformMoment(op, [2, 0, 0], [4, 4, 7])).toEqual([0, 2, 0]);
    // A twofold axis along c flips an in-plane moment; with time reversal it is restored.
    expect(transformMoment(parseMagneticSymop('-x,-y,z,+1').op, [1, 0, 0], [3, 4, 5])).toEqual([-1, 0, 0]);
    expect(transformMoment(parseMagneticSymop('-x,-y,z,-1').op, [1, 0, 0], [3, 4, 5])).toEqual([1, 0, 0]);
  });

  it('refuses a magnetic operation without its time-reversal sign, naming the line', () => {
    expect(() => readStructures('bad.mcif', mcif.replace('2 -x,-y,-z,+1', '2 -x,-y,-z'))).toThrow(/bad\.mcif, line 12: .*time-reversal sign/);
  });
});

describe('symmetry from the space group when the file has no operator loop (moyo tables)', () => {
  beforeAll(() => initSymmetryNode());
  const cell = (a: number, b: number, c: number, alpha: number, beta: number, gamma: number, group: string, sites: string) =>
    `${cifCell(a, { b, c, alpha, beta, gamma })}${group}\n${siteLoop(sites)}`;
  const nacl = (group: string) => readStructures('NaCl.cif', cell(5.64, 5.64, 5.64, 90, 90, 90, group, 'Na1 Na 0 0 0\nCl1 Cl 0.5 0.5 0.5'))[0];

  it.each([
    ["_symmetry_space_group_name_H-M 'F m -3 m'", /H-M symbol 'F m -3 m'/],
    ["_space_group_name_Hall '-F 4 2 3'", /Hall symbol '-F 4 2 3'/],
    ['_space_group_IT_number 225', /IT number 225/],
  ])('%s: rock salt expands to 8 sites', (group, via) => {
    const s = nacl(group);
    expect(s.numSites).toBe(8);
    expect(s.warnings.join()).toMatch(via);
  });

  it('honours origin choices and axes: Fd-3m :2 (diamond Si), R-3m on rhombohedral axes', () => {
    const si = readStructures('Si.cif', cell(5.431, 5.431, 5.431, 90, 90, 90, "_symmetry_space_group_name_H-M 'F d -3 m :2'", 'Si1 Si 0.125 0.125 0.125'))[0];
    expect(si.numSites).toBe(8);
    const bi = readStructures('Bi.cif', cell(4.75, 4.75, 4.75, 57.2, 57.2, 57.2, "_symmetry_space_group_name_H-M 'R -3 m'", 'Bi1 Bi 0.237 0.237 0.237'))[0];
    expect(bi.numSites).toBe(2);
    expect(bi.warnings.join()).toMatch(/setting R/);
    // The same crystal on hexagonal axes (':H'): Bi on 6c, a = 4.546, c = 11.862 Å.
    const hex = readStructures('Bi-hex.cif', cell(4.546, 4.546, 11.862, 90, 90, 120, "_symmetry_space_group_name_H-M 'R -3 m :H'", 'Bi1 Bi 0 0 0.2339'))[0];
    expect(hex.numSites).toBe(6);
    expect(hex.warnings.join()).toMatch(/setting H/);
  });

  it("reads the short monoclinic symbol 'P 21/n' as P 1 21/n 1", () => {
    const s = readStructures('m.cif', cell(5, 6, 7, 90, 100, 90, "_symmetry_space_group_name_H-M 'P 21/n'", 'C1 C 0.1 0.2 0.3'))[0];
    expect(s.numSites).toBe(4);
    expect(s.warnings.join()).toMatch(/P 1 2_1\/n 1/);
  });

  it('keeps the old warning for a name nobody knows', () => {
    const s = nacl("_symmetry_space_group_name_H-M 'Q 9'");
    expect(s.numSites).toBe(2);
    expect(s.warnings.join()).toMatch(/not expanded/);
  });
});
