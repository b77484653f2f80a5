import { describe, expect, it } from 'vitest';
import { describeParts, importedName } from '../core/formats/import-name';
import { readStructures } from '../core/formats/index';
import { cifCell, siteLoop } from './cif-text';

const cell = (block: string, a: number) => `${cifCell(a, { block })}_symmetry_space_group_name_H-M 'P 1'\n${siteLoop('Cu1 Cu 0 0 0')}`;

describe('names of imported structures', () => {
  it('is the file name for a single structure, whatever its formula', () => {
    const [s] = readStructures('copper-2019.cif', cell('Cu', 3.6));
    expect(importedName('copper-2019.cif', s, 0, 1)).toBe('copper-2019.cif');
    expect(describeParts('copper-2019.cif', [s])).toBeNull();
  });

  it('adds the data block where a CIF has several, and says how many it brought in', () => {
    const read = readStructures('two.cif', cell('Cu_300K', 3.61) + cell('Cu_10K', 3.6));
    expect(read.map((s, k) => importedName('two.cif', s, k, read.length))).toEqual(['two.cif · Cu_300K', 'two.cif · Cu_10K']);
    expect(describeParts('two.cif', read)).toBe('two.cif: 2 data blocks');
  });

  it('numbers the frames of a multi-frame XYZ', () => {
    const frame = '1\nLattice="3 0 0 0 3 0 0 0 3" Properties=species:S:1:pos:R:3 pbc="T T T"\nCu 0 0 0\n';
    const read = readStructures('traj.xyz', frame + frame + frame);
    expect(read.map((s, k) => importedName('traj.xyz', s, k, read.length))).toEqual(['traj.xyz #1', 'traj.xyz #2', 'traj.xyz #3']);
    expect(describeParts('traj.xyz', read)).toBe('traj.xyz: 3 frames');
  });
});
