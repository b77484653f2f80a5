import { beforeAll, describe, expect, it } from 'vitest';
import { builtinById } from '../core/library/builtins';
import { analyzeSymmetry, standardCells } from '../core/symmetry';
import { repeat } from '../core/structure';
import { initSymmetryNode } from '../node/moyo';

beforeAll(async () => {
  await initSymmetryNode();
});

const build = (id: string) => builtinById(id)!.build();

describe('standard conventional and primitive cells (moyo)', () => {
  it('Si: 8-atom cubic cell, 2-atom primitive of a quarter the volume, same space group', () => {
    const { conventional, primitive } = standardCells(build('si'));
    expect(conventional.numSites).toBe(8);
    expect(primitive.numSites).toBe(2);
    expect(conventional.lattice.abc[0]).toBeCloseTo(5.431, 3);
    expect(primitive.lattice.volume).toBeCloseTo(conventional.lattice.volume / 4, 6);
    expect(analyzeSymmetry(primitive).number).toBe(227);
    expect(analyzeSymmetry(conventional).number).toBe(227);
    expect(primitive.title).toContain('primitive cell');
  });

  it('a supercell goes back to the same primitive cell (NaCl 2x2x2: 64 atoms to 2)', () => {
    const big = repeat(build('nacl'), [2, 2, 2]);
    const { primitive, conventional } = standardCells(big);
    expect(primitive.numSites).toBe(2);
    expect([...primitive.species].sort()).toEqual(['Cl', 'Na']);
    expect(conventional.numSites).toBe(8);
    // Density is a property of the crystal, not of the cell chosen.
    expect(primitive.density!).toBeCloseTo(big.density!, 6);
  });

  it('hexagonal crystals keep their cell (ZnO: conventional = primitive, 4 atoms)', () => {
    const { conventional, primitive } = standardCells(build('zno'));
    expect(conventional.numSites).toBe(4);
    expect(primitive.numSites).toBe(4);
  });

  it('refuses what has no standard cell here', () => {
    expect(() => standardCells(build('mos2-monolayer'))).toThrow(/periodic in all three/);
  });
});
