/**
 * The graph-network primitives on WebGPU against the CPU reference
 * (src/core/graph, run here in Node) on fixed-seed random inputs, including
 * awkward shapes: one row, widths that are not a multiple of the 32-wide
 * matmul tile, thousands of rows, empty segments, length-1 segments and
 * segments longer than a workgroup (256).
 *
 * Tolerance: max |gpu - ref| / (1 + |ref|) <= 1e-5 unless a test says
 * otherwise. Matmuls and long sums accumulate float32 rounding roughly in
 * proportion to the number of terms, so those bounds scale with K or the
 * segment length (see `sumTol`).
 *
 * WebGPU must be available (SwiftShader in CI): without it these tests FAIL.
 */
import { expect, test, type Page } from '@playwright/test';
import { batchGraphs } from '../src/core/graph/batch';
import { structureGraph } from '../src/core/graph/crystal-graph';
import { dense } from '../src/core/graph/dense';
import { megnetForward, randomMegnet } from '../src/core/graph/megnet';
import { builtinById } from '../src/core/library/builtins';
import { repeat } from '../src/core/structure';
import { type GaussianBasis, gaussianExpand, megnetBasis } from '../src/core/graph/rbf';
import { concatCols, gatherRows } from '../src/core/graph/rows';
import { type SegmentReduce, segmentOffsets, segmentReduce, segmentSoftmax, sortEdgesByDst } from '../src/core/graph/segment';
import { type LstmWeights, set2set } from '../src/core/graph/set2set';
import { type Activation, type Matrix, matrix } from '../src/core/graph/types';
import { randomMatrix, signedRng as rng } from '../src/tests/random';
import { openGpuLab } from './gpu-lab-page';

test.describe.configure({ mode: 'serial' });

let page: Page;

test.beforeAll(async ({ browser }) => {
  page = await openGpuLab(browser);
});

test.afterAll(async () => {
  await page.close();
});

const arr = (a: ArrayLike<number>): number[] => Array.from(a);

/** Segment offsets from a list of lengths. */
function offsetsOf(lengths: number[]): Int32Array {
  const off = new Int32Array(lengths.length + 1);
  lengths.forEach((n, i) => (off[i + 1] = off[i] + n));
  return off;
}

/** Max of |a - b| / (tol (1 + |b|)), or of |a - b| / tol_i when per-element tolerances are given; tol 0 means exact. */
function compare(what: string, actual: number[], expected: ArrayLike<number>, tol: number | ArrayLike<number> = 1e-5): number {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const t = typeof tol === 'number' ? tol * (1 + Math.abs(expected[i])) : tol[i];
    const diff = Math.abs(actual[i] - expected[i]);
    const e = t === 0 ? (diff === 0 ? 0 : Infinity) : diff / t;
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  }
  expect(worst, `${what}: worst element ${at}: gpu ${actual[at]} vs cpu ${expected[at]}`).toBeLessThanOrEqual(1);
  return worst;
}

/**
 * Per-output tolerance for a float32 sum of n terms whose magnitudes add up
 * to absSum: sequential (or tree) summation errs by at most ~n * eps * absSum
 * in the worst case; typical errors are ~sqrt(n) * eps * absSum. We allow
 * 4 * sqrt(n) * eps * absSum on top of the 1e-5 * (1 + |ref|) floor.
 */
function sumTol(ref: ArrayLike<number>, absSum: ArrayLike<number>, n: ArrayLike<number>): Float64Array {
  const eps = 2 ** -23;
  return Float64Array.from({ length: ref.length }, (_, i) => 1e-5 * (1 + Math.abs(ref[i])) + 4 * Math.sqrt(n[i]) * eps * absSum[i]);
}

test('WebGPU is available (these tests fail rather than skip without it)', async () => {
  const info = await page.evaluate(() => window.gpuLab.info());
  console.log('GPU lab adapter:', JSON.stringify(info));
  expect('error' in info ? info.error : '').toBe('');
});

