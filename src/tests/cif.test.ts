import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCif, writeCif } from '../core/formats/cif';
import { ParseError } from '../core/formats/errors';
import { applySymop, parseSymop } from '../core/formats/symops';
import { Lattice } from '../core/lattice';
import { type Vec3, cross, dot, sub } from '../core/math3';
import { Structure } from '../core/structure';

// ---------------------------------------------------------------------------
// Helpers

type Rot = number[][];

/** All 48 signed permutation matrices: the point group m-3m. */
function signedPermutations(): Rot[] {
  const perms = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
  ];
  const out: Rot[] = [];
  for (const p of perms) {
    for (let signs = 0; signs < 8; signs++) {
      out.push(p.map((col, row) => [0, 1, 2].map((j) => (j === col ? ((signs >> row) & 1 ? -1 : 1) : 0))));
    }
  }
  return out;
}

const negate = (r: Rot): Rot => r.map((row) => row.map((v) => -v));
const minusSigns = (r: Rot): number => r.flat().filter((v) => v < 0).length;

function fraction(t: number): string {
  const q = Math.round((((t % 1) + 1) % 1) * 4);
  return ['', '1/4', '1/2', '3/4'][q];
}

/**
 * Formats x' = R x + t as a CIF operation string, either in the
 * International Tables style ('-y+1/2, x, z') or the translation-first style
 * of older files ('1/2-y,x,z'), both common in the wild.
 */
function opString(r: Rot, t: number[], style: 'ita' | 'prefix'): string {
  const parts = r.map((row, i) => {
    let vars = '';
    row.forEach((v, j) => {
      if (v !== 0) vars += `${v < 0 ? '-' : vars === '' ? '' : '+'}${'xyz'[j]}`;
    });
    const f = fraction(t[i]);
    if (f === '') return vars;
    if (style === 'ita') return `${vars}+${f}`;
    return `${f}${vars.startsWith('-') ? '' : '+'}${vars}`;
  });
  return parts.join(style === 'ita' ? ', ' : ',');
}

const FCC = [
  [0, 0, 0],
  [0, 0.5, 0.5],
  [0.5, 0, 0.5],
  [0.5, 0.5, 0],
];

/** Fm-3m: 48 point operations times 4 centring translations = 192. */
function fm3mOps(): string[] {
  return FCC.flatMap((c) => signedPermutations().map((r) => opString(r, c, 'ita')));
}

/**
 * Fd-3m, origin choice 1: the 24 operations of -43m at the origin, plus
 * those composed with the inversion centre at (1/8,1/8,1/8), times the four
 * F-centring translations = 192.
 */
function fd3mOps(): string[] {
  const td = signedPermutations().filter((r) => minusSigns(r) % 2 === 0);
  const q = [0.25, 0.25, 0.25];
  return FCC.flatMap((c) => [
    ...td.map((r) => opString(r, c, 'prefix')),
    ...td.map((r) => opString(negate(r), [q[0] + c[0], q[1] + c[1], q[2] + c[2]], 'prefix')),
  ]);
}

function numberedOps(ops: string[]): string {
  return ops.map((op, i) => `${String(i + 1).padStart(3)} '${op}'`).join('\n');
}

function readOne(text: string, file = 'test.cif'): Structure {
  const all = readCif(text, file);
  expect(all).toHaveLength(1);
  return all[0];
}

function countSpecies(s: Structure): Record<string, number> {
  const out: Record<string, number> = {};
  for (const el of s.species) out[el] = (out[el] ?? 0) + 1;
  return out;
}

/** Shortest distance between a site of element a and a site of element b. */
function shortest(s: Structure, a: string, b: string): number {
  let best = Infinity;
  for (let i = 0; i < s.numSites; i++) {
    for (let j = 0; j < s.numSites; j++) {
      if (i !== j && s.species[i] === a && s.species[j] === b) best = Math.min(best, s.distance(i, j));
    }
  }
  return best;
}

/** Shortest distance between any two sites; guards against unmerged duplicates. */
function closestPair(s: Structure): number {
  let best = Infinity;
  for (let i = 0; i < s.numSites; i++) for (let j = i + 1; j < s.numSites; j++) best = Math.min(best, s.distance(i, j));
  return best;
}

function expectParseError(run: () => unknown, file: string, line: number, fragment: string | RegExp): void {
  let caught: unknown;
  try {
    run();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ParseError);
  const err = caught as ParseError;
  expect(err.file).toBe(file);
  expect(err.line).toBe(line);
  expect(err.message).toContain(`${file}, line ${line}:`);
  if (typeof fragment === 'string') expect(err.message).toContain(fragment);
  else expect(err.message).toMatch(fragment);
}

/** 1-based number of the first line containing the text. */
function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`test fixture has no line with '${needle}'`);
  return i + 1;
}

/** Fractional difference reduced to (-1/2, 1/2], so 0 and 1 count as equal. */
function periodicDelta(a: Vec3, b: Vec3): number {
  return Math.max(...a.map((x, k) => Math.abs(x - b[k] - Math.round(x - b[k]))));
}

