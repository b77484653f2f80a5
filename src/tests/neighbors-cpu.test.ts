/**
 * The cell-list CPU neighbour list against a naive O(N² × images) search
 * written here from the definition, on fixed-seed random inputs of every
 * awkward family: triclinic cells, cells smaller than the cutoff, nearly
 * flat angles, vacuum slabs, molecules and unwrapped coordinates.
 */
import { describe, expect, it } from 'vitest';
import { Lattice } from '../core/lattice';
import type { Mat3, Vec3 } from '../core/math3';
import { buildCellGrid } from '../core/neighbors/cells';
import { INSERTION_SORT_MAX, neighborListCpu } from '../core/neighbors/cpu';
import { reducePeriodicBasis } from '../core/neighbors/reduce';
import { NeighborListError, type EdgeList, type NeighborInput } from '../core/neighbors/types';
import { adversarialCases, crossUnit, type Pbc, randomCell, randomFrac, rng } from './neighbor-cases';

/** Naive reference: every pair, every image a sphere of radius rc can reach, in float64. */
function naive(input: NeighborInput): Map<string, number> {
  const L = new Lattice(input.lattice);
  const h = L.heights;
  const M = L.matrix;
  const f = input.frac as Vec3[];
  const rc = input.cutoff;
  const out = new Map<string, number>();
  const range = (k: number, d: number): [number, number] =>
    // |d_k + n_k| · h_k ≤ |r| < rc is necessary; the 1e-9 absorbs rounding.
    input.pbc[k] ? [Math.ceil(-rc / h[k] - d - 1e-9), Math.floor(rc / h[k] - d + 1e-9)] : [0, 0];
  for (let i = 0; i < f.length; i++) {
    for (let j = 0; j < f.length; j++) {
      const d = [f[j][0] - f[i][0], f[j][1] - f[i][1], f[j][2] - f[i][2]];
      const [l0, h0] = range(0, d[0]);
      const [l1, h1] = range(1, d[1]);
      const [l2, h2] = range(2, d[2]);
      for (let n0 = l0; n0 <= h0; n0++) {
        for (let n1 = l1; n1 <= h1; n1++) {
          for (let n2 = l2; n2 <= h2; n2++) {
            if (i === j && n0 === 0 && n1 === 0 && n2 === 0) continue;
            const g = [d[0] + n0, d[1] + n1, d[2] + n2];
            let s = 0;
            for (let c = 0; c < 3; c++) {
              const x = g[0] * M[0][c] + g[1] * M[1][c] + g[2] * M[2][c];
              s += x * x;
            }
            const dist = Math.sqrt(s);
            if (dist > 0 && dist < rc) out.set(`${i},${j},${n0},${n1},${n2}`, dist);
          }
        }
      }
    }
  }
  return out;
}

/** Exact distance of an edge key from the original positions (float64). */
function keyDistance(input: NeighborInput, key: string): number {
  const [i, j, n0, n1, n2] = key.split(',').map(Number);
  const f = input.frac as Vec3[];
  const g = [f[j][0] - f[i][0] + n0, f[j][1] - f[i][1] + n1, f[j][2] - f[i][2] + n2];
  const M = input.lattice;
  let s = 0;
  for (let c = 0; c < 3; c++) s += (g[0] * M[0][c] + g[1] * M[1][c] + g[2] * M[2][c]) ** 2;
  return Math.sqrt(s);
}

const TOL = 1e-5;

/**
 * The plain cell-list walk, as the GPU kernels do it: every atom visits its
 * whole stencil, keeps the hits and sorts them by (dst, image). The CPU
 * backend visits each pair once and mirrors it; its output must be this
 * one bit for bit.
 */