test('dense layer: all activations, awkward shapes, one submission', async () => {
  const r = rng(1);
  const cases: { rows: number; k: number; n: number; act: Activation; bias: boolean }[] = [
    { rows: 1, k: 3, n: 5, act: 'none', bias: true },
    { rows: 37, k: 70, n: 45, act: 'softplus', bias: true },
    { rows: 5, k: 17, n: 1, act: 'silu', bias: false },
    { rows: 3000, k: 64, n: 64, act: 'softplus', bias: true },
    { rows: 100, k: 33, n: 96, act: 'relu', bias: true },
    { rows: 0, k: 8, n: 4, act: 'silu', bias: true },
    { rows: 2, k: 1, n: 2, act: 'silu', bias: true },
    // Depth and width multiples of 4 (direct4's vec4 loads), rows not: the clamped last block.
    { rows: 13, k: 12, n: 8, act: 'softplus', bias: true },
    { rows: 1, k: 4, n: 4, act: 'none', bias: false },
    { rows: 6, k: 128, n: 32, act: 'relu', bias: true },
  ];
  for (const c of cases) {
    const x = randomMatrix(c.rows, c.k, r, 2);
    const w = randomMatrix(c.k, c.n, r, 1 / Math.sqrt(c.k));
    const b = c.bias ? randomMatrix(1, c.n, r).data : null;
    const ref = dense(x, w, b, c.act);
    // Every entry point of dense.wgsl: workgroup-memory tiles (hardware GPUs), direct and direct4 (software adapters).
    for (const variant of ['tiled', 'direct', 'direct4'] as const) {
      const got = await page.evaluate((a) => window.gpuLab.dense(a), {
        x: arr(x.data),
        rows: c.rows,
        inF: c.k,
        w: arr(w.data),
        outF: c.n,
        b: b ? arr(b) : null,
        act: c.act,
        variant,
      });
      expect(got.variant).toBe(variant);
      const err = compare(`dense (${variant}) ${c.rows}x${c.k}x${c.n} ${c.act}`, got.y, ref.data);
      expect(got.submissions).toBe(1);
      console.log(`dense (${variant}) [${c.rows}, ${c.k}] x [${c.k}, ${c.n}] ${c.act}: ${got.ms.toFixed(1)} ms (first run), worst err/tol ${err.toFixed(3)}`);
    }
  }
});

test('dense layer with large K: error bound scales with sqrt(K)', async () => {
  const r = rng(2);
  const [rows, k, n] = [200, 300, 40];
  const x = randomMatrix(rows, k, r, 3);
  const w = randomMatrix(k, n, r, 1);
  const ref = dense(x, w, null, 'none');
  // Magnitude of the terms: |X| |W|.
  const absRef = dense(matrix(rows, k, x.data.map(Math.abs)), matrix(k, n, w.data.map(Math.abs)), null, 'none');
  const got = await page.evaluate((a) => window.gpuLab.dense(a), { x: arr(x.data), rows, inF: k, w: arr(w.data), outF: n, b: null, act: 'none' as const });
  compare('dense K=300', got.y, ref.data, sumTol(ref.data, absRef.data, new Float64Array(ref.data.length).fill(k)));
});

test('Gaussian radial basis expansion', async () => {
  const r = rng(3);
  const bases: GaussianBasis[] = [megnetBasis(5, 100), { rMin: 0.5, rMax: 6, count: 17, width: 0.3 }, { rMin: 2, rMax: 2, count: 1, width: 1 }];
  for (const basis of bases) {
    for (const n of [1, 5000]) {
      const d = Float32Array.from({ length: n }, () => (r() + 1) * 3.5);
      const got = await page.evaluate((a) => window.gpuLab.rbf(a), { d: arr(d), basis });
      compare(`rbf K=${basis.count} E=${n}`, got.y, gaussianExpand(d, basis).data);
      if (n > 1) console.log(`rbf E=${n} K=${basis.count}: ${got.ms.toFixed(1)} ms`);
    }
  }
});

