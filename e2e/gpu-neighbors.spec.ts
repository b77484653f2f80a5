/**
 * The WebGPU neighbour list against the CPU reference (src/core/neighbors,
 * run here in Node, itself tested against brute force in
 * src/tests/neighbors-cpu.test.ts) on fixed-seed random and adversarial
 * inputs: triclinic and nearly flat cells, cells smaller than the cutoff,
 * vacuum slabs, molecules, unwrapped coordinates, and enough atoms to need
 * the cell list and a multi-block prefix sum.
 *
 * The GPU works in float32, the reference in float64: an edge may be present
 * in one list only if its length is within 1e-5 Å of the cutoff; every other
 * edge must match in (src, dst, image), with vectors and distances within
 * 1e-5 Å, and the GPU's order must be exactly the documented one.
 *
 * WebGPU must be available (SwiftShader in CI): without it these tests FAIL.
 */
import { expect, test, type Page } from '@playwright/test';
import { Lattice } from '../src/core/lattice';
import type { Vec3 } from '../src/core/math3';
import { neighborListCpu } from '../src/core/neighbors/cpu';
import type { EdgeList, NeighborInput } from '../src/core/neighbors/types';
import { adversarialCases, randomFrac, rng, vacuumSlab } from '../src/tests/neighbor-cases';
import { openGpuLab } from './gpu-lab-page';

test.describe.configure({ mode: 'serial' });

let page: Page;

test.beforeAll(async ({ browser }) => {
  page = await openGpuLab(browser);
});

test.afterAll(async () => {
  await page.close();
});

type GpuEdges = { count: number; src: number[]; dst: number[]; image: number[]; vec: number[]; dist: number[] };

async function gpu(input: NeighborInput & { frac: Vec3[] }): Promise<GpuEdges> {
  const out = await page.evaluate((a) => window.gpuLab.neighborsGpu(a), {
    lattice: input.lattice,
    pbc: input.pbc,
    frac: input.frac.flat(),
    cutoff: input.cutoff,
  });
  if ('error' in out) throw new Error(out.error);
  return out as unknown as GpuEdges;
}

const TOL = 1e-5; // Å, the tolerance

function key(e: { src: ArrayLike<number>; dst: ArrayLike<number>; image: ArrayLike<number> }, k: number): number[] {
  return [e.src[k], e.dst[k], e.image[3 * k], e.image[3 * k + 1], e.image[3 * k + 2]];
}

function cmp(a: number[], b: number[]): number {
  for (let c = 0; c < a.length; c++) if (a[c] !== b[c]) return a[c] - b[c];
  return 0;
}

/**
 * Merges the two sorted lists and returns the number of edges that matched.
 * Plain comparisons in the loop (an expect() per edge is far too slow for
 * 10^5 edges); the first few problems are reported at the end.
 */
function expectSameEdges(what: string, cutoff: number, got: GpuEdges, ref: EdgeList): number {
  const problems: string[] = [];
  const report = (p: string) => {
    if (problems.length < 10) problems.push(p);
  };
  for (let k = 1; k < got.count; k++) if (cmp(key(got, k - 1), key(got, k)) >= 0) report(`GPU edge ${k} out of order`);
  let a = 0;
  let b = 0;
  let matched = 0;
  while (a < got.count || b < ref.count) {
    const c = a >= got.count ? 1 : b >= ref.count ? -1 : cmp(key(got, a), key(ref, b));
    if (c === 0) {
      let worst = Math.abs(got.dist[a] - ref.dist[b]);
      for (let x = 0; x < 3; x++) worst = Math.max(worst, Math.abs(got.vec[3 * a + x] - ref.vec[3 * b + x]));
      if (!(worst <= TOL)) report(`edge ${key(ref, b)}: vector or distance off by ${worst} Å`);
      matched++;
      a++;
      b++;
    } else if (c < 0) {
      if (!(Math.abs(got.dist[a] - cutoff) <= TOL)) report(`GPU-only edge ${key(got, a)} at ${got.dist[a]} Å`);
      a++;
    } else {
      if (!(Math.abs(ref.dist[b] - cutoff) <= TOL)) report(`GPU missed ${key(ref, b)} at ${ref.dist[b]} Å`);
      b++;
    }
  }
  expect(problems, `${what} (${ref.count} reference edges)`).toEqual([]);
  return matched;
}