function fullStencilWalk(input: NeighborInput): EdgeList {
  const g = buildCellGrid(input);
  const [[a0, a1, a2], [b0, b1, b2], [c0, c1, c2]] = g.lattice.matrix;
  const T = g.toInput;
  const rc2 = g.cutoff * g.cutoff;
  const [n0, n1, n2] = g.bins;
  const edges: { i: number; j: number; img: number[]; v: number[]; d: number }[] = [];
  for (let i = 0; i < g.n; i++) {
    const p = [Math.floor(g.binOf[i] / (n1 * n2)), Math.floor(g.binOf[i] / n2) % n1, g.binOf[i] % n2];
    const hits: (typeof edges)[number][] = [];
    const axis = (k: number, d: number): [number, number] | null => {
      const u = p[k] + d;
      if (!g.periodic[k]) return u < 0 || u >= g.bins[k] ? null : [u, 0];
      const im = Math.floor(u / g.bins[k]);
      return [u - im * g.bins[k], im];
    };
    for (let d0 = -g.reach[0]; d0 <= g.reach[0]; d0++) {
      for (let d1 = -g.reach[1]; d1 <= g.reach[1]; d1++) {
        for (let d2 = -g.reach[2]; d2 <= g.reach[2]; d2++) {
          const u = [axis(0, d0), axis(1, d1), axis(2, d2)];
          if (u.some((x) => x === null)) continue;
          const [[k0, i0], [k1, i1], [k2, i2]] = u as [number, number][];
          const cell = (k0 * n1 + k1) * n2 + k2;
          for (let s = g.cellStart[cell]; s < g.cellStart[cell + 1]; s++) {
            const j = g.order[s];
            if (j === i && i0 === 0 && i1 === 0 && i2 === 0) continue;
            const f0 = g.wrapped[3 * j] - g.wrapped[3 * i] + i0;
            const f1 = g.wrapped[3 * j + 1] - g.wrapped[3 * i + 1] + i1;
            const f2 = g.wrapped[3 * j + 2] - g.wrapped[3 * i + 2] + i2;
            const v = [f0 * a0 + f1 * b0 + f2 * c0, f0 * a1 + f1 * b1 + f2 * c1, f0 * a2 + f1 * b2 + f2 * c2];
            const d2sq = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
            if (!(d2sq < rc2 && d2sq > 0)) continue;
            const m = [i0, i1, i2].map((x, k) => x + g.shift[3 * i + k] - g.shift[3 * j + k]);
            const img = [0, 1, 2].map((c) => m[0] * T[0][c] + m[1] * T[1][c] + m[2] * T[2][c]);
            hits.push({ i, j, img, v, d: Math.sqrt(d2sq) });
          }
        }
      }
    }
    hits.sort((x, y) => x.j - y.j || x.img[0] - y.img[0] || x.img[1] - y.img[1] || x.img[2] - y.img[2]);
    edges.push(...hits);
  }
  return {
    count: edges.length,
    src: Int32Array.from(edges, (e) => e.i),
    dst: Int32Array.from(edges, (e) => e.j),
    image: Int32Array.from(edges.flatMap((e) => e.img)),
    vec: Float32Array.from(edges.flatMap((e) => e.v)),
    dist: Float32Array.from(edges, (e) => e.d),
  };
}

/** Bit for bit (Object.is, so also the sign of zero in the float columns). */
function expectIdentical(got: EdgeList, want: EdgeList, name: string): void {
  expect(got.count, `${name}: edge count`).toBe(want.count);
  for (const key of ['src', 'dst', 'image', 'vec', 'dist'] as const) {
    const a = got[key];
    const b = want[key];
    expect(a.length, `${name}: ${key} length`).toBe(b.length);
    for (let k = 0; k < a.length; k++) if (!Object.is(a[k], b[k])) throw new Error(`${name}: ${key}[${k}] is ${a[k]}, the full walk has ${b[k]}`);
  }
}

/** Same edge set (up to float ties at the cutoff), same distances and vectors, sorted order. */
function expectMatches(input: NeighborInput, got: EdgeList): void {
  const ref = naive(input);
  const keys = new Map<string, number>();
  let prev: number[] | null = null;
  for (let e = 0; e < got.count; e++) {
    const k = [got.src[e], got.dst[e], got.image[3 * e], got.image[3 * e + 1], got.image[3 * e + 2]];
    if (prev) {
      const cmp = k.map((x, c) => x - prev![c]).find((x) => x !== 0) ?? 0;
      expect(cmp, `edge ${e} out of order`).toBeGreaterThan(0);
    }
    prev = k;
    keys.set(k.join(','), e);
  }
  const missing: string[] = [];
  for (const [key, d] of ref) {
    const e = keys.get(key);
    if (e === undefined) {
      if (Math.abs(d - input.cutoff) > TOL) missing.push(key);
      continue;
    }
    expect(Math.abs(got.dist[e] - d), `distance of ${key}`).toBeLessThan(TOL);
    // The vector must be r_dst + image·L − r_src of the ORIGINAL positions.
    const [i, j, n0, n1, n2] = key.split(',').map(Number);
    const f = input.frac as Vec3[];
    const g = [f[j][0] - f[i][0] + n0, f[j][1] - f[i][1] + n1, f[j][2] - f[i][2] + n2];
    for (let c = 0; c < 3; c++) {
      const x = g[0] * input.lattice[0][c] + g[1] * input.lattice[1][c] + g[2] * input.lattice[2][c];
      expect(Math.abs(got.vec[3 * e + c] - x), `vector of ${key}`).toBeLessThan(TOL);
    }
  }
  const extra = [...keys.keys()].filter((key) => !ref.has(key) && Math.abs(keyDistance(input, key) - input.cutoff) > TOL);
  expect(missing, 'edges the cell list missed').toEqual([]);
  expect(extra, 'edges the cell list invented').toEqual([]);
  for (let k = 0; k < 3; k++) {
    if (!input.pbc[k]) for (let e = 0; e < got.count; e++) if (got.image[3 * e + k] !== 0) throw new Error(`image along non-periodic axis ${k}`);
  }
}

