import { describe, expect, it } from 'vitest';
import { Lattice } from '../core/lattice';
import type { Mat3, Vec3 } from '../core/math3';
import { makeSupercell, minimumImageFrac, repeat, Structure, wrapFrac } from '../core/structure';

/** Deterministic PRNG (mulberry32) so random tests are reproducible. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Reference minimum-image distance: brute force over a wide block of images. */
function bruteDistance(l: Lattice, fi: Vec3, fj: Vec3, n = 6): number {
  let best = Infinity;
  for (let a = -n; a <= n; a++)
    for (let b = -n; b <= n; b++)
      for (let c = -n; c <= n; c++) {
        const r = l.fracToCart([fj[0] - fi[0] + a, fj[1] - fi[1] + b, fj[2] - fi[2] + c]);
        best = Math.min(best, Math.hypot(...r));
      }
  return best;
}

describe('Lattice', () => {
  it('builds from parameters and reports them back', () => {
    const l = Lattice.fromParameters(3, 4, 5, 80, 95, 110);
    const [a, b, c, al, be, ga] = l.parameters;
    expect([a, b, c]).toEqual([expect.closeTo(3, 10), expect.closeTo(4, 10), expect.closeTo(5, 10)]);
    expect(al).toBeCloseTo(80, 10);
    expect(be).toBeCloseTo(95, 10);
    expect(ga).toBeCloseTo(110, 10);
  });

  it('computes volume and the reciprocal lattice (a*·a = 1)', () => {
    const l = Lattice.hexagonal(3.16, 20);
    expect(l.volume).toBeCloseTo((Math.sqrt(3) / 2) * 3.16 * 3.16 * 20, 8);
    const r = l.reciprocal.matrix;
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        const d = r[i][0] * l.matrix[j][0] + r[i][1] * l.matrix[j][1] + r[i][2] * l.matrix[j][2];
        expect(d).toBeCloseTo(i === j ? 1 : 0, 10);
      }
  });

  it('converts fractional <-> Cartesian both ways', () => {
    const l = Lattice.fromParameters(5, 6, 7, 70, 80, 100);
    const f: Vec3 = [0.1, -0.7, 1.3];
    const back = l.cartToFrac(l.fracToCart(f));
    back.forEach((x, k) => expect(x).toBeCloseTo(f[k], 12));
  });

  it('rejects impossible cells', () => {
    expect(() => Lattice.fromParameters(1, 1, 1, 10, 10, 100)).toThrow(/do not form a cell/);
    expect(() => Lattice.fromParameters(-1, 1, 1, 90, 90, 90)).toThrow(/positive/);
    expect(
      () =>
        new Lattice([
          [1, 0, 0],
          [2, 0, 0],
          [0, 0, 1],
        ]),
    ).toThrow(/coplanar/);
  });
});

describe('Structure', () => {
  it('wraps into [0, 1) only along periodic axes', () => {
    expect(wrapFrac([1.25, -0.25, 1.5], [true, true, false])).toEqual([0.25, 0.75, 1.5]);
    expect(wrapFrac([-1e-15, 0, 0])[0]).toBe(0);
  });

  it('finds minimum-image distances in highly skewed cells (against brute force)', () => {
    const rand = rng(42);
    for (let trial = 0; trial < 200; trial++) {
      // Random vectors give arbitrarily skewed (and left-handed) cells; skip near-flat ones.
      const m = [0, 1, 2].map(() => [0, 1, 2].map(() => rand() * 8 - 4)) as Mat3;
      const l = new Lattice(m);
      if (Math.min(...l.heights) < 0.8) continue;
      const fi: Vec3 = [rand() * 3 - 1, rand(), rand()];
      const fj: Vec3 = [rand(), rand() * 3 - 1, rand()];
      const ref = bruteDistance(l, fi, fj);
      expect(minimumImageFrac(l, [true, true, true], fi, fj).distance).toBeCloseTo(ref, 9);
    }
  });

  it('handles an extreme sheared cell where naive rounding is wrong', () => {
    // b nearly parallel to a: the naive image is far from the nearest one.
    const l = new Lattice([
      [1, 0, 0],
      [10.3, 0.5, 0],
      [0, 0, 1],
    ]);
    const fi: Vec3 = [0, 0, 0];
    const fj: Vec3 = [0.3, 0.45, 0];
    const naive = Math.hypot(...l.fracToCart([0.3, 0.45, 0]));
    const ref = bruteDistance(l, fi, fj, 15);
    expect(ref).toBeLessThan(naive);
    expect(minimumImageFrac(l, [true, true, true], fi, fj).distance).toBeCloseTo(ref, 9);
  });

  it('does not use images along non-periodic axes', () => {
    const l = Lattice.fromParameters(3, 3, 10, 90, 90, 90);
    const d = minimumImageFrac(l, [true, true, false], [0, 0, 0.05], [0, 0, 0.95]).distance;
    expect(d).toBeCloseTo(9, 10);
    expect(minimumImageFrac(l, [true, true, true], [0, 0, 0.05], [0, 0, 0.95]).distance).toBeCloseTo(1, 10);
  });

  it('builds from Cartesian coordinates', () => {
    const s = Structure.fromCartesian({ lattice: Lattice.cubic(4), species: ['Cu'], cart: [[2, 2, 2]] });
    expect(s.frac[0]).toEqual([0.5, 0.5, 0.5]);
  });

  it('refuses mismatched inputs', () => {
    expect(() => new Structure({ lattice: Lattice.cubic(3), species: ['Cu', 'Cu'], frac: [[0, 0, 0]] })).toThrow(/2 species but 1/);
    expect(() => new Structure({ lattice: Lattice.cubic(3), species: ['Cu'], frac: [[0, NaN, 0]] })).toThrow(/non-finite/);
  });
});

