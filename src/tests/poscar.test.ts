import { describe, expect, it } from 'vitest';
import { expectParseError } from './parse-error';
import { readPoscar, writePoscar } from '../core/formats/poscar';

// A VASP 5 CONTCAR as VASP 6 writes it: POTCAR names with hashes, selective dynamics, velocities after the positions.
const contcar = `MoS2 4x4 slab relaxed
   1.00000000000000
     3.1600000000000001    0.0000000000000000    0.0000000000000000
    -1.5800000000000001    2.7366402759545231    0.0000000000000000
     0.0000000000000000    0.0000000000000000   20.0000000000000000
   Mo_pv/7a1c3b   S/2d4f11
     1     2
Selective dynamics
Direct
  0.0000000000000000  0.0000000000000000  0.5000000000000000   F   F   F
  0.3333333333333333  0.6666666666666667  0.5792500000000000   T   T   T
  0.3333333333333333  0.6666666666666667  0.4207500000000000   T   T   T

  0.00000000E+00  0.00000000E+00  0.00000000E+00
  0.00000000E+00  0.00000000E+00  0.00000000E+00
  0.00000000E+00  0.00000000E+00  0.00000000E+00
`;

// VASP 4: no species line; names only in the comment.
const vasp4 = `Si Si8 diamond
5.431
1 0 0
0 1 0
0 0 1
8
Direct
0 0 0
0.5 0.5 0
0.5 0 0.5
0 0.5 0.5
0.25 0.25 0.25
0.75 0.75 0.25
0.75 0.25 0.75
0.25 0.75 0.75
`;

describe('POSCAR reader', () => {
  it('reads a VASP 6 CONTCAR with hashed POTCAR names and selective dynamics', () => {
    const s = readPoscar(contcar, 'CONTCAR');
    expect(s.species).toEqual(['Mo', 'S', 'S']);
    expect(s.lattice.abc[0]).toBeCloseTo(3.16, 10);
    expect(s.lattice.angles[2]).toBeCloseTo(120, 8);
    expect(s.properties.selectiveDynamics).toEqual([
      [false, false, false],
      [true, true, true],
      [true, true, true],
    ]);
    expect(s.distance(0, 1)).toBeCloseTo(Math.hypot(3.16 / Math.sqrt(3), 0.07925 * 20), 8);
  });

  it('reads VASP 4 with species from the comment line and a scale factor', () => {
    const s = readPoscar(vasp4, 'POSCAR');
    expect(s.numSites).toBe(8);
    expect(s.species.every((x) => x === 'Si')).toBe(true);
    expect(s.lattice.abc[0]).toBeCloseTo(5.431, 10);
    expect(s.distance(0, 4)).toBeCloseTo((5.431 * Math.sqrt(3)) / 4, 8);
  });

  it('treats a negative scale as the target volume', () => {
    const s = readPoscar(vasp4.replace('5.431', '-160.19'), 'POSCAR');
    expect(s.lattice.volume).toBeCloseTo(160.19, 8);
  });

  it('accepts three per-axis scale factors', () => {
    const s = readPoscar(vasp4.replace('5.431', '2 3 4'), 'POSCAR');
    expect(s.lattice.abc).toEqual([2, 3, 4]);
  });

  it('reads Cartesian coordinates, scaled by the scale factor', () => {
    const text = `NaCl\n2.0\n1 0 0\n0 1 0\n0 0 1\nNa Cl\n1 1\nCartesian\n0 0 0\n0.5 0.5 0.5\n`;
    const s = readPoscar(text, 'POSCAR');
    expect(s.frac[1]).toEqual([0.5, 0.5, 0.5]);
    expect(s.lattice.abc[0]).toBe(2);
  });

  it.each([
    ['empty file', '', /empty/, 1],
    ['bad scale', 'x\nabc\n1 0 0\n0 1 0\n0 0 1\nSi\n1\nDirect\n0 0 0\n', /scale factor is not a number/, 2],
    ['coplanar lattice', 'x\n1\n1 0 0\n2 0 0\n0 0 1\nSi\n1\nDirect\n0 0 0\n', /coplanar/, 3],
    ['unknown element', 'x\n1\n1 0 0\n0 1 0\n0 0 1\nXx\n1\nDirect\n0 0 0\n', /'Xx' is not an element/, 6],
    ['count mismatch', 'x\n1\n1 0 0\n0 1 0\n0 0 1\nSi O\n1\nDirect\n0 0 0\n', /2 species but 1 counts/, 7],
    ['truncated positions', 'x\n1\n1 0 0\n0 1 0\n0 0 1\nSi\n3\nDirect\n0 0 0\n0.5 0.5 0.5\n', /atom 3/, 11],
    ['bad coordinate', 'x\n1\n1 0 0\n0 1 0\n0 0 1\nSi\n1\nDirect\n0 zero 0\n', /coordinate of atom 1 is not a number/, 9],
    ['bad mode', 'x\n1\n1 0 0\n0 1 0\n0 0 1\nSi\n1\nFractional\n0 0 0\n', /Direct/, 8],
    ['v4 without names', '4x4 cell\n1\n1 0 0\n0 1 0\n0 0 1\n1\nDirect\n0 0 0\n', /VASP 4/, 6],
  ])('rejects %s with file and line', (_name, text, message, line) => {
    expectParseError(() => readPoscar(text, 'bad.vasp'), 'bad.vasp', message, line);
  });
});

describe('POSCAR writer', () => {
  it('round-trips lattice, species, positions and selective dynamics', () => {
    const s = readPoscar(contcar, 'CONTCAR');
    const t = readPoscar(writePoscar(s), 'out');
    expect(t.species).toEqual(s.species);
    t.lattice.matrix.flat().forEach((x, k) => expect(x).toBeCloseTo(s.lattice.matrix.flat()[k], 9));
    t.frac.forEach((f, i) => f.forEach((x, k) => expect(x).toBeCloseTo(s.frac[i][k], 9)));
    expect(t.properties.selectiveDynamics).toEqual(s.properties.selectiveDynamics);
  });

  it('groups species so VASP can read it', () => {
    const s = readPoscar('x\n1\n3 0 0\n0 3 0\n0 0 3\nNa Cl Na\n1 1 1\nDirect\n0 0 0\n0.5 0.5 0.5\n0.5 0 0\n', 'p');
    const out = writePoscar(s).split('\n');
    expect(out[5].trim()).toBe('Na Cl');
    expect(out[6].trim()).toBe('2 1');
    expect(readPoscar(writePoscar(s), 'p').species).toEqual(['Na', 'Na', 'Cl']);
  });
});
