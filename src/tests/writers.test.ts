/**
 * Writing what was read (issue 26): unique data_ names in a multi-structure
 * CIF, labels kept, partial occupancy carried by extended XYZ and refused by
 * POSCAR (which would stack whole atoms on one position).
 */
import { describe, expect, it } from 'vitest';
import { readStructures, writeStructures, WriteError } from '../core/formats/index';
import { Structure } from '../core/structure';

const mixed = new Structure({
  lattice: [
    [4, 0, 0],
    [0, 4, 0],
    [0, 0, 4],
  ],
  species: ['Nb', 'Zr', 'O'],
  frac: [
    [0, 0, 0],
    [0, 0, 0],
    [0.5, 0.5, 0.5],
  ],
  occupancy: [0.8, 0.2, 1],
  title: 'mixed',
});
const plain = (title: string) =>
  new Structure({
    lattice: [
      [3, 0, 0],
      [0, 3, 0],
      [0, 0, 3],
    ],
    species: ['Cu'],
    frac: [[0, 0, 0]],
    title,
  });

describe('writers', () => {
  it('gives every block of a multi-structure CIF a unique data_ name', () => {
    const text = writeStructures([plain('Cu'), plain('Cu'), plain('cu')], 'cif');
    expect(text.match(/^data_\S+/gm)).toEqual(['data_Cu', 'data_Cu_2', 'data_cu_3']);
    expect(readStructures('three.cif', text).map((s) => s.properties.cifBlock)).toEqual(['Cu', 'Cu_2', 'cu_3']);
  });

  it('keeps labels through a CIF round trip', () => {
    const s = new Structure({
      lattice: [
        [3, 0, 0],
        [0, 3, 0],
        [0, 0, 3],
      ],
      species: ['Cu', 'Cu'],
      frac: [
        [0, 0, 0],
        [0.5, 0.5, 0.5],
      ],
      labels: ['Cu_a', 'Cu_b'],
    });
    expect(readStructures('l.cif', writeStructures([s], 'cif'))[0].labels).toEqual(['Cu_a', 'Cu_b']);
  });

  it('carries partial occupancy through extended XYZ as a per-atom column', () => {
    const text = writeStructures([mixed], 'xyz');
    expect(text).toContain('Properties=species:S:1:pos:R:3:occupancy:R:1');
    const back = readStructures('m.xyz', text)[0];
    expect(back.species).toEqual(['Nb', 'Zr', 'O']);
    expect(back.occupancy).toEqual([0.8, 0.2, 1]);
  });

  it('refuses to write partial occupancy to a POSCAR, saying why', () => {
    expect(() => writeStructures([mixed], 'poscar')).toThrow(WriteError);
    expect(() => writeStructures([mixed], 'poscar')).toThrow(/partially occupied sites, which a POSCAR cannot hold/);
  });
});
