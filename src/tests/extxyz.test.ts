import { describe, expect, it } from 'vitest';
import { expectParseError } from './parse-error';
import { parseKeyValues, readExtxyz, writeExtxyz } from '../core/formats/extxyz';

// Two frames as ASE writes them, with forces and an energy per frame.
const ase = `2
Lattice="0.0 2.715 2.715 2.715 0.0 2.715 2.715 2.715 0.0" Properties=species:S:1:pos:R:3:forces:R:3 energy=-10.84 pbc="T T T"
Si       0.00000000       0.00000000       0.00000000       0.01 0.00 0.00
Si       1.35750000       1.35750000       1.35750000      -0.01 0.00 0.00
3
Lattice="3.16 0.0 0.0 -1.58 2.73664 0.0 0.0 0.0 20.0" Properties=species:S:1:pos:R:3:forces:R:3 energy=-21.5 config_type=slab pbc="T T F"
Mo 0 0 10 0 0 0
S 1.58 0.9122 11.585 0 0 0.1
S 1.58 0.9122 8.415 0 0 -0.1
`;

describe('extended XYZ', () => {
  it('parses key=value comment lines with quotes', () => {
    const kv = parseKeyValues('Lattice="1 0 0 0 1 0 0 0 1" Properties=species:S:1:pos:R:3 energy=-1.5 name="a b" flag');
    expect(kv.get('Lattice')).toBe('1 0 0 0 1 0 0 0 1');
    expect(kv.get('energy')).toBe('-1.5');
    expect(kv.get('name')).toBe('a b');
    expect(kv.get('flag')).toBe('T');
  });

  it('reads multiple frames with extra columns, energies and pbc', () => {
    const frames = readExtxyz(ase, 'traj.xyz');
    expect(frames).toHaveLength(2);
    expect(frames[0].species).toEqual(['Si', 'Si']);
    expect(frames[0].distance(0, 1)).toBeCloseTo(2.3513, 3);
    expect(frames[0].properties.energy).toBe(-10.84);
    expect(frames[1].pbc).toEqual([true, true, false]);
    expect(frames[1].properties.config_type).toBe('slab');
    expect(frames[1].frac[0][2]).toBeCloseTo(0.5, 10);
  });

  it('reads plain XYZ as a non-periodic molecule in a padded box', () => {
    const s = readExtxyz('3\nwater\nO 0 0 0\nH 0.757 0.586 0\nH -0.757 0.586 0\n', 'h2o.xyz')[0];
    expect(s.pbc).toEqual([false, false, false]);
    expect(s.distance(0, 1)).toBeCloseTo(0.9572, 3);
    expect(s.lattice.abc[0]).toBeGreaterThan(10);
  });

  it('accepts atomic numbers in the species column', () => {
    expect(readExtxyz('1\n\n14 0 0 0\n', 'z.xyz')[0].species).toEqual(['Si']);
  });

  it('round-trips frames', () => {
    const frames = readExtxyz(ase, 'traj.xyz');
    const again = readExtxyz(writeExtxyz(frames), 'out.xyz');
    expect(again).toHaveLength(2);
    again.forEach((s, f) => {
      expect(s.species).toEqual(frames[f].species);
      expect(s.pbc).toEqual(frames[f].pbc);
      s.lattice.matrix.flat().forEach((x, k) => expect(x).toBeCloseTo(frames[f].lattice.matrix.flat()[k], 8));
      s.frac.forEach((p, i) => p.forEach((x, k) => expect(x).toBeCloseTo(frames[f].frac[i][k], 8)));
      expect(s.properties.energy).toBe(frames[f].properties.energy);
    });
  });

  it.each([
    ['bad count', 'two\n\nSi 0 0 0\n', /number of atoms/, 1],
    ['too few atoms', '3\n\nSi 0 0 0\nSi 1 1 1\n', /ends after 2 of 3 atoms/, 5],
    ['short lattice', '1\nLattice="1 0 0 0 1 0"\nSi 0 0 0\n', /9 numbers/, 2],
    ['unknown element', '1\n\nQq 0 0 0\n', /'Qq' is not an element/, 3],
    ['missing column', '1\n\nSi 0 0\n', /expected 4 columns/, 3],
    ['bad pbc', '1\nLattice="1 0 0 0 1 0 0 0 1" pbc="T T"\nSi 0 0 0\n', /pbc/, 2],
    ['empty', '\n\n', /empty/, 1],
  ])('rejects %s with file and line', (_n, text, message, line) => {
    expectParseError(() => readExtxyz(text, 'bad.xyz'), 'bad.xyz', message, line);
  });
});