test('gather rows by index (repeats, one row, out of range gives zeros)', async () => {
  const r = rng(4);
  const x = randomMatrix(1000, 7, r);
  const index = Int32Array.from({ length: 3000 }, () => Math.floor(((r() + 1) / 2) * 1000));
  const got = await page.evaluate((a) => window.gpuLab.gather(a), { x: arr(x.data), rows: 1000, cols: 7, index: arr(index) });
  compare('gather 3000 of 1000', got.y, gatherRows(x, index).data, 0);
  const one = await page.evaluate((a) => window.gpuLab.gather(a), { x: [1, 2, 3], rows: 1, cols: 3, index: [0, 0] });
  expect(one.y).toEqual([1, 2, 3, 1, 2, 3]);
  const bad = await page.evaluate((a) => window.gpuLab.gather(a), { x: [1, 2, 3, 4], rows: 2, cols: 2, index: [1, 2, -1] });
  expect(bad.y).toEqual([3, 4, 0, 0, 0, 0]);
});

test('concatenation along features, with a fused gather', async () => {
  const r = rng(5);
  const R = 1234;
  const a = randomMatrix(R, 1, r);
  const b = randomMatrix(300, 33, r);
  const c = randomMatrix(R, 5, r);
  const idx = Int32Array.from({ length: R }, () => Math.floor(((r() + 1) / 2) * 300));
  const got = await page.evaluate((q) => window.gpuLab.concat(q), {
    blocks: [
      { x: arr(a.data), rows: R, cols: 1 },
      { x: arr(b.data), rows: 300, cols: 33, index: arr(idx) },
      { x: arr(c.data), rows: R, cols: 5 },
    ],
  });
  compare('concat', got.y, concatCols([a, gatherRows(b, idx), c]).data, 0);
  expect(got.dispatches).toBe(3);
});

/** Segment layouts: many short ones (edges -> atoms) and a few long ones (atoms -> graphs). */
function segmentCases(r: () => number): { name: string; lengths: number[]; cols: number }[] {
  const short = Array.from({ length: 2000 }, () => Math.floor(((r() + 1) / 2) * 31)); // 0..30, with empties and 1s
  short[0] = 0;
  short[1] = 1;
  return [
    { name: 'edges->nodes', lengths: short, cols: 13 },
    { name: 'nodes->graphs', lengths: [0, 1, 700, 3, 5000, 257], cols: 33 },
    { name: 'one column', lengths: [1, 0, 2000, 2], cols: 1 },
    { name: 'one segment of one row', lengths: [1], cols: 4 },
  ];
}

test('segmented sum / mean / max, both strategies', async () => {
  // About 30 GPU round trips and their CPU references on up to 29k rows: a
  // correctness test, not a timing one, that took over a minute on software
  // WebGPU while the GPAW generators held both cores (session 16).
  test.setTimeout(180_000);
  const r = rng(6);
  for (const c of segmentCases(r)) {
    const off = offsetsOf(c.lengths);
    const rows = off[off.length - 1];
    const x = randomMatrix(rows, c.cols, r, 3);
    const absSum = segmentReduce(matrix(rows, c.cols, x.data.map(Math.abs)), off, 'sum').data;
    const lens = Float64Array.from({ length: (off.length - 1) * c.cols }, (_, i) => c.lengths[Math.floor(i / c.cols)]);
    for (const mode of ['sum', 'mean', 'max'] as SegmentReduce[]) {
      const ref = segmentReduce(x, off, mode).data;
      const scale = mode === 'mean' ? Float64Array.from(absSum, (v, i) => v / Math.max(1, lens[i])) : absSum;
      for (const strategy of ['row', 'group'] as const) {
        const got = await page.evaluate((a) => window.gpuLab.segmentReduce(a), { x: arr(x.data), rows, cols: c.cols, offsets: arr(off), mode, strategy });
        compare(`segment ${mode} ${c.name} ${strategy}`, got.y, ref, mode === 'max' ? 0 : sumTol(ref, scale, lens));
        console.log(`segment ${mode} ${c.name} (${off.length - 1} segments, ${rows} rows, ${c.cols} cols) ${strategy}: ${got.ms.toFixed(1)} ms`);
      }
    }
    // Weighted sum (the attention readout), automatic strategy.
    const w = Float32Array.from({ length: rows }, () => r());
    const ref = segmentReduce(x, off, 'sum', w).data;
    const got = await page.evaluate((a) => window.gpuLab.segmentReduce(a), {
      x: arr(x.data),
      rows,
      cols: c.cols,
      offsets: arr(off),
      mode: 'sum' as const,
      weights: arr(w),
    });
    compare(`segment weighted sum ${c.name}`, got.y, ref, sumTol(ref, absSum, lens));
  }
});

