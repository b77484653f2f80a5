import { describe, expect, it } from 'vitest';
import { allNeighbors, bondedNeighbors, findBonds, neighborsOf } from '../core/bonds';
import { Structure } from '../core/structure';
import { adversarialCases } from './neighbor-cases';
import { builtinById } from '../core/library/builtins';
import { buildScene } from '../core/scene';
import { repeat } from '../core/structure';

const build = (id: string) => builtinById(id)!.build();

describe('allNeighbors (the cell list behind findBonds)', () => {
  // findBonds used neighborsOf per site (quadratic); the cell list must give exactly the same neighbours.
  for (const { name, input } of adversarialCases(7)) {
    it(`matches neighborsOf site by site: ${name}`, () => {
      const s = new Structure({ lattice: input.lattice, pbc: input.pbc, species: input.frac.map(() => 'C'), frac: input.frac });
      const all = allNeighbors(s, input.cutoff);
      // The reference is quadratic: every site of the small cases, an even sample of ~60 of the large ones.
      const step = Math.ceil(s.numSites / 60);
      for (let i = 0; i < s.numSites; i += step) {
        const want = neighborsOf(s, i, input.cutoff);
        const got = all[i];
        expect(got.map((n) => `${n.j}:${n.image}`)).toEqual(want.map((n) => `${n.j}:${n.image}`));
        got.forEach((n, k) => expect(n.distance).toBeCloseTo(want[k].distance, 12));
      }
    });
  }
});

describe('bonds', () => {
  it('gives every Si four bonds of 2.35 Å, across cell boundaries', () => {
    const si = build('si');
    const bonds = findBonds(si);
    expect(bonds).toHaveLength(16); // 8 atoms x 4 bonds / 2
    bonds.forEach((b) => expect(b.distance).toBeCloseTo(2.3517, 3));
    expect(bonds.some((b) => b.image.some((x) => x !== 0))).toBe(true);
  });

  it('bonds Mo to six S and draws no Mo–Mo or S–S bonds in MoS2', () => {
    const mos2 = build('mos2-monolayer');
    const bonds = findBonds(mos2);
    expect(bonds).toHaveLength(6);
    bonds.forEach((b) => expect(new Set([mos2.species[b.i], mos2.species[b.j]])).toEqual(new Set(['Mo', 'S'])));
  });

  it('keeps the Ga–Ga bond of GaSe', () => {
    const gase = build('gase-monolayer');
    const pairs = findBonds(gase).map((b) => [gase.species[b.i], gase.species[b.j]].sort().join('-'));
    expect(pairs).toContain('Ga-Ga');
  });

  it('bonds a one-atom metal cell to its own images (fcc Cu has 12 neighbours)', () => {
    const cu = build('cu');
    const bonds = findBonds(cu);
    expect(bonds).toHaveLength(24); // 4 atoms x 12 / 2
  });

  it('finds neighbours in a cell smaller than the cutoff', () => {
    const cu = build('cu');
    const n = neighborsOf(cu, 0, 4.0);
    expect(n.filter((x) => Math.abs(x.distance - 3.615 / Math.SQRT2) < 1e-6)).toHaveLength(12);
    expect(n.filter((x) => Math.abs(x.distance - 3.615) < 1e-6)).toHaveLength(6);
  });
});

describe('scene', () => {
  it('replicates cells and adds ghosts where bonds cross the boundary', () => {
    const si = build('si');
    const bonds = findBonds(si);
    const one = buildScene(si, bonds, [1, 1, 1]);
    expect(one.atoms.filter((a) => !a.ghost)).toHaveLength(8);
    // Every real atom shows all four of its bonds, to real atoms or ghosts.
    const degree = new Array(one.atoms.length).fill(0);
    for (const [i, j] of one.bonds) {
      degree[i]++;
      degree[j]++;
    }
    one.atoms.forEach((a, k) => !a.ghost && expect(degree[k]).toBe(4));
    // Bond lengths in the scene are real distances.
    for (const [i, j] of one.bonds) {
      const [p, q] = [one.atoms[i].position, one.atoms[j].position];
      expect(Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2])).toBeCloseTo(2.3517, 3);
    }
    expect(one.cellEdges).toHaveLength(12);

    const big = buildScene(si, bonds, [3, 2, 1], false);
    expect(big.atoms).toHaveLength(48);
    expect(big.atoms.every((a) => !a.ghost)).toBe(true);
  });

  it('handles unwrapped input coordinates', () => {
    const si = build('si');
    const shifted = si.with({ frac: si.frac.map((f) => [f[0] + 1, f[1] - 2, f[2]]) });
    const scene = buildScene(shifted, findBonds(shifted), [1, 1, 1]);
    for (const [i, j] of scene.bonds) {
      const [p, q] = [scene.atoms[i].position, scene.atoms[j].position];
      expect(Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2])).toBeCloseTo(2.3517, 3);
    }
  });

  it('does not repeat along a slab normal', () => {
    const mos2 = build('mos2-monolayer');
    const scene = buildScene(mos2, findBonds(mos2), [2, 2, 5]);
    expect(scene.atoms.filter((a) => !a.ghost)).toHaveLength(12);
  });

  it('builds a 10^4-atom view (6x6x6 of a 48-atom cell)', () => {
    const mos2 = repeat(build('mos2-bulk'), [2, 2, 2]);
    const scene = buildScene(mos2, findBonds(mos2), [6, 6, 6], true);
    expect(scene.atoms.filter((a) => !a.ghost)).toHaveLength(48 * 216);
  });
});