test('matches the CPU reference on every awkward family', async () => {
  for (const { name, input } of adversarialCases()) {
    const ref = neighborListCpu(input);
    const got = await gpu(input);
    const matched = expectSameEdges(name, input.cutoff, got, ref);
    expect(matched, `${name}: almost every edge matches`).toBeGreaterThanOrEqual(ref.count - 2);
  }
});

test('matches on cell-list sizes that need a multi-block prefix sum', async () => {
  test.setTimeout(180_000);
  const r = rng(200);
  // 10^4 atoms at solid density (~0.07 Å⁻³) in a triclinic cell: a 12x11x12
  // grid, and 10 001 counts = 10 blocks of the prefix sum (two levels).
  const dense = {
    lattice: Lattice.fromParameters(52, 50, 54, 84, 97, 103).matrix,
    pbc: [true, true, true] as [boolean, boolean, boolean],
    frac: randomFrac(r, 10_000),
    cutoff: 4.3,
  };
  const ref = neighborListCpu(dense);
  expect(ref.count).toBeGreaterThan(100_000);
  expectSameEdges('10^4 atoms', dense.cutoff, await gpu(dense), ref);
  // A wide vacuum slab, periodic in-plane only.
  const slab = vacuumSlab(r, 2500, 6);
  slab.lattice = slab.lattice.map((row, k) => (k < 2 ? row.map((x) => 3 * x) : row)) as typeof slab.lattice;
  const slabInput = { ...slab, pbc: [true, true, false] as [boolean, boolean, boolean], cutoff: 5 };
  expectSameEdges('2500-atom slab', 5, await gpu(slabInput), neighborListCpu(slabInput));
});

test('is deterministic: the same input gives identical output', async () => {
  const slab = adversarialCases(300).find((c) => c.name.startsWith('vacuum slab'))!;
  const edges = ({ count, src, dst, image, vec, dist }: GpuEdges) => ({ count, src, dst, image, vec, dist });
  const a = edges(await gpu(slab.input));
  const b = edges(await gpu(slab.input));
  expect(a.count).toBeGreaterThan(1000);
  expect(b).toEqual(a);
});

test('summarises 30 000 atoms without error and agrees with the CPU count', async () => {
  test.setTimeout(180_000);
  const r = rng(400);
  const frac = randomFrac(r, 30_000).flat();
  const args = { lattice: Lattice.fromParameters(75, 76, 77, 88, 92, 95).matrix, pbc: [true, true, true] as [boolean, boolean, boolean], frac, cutoff: 4 };
  const g = await page.evaluate((a) => window.gpuLab.neighborsGpu({ ...a, summary: true }), args);
  const c = await page.evaluate((a) => window.gpuLab.neighborsCpu({ ...a, summary: true }), args);
  if ('error' in g) throw new Error(g.error);
  expect(Math.abs(g.count - c.count)).toBeLessThanOrEqual(4);
  expect(g.count).toBeGreaterThan(200_000);
  expect(Math.abs((g as { distSum: number }).distSum - (c as { distSum: number }).distSum) / (c as { distSum: number }).distSum).toBeLessThan(1e-4);
});

test('a request beyond the limits fails with a clear message', async () => {
  const out = await page.evaluate(() =>
    window.gpuLab.neighborsGpu({
      lattice: [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ],
      pbc: [true, true, true],
      frac: [0, 0, 0],
      cutoff: 1000,
    }),
  );
  expect('error' in out && out.error).toMatch(/NeighborListError: .*limit/);
});
