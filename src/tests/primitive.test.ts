import { beforeAll, describe, expect, it } from 'vitest';
import { builtinById } from '../core/library/builtins';
import { reduceByTranslations } from '../core/primitive';
import { repeat, Structure } from '../core/structure';
import { analyzeSymmetry, SymmetryTooLarge } from '../core/symmetry';
import { initSymmetryNode } from '../node/moyo';
import { rng } from './random';

beforeAll(async () => {
  await initSymmetryNode();
});

const build = (id: string) => builtinById(id)!.build();

describe('primitive cell by pure translations', () => {
  it('finds the 8-atom cell in Si 4x4x4 and the 2-atom one in NaCl 5x5x5, with the volume per atom kept', () => {
    const si = repeat(build('si'), [4, 4, 4]);
    const r = reduceByTranslations(si)!;
    expect(r.cells * r.primitive.numSites).toBe(512);
    expect(r.primitive.numSites).toBe(2); // the fcc primitive cell of diamond
    expect(r.primitive.lattice.volume).toBeCloseTo(si.lattice.volume / r.cells, 6);
    const nacl = reduceByTranslations(repeat(build('nacl'), [5, 5, 5]))!;
    expect(nacl.primitive.numSites).toBe(2);
    expect(nacl.siteOf).toHaveLength(1000);
  });

  it('lifts the 256-site cap: space groups and Wyckoff letters of large supercells, in milliseconds', () => {
    for (const [id, n, number] of [
      ['si', 4, 227],
      ['nacl', 5, 225],
      ['mos2-bulk', 6, 194],
    ] as const) {
      const big = repeat(build(id), [n, n, n]);
      const small = analyzeSymmetry(build(id));
      const t0 = performance.now();
      const info = analyzeSymmetry(big);
      expect(performance.now() - t0).toBeLessThan(5000); // moyo alone took 7–107 s on these (bench/RESULTS.md)
      expect(info.number).toBe(number);
      expect(info.wyckoffs).toHaveLength(big.numSites);
      // Every image of a site carries that site's letter.
      expect(new Set(info.wyckoffs)).toEqual(new Set(small.wyckoffs));
    }
  });

  it('tolerates noise below the tolerance and refuses a supercell with a defect', () => {
    const r = rng(3);
    const si = repeat(build('si'), [4, 4, 4]);
    const noisy = si.with({ frac: si.frac.map((f) => f.map((x) => x + (r() - 0.5) * 1e-5) as [number, number, number]) });
    expect(analyzeSymmetry(noisy).number).toBe(227);
    const vacancy = new Structure({ lattice: si.lattice, species: si.species.slice(1), frac: si.frac.slice(1) });
    expect(reduceByTranslations(vacancy)).toBeNull();
    expect(() => analyzeSymmetry(vacancy)).toThrow(SymmetryTooLarge);
  });
});