function expectRoundTrip(s: Structure): Structure {
  const back = readOne(writeCif(s), 'roundtrip.cif');
  expect(back.numSites).toBe(s.numSites);
  back.lattice.matrix.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(s.lattice.matrix[i][j], 6)));
  expect(back.species).toEqual(s.species);
  back.frac.forEach((f, i) => f.forEach((x, k) => expect(Math.abs(x - s.frac[i][k])).toBeLessThan(1e-6)));
  expect(back.occupancy).toEqual(s.occupancy);
  return back;
}

// ---------------------------------------------------------------------------
// Fixtures (written in the style of the databases and programs they imitate)

const NACL_ICSD = `data_18189-ICSD
_database_code_ICSD 18189
_audit_creation_date 1980-01-01
_chemical_name_systematic 'Sodium chloride'
_chemical_formula_structural 'Na Cl'
_chemical_formula_sum 'Cl1 Na1'
_publ_section_title
;
Precision determination of the lattice parameter of sodium chloride
;
loop_
_citation_id
_citation_journal_abbrev
_citation_year
_citation_journal_volume
_citation_page_first
primary 'Acta Crystallographica A' 1980 36 228
_cell_length_a 5.6402(1)
_cell_length_b 5.6402(1)
_cell_length_c 5.6402(1)
_cell_angle_alpha 90.
_cell_angle_beta 90.
_cell_angle_gamma 90.
_cell_volume 179.43
_cell_formula_units_Z 4
_symmetry_space_group_name_H-M 'F m -3 m'
_symmetry_Int_Tables_number 225
_refine_ls_R_factor_all .012
loop_
_symmetry_equiv_pos_site_id
_symmetry_equiv_pos_as_xyz
${numberedOps(fm3mOps())}
loop_
_atom_type_symbol
_atom_type_oxidation_number
Na1+ 1
Cl1- -1
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_symmetry_multiplicity
_atom_site_Wyckoff_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_B_iso_or_equiv
_atom_site_occupancy
_atom_site_attached_hydrogens
Na1 Na1+ 4 a 0 0 0 . 1. 0
Cl1 Cl1- 4 b 0.5 0.5 0.5 . 1. 0
#End of TtdaTA_18189-ICSD
`;

const SI_COD = `#------------------------------------------------------------------------------
#$Date: 2016-02-13 21:28:24 +0200 (Sat, 13 Feb 2016) $
#------------------------------------------------------------------------------
data_9008565
loop_
_publ_author_name
'Wyckoff, R. W. G.'
_journal_name_full 'Crystal Structures'
_journal_volume 1
_journal_year 1963
_chemical_formula_sum Si
_chemical_name_mineral Silicon
_space_group_IT_number 227
_symmetry_space_group_name_Hall 'F 4d 2 3 -1d'
_symmetry_space_group_name_H-M 'F d -3 m :1'
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_cell_length_a 5.431(2)
_cell_length_b 5.431(2)
_cell_length_c 5.431(2)
_cell_volume 160.190(9)
loop_
_symmetry_equiv_pos_as_xyz
${fd3mOps().join('\n')}
loop_
_atom_site_label
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_U_iso_or_equiv
Si 0.00000 0.00000 0.00000 0.0076(3)
`;

const ZNO_WURTZITE = `data_ZnO_wurtzite
_chemical_formula_sum 'O Zn'
_space_group_name_H-M_alt 'P 63 m c'
_space_group_IT_number 186
_cell_length_a 3.2498
_cell_length_b 3.2498
_cell_length_c 5.2066
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 120
loop_
_space_group_symop_id
_space_group_symop_operation_xyz
1 x,y,z
2 -y,x-y,z
3 -x+y,-x,z
4 -x,-y,z+1/2
5 y,-x+y,z+1/2
6 x-y,x,z+1/2
7 -y,-x,z
8 -x+y,y,z
9 x,x-y,z
10 y,x,z+1/2
11 x-y,-y,z+1/2
12 -x,-x+y,z+1/2
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Zn1 Zn2+ 0.3333 0.6667 0.0000 1.0
O1 O2- 0.3333 0.6667 0.3819 1.0
`;