function check(input: NeighborInput): EdgeList {
  const got = neighborListCpu(input);
  expectMatches(input, got);
  return got;
}

describe('neighborListCpu', () => {
  it('finds the 18 neighbours of simple cubic within 1.5 a', () => {
    const got = check({ lattice: Lattice.cubic(2).matrix, pbc: [true, true, true], frac: [[0, 0, 0]], cutoff: 3 });
    expect(got.count).toBe(18);
    expect([...got.dist].filter((d) => Math.abs(d - 2) < 1e-6)).toHaveLength(6);
  });

  // The naive reference is O(N² × images) with string keys: seconds, not milliseconds.
  it('matches brute force in random triclinic cells', { timeout: 60_000 }, () => {
    const r = rng(1);
    for (let t = 0; t < 30; t++) {
      const lattice = randomCell(r, 3, 12);
      const n = 1 + Math.floor(r() * 60);
      const cutoff = 1 + r() * 5;
      check({ lattice, pbc: [true, true, true], frac: randomFrac(r, n), cutoff });
    }
  });

  it('handles cells much smaller than the cutoff (one atom, many images)', () => {
    const r = rng(2);
    for (let t = 0; t < 8; t++) {
      const lattice = randomCell(r, 1.5, 3);
      const cutoff = (3 + 3 * r()) * Math.max(...new Lattice(lattice).abc);
      const got = check({ lattice, pbc: [true, true, true], frac: randomFrac(r, 1), cutoff });
      expect(got.count).toBeGreaterThan(100);
    }
    // Two atoms in a small cell, a cutoff of several cells.
    check({ lattice: randomCell(r, 2, 3), pbc: [true, true, true], frac: randomFrac(r, 2), cutoff: 9 });
  });

  it('handles nearly degenerate angles', () => {
    const r = rng(3);
    const cells = [
      Lattice.fromParameters(4, 4, 5, 90, 90, 179),
      Lattice.fromParameters(4, 5, 6, 90, 90, 1),
      Lattice.fromParameters(5, 5, 5, 2, 89, 90.5),
      Lattice.fromParameters(6, 3, 4, 100, 170, 80),
    ];
    for (const L of cells) {
      check({ lattice: L.matrix, pbc: [true, true, true], frac: randomFrac(r, 6), cutoff: 4 });
      check({ lattice: L.matrix, pbc: [true, true, false], frac: randomFrac(r, 4), cutoff: 3 });
    }
  });

  it('handles vacuum slabs (periodic in-plane, 20 Å vacuum)', { timeout: 60_000 }, () => {
    const r = rng(4);
    for (let t = 0; t < 4; t++) {
      const ab = randomCell(r, 10, 20);
      const thick = 2 + 6 * r();
      const c = thick + 20;
      // c along the normal of the a-b plane, a little tilted.
      const lattice: Mat3 = [ab[0], ab[1], [1.5 * r(), -1.5 * r(), 0]];
      const nrm = new Lattice([ab[0], ab[1], [0, 0, 1]]).heights[2] > 0 ? crossUnit(ab[0], ab[1]) : [0, 0, 1];
      lattice[2] = [lattice[2][0] + nrm[0] * c, lattice[2][1] + nrm[1] * c, lattice[2][2] + nrm[2] * c];
      const n = 100 + Math.floor(r() * 200);
      const frac = randomFrac(r, n, [
        [0, 1],
        [0, 1],
        [0, thick / c],
      ]);
      check({ lattice, pbc: [true, true, false], frac, cutoff: 3 + 3 * r() });
      // The same slab treated as periodic: vacuum is just empty bins.
      check({ lattice, pbc: [true, true, true], frac, cutoff: 4 });
    }
  });

  it('handles molecules (no periodicity), also outside [0, 1)', () => {
    const r = rng(5);
    for (let t = 0; t < 4; t++) {
      const lattice = randomCell(r, 8, 25);
      const frac = randomFrac(r, 50 + Math.floor(r() * 500), [
        [-0.3, 0.9],
        [0.2, 1.6],
        [-1, 0.4],
      ]);
      check({ lattice, pbc: [false, false, false], frac, cutoff: 2 + 4 * r() });
    }
    // Flat molecule: every atom in one plane along c.
    const flat = randomFrac(r, 40).map(([x, y]) => [x, y, 0.5] as Vec3);
    check({ lattice: randomCell(r, 8, 12), pbc: [false, false, false], frac: flat, cutoff: 4 });
    check({ lattice: randomCell(r, 8, 12), pbc: [true, true, false], frac: flat, cutoff: 4 });
  });

  it('reports images against unwrapped coordinates', () => {
    const r = rng(6);
    for (let t = 0; t < 10; t++) {
      const lattice = randomCell(r, 4, 10);
      const pbc = [r() < 0.8, r() < 0.8, r() < 0.8] as Pbc;
      const frac = randomFrac(r, 1 + Math.floor(r() * 80)).map((f) => f.map((x) => x + Math.floor(r() * 9) - 4) as Vec3);
      frac.push([-1e-17, 1 - 1e-17, 3]); // wraps to exactly 0 / just below 1
      check({ lattice, pbc, frac, cutoff: 2 + 5 * r() });
    }
  });

  it('accepts flat Float64Array coordinates with identical results', () => {
    const r = rng(7);
    const lattice = randomCell(r, 5, 9);
    const frac = randomFrac(r, 60);
    const a = neighborListCpu({ lattice, pbc: [true, false, true], frac, cutoff: 4 });
    const b = neighborListCpu({ lattice, pbc: [true, false, true], frac: Float64Array.from(frac.flat()), cutoff: 4 });
    expect(b).toEqual(a);
  });

  it('matches brute force for 2000 atoms in mixed periodicity', { timeout: 60_000 }, () => {
    const r = rng(8);
    for (const pbc of [
      [true, true, true],
      [true, false, true],
    ] as Pbc[]) {
      const lattice = randomCell(r, 25, 32);
      const got = check({ lattice, pbc, frac: randomFrac(r, 2000), cutoff: 4.5 });
      expect(got.count).toBeGreaterThan(10_000);
    }
  });

  it('matches brute force for 10^4 atoms', () => {
    const r = rng(9);
    // ~0.07 atoms/Å³ like a typical solid, ~25 neighbours within 4.3 Å.
    const lattice = Lattice.fromParameters(52, 50, 54, 84, 97, 103).matrix;
    const got = check({ lattice, pbc: [true, true, true], frac: randomFrac(r, 10_000), cutoff: 4.3 });
    expect(got.count).toBeGreaterThan(100_000);
  }, 60_000);

  it('lists both directions with opposite vectors', () => {
    const r = rng(10);
    const input: NeighborInput = { lattice: randomCell(r, 4, 8), pbc: [true, true, false], frac: randomFrac(r, 30), cutoff: 5 };
    const e = neighborListCpu(input);
    const index = new Map<string, number>();
    for (let k = 0; k < e.count; k++) index.set(`${e.src[k]},${e.dst[k]},${e.image[3 * k]},${e.image[3 * k + 1]},${e.image[3 * k + 2]}`, k);
    for (let k = 0; k < e.count; k++) {
      const back = index.get(`${e.dst[k]},${e.src[k]},${-e.image[3 * k]},${-e.image[3 * k + 1]},${-e.image[3 * k + 2]}`);
      expect(back).toBeDefined();
      for (let c = 0; c < 3; c++) expect(e.vec[3 * back! + c]).toBeCloseTo(-e.vec[3 * k + c], 5);
    }
  });

  it('refuses absurd requests and invalid input with clear errors', () => {
    const tiny = Lattice.cubic(1).matrix;
    expect(() => neighborListCpu({ lattice: tiny, pbc: [true, true, true], frac: [[0, 0, 0]], cutoff: 1000 })).toThrow(/about 4\.19e\+9|limit/);
    expect(() => neighborListCpu({ lattice: tiny, pbc: [true, true, true], frac: [[0, 0, 0]], cutoff: 1000 })).toThrow(NeighborListError);
    expect(() => neighborListCpu({ lattice: Lattice.cubic(50).matrix, pbc: [true, true, true], frac: randomFrac(rng(11), 100_000), cutoff: 40 })).toThrow(
      /edges.*limit/,
    );
    expect(() => neighborListCpu({ lattice: tiny, pbc: [true, true, true], frac: [[0, 0, 0]], cutoff: 0 })).toThrow(/cutoff/);
    expect(() => neighborListCpu({ lattice: tiny, pbc: [true, true, true], frac: [[0, NaN, 0]], cutoff: 1 })).toThrow(/site 0/);
    expect(() =>
      neighborListCpu({
        lattice: [
          [1, 0, 0],
          [2, 0, 0],
          [0, 0, 1],
        ],
        pbc: [true, true, true],
        frac: [[0, 0, 0]],
        cutoff: 1,
      }),
    ).toThrow(/lattice/);
    expect(() => neighborListCpu({ lattice: tiny, pbc: [true, true, true], frac: new Float64Array(4), cutoff: 1 })).toThrow(/divisible by 3/);
  });

  // The backend walks each pair once and writes the reverse edge from it; these inputs cover
  // both kinds of each path: short and long neighbour lists (insertion sort up to
  // INSERTION_SORT_MAX pairs of an atom, Array.prototype.sort above), one image per pair and
  // several (cells thinner than 2 r_c, reverse edges put in image order afterwards), the
  // identity and a reduced basis, unwrapped coordinates and coincident atoms, and atoms on
  // lattice sites, whose vectors have components that are exactly zero: +0 both ways, so the
  // reverse vector is not simply −vec there.
  it('is bit for bit the full-stencil walk (each pair walked once, both directions written)', { timeout: 60_000 }, () => {
    const cases: { name: string; input: NeighborInput }[] = adversarialCases(100).map((c) => ({ name: c.name, input: c.input }));
    const sites = (cells: Vec3, basis: Vec3[]): Vec3[] =>
      Array.from({ length: cells[0] * cells[1] * cells[2] }, (_, c) => [
        Math.floor(c / (cells[1] * cells[2])),
        Math.floor(c / cells[2]) % cells[1],
        c % cells[2],
      ]).flatMap((o) => basis.map((b) => [0, 1, 2].map((k) => (o[k] + b[k]) / cells[k]) as Vec3));
    const fcc: Vec3[] = [
      [0, 0, 0],
      [0.5, 0.5, 0],
      [0.5, 0, 0.5],
      [0, 0.5, 0.5],
    ];
    const cu: Mat3 = [
      [3.615 * 4, 0, 0],
      [0, 3.615 * 4, 0],
      [0, 0, 3.615 * 3],
    ];
    cases.push({ name: 'fcc Cu 4x4x3', input: { lattice: cu, pbc: [true, true, true], frac: sites([4, 4, 3], fcc), cutoff: 3.2 } });
    cases.push({ name: 'fcc Cu 4x4x3 slab', input: { lattice: cu, pbc: [true, true, false], frac: sites([4, 4, 3], fcc), cutoff: 4 } });
    cases.push({ name: 'fcc Cu cell, r_c of several cells', input: { lattice: Lattice.cubic(3.615).matrix, pbc: [true, true, true], frac: fcc, cutoff: 6 } });
    const graphene = Lattice.fromParameters(2.46 * 5, 2.46 * 5, 20, 90, 90, 120).matrix;
    cases.push({
      name: 'graphene 5x5',
      input: {
        lattice: graphene,
        pbc: [true, true, false],
        frac: sites(
          [5, 5, 1],
          [
            [0, 0, 0.5],
            [1 / 3, 2 / 3, 0.5],
          ],
        ),
        cutoff: 3,
      },
    });
    cases.push({
      name: 'lattice sites in a 170° cell',
      input: {
        lattice: Lattice.fromParameters(4, 4, 5, 90, 90, 170).matrix,
        pbc: [true, true, true],
        frac: [
          [0, 0, 0],
          [0.5, 0.5, 0.5],
          [0, 0.5, 0],
        ],
        cutoff: 6,
      },
    });
    const r = rng(12);
    const dense = { lattice: Lattice.cubic(12).matrix, pbc: [true, true, true] as Pbc, frac: randomFrac(r, 300), cutoff: 7 };
    cases.push({ name: 'long lists, one bin', input: dense });
    cases.push({ name: 'long lists, 27 bins', input: { lattice: Lattice.cubic(21.5).matrix, pbc: [true, true, true], frac: randomFrac(r, 1200), cutoff: 7 } });
    cases.push({
      name: 'two bins per axis: two images of a pair',
      input: { lattice: Lattice.cubic(7).matrix, pbc: [true, true, true], frac: randomFrac(r, 60), cutoff: 3.4 },
    });
    const twice = randomFrac(r, 50);
    cases.push({
      name: 'coincident atoms',
      input: { lattice: randomCell(r, 6, 9), pbc: [true, false, true], frac: [...twice, ...twice.slice(0, 10)], cutoff: 4 },
    });
    for (let t = 0; t < 12; t++) {
      const lattice = randomCell(r, 2 + 6 * r(), 6 + 12 * r());
      const pbc = [r() < 0.8, r() < 0.8, r() < 0.8] as Pbc;
      const frac = randomFrac(r, 1 + Math.floor(r() * 200)).map((f) => f.map((x) => x + Math.floor(r() * 5) - 2) as Vec3);
      cases.push({ name: `random ${t}`, input: { lattice, pbc, frac, cutoff: 1 + 7 * r() } });
    }
    let long = 0;
    for (const { name, input } of cases) {
      const got = neighborListCpu(input);
      expectIdentical(got, fullStencilWalk(input), name);
      const perSrc = new Map<number, number>();
      for (let e = 0; e < got.count; e++) if (got.dst[e] >= got.src[e]) perSrc.set(got.src[e], (perSrc.get(got.src[e]) ?? 0) + 1);
      if ([...perSrc.values()].some((c) => c > INSERTION_SORT_MAX)) long++;
    }
    expect(long, 'inputs with lists longer than INSERTION_SORT_MAX').toBeGreaterThanOrEqual(2);
  });

  it('returns an empty list for no atoms or nothing in range', () => {
    expect(neighborListCpu({ lattice: Lattice.cubic(5).matrix, pbc: [true, true, true], frac: [], cutoff: 3 }).count).toBe(0);
    expect(neighborListCpu({ lattice: Lattice.cubic(5).matrix, pbc: [false, false, false], frac: [[0, 0, 0]], cutoff: 3 }).count).toBe(0);
  });
});

