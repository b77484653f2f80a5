import { describe, expect, it } from 'vitest';
import { BUILTINS, builtinById } from '../core/library/builtins';
import { type Vec3, norm } from '../core/math3';
import type { Structure } from '../core/structure';

/**
 * Shortest nonzero lattice translation along the periodic axes: the distance
 * from an atom to its own periodic image, which pair distances miss (and
 * which is the nearest-neighbour distance of a one-atom cell). Searching
 * -2..2 is ample for the near-orthogonal cells of the library.
 */
function shortestTranslation(s: Structure): number {
  let best = Infinity;
  const r = s.pbc.map((p) => (p ? 2 : 0));
  for (let i = -r[0]; i <= r[0]; i++) {
    for (let j = -r[1]; j <= r[1]; j++) {
      for (let k = -r[2]; k <= r[2]; k++) {
        if (i === 0 && j === 0 && k === 0) continue;
        best = Math.min(best, norm(s.lattice.fracToCart([i, j, k])));
      }
    }
  }
  return best;
}

/**
 * Minimum distance between an atom of species A and one of species B (any
 * species when omitted), over all minimum-image pairs and, where A = B is
 * allowed, each atom's own periodic images.
 */
function minDistance(s: Structure, A?: string, B?: string): number {
  const matches = (i: number, j: number): boolean => {
    const [si, sj] = [s.species[i], s.species[j]];
    if (A === undefined) return true;
    const b = B ?? A;
    return (si === A && sj === b) || (si === b && sj === A);
  };
  let best = Infinity;
  for (let i = 0; i < s.numSites; i++) {
    for (let j = i + 1; j < s.numSites; j++) {
      if (matches(i, j)) best = Math.min(best, s.distance(i, j));
    }
  }
  if (A === undefined || A === (B ?? A)) {
    if (s.species.some((x) => A === undefined || x === A)) best = Math.min(best, shortestTranslation(s));
  }
  return best;
}

/** Vacuum gap along c of a slab: height of the cell minus the extent of the atoms along its normal. */
function vacuumGap(s: Structure): number {
  const [a, b] = s.lattice.matrix;
  const nRaw: Vec3 = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
  const len = norm(nRaw);
  const n: Vec3 = [nRaw[0] / len, nRaw[1] / len, nRaw[2] / len];
  const heights = s.cart.map((r) => r[0] * n[0] + r[1] * n[1] + r[2] * n[2]);
  return s.lattice.heights[2] - (Math.max(...heights) - Math.min(...heights));
}

/**
 * Expected shortest interatomic distance of every entry (Å), from the
 * literature bond lengths, plus the site count. Every entry must appear
 * here, so a new built-in cannot slip in untested.
 */
const EXPECTED: Record<string, { shortest: number; sites: number }> = {
  'mos2-monolayer': { shortest: 2.41, sites: 3 }, // Mo–S 2.41–2.42
  'ws2-monolayer': { shortest: 2.405, sites: 3 }, // W–S
  'mose2-monolayer': { shortest: 2.527, sites: 3 }, // Mo–Se 2.53
  'wse2-monolayer': { shortest: 2.53, sites: 3 }, // W–Se 2.526 (Schutte 1987)
  'hbn-monolayer': { shortest: 1.446, sites: 2 }, // B–N
  graphene: { shortest: 1.42, sites: 2 }, // C–C
  'gase-monolayer': { shortest: 2.39, sites: 4 }, // Ga–Ga
  'inse-monolayer': { shortest: 2.65, sites: 4 }, // In–Se
  phosphorene: { shortest: 2.224, sites: 4 }, // P–P (2.224 and 2.244)
  si: { shortest: 2.352, sites: 8 },
  'c-diamond': { shortest: 1.545, sites: 8 },
  cu: { shortest: 2.556, sites: 4 },
  al: { shortest: 2.863, sites: 4 },
  au: { shortest: 2.884, sites: 4 },
  fe: { shortest: 2.482, sites: 2 },
  w: { shortest: 2.741, sites: 2 },
  mg: { shortest: 3.197, sites: 2 }, // out-of-plane neighbour, slightly shorter than a
  nacl: { shortest: 2.82, sites: 8 },
  mgo: { shortest: 2.106, sites: 8 },
  cscl: { shortest: 3.571, sites: 2 },
  caf2: { shortest: 2.366, sites: 12 },
  gaas: { shortest: 2.448, sites: 8 },
  zno: { shortest: 1.974, sites: 4 }, // three basal Zn–O; the axial one is 1.99
  'tio2-rutile': { shortest: 1.95, sites: 6 }, // four equatorial Ti–O; the apical two are 1.98
  srtio3: { shortest: 1.953, sites: 5 }, // Ti–O = a/2
  'mos2-bulk': { shortest: 2.417, sites: 6 },
  graphite: { shortest: 1.423, sites: 4 },
};