const MOS2_194 = `# 2H-MoS2, P6_3/mmc (No. 194)
data_MoS2_2H
_chemical_formula_structural MoS2
_chemical_formula_sum 'Mo2 S4'
_symmetry_space_group_name_H-M 'P 63/m m c'
_symmetry_Int_Tables_number 194
_cell_length_a 3.1604
_cell_length_b 3.1604
_cell_length_c 12.294
_cell_angle_alpha 90.0
_cell_angle_beta 90.0
_cell_angle_gamma 120.0
loop_
 _space_group_symop_operation_xyz
 'x, y, z'
 '-y, x-y, z'
 '-x+y, -x, z'
 '-x, -y, z+1/2'
 'y, -x+y, z+1/2'
 'x-y, x, z+1/2'
 'y, x, -z'
 'x-y, -y, -z'
 '-x, -x+y, -z'
 '-y, -x, -z+1/2'
 '-x+y, y, -z+1/2'
 'x, x-y, -z+1/2'
 '-x, -y, -z'
 'y, -x+y, -z'
 'x-y, x, -z'
 'x, y, -z+1/2'
 '-y, x-y, -z+1/2'
 '-x+y, -x, -z+1/2'
 '-y, -x, z'
 '-x+y, y, z'
 'x, x-y, z'
 'y, x, z+1/2'
 'x-y, -y, z+1/2'
 '-x, -x+y, z+1/2'
loop_
 _atom_site_label
 _atom_site_type_symbol
 _atom_site_fract_x
 _atom_site_fract_y
 _atom_site_fract_z
 Mo1 Mo 0.333333 0.666667 0.25
 S1 S 0.333333 0.666667 0.621
`;

const RUTILE_COD = `#------------------------------------------------------------------------------
#$Date: 2017-10-13 $  # a comment after a comment
#$URL: file:///home/coder/svn-repositories/cod/cif/9/00/90/9009083.cif $
#------------------------------------------------------------------------------
#
# This file is available in the Crystallography Open Database (COD),
# http://www.crystallography.net/
#
data_9009083
loop_
_publ_author_name
'Meagher, E. P.'
'Lager, G. A.'
_publ_section_title
;
 Polyhedral thermal expansion in the TiO2 polymorphs: Refinement of the
 crystal structures of rutile and brookite at high temperature
 Sample at 25 degrees C;   loop_ data_notablock _cell_length_a 99 # not a comment
;
_journal_name_full 'The Canadian Mineralogist'
_journal_page_first 77
_journal_volume 17
_journal_year 1979
_chemical_formula_sum 'O2 Ti'
_chemical_name_mineral Rutile
_space_group_IT_number 136
_symmetry_space_group_name_Hall '-P 4n 2n'
_symmetry_space_group_name_H-M 'P 42/m n m'
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_cell_length_a 4.5937
_cell_length_b 4.5937
_cell_length_c 2.9587
_cell_volume 62.435
_exptl_crystal_density_diffrn 4.249
_[local]_cod_data_source_block rutile
_cod_original_sg_symbol_H-M 'P 42/m n m'
_cod_database_code 9009083
_amcsd_database_code AMCSD#0009253
loop_
_symmetry_equiv_pos_as_xyz
x,y,z
-y,-x,z
y,x,z
1/2+y,1/2-x,1/2+z
1/2-y,1/2+x,1/2+z
1/2+x,1/2-y,1/2+z
1/2-x,1/2+y,1/2+z
-x,-y,z
y,x,-z
-y,-x,-z
1/2-y,1/2+x,1/2-z
1/2+y,1/2-x,1/2-z
1/2-x,1/2+y,1/2-z
1/2+x,1/2-y,1/2-z
x,y,-z
-x,-y,-z
loop_
_atom_site_label
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Ti 0.00000 0.00000 0.00000
O 0.30490 0.30490 0.00000
loop_
_atom_site_aniso_label
_atom_site_aniso_U_11
_atom_site_aniso_U_22
_atom_site_aniso_U_33
_atom_site_aniso_U_12
_atom_site_aniso_U_13
_atom_site_aniso_U_23
Ti 0.00552 0.00552 0.00402 -0.00002 0.00000 0.00000
O 0.00480 0.00480 0.00371 -0.00168 0.00000 0.00000
`;

const PYMATGEN_P1 = `# generated using pymatgen
data_SrTiO3
_symmetry_space_group_name_H-M   'P 1'
_cell_length_a   3.94513000
_cell_length_b   3.94513000
_cell_length_c   3.94513000
_cell_angle_alpha   90.00000000
_cell_angle_beta   90.00000000
_cell_angle_gamma   90.00000000
_symmetry_Int_Tables_number   1
_chemical_formula_structural   SrTiO3
_chemical_formula_sum   'Sr1 Ti1 O3'
_cell_volume   61.40183168
_cell_formula_units_Z   1
loop_
 _symmetry_equiv_pos_site_id
 _symmetry_equiv_pos_as_xyz
  1  'x, y, z'
loop_
 _atom_site_type_symbol
 _atom_site_label
 _atom_site_symmetry_multiplicity
 _atom_site_fract_x
 _atom_site_fract_y
 _atom_site_fract_z
 _atom_site_occupancy
  Sr  Sr0  1  0.00000000  0.00000000  0.00000000  1
  Ti  Ti1  1  0.50000000  0.50000000  0.50000000  1
  O  O2  1  0.50000000  0.00000000  0.50000000  1
  O  O3  1  0.50000000  0.50000000  0.00000000  1
  O  O4  1  0.00000000  0.50000000  0.50000000  1
`;

// ---------------------------------------------------------------------------