describe('reducePeriodicBasis', () => {
  const mul = (a: Mat3, b: Mat3): Mat3 => a.map((row) => [0, 1, 2].map((c) => row[0] * b[0][c] + row[1] * b[1][c] + row[2] * b[2][c])) as Mat3;

  it('turns a 179° cell into a nearly orthogonal one of the same lattice', () => {
    const L = Lattice.fromParameters(4, 4, 5, 90, 90, 179).matrix;
    const { matrix, t, tInv } = reducePeriodicBasis(L, [true, true, true]);
    expect(mul(t, tInv).flat()).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const tl = mul(t, L);
    tl.flat().forEach((x, k) => expect(x).toBeCloseTo(matrix.flat()[k], 9));
    const R = new Lattice(matrix);
    expect(Math.abs(R.volume)).toBeCloseTo(Math.abs(new Lattice(L).volume), 9);
    for (const angle of R.angles) expect(Math.abs(angle - 90)).toBeLessThanOrEqual(30);
    // The lattice really has a 0.07 Å vector (4 · 2 sin 0.5°): reduction finds it.
    expect(Math.min(...R.abc)).toBeCloseTo(8 * Math.sin(Math.PI / 360), 6);
  });

  it('leaves non-periodic axes alone', () => {
    const L: Mat3 = [
      [4, 0, 0],
      [3.9, 0.1, 0],
      [7, 1, 20],
    ];
    const { matrix, t } = reducePeriodicBasis(L, [true, true, false]);
    expect(matrix[2]).toEqual([7, 1, 20]);
    expect(t[2]).toEqual([0, 0, 1]);
    expect(t[0][2]).toBe(0);
    expect(t[1][2]).toBe(0);
  });
});