describe('supercells', () => {
  const nacl = new Structure({
    lattice: Lattice.fromParameters(3.988, 3.988, 3.988, 60, 60, 60),
    species: ['Na', 'Cl'],
    frac: [
      [0, 0, 0],
      [0.5, 0.5, 0.5],
    ],
  });

  it('diagonal repeat multiplies sites and volume', () => {
    const s = repeat(nacl, [2, 3, 1]);
    expect(s.numSites).toBe(12);
    expect(s.lattice.volume).toBeCloseTo(6 * nacl.lattice.volume, 8);
  });

  it('primitive fcc -> conventional cube by a non-diagonal matrix', () => {
    const m: Mat3 = [
      [-1, 1, 1],
      [1, -1, 1],
      [1, 1, -1],
    ];
    const s = makeSupercell(nacl, m);
    expect(s.numSites).toBe(8);
    const [a, b, c] = s.lattice.abc;
    expect(a).toBeCloseTo(3.988 * Math.SQRT2, 10);
    expect(b).toBeCloseTo(a, 8);
    expect(c).toBeCloseTo(a, 8);
    s.lattice.angles.forEach((x) => expect(x).toBeCloseTo(90, 8));
    // No duplicate sites, nearest Na–Cl unchanged.
    for (let i = 0; i < s.numSites; i++) for (let j = i + 1; j < s.numSites; j++) expect(s.distance(i, j)).toBeGreaterThan(2.8);
    const naCl = Math.min(...s.species.flatMap((x, i) => (x === 'Na' ? s.species.map((y, j) => (y === 'Cl' ? s.distance(i, j) : Infinity)) : [])));
    expect(naCl).toBeCloseTo(nacl.distance(0, 1), 8);
  });

  it('keeps occupancy and labels with their sites', () => {
    const s = repeat(nacl.with({ occupancy: [0.5, 1], labels: ['Na1', 'Cl1'] }), [2, 1, 1]);
    expect(s.occupancy).toEqual([0.5, 0.5, 1, 1]);
    expect(s.labels).toEqual(['Na1', 'Na1', 'Cl1', 'Cl1']);
  });

  it('refuses singular, fractional, or slab-breaking matrices', () => {
    expect(() =>
      makeSupercell(nacl, [
        [1, 0, 0],
        [2, 0, 0],
        [0, 0, 1],
      ]),
    ).toThrow(/singular/);
    expect(() =>
      makeSupercell(nacl, [
        [1.5, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ]),
    ).toThrow(/integer/);
    const slab = nacl.with({ pbc: [true, true, false] });
    expect(() => repeat(slab, [1, 1, 2])).toThrow(/non-periodic/);
    expect(repeat(slab, [2, 2, 1]).numSites).toBe(8);
  });

  it('refuses absurd sizes with a clear message', () => {
    expect(() => repeat(nacl, [1000, 1000, 10])).toThrow(/limit/);
  });
});