describe('symmetry operation strings', () => {
  it('parses the common spellings', () => {
    const id = parseSymop('x,y,z');
    expect(id.rotation).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(id.translation).toEqual([0, 0, 0]);

    const op = parseSymop('-y+1/2, x-y, z+0.25');
    expect(op.rotation).toEqual([
      [0, -1, 0],
      [1, -1, 0],
      [0, 0, 1],
    ]);
    expect(op.translation).toEqual([0.5, 0, 0.25]);

    const quoted = parseSymop("'1/2+x, -y, z'");
    expect(quoted.rotation[0]).toEqual([1, 0, 0]);
    expect(quoted.rotation[1]).toEqual([0, -1, 0]);
    expect(quoted.translation).toEqual([0.5, 0, 0]);

    const upper = parseSymop('X-Y,X,-Z');
    expect(upper.rotation).toEqual([
      [1, -1, 0],
      [1, 0, 0],
      [0, 0, -1],
    ]);
    expect(parseSymop(' 1/4 - x , 3/4+y , -z+1/2 ').translation).toEqual([0.25, 0.75, 0.5]);
  });

  it('applies to fractional coordinates', () => {
    const f = applySymop(parseSymop('-y+1/2, x-y, z+0.25'), [0.1, 0.2, 0.3]);
    expect(f[0]).toBeCloseTo(0.3, 12);
    expect(f[1]).toBeCloseTo(-0.1, 12);
    expect(f[2]).toBeCloseTo(0.55, 12);
  });

  it.each([
    ['x,y', /three comma-separated components/],
    ['x,y,z,1', /three comma-separated components/],
    ['x,y,w', /cannot read 'w'/],
    ['x,,z', /empty y component/],
    ['x,x,z', /determinant 0/],
    ['xy,y,z', /cannot read 'y'/],
    ['x+,y,z', /cannot read '\+'/],
    ['x,y,z/2', /cannot read/],
    ['x,y,z+1/0', /division by zero/],
    ['', /three comma-separated components/],
  ])('rejects %j with a clear message', (text, message) => {
    expect(() => parseSymop(text)).toThrow(message);
  });
});