test('segmented softmax, both strategies, sums to 1 per segment', async () => {
  test.setTimeout(120_000); // the same segment layouts: 34 s with both cores busy (session 16)
  const r = rng(7);
  for (const c of [...segmentCases(r), { name: '17 columns', lengths: [3, 0, 300, 1], cols: 17 }]) {
    const off = offsetsOf(c.lengths);
    const rows = off[off.length - 1];
    const x = randomMatrix(rows, c.cols, r, 10);
    if (rows > 2) x.data[2] = 1000; // would overflow exp without the max shift
    const ref = segmentSoftmax(x, off).data;
    for (const strategy of ['row', 'group'] as const) {
      const got = await page.evaluate((a) => window.gpuLab.segmentSoftmax(a), { x: arr(x.data), rows, cols: c.cols, offsets: arr(off), strategy });
      compare(`softmax ${c.name} ${strategy}`, got.y, ref);
      // Each non-empty segment's column sums to 1 (one expect at the end: Playwright's are slow in loops).
      let worst = { err: 0, where: '' };
      for (let s = 0; s + 1 < off.length; s++) {
        if (off[s + 1] === off[s]) continue;
        for (let f = 0; f < c.cols; f++) {
          let sum = 0;
          for (let i = off[s]; i < off[s + 1]; i++) sum += got.y[i * c.cols + f];
          if (!(Math.abs(sum - 1) <= worst.err)) worst = { err: Math.abs(sum - 1), where: `segment ${s} column ${f} sums to ${sum}` };
        }
      }
      expect(worst.err, `softmax ${c.name} ${strategy}: ${worst.where}`).toBeLessThan(1e-4);
      console.log(`softmax ${c.name} (${rows} rows, ${c.cols} cols) ${strategy}: ${got.ms.toFixed(1)} ms`);
    }
  }
});

function randomLstm(F: number, r: () => number): LstmWeights {
  const s = 1 / Math.sqrt(F);
  return { wIh: randomMatrix(2 * F, 4 * F, r, s), wHh: randomMatrix(F, 4 * F, r, s), b: randomMatrix(1, 4 * F, r, s).data };
}

test('Set2Set readout, batched over graphs, in one submission', async () => {
  const r = rng(8);
  for (const { F, lengths, steps } of [
    { F: 16, lengths: [0, 1, 40, 300, 7, 1000], steps: 3 },
    { F: 5, lengths: [12], steps: 1 },
    { F: 32, lengths: Array.from({ length: 64 }, (_, i) => 5 + (i % 20)), steps: 3 },
  ]) {
    const off = offsetsOf(lengths);
    const rows = off[off.length - 1];
    const x = randomMatrix(rows, F, r);
    const w = randomLstm(F, r);
    const ref = set2set(x, off, w, steps).data;
    for (const strategy of ['row', 'group'] as const) {
      const got = await page.evaluate((a) => window.gpuLab.set2set(a), {
        x: arr(x.data),
        rows,
        cols: F,
        offsets: arr(off),
        wIh: arr(w.wIh.data),
        wHh: arr(w.wHh.data),
        b: arr(w.b),
        steps,
        strategy,
      });
      // Looser: T steps of LSTM + softmax + sums over up to 1000 rows, whose errors feed the next step.
      compare(`set2set F=${F} B=${lengths.length} ${strategy}`, got.y, ref, 1e-4);
      expect(got.submissions).toBe(1);
      expect(got.dispatches).toBe(5 * steps);
      console.log(
        `set2set F=${F}, ${lengths.length} graphs, ${rows} nodes, T=${steps} ${strategy}: ${got.ms.toFixed(1)} ms, ${got.dispatches} dispatches, ${got.submissions} submission`,
      );
    }
  }
});