/** Species-resolved nearest-neighbour distances (Å) that students look up. */
const BONDS: [id: string, A: string, B: string, d: number][] = [
  ['si', 'Si', 'Si', 2.352],
  ['cu', 'Cu', 'Cu', 2.556],
  ['fe', 'Fe', 'Fe', 2.482],
  ['nacl', 'Na', 'Cl', 2.82],
  ['mos2-monolayer', 'Mo', 'S', 2.41],
  ['mos2-bulk', 'Mo', 'S', 2.41],
  ['wse2-monolayer', 'W', 'Se', 2.54],
  ['hbn-monolayer', 'B', 'N', 1.446],
  ['graphene', 'C', 'C', 1.42],
  ['gaas', 'Ga', 'As', 2.448],
  ['tio2-rutile', 'Ti', 'O', 1.95],
  ['srtio3', 'Ti', 'O', 1.953],
  ['srtio3', 'Sr', 'O', 2.761],
  ['phosphorene', 'P', 'P', 2.224],
  ['gase-monolayer', 'Ga', 'Se', 2.46],
  ['gase-monolayer', 'Ga', 'Ga', 2.39],
  ['inse-monolayer', 'In', 'In', 2.79],
  ['zno', 'Zn', 'O', 1.974],
  ['caf2', 'Ca', 'F', 2.366],
  ['graphite', 'C', 'C', 1.423],
];

describe('built-in library', () => {
  it('has unique ids, each found by builtinById', () => {
    const ids = BUILTINS.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const e of BUILTINS) expect(builtinById(e.id)).toBe(e);
    expect(builtinById('no-such-structure')).toBeUndefined();
  });

  it('covers every entry in the expectations table', () => {
    expect(BUILTINS.map((e) => e.id).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(BUILTINS.map((e) => [e.id, e] as const))('%s builds with provenance', (id, e) => {
    const s = e.build();
    expect(s.numSites).toBe(EXPECTED[id].sites);
    expect(s.title).toBe(e.name);
    expect(s.properties).toEqual({ builtin: id, reference: e.reference });
    expect(e.reference.length).toBeGreaterThan(10);
    expect(e.description.length).toBeGreaterThan(10);
    // Fractional coordinates are wrapped into the cell along periodic axes.
    s.frac.forEach((f) => f.forEach((x, k) => s.pbc[k] && expect(x >= 0 && x < 1).toBe(true)));
  });

  it.each(BUILTINS.map((e) => [e.id, e] as const))('%s has a physical shortest distance', (id, e) => {
    const s = e.build();
    const d = minDistance(s);
    // No two atoms unphysically close ...
    expect(d).toBeGreaterThanOrEqual(0.8 * EXPECTED[id].shortest);
    // ... and the nearest neighbours sit at the literature bond length.
    expect(Math.abs(d - EXPECTED[id].shortest)).toBeLessThan(0.02);
  });

  it.each(BONDS)('%s: %s–%s ≈ %f Å', (id, A, B, d) => {
    const e = builtinById(id);
    expect(e).toBeDefined();
    expect(Math.abs(minDistance(e!.build(), A, B) - d)).toBeLessThan(0.02);
  });

  it('monolayers are slabs with at least 15 Å of vacuum, centred in the cell', () => {
    const monolayers = BUILTINS.filter((e) => e.category === 'monolayer');
    expect(monolayers.length).toBe(9);
    for (const e of monolayers) {
      const s = e.build();
      expect(s.pbc).toEqual([true, true, false]);
      expect(vacuumGap(s)).toBeGreaterThanOrEqual(15);
      const z = s.frac.map((f) => f[2]);
      expect((Math.max(...z) + Math.min(...z)) / 2).toBeCloseTo(0.5, 10);
    }
  });

  it('bulk entries are periodic in all three directions', () => {
    for (const e of BUILTINS.filter((x) => x.category === 'bulk')) {
      expect(e.build().pbc).toEqual([true, true, true]);
    }
  });

  it('TMD layer thicknesses match the bulk structures', () => {
    // Chalcogen–chalcogen vertical separation within one layer.
    const xx = (id: string): number => {
      const s = builtinById(id)!.build();
      const z = s.cart.filter((_, i) => s.species[i] !== s.species[0]).map((r) => r[2]);
      return Math.max(...z) - Math.min(...z);
    };
    expect(xx('mos2-monolayer')).toBeCloseTo(3.17, 2);
    expect(xx('wse2-monolayer')).toBeCloseTo(3.34, 2);
  });

  it('composition is stoichiometric', () => {
    const count = (s: Structure, el: string) => s.species.filter((x) => x === el).length;
    const nacl = builtinById('nacl')!.build();
    expect([count(nacl, 'Na'), count(nacl, 'Cl')]).toEqual([4, 4]);
    const caf2 = builtinById('caf2')!.build();
    expect([count(caf2, 'Ca'), count(caf2, 'F')]).toEqual([4, 8]);
    const rutile = builtinById('tio2-rutile')!.build();
    expect([count(rutile, 'Ti'), count(rutile, 'O')]).toEqual([2, 4]);
    const sto = builtinById('srtio3')!.build();
    expect([count(sto, 'Sr'), count(sto, 'Ti'), count(sto, 'O')]).toEqual([1, 1, 3]);
  });
});