describe('readCif: symmetry expansion', () => {
  it('expands NaCl (Fm-3m, 192 operations, ICSD style) to the 8-atom conventional cell', () => {
    expect(fm3mOps()).toHaveLength(192);
    const s = readOne(NACL_ICSD, 'NaCl.cif');
    expect(s.numSites).toBe(8);
    expect(countSpecies(s)).toEqual({ Na: 4, Cl: 4 });
    expect(s.lattice.abc[0]).toBeCloseTo(5.6402, 10);
    expect(shortest(s, 'Na', 'Cl')).toBeCloseTo(5.6402 / 2, 8);
    expect(shortest(s, 'Na', 'Na')).toBeCloseTo(5.6402 / Math.SQRT2, 8);
    expect(s.frac.every((f) => f.every((x) => x >= 0 && x < 1))).toBe(true);
    expect(s.title).toBe('Cl1 Na1');
    expect(s.properties.cifSpaceGroup).toBe('F m -3 m');
    expect(s.properties.cifSpaceGroupNumber).toBe(225);
    expect(s.properties.cifBlock).toBe('18189-ICSD');
    expect(s.labels?.filter((l) => l === 'Na1')).toHaveLength(4);
    expect(s.occupancy).toBeUndefined();
    expect(s.warnings).toEqual([]);
    expectRoundTrip(s);
  });

  it('reads Si (Fd-3m, uncertainties in the cell, translation-first operations)', () => {
    const s = readOne(SI_COD, 'Si.cif');
    expect(s.numSites).toBe(8);
    expect(countSpecies(s)).toEqual({ Si: 8 });
    expect(s.lattice.parameters[0]).toBeCloseTo(5.431, 12);
    expect(s.lattice.volume).toBeCloseTo(5.431 ** 3, 8);
    expect(shortest(s, 'Si', 'Si')).toBeCloseTo((5.431 * Math.sqrt(3)) / 4, 8);
    expect(s.title).toBe('Si');
    expect(s.properties.cifSpaceGroup).toBe('F d -3 m :1');
    expect(s.properties.cifSpaceGroupHall).toBe('F 4d 2 3 -1d');
    expect(s.properties.cifSpaceGroupNumber).toBe(227);
    expectRoundTrip(s);
  });

  it('reads wurtzite ZnO from _space_group_symop_operation_xyz', () => {
    const s = readOne(ZNO_WURTZITE, 'ZnO.cif');
    expect(countSpecies(s)).toEqual({ Zn: 2, O: 2 });
    expect(s.lattice.angles[2]).toBeCloseTo(120, 10);
    // Zn-O bonds: 1.974 Å (x3) in the basal directions and u·c = 1.988 Å along c.
    expect(shortest(s, 'Zn', 'O')).toBeCloseTo(1.974, 2);
    expect(closestPair(s)).toBeGreaterThan(1.9);
    expect(s.properties.cifSpaceGroup).toBe('P 63 m c');
    expect(s.properties.cifSpaceGroupNumber).toBe(186);
    expectRoundTrip(s);
  });

  it('reads 2H-MoS2 (P6_3/mmc, 24 quoted operations)', () => {
    const s = readOne(MOS2_194, 'MoS2-2H.cif');
    expect(countSpecies(s)).toEqual({ Mo: 2, S: 4 });
    expect(shortest(s, 'Mo', 'S')).toBeCloseTo(2.417, 2);
    expect(closestPair(s)).toBeGreaterThan(2);
    expectRoundTrip(s);
  });

  it('merges images of 1/3 written as 0.333 even in a large cell', () => {
    // P-3 with a site on 2d (1/3, 2/3, z): without snapping to thirds the
    // three-fold images of (0.333, 0.667) land 0.04 Å apart in a 25 Å cell.
    const text = `data_big
_cell_length_a 25.0
_cell_length_b 25.0
_cell_length_c 6.0
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 120
_symmetry_space_group_name_H-M 'P -3'
loop_
_symmetry_equiv_pos_as_xyz
x,y,z
-y,x-y,z
-x+y,-x,z
-x,-y,-z
y,-x+y,-z
x-y,x,-z
loop_
_atom_site_label
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Ga1 0.333 0.667 0.125
`;
    const s = readOne(text);
    expect(s.numSites).toBe(2);
    expect(s.frac[0][0]).toBeCloseTo(1 / 3, 12);
  });

  it('reads a COD file with comments, semicolon text fields and extra loops', () => {
    const s = readOne(RUTILE_COD, '9009083.cif');
    expect(countSpecies(s)).toEqual({ Ti: 2, O: 4 });
    // Text inside the ; field ("loop_", "_cell_length_a 99", "#") is data, not syntax.
    expect(s.lattice.abc[0]).toBeCloseTo(4.5937, 10);
    const tiO = shortest(s, 'Ti', 'O');
    expect(tiO).toBeGreaterThan(1.9);
    expect(tiO).toBeLessThan(2.0);
    expect(s.properties.cifBlock).toBe('9009083');
    expect(s.properties.cifSpaceGroup).toBe('P 42/m n m');
    expectRoundTrip(s);
  });

  it('warns, and does not expand, when only a space group name is given', () => {
    const text = `data_nacl_no_ops
_symmetry_space_group_name_H-M 'F m -3 m'
_cell_length_a 5.64
_cell_length_b 5.64
_cell_length_c 5.64
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
loop_
_atom_site_label
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Na1 0 0 0
Cl1 0.5 0.5 0.5
`;
    const s = readOne(text);
    expect(s.numSites).toBe(2);
    expect(s.warnings.join('\n')).toMatch(/space group 'F m -3 m' is named but the file lists no symmetry operations/);
    expect(s.title).toBe('nacl_no_ops');
  });

  it('merges an atom listed twice and says so', () => {
    const text = `data_dup
_cell_length_a 4
_cell_length_b 4
_cell_length_c 4
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
loop_
_symmetry_equiv_pos_as_xyz
x,y,z
-x,-y,-z
loop_
_atom_site_label
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Cu1 0.25 0.25 0.0
Cu2 0.75 0.75 0.0
Cu3 0.2500001 0.25 0.9999999
`;
    // Cu2 is Cu1's inversion image; Cu3 is Cu1 again across the cell face.
    const s = readOne(text);
    expect(s.numSites).toBe(2);
    expect(s.warnings.join('\n')).toContain('Cu2 = Cu1, Cu3 = Cu1');
  });
});