test('a MEGNet-style edge-to-node step composes the primitives in one submission', async () => {
  const r = rng(9);
  const N = 500;
  const F = 8;
  const basis = megnetBasis(5, 20);
  const outF = 16;
  // Random directed edges, as a neighbour list would give them (sorted by src), then sorted by dst.
  const srcList: number[] = [];
  const dstList: number[] = [];
  for (let i = 0; i < N; i++) {
    const deg = i % 50 === 0 ? 0 : Math.floor(((r() + 1) / 2) * 24);
    for (let k = 0; k < deg; k++) {
      srcList.push(i);
      dstList.push(Math.floor(((r() + 1) / 2) * N));
    }
  }
  const perm = sortEdgesByDst(Int32Array.from(dstList), N);
  const src = Int32Array.from(perm, (p) => srcList[p]);
  const dst = Int32Array.from(perm, (p) => dstList[p]);
  const E = src.length;
  const d = Float32Array.from({ length: E }, () => (r() + 1) * 2.5);
  const v = randomMatrix(N, F, r);
  const inF = 2 * F + basis.count;
  const w = randomMatrix(inF, outF, r, 1 / Math.sqrt(inF));
  const b = randomMatrix(1, outF, r).data;
  const off = segmentOffsets(dst, N);
  const m = dense(concatCols([gatherRows(v, src), gatherRows(v, dst), gaussianExpand(d, basis)]), w, b, 'softplus');
  const ref = segmentReduce(m, off, 'mean').data;
  const got = await page.evaluate((a) => window.gpuLab.edgeToNode(a), {
    v: arr(v.data),
    nodes: N,
    cols: F,
    src: arr(src),
    dst: arr(dst),
    offsets: arr(off),
    d: arr(d),
    basis,
    w: arr(w.data),
    b: arr(b),
    outF,
  });
  compare('edge-to-node', got.y, ref);
  expect(got.submissions).toBe(1);
  console.log(`edge-to-node: ${N} nodes, ${E} edges, ${got.dispatches} dispatches in 1 submission: ${got.ms.toFixed(1)} ms`);
});

test('a whole MEGNet forward (3 blocks, Set2Set) matches the CPU reference on MoS2 with a vacancy and Si, batched', async () => {
  test.setTimeout(120_000);
  const shape = { nodeIn: 4, stateIn: 2, rbf: 100, cutoff: 5, hidden: 64, features: 32, blocks: 3, outputs: 2 };
  const mos2 = repeat(builtinById('mos2-monolayer')!.build(), [4, 4, 1]);
  const keep = [...Array(mos2.numSites).keys()].filter((i) => i !== 1); // one S vacancy
  const vacancy = mos2.with({ species: keep.map((i) => mos2.species[i]), frac: keep.map((i) => mos2.frac[i]) });
  const si = builtinById('si')!.build();
  const graphs = [structureGraph(vacancy, 5, Float32Array.from([0.3, -0.2])), structureGraph(si, 5, Float32Array.from([-0.1, 0.4]))];
  const ref = megnetForward(randomMegnet(shape, 11), batchGraphs(graphs));
  const json = graphs.map((g) => ({
    nodes: arr(g.nodes.data),
    nodeCols: g.nodes.cols,
    dist: arr(g.edges.data),
    src: arr(g.src),
    dst: arr(g.dst),
    state: arr(g.state!),
  }));
  const out = await page.evaluate((a) => window.gpuLab.megnetGpu(a), { shape, seed: 11, graphs: json, repeat: 1 });
  if ('error' in out) throw new Error(out.error);
  expect([out.rows, out.cols]).toEqual([2, 2]);
  // Three blocks of 64-wide matmuls, means over ~20 edges, Set2Set: float32 drift stays far below 1e-4.
  compare('megnet outputs', out.y, ref.data, 1e-4);
  // The topology is fixed between runs, so a repeated forward builds no bind group (run.ts caches them).
  expect(out.bindGroups.reused).toBeGreaterThan(20);
  expect(out.bindGroups.built).toBe(0);
});