describe('bonds a chemist accepts (issue 30): cation–anion bonds, bridged metal contacts dropped, metal shells', () => {
  const pairsOf = (id: string) => {
    const s = builtinById(id)!.build();
    const bonds = findBonds(s);
    return { s, bonds, pairs: [...new Set(bonds.map((b) => [s.species[b.i], s.species[b.j]].sort().join('-')))].sort() };
  };
  /** Bonded neighbours of each site of an element, as a sorted unique list. */
  const coordination = (id: string, el: string) => {
    const { s, bonds } = pairsOf(id);
    return [...new Set(s.species.flatMap((x, i) => (x === el ? [bondedNeighbors(s, i, bonds).length] : [])))];
  };

  it.each([
    ['nacl', ['Cl-Na'], 'Na', 6],
    ['cscl', ['Cl-Cs'], 'Cs', 8],
    ['srtio3', ['O-Sr', 'O-Ti'], 'Ti', 6],
    ['tio2-rutile', ['O-Ti'], 'Ti', 6],
    ['mos2-monolayer', ['Mo-S'], 'Mo', 6],
    ['ws2-monolayer', ['S-W'], 'W', 6],
    ['mos2-bulk', ['Mo-S'], 'Mo', 6],
    ['si', ['Si-Si'], 'Si', 4],
    ['cu', ['Cu-Cu'], 'Cu', 12],
    ['al', ['Al-Al'], 'Al', 12],
    ['fe', ['Fe-Fe'], 'Fe', 8],
  ] as const)('%s: bonds %j, %s has %i neighbours', (id, pairs, el, n) => {
    expect(pairsOf(id).pairs).toEqual(pairs);
    expect(coordination(id, el)).toEqual([n]);
  });

  it('keeps the unbridged Ga–Ga and In–In bonds of GaSe and InSe', () => {
    expect(pairsOf('gase-monolayer').pairs).toEqual(['Ga-Ga', 'Ga-Se']);
    expect(pairsOf('inse-monolayer').pairs).toEqual(['In-In', 'In-Se']);
  });

  it('treats isostructural crystals alike (MoS2, WS2, MoSe2, WSe2 monolayers)', () => {
    const counts = ['mos2-monolayer', 'ws2-monolayer', 'mose2-monolayer', 'wse2-monolayer'].map((id) => pairsOf(id).bonds.length);
    expect(new Set(counts).size).toBe(1);
  });
});

describe('bond rules set by the user', () => {
  it('adds the Mo–Mo contacts of MoS2, removes Mo–S, and leaves other pairs to the automatic rule', async () => {
    const { pairKey } = await import('../core/bonds');
    const mos2 = build('mos2-monolayer');
    const pairs = (bonds: ReturnType<typeof findBonds>) => new Set(bonds.map((b) => pairKey(mos2.species[b.i], mos2.species[b.j])));
    expect(pairs(findBonds(mos2))).toEqual(new Set(['Mo-S']));
    const withMoMo = findBonds(mos2, { 'Mo-Mo': 3.3 });
    expect(pairs(withMoMo)).toEqual(new Set(['Mo-S', 'Mo-Mo']));
    // a = 3.16 Å: each Mo has six Mo neighbours in the plane, three bonds per Mo counted once.
    expect(withMoMo.filter((b) => mos2.species[b.i] === 'Mo' && mos2.species[b.j] === 'Mo')).toHaveLength(3);
    expect(findBonds(mos2, { 'Mo-S': null })).toHaveLength(0);
    // A maximum below the Mo–S distance (2.41 Å) removes them too; above keeps them.
    expect(findBonds(mos2, { 'Mo-S': 2.3 })).toHaveLength(0);
    expect(findBonds(mos2, { 'Mo-S': 2.5 })).toHaveLength(6);
    expect(pairKey('S', 'Mo')).toBe('Mo-S');
  });

  it('caches per rule set: a new rule gives new bonds, the same rule the same array', async () => {
    const { bondsOf } = await import('../core/bonds');
    const s = build('mos2-monolayer');
    const a = bondsOf(s);
    expect(bondsOf(s)).toBe(a);
    const b = bondsOf(s, { 'Mo-Mo': 3.3 });
    expect(b).not.toBe(a);
    expect(b.length).toBe(a.length + 3);
    expect(bondsOf(s, { 'Mo-Mo': 3.3 })).toBe(b);
  });
});