describe('readCif: formats and flavours', () => {
  it('reads a pymatgen P1 file exactly', () => {
    const s = readOne(PYMATGEN_P1, 'SrTiO3.cif');
    expect(s.species).toEqual(['Sr', 'Ti', 'O', 'O', 'O']);
    expect(s.labels).toEqual(['Sr0', 'Ti1', 'O2', 'O3', 'O4']);
    expect(s.frac[2]).toEqual([0.5, 0, 0.5]);
    expect(s.lattice.matrix[0]).toEqual([3.94513, 0, 0]);
    expect(s.title).toBe('Sr1 Ti1 O3');
    expect(s.properties.cifSpaceGroup).toBe('P 1');
    expect(s.warnings).toEqual([]);
    expectRoundTrip(s);
  });

  it('reads every structure of a multi-block file and skips blocks without atoms', () => {
    const text = `data_global
_publ_contact_author_name 'A. Author'
_publ_section_title 'Two metals'

data_Cu
_chemical_formula_sum Cu4
_cell_length_a 3.615
_cell_length_b 3.615
_cell_length_c 3.615
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Cu1 Cu 0 0 0
Cu2 Cu 0 0.5 0.5
Cu3 Cu 0.5 0 0.5
Cu4 Cu 0.5 0.5 0

DATA_Po
_CELL_LENGTH_A 3.359
_cell_length_b 3.359
_cell_length_c 3.359
_Cell_Angle_Alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_atom_site_label Po1
_atom_site_fract_x 0
_atom_site_fract_y 0
_atom_site_fract_z 0
`;
    const all = readCif(text, 'two.cif');
    expect(all.map((s) => s.title)).toEqual(['Cu4', 'Po']);
    expect(all[0].numSites).toBe(4);
    expect(all[1].species).toEqual(['Po']);
    expect(all[1].lattice.abc[0]).toBeCloseTo(3.359, 12);
  });

  it('keeps partial occupancy per site and warns', () => {
    const text = `data_FeCoO
_chemical_formula_sum 'Co0.5 Fe0.5 O0.9'
_cell_length_a 4.25
_cell_length_b 4.25
_cell_length_c 4.25
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
loop_
_symmetry_equiv_pos_as_xyz
'x, y, z'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Fe1 Fe2+ 0 0 0 0.5
Co1 Co2+ 0 0 0 0.50(2)
O1 O2- 0.5 0.5 0.5 0.9
Sr1 Sr2+ 0.5 0.5 0 ?
`;
    const s = readOne(text, 'partial.cif');
    expect(s.species).toEqual(['Fe', 'Co', 'O', 'Sr']);
    expect(s.occupancy).toEqual([0.5, 0.5, 0.9, 1]);
    expect(s.warnings).toContain('partial occupancy on 3 sites (Fe1, Co1, O1): kept as read; tools that need ordered structures may treat them as full');
    expectRoundTrip(s);
  });

  it('warns when different elements overfill one position', () => {
    const text = `data_bad_mix
_cell_length_a 4
_cell_length_b 4
_cell_length_c 4
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
loop_
_atom_site_label
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Fe1 0 0 0 0.7
Co1 0 0 0 0.7
`;
    expect(readOne(text).warnings.join('\n')).toContain('total occupancy above 1 (Fe1 and Co1)');
  });

  it('converts Cartesian coordinates using the standard CIF axes', () => {
    const text = `data_cart
_cell_length_a 3.16
_cell_length_b 3.16
_cell_length_c 12.3
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 120
loop_
_atom_site_label
_atom_site_Cartn_x
_atom_site_Cartn_y
_atom_site_Cartn_z
Mo1 0.0 ${((3.16 * Math.sqrt(3)) / 3).toFixed(10)} 3.075
Cs1 1.58 0.0 0.0
`;
    const s = readOne(text);
    expect(s.frac[0][0]).toBeCloseTo(1 / 3, 9);
    expect(s.frac[0][1]).toBeCloseTo(2 / 3, 9);
    expect(s.frac[0][2]).toBeCloseTo(0.25, 12);
    expect(periodicDelta(s.frac[1], [0.5, 0, 0])).toBeLessThan(1e-12);
  });

  it('reads mmCIF-style dotted tags, CRLF line ends and quotes inside values', () => {
    const text = [
      'data_dotted',
      "_chemical_name_common 'O'Neil's salt'",
      '_cell.length_a 4.0',
      '_cell.length_b 4.0',
      '_cell.length_c 4.0',
      '_cell.angle_alpha 90',
      '_cell.angle_beta 90',
      '_cell.angle_gamma 90',
      'loop_',
      '_atom_site.type_symbol',
      '_atom_site.fract_x',
      '_atom_site.fract_y',
      '_atom_site.fract_z',
      'K 0 0 0',
      'Br 0.5 0.5 0.5 # trailing comment',
    ].join('\r\n');
    const s = readOne(text);
    expect(s.species).toEqual(['K', 'Br']);
    expect(s.labels).toEqual(['K1', 'Br2']);
  });

  it('skips dummy and vacant sites with a warning', () => {
    const text = `data_d
_cell_length_a 5
_cell_length_b 5
_cell_length_c 5
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
_atom_site_calc_flag
C1 C 0 0 0 1 d
Cg1 C 0.5 0.5 0.5 1 dum
O1 O 0.25 0.25 0.25 0 d
`;
    const s = readOne(text);
    expect(s.species).toEqual(['C']);
    expect(s.warnings.join('\n')).toMatch(/dummy site\(s\) \(Cg1\)/);
    expect(s.warnings.join('\n')).toMatch(/zero occupancy \(O1\)/);
  });
});

describe('readCif: errors name the file and the line', () => {
  const good = PYMATGEN_P1;

  it('rejects an empty file', () => {
    expectParseError(() => readCif('', 'empty.cif'), 'empty.cif', 1, 'file is empty');
    expectParseError(() => readCif('  \n# only a comment\n', 'c.cif'), 'c.cif', 1, 'no data_ block');
  });

  it('rejects a file whose blocks have no atoms', () => {
    expectParseError(() => readCif('data_x\n_cell_length_a 5\n', 'x.cif'), 'x.cif', 1, 'no atom sites');
  });

  it('rejects a missing cell parameter', () => {
    const text = good.replace(/_cell_length_b.*\n/, '');
    expectParseError(() => readCif(text, 'nob.cif'), 'nob.cif', lineOf(text, 'data_SrTiO3'), 'no _cell_length_b');
  });

  it('rejects an unknown cell parameter', () => {
    const text = good.replace('_cell_angle_beta   90.00000000', '_cell_angle_beta   ?');
    expectParseError(() => readCif(text, 'q.cif'), 'q.cif', lineOf(text, '_cell_angle_beta'), "_cell_angle_beta is unknown ('?')");
  });

  it('rejects an impossible cell', () => {
    const text = good.replace('_cell_angle_gamma   90.00000000', '_cell_angle_gamma   190');
    expectParseError(() => readCif(text, 'g.cif'), 'g.cif', lineOf(text, '_cell_length_a'), /invalid cell: .*gamma/);
  });

  it('rejects a coordinate that is not a number', () => {
    const text = good.replace('Ti1  1  0.50000000', 'Ti1  1  O.5000000');
    expectParseError(() => readCif(text, 'bad.cif'), 'bad.cif', lineOf(text, 'Ti1  1'), "_atom_site_fract_x of atom Ti1 is not a number: 'O.5000000'");
  });

  it('rejects an unknown element', () => {
    const text = good.replace('Ti  Ti1', 'Xq  Xq1');
    expectParseError(() => readCif(text, 'el.cif'), 'el.cif', lineOf(text, 'Xq1'), "unknown element 'Xq'");
    const noType = RUTILE_COD.replace('\nO 0.30490', '\nQz 0.30490');
    expectParseError(() => readCif(noType, 'r.cif'), 'r.cif', lineOf(noType, 'Qz 0.30490'), "atom label 'Qz'");
  });

  it('rejects a truncated loop', () => {
    const text = good.replace('  O  O3  1  0.50000000  0.50000000  0.00000000  1', '  O  O3  1  0.50000000  0.50000000  1');
    expectParseError(() => readCif(text, 'trunc.cif'), 'trunc.cif', lineOf(text, ' O3  1'), '34 values for 7 columns');
    const atEnd = good.replace(/ 1\n$/, '\n');
    expectParseError(() => readCif(atEnd, 'end.cif'), 'end.cif', lineOf(atEnd, 'O4'), 'last row has only 6 of 7 values');
  });

  it('rejects an unterminated text field and an unterminated quote', () => {
    const field = good.replace('data_SrTiO3\n', 'data_SrTiO3\n_publ_section_title\n;\nnever closed\n');
    expectParseError(() => readCif(field, 'tf.cif'), 'tf.cif', 4, "text field opened with ';' is never closed");
    const quote = good.replace("'Sr1 Ti1 O3'", "'Sr1 Ti1 O3");
    expectParseError(() => readCif(quote, 'qt.cif'), 'qt.cif', lineOf(quote, '_chemical_formula_sum'), 'is not closed on this line');
  });

  it('rejects a bad symmetry operation', () => {
    const text = RUTILE_COD.replace('1/2+y,1/2-x,1/2+z', '1/2+y,1/2-w,1/2+z');
    expectParseError(() => readCif(text, 'op.cif'), 'op.cif', lineOf(text, '1/2-w'), "cannot read '-w' in the y component");
  });

  it('rejects unquoted values with spaces, tags without values and duplicate tags', () => {
    const spaces = good.replace("'Sr1 Ti1 O3'", 'Sr1 Ti1 O3');
    expectParseError(() => readCif(spaces, 's.cif'), 's.cif', lineOf(spaces, '_chemical_formula_sum'), "value 'Ti1' does not belong to any tag");
    const noValue = good.replace('_cell_volume   61.40183168', '_cell_volume');
    expectParseError(() => readCif(noValue, 'v.cif'), 'v.cif', lineOf(noValue, '_cell_volume'), 'tag _cell_volume has no value');
    const twice = good.replace('_cell_volume', '_cell_length_a   4.5\n_cell_volume');
    expectParseError(() => readCif(twice, 't.cif'), 't.cif', lineOf(twice, '_cell_length_a   4.5'), 'appears twice in one data block (first at line 4)');
  });

  it('rejects a non-CIF file', () => {
    const poscar = 'Si\n1.0\n5.43 0 0\n0 5.43 0\n0 0 5.43\nSi\n2\nDirect\n0 0 0\n0.25 0.25 0.25\n';
    expectParseError(() => readCif(poscar, 'POSCAR'), 'POSCAR', 1, 'before the first data_ block');
  });

  it('fails the whole file when one of several blocks is broken', () => {
    const text = `${good}\ndata_broken\n_cell_length_a 3\n loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nNa1 0 0 0\n`;
    expectParseError(() => readCif(text, 'two.cif'), 'two.cif', lineOf(text, 'data_broken'), 'no _cell_length_b');
  });
});

describe('writeCif', () => {
  it('writes a clean P1 CIF with enough digits', () => {
    const s = new Structure({
      lattice: Lattice.fromParameters(4.123456789012, 5.2, 6.3, 80.5, 95.25, 101.125),
      species: ['Fe', 'O'],
      frac: [
        [0.123456789012, -0.000000000001, 0.9],
        [0.5, 0.5, 0.5],
      ],
      occupancy: [1, 0.75],
      title: 'my iron oxide',
    });
    const text = writeCif(s);
    expect(text).toMatch(/^data_my_iron_oxide$/m);
    expect(text).toMatch(/^_symmetry_space_group_name_H-M\s+'P 1'$/m);
    expect(text).toContain("  1  'x, y, z'");
    expect(text).toMatch(/_cell_length_a\s+4\.1234567890\n/);
    expect(text).toMatch(/Fe1\s+Fe\s+0\.1234567890\s+0\.0000000000\s+0\.9000000000\s+1\.00000000/);
    expect(text).toMatch(/O1\s+O\s+0\.5000000000 .*0\.75000000/);
    expect(text).toMatch(/^_chemical_formula_sum\s+'Fe1 O0.75'$/m);
    const back = expectRoundTrip(s);
    expect(back.lattice.parameters[5]).toBeCloseTo(101.125, 9);
  });

  it('keeps the handedness of a left-handed cell', () => {
    // Four atoms in a chiral (non-planar, asymmetric) arrangement.
    const s = new Structure({
      lattice: [
        [0, 6, 0],
        [7, 0, 0],
        [0, 0, 8],
      ],
      species: ['C', 'N', 'O', 'S'],
      frac: [
        [0.1, 0.1, 0.1],
        [0.3, 0.1, 0.1],
        [0.1, 0.35, 0.1],
        [0.12, 0.14, 0.4],
      ],
    });
    const chirality = (x: Structure): number => {
      const r = x.cart;
      return dot(sub(r[1], r[0]), cross(sub(r[2], r[0]), sub(r[3], r[0])));
    };
    const back = readOne(writeCif(s));
    expect(chirality(back)).toBeCloseTo(chirality(s), 8);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(back.distance(i, j)).toBeCloseTo(s.distance(i, j), 8);
  });

  it('invents unique labels when the read ones repeat', () => {
    const s = readOne(NACL_ICSD);
    const text = writeCif(s);
    expect(text).toMatch(/^ {2}Na4 /m);
    expect(text).toMatch(/^ {2}Cl4 /m);
    expect(readOne(text).labels).toEqual(['Na1', 'Na2', 'Na3', 'Na4', 'Cl1', 'Cl2', 'Cl3', 'Cl4']);
  });
});

// ---------------------------------------------------------------------------
// Real files, read in place when the shared data set is present.

// shared/ sits beside the checkout (../shared from the repository root).
const SHARED = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const MOS2_FILE = `${SHARED}2dmd/MoS2.cif`;
const PEROV_CSV = `${SHARED}crystals/perov_5/test.csv`;

/** Minimal RFC 4180 CSV reader: quoted fields may hold commas, newlines and "". */
function* csvRows(text: string): Generator<string[]> {
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      yield row;
      row = [];
      field = '';
    } else if (ch !== '\r') field += ch;
  }
  if (field !== '' || row.length > 0) yield [...row, field];
}

function formulaCounts(formula: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of formula.matchAll(/([A-Z][a-z]?)(\d*)/g)) out[m[1]] = (out[m[1]] ?? 0) + (m[2] === '' ? 1 : Number(m[2]));
  return out;
}

describe('real CIF files', () => {
  it.skipIf(!existsSync(MOS2_FILE))('reads the 2dmd MoS2.cif', () => {
    const s = readOne(readFileSync(MOS2_FILE, 'utf8'), 'MoS2.cif');
    expect(s.species).toEqual(['Mo', 'S', 'S']);
    expect(s.lattice.abc[0]).toBeCloseTo(3.1903157, 7);
    expect(s.lattice.volume).toBeCloseTo(131.15106284, 5);
    expect(shortest(s, 'Mo', 'S')).toBeCloseTo(2.41, 1);
    expectRoundTrip(s);
  });

  it.skipIf(!existsSync(PEROV_CSV))('reads pymatgen CIFs from the perov_5 CSV', () => {
    const rows = csvRows(readFileSync(PEROV_CSV, 'utf8'));
    const header = rows.next().value as string[];
    const cifCol = header.indexOf('cif');
    const formulaCol = header.indexOf('formula');
    let n = 0;
    for (const row of rows) {
      if (n++ >= 25) break;
      const text = row[cifCol];
      const s = readOne(text, `perov_5 row ${n}`);
      expect(countSpecies(s)).toEqual(formulaCounts(row[formulaCol]));
      const volume = Number(/_cell_volume\s+(\S+)/.exec(text)![1]);
      expect(s.lattice.volume).toBeCloseTo(volume, 5);
      expectRoundTrip(s);
    }
    expect(n).toBeGreaterThan(5);
  });
});
