import { describe, expect, it } from 'vitest';
import { batchGraphs } from '../core/graph/batch';
import { activate, dense, relu, sigmoid, silu, softplus } from '../core/graph/dense';
import { gaussianCenters, gaussianExpand, megnetBasis } from '../core/graph/rbf';
import { concatCols, gatherRows, permuteArray, permuteRows } from '../core/graph/rows';
import { segmentIds, segmentOffsets, segmentReduce, segmentSoftmax, sortEdgesByDst } from '../core/graph/segment';
import { type LstmWeights, lstmCell, lstmFromTorch, set2set } from '../core/graph/set2set';
import { type Matrix, matrix, transpose } from '../core/graph/types';
import { randomMatrix, signedRng as rng } from './random';

function rows(m: Matrix): number[][] {
  return Array.from({ length: m.rows }, (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (Math.abs(actual[i] - expected[i]) > tol * (1 + Math.abs(expected[i]))) {
      throw new Error(`element ${i}: ${actual[i]} vs ${expected[i]}`);
    }
  }
}

describe('activations', () => {
  it('softplus has the known values and is stable at both ends', () => {
    expect(softplus(0)).toBeCloseTo(Math.LN2, 15);
    expect(softplus(1)).toBeCloseTo(Math.log(1 + Math.E), 14);
    expect(softplus(100)).toBe(100); // the naive log(1 + e^x) would be Infinity at 1000
    expect(softplus(1000)).toBe(1000);
    // Far negative: softplus(x) ~ e^x, kept to full relative precision by log1p.
    expect(softplus(-50) / Math.exp(-50)).toBeCloseTo(1, 12);
  });

  it('SiLU, sigmoid and ReLU', () => {
    expect(silu(0)).toBe(0);
    expect(silu(1)).toBeCloseTo(1 / (1 + Math.exp(-1)), 15);
    expect(silu(-2)).toBeCloseTo(-2 / (1 + Math.exp(2)), 15);
    expect(Number.isFinite(silu(-1000))).toBe(true);
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(1000)).toBe(1);
    expect(relu(-3)).toBe(0);
    expect(relu(2.5)).toBe(2.5);
    expect(activate(-1, 'none')).toBe(-1);
  });
});

describe('dense', () => {
  it('computes act(X W + b) on a hand case', () => {
    const x = matrix(2, 3, [1, 2, 3, -1, 0, 1]);
    const w = matrix(3, 2, [1, 0, 0, 1, 1, -1]);
    const b = Float32Array.from([0.5, -0.5]);
    // Row 0: [1 + 3, 2 - 3] + b = [4.5, -1.5]; row 1: [-1 + 1, -1] + b = [0.5, -1.5].
    expect(Array.from(dense(x, w, b, 'none').data)).toEqual([4.5, -1.5, 0.5, -1.5]);
    expect(Array.from(dense(x, w, b, 'relu').data)).toEqual([4.5, 0, 0.5, 0]);
    expectClose(dense(x, w, b, 'softplus').data, [4.5, -1.5, 0.5, -1.5].map(softplus));
    expectClose(dense(x, w, null, 'silu').data, [4, -1, 0, -1].map(silu));
  });

  it('matches a direct triple loop on random shapes and rejects mismatched shapes', () => {
    const r = rng(1);
    const x = randomMatrix(7, 5, r);
    const w = randomMatrix(5, 3, r);
    const y = dense(x, w, null);
    for (let i = 0; i < 7; i++) {
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 5; k++) s += x.data[i * 5 + k] * w.data[k * 3 + j];
        expect(y.data[i * 3 + j]).toBeCloseTo(s, 6);
      }
    }
    expect(() => dense(x, randomMatrix(4, 3, r), null)).toThrow(RangeError);
    expect(dense(matrix(0, 5), w, null).rows).toBe(0);
  });
});

describe('Gaussian radial basis', () => {
  it('peaks at each centre and falls to 1/e one width away', () => {
    const basis = { rMin: 0, rMax: 4, count: 5, width: 0.5 };
    expect(Array.from(gaussianCenters(basis))).toEqual([0, 1, 2, 3, 4]);
    const e = gaussianExpand(Float32Array.from([2, 2.5]), basis);
    expect(e.cols).toBe(5);
    expect(e.data[2]).toBe(1); // d = mu_2
    expectClose(e.data.subarray(0, 5), [Math.exp(-16), Math.exp(-4), 1, Math.exp(-4), Math.exp(-16)]);
    expect(e.data[5 + 2]).toBeCloseTo(Math.exp(-1), 7); // 0.5 = one width from mu_2
    expect(e.data[5 + 3]).toBeCloseTo(Math.exp(-1), 7);
  });

  it('uses width = spacing for the MEGNet basis', () => {
    const b = megnetBasis(5, 101);
    expect(b.width).toBeCloseTo(0.05, 15);
    const mu = gaussianCenters(b);
    expect(mu[0]).toBe(0);
    expect(mu[100]).toBeCloseTo(5, 12);
    expect(Array.from(gaussianCenters({ rMin: 1, rMax: 3, count: 1, width: 1 }))).toEqual([1]);
    expect(() => gaussianExpand(Float32Array.of(1), { rMin: 0, rMax: 1, count: 2, width: 0 })).toThrow(RangeError);
  });
});

describe('gather and concat', () => {
  it('gathers rows by index, repeats allowed, and rejects bad indices', () => {
    const x = matrix(3, 2, [1, 2, 3, 4, 5, 6]);
    expect(rows(gatherRows(x, Int32Array.from([2, 0, 2])))).toEqual([
      [5, 6],
      [1, 2],
      [5, 6],
    ]);
    expect(gatherRows(x, new Int32Array(0)).rows).toBe(0);
    expect(() => gatherRows(x, Int32Array.from([3]))).toThrow(RangeError);
    expect(() => gatherRows(x, Int32Array.from([-1]))).toThrow(RangeError);
    expect(rows(permuteRows(x, Int32Array.from([1, 2, 0])))).toEqual([
      [3, 4],
      [5, 6],
      [1, 2],
    ]);
    expect(Array.from(permuteArray(Int32Array.from([7, 8, 9]), Int32Array.from([2, 0, 1])))).toEqual([9, 7, 8]);
  });

  it('concatenates blocks along features', () => {
    const a = matrix(2, 1, [1, 2]);
    const b = matrix(2, 3, [3, 4, 5, 6, 7, 8]);
    expect(rows(concatCols([a, b, a]))).toEqual([
      [1, 3, 4, 5, 1],
      [2, 6, 7, 8, 2],
    ]);
    expect(() => concatCols([a, matrix(3, 1)])).toThrow(RangeError);
  });

  it('transposes', () => {
    expect(rows(transpose(matrix(2, 3, [1, 2, 3, 4, 5, 6])))).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
  });
});

describe('segments', () => {
  it('builds CSR offsets with empty segments and inverts them', () => {
    const ids = Int32Array.from([0, 0, 2, 2, 2, 4]);
    const off = segmentOffsets(ids, 6);
    expect(Array.from(off)).toEqual([0, 2, 2, 5, 5, 6, 6]);
    expect(Array.from(segmentIds(off))).toEqual(Array.from(ids));
    expect(() => segmentOffsets(Int32Array.from([1, 0]), 2)).toThrow(/not sorted/);
    expect(() => segmentOffsets(Int32Array.from([0, 2]), 2)).toThrow(RangeError);
  });

  it('sortEdgesByDst is a stable counting sort', () => {
    const src = Int32Array.from([0, 0, 1, 1, 2, 2, 3]);
    const dst = Int32Array.from([1, 3, 0, 3, 1, 0, 1]);
    const perm = sortEdgesByDst(dst, 4);
    expect(Array.from(permuteArray(dst, perm))).toEqual([0, 0, 1, 1, 1, 3, 3]);
    // Within a dst the input (src) order is kept.
    expect(Array.from(permuteArray(src, perm))).toEqual([1, 2, 0, 2, 3, 0, 1]);
    expect(Array.from(perm).sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(Array.from(sortEdgesByDst(dst))).toEqual(Array.from(perm)); // node count inferred
    expect(() => sortEdgesByDst(dst, 3)).toThrow(RangeError);
  });

  it('sum, mean, max and weighted sum with empty and length-1 segments', () => {
    // Segments: [rows 0-2], [], [row 3], [rows 4-5]; 2 columns.
    const x = matrix(6, 2, [1, -1, 2, -2, 3, -3, 10, 20, -5, -7, -6, -8]);
    const off = Int32Array.from([0, 3, 3, 4, 6]);
    expect(rows(segmentReduce(x, off, 'sum'))).toEqual([
      [6, -6],
      [0, 0],
      [10, 20],
      [-11, -15],
    ]);
    expect(rows(segmentReduce(x, off, 'mean'))).toEqual([
      [2, -2],
      [0, 0],
      [10, 20],
      [-5.5, -7.5],
    ]);
    expect(rows(segmentReduce(x, off, 'max'))).toEqual([
      [3, -1],
      [0, 0],
      [10, 20],
      [-5, -7],
    ]);
    const w = Float32Array.from([1, 0, 2, 0.5, 1, -1]);
    expect(rows(segmentReduce(x, off, 'sum', w))).toEqual([
      [7, -7],
      [0, 0],
      [5, 10],
      [1, 1],
    ]);
    expect(() => segmentReduce(x, Int32Array.from([0, 3, 5]), 'sum')).toThrow(RangeError);
  });

  it('softmax sums to 1 in every non-empty segment, per column, without overflow', () => {
    const r = rng(7);
    const off = Int32Array.from([0, 4, 4, 5, 12]);
    const x = randomMatrix(12, 3, r, 5);
    x.data[0] = 1000; // exp(1000) overflows unless the max is subtracted
    x.data[3] = 1001;
    const y = segmentSoftmax(x, off);
    for (let s = 0; s < 4; s++) {
      for (let f = 0; f < 3; f++) {
        let sum = 0;
        for (let i = off[s]; i < off[s + 1]; i++) sum += y.data[i * 3 + f];
        if (off[s + 1] > off[s]) expect(sum).toBeCloseTo(1, 6);
      }
    }
    expect(y.data[4 * 3]).toBe(1); // length-1 segment
    expect(y.data[0] / y.data[3]).toBeCloseTo(Math.exp(-1), 6);
    // Shift invariance: adding a constant to a segment changes nothing.
    const shifted = matrix(
      12,
      3,
      x.data.map((v, i) => (i >= 5 * 3 ? v + 3 : v)),
    );
    expectClose(segmentSoftmax(shifted, off).data, y.data, 1e-6);
  });
});

function randomLstm(F: number, r: () => number): LstmWeights {
  return { wIh: randomMatrix(2 * F, 4 * F, r, 0.5), wHh: randomMatrix(F, 4 * F, r, 0.5), b: randomMatrix(1, 4 * F, r, 0.2).data };
}

describe('LSTM and Set2Set', () => {
  it('LSTM cell follows the PyTorch equations (H = 1 by hand)', () => {
    const w: LstmWeights = { wIh: matrix(1, 4, [0.5, -1, 2, 1]), wHh: matrix(1, 4, [1, 1, -1, 0.5]), b: Float32Array.from([0.1, 0.2, 0.3, 0.4]) };
    const x = matrix(1, 1, [0.7]);
    const h = matrix(1, 1, [-0.3]);
    const c = matrix(1, 1, [0.9]);
    const z = [0.5 * 0.7 - 0.3 + 0.1, -0.7 - 0.3 + 0.2, 1.4 + 0.3 + 0.3, 0.7 - 0.15 + 0.4];
    const cNew = sigmoid(z[1]) * 0.9 + sigmoid(z[0]) * Math.tanh(z[2]);
    const out = lstmCell(x, h, c, w);
    expect(out.c.data[0]).toBeCloseTo(cNew, 6);
    expect(out.h.data[0]).toBeCloseTo(sigmoid(z[3]) * Math.tanh(cNew), 6);
  });

  it('converts PyTorch LSTM tensors (transposed weights, summed biases)', () => {
    const w = lstmFromTorch(matrix(4, 2, [1, 2, 3, 4, 5, 6, 7, 8]), matrix(4, 1, [9, 10, 11, 12]), Float32Array.of(1, 1, 1, 1), Float32Array.of(0, 1, 2, 3));
    expect(rows(w.wIh)).toEqual([
      [1, 3, 5, 7],
      [2, 4, 6, 8],
    ]);
    expect(rows(w.wHh)).toEqual([[9, 10, 11, 12]]);
    expect(Array.from(w.b)).toEqual([1, 2, 3, 4]);
  });

  it('matches the Set2Set equations written out for one graph', () => {
    const r = rng(3);
    const F = 2;
    const w = randomLstm(F, r);
    const x = randomMatrix(3, F, r);
    // Direct transcription, one graph, plain arrays.
    let h = [0, 0];
    let c = [0, 0];
    let q = [0, 0, 0, 0];
    for (let t = 0; t < 3; t++) {
      const z = Array.from({ length: 4 * F }, (_, j) => {
        let s = w.b[j];
        for (let i = 0; i < 2 * F; i++) s += q[i] * w.wIh.data[i * 4 * F + j];
        for (let i = 0; i < F; i++) s += h[i] * w.wHh.data[i * 4 * F + j];
        return s;
      });
      c = c.map((cv, j) => sigmoid(z[F + j]) * cv + sigmoid(z[j]) * Math.tanh(z[2 * F + j]));
      h = c.map((cv, j) => sigmoid(z[3 * F + j]) * Math.tanh(cv));
      const e = [0, 1, 2].map((i) => x.data[i * F] * h[0] + x.data[i * F + 1] * h[1]);
      const ex = e.map((v) => Math.exp(v));
      const a = ex.map((v) => v / (ex[0] + ex[1] + ex[2]));
      const rr = [0, 1].map((f) => a[0] * x.data[f] + a[1] * x.data[F + f] + a[2] * x.data[2 * F + f]);
      q = [...h, ...rr];
    }
    expectClose(set2set(x, Int32Array.from([0, 3]), w, 3).data, q, 1e-5);
  });

  it('is invariant to the order of nodes within a graph', () => {
    const r = rng(11);
    const F = 4;
    const w = randomLstm(F, r);
    const x = randomMatrix(9, F, r);
    const off = Int32Array.from([0, 5, 9]);
    const perm = Int32Array.from([4, 2, 0, 3, 1, 8, 6, 5, 7]); // shuffles within each graph
    expectClose(set2set(permuteRows(x, perm), off, w, 3).data, set2set(x, off, w, 3).data, 1e-6);
  });

  it('a batch of graphs equals each graph alone, and an empty graph reads out r = 0', () => {
    const r = rng(5);
    const F = 3;
    const w = randomLstm(F, r);
    const a = randomMatrix(4, F, r);
    const b = randomMatrix(7, F, r);
    const both = concatRowsForTest([a, b]);
    const batched = set2set(both, Int32Array.from([0, 4, 4, 11]), w, 2);
    const alone = [set2set(a, Int32Array.from([0, 4]), w, 2), set2set(matrix(0, F), Int32Array.from([0, 0]), w, 2), set2set(b, Int32Array.from([0, 7]), w, 2)];
    expectClose(batched.data, concatRowsForTest(alone).data, 1e-6);
    expect(Array.from(alone[1].data.subarray(F, 2 * F))).toEqual([0, 0, 0]);
  });
});

function concatRowsForTest(ms: Matrix[]): Matrix {
  return matrix(
    ms.reduce((n, m) => n + m.rows, 0),
    ms[0].cols,
    ms.flatMap((m) => Array.from(m.data)),
  );
}

describe('batching', () => {
  it('concatenates graphs, shifts indices and sorts edges by dst', () => {
    const g1 = {
      nodes: matrix(2, 1, [1, 2]),
      edges: matrix(2, 1, [10, 11]),
      src: Int32Array.from([0, 1]),
      dst: Int32Array.from([1, 0]),
      state: Float32Array.of(5),
    };
    const g2 = {
      nodes: matrix(3, 1, [3, 4, 5]),
      edges: matrix(3, 1, [12, 13, 14]),
      src: Int32Array.from([0, 1, 2]),
      dst: Int32Array.from([2, 2, 0]),
      state: Float32Array.of(6),
    };
    const bt = batchGraphs([g1, g2]);
    expect(bt.graphs).toBe(2);
    expect(Array.from(bt.dst)).toEqual([0, 1, 2, 4, 4]);
    expect(Array.from(bt.src)).toEqual([1, 0, 4, 2, 3]);
    expect(Array.from(bt.edges.data)).toEqual([11, 10, 14, 12, 13]);
    expect(Array.from(bt.nodeGraph)).toEqual([0, 0, 1, 1, 1]);
    expect(Array.from(bt.edgeGraph)).toEqual([0, 0, 1, 1, 1]);
    expect(Array.from(bt.nodeOffsets)).toEqual([0, 2, 5]);
    expect(Array.from(bt.edgeOffsets)).toEqual([0, 1, 2, 3, 3, 5]);
    expect(Array.from(bt.edgeGraphOffsets)).toEqual([0, 2, 5]);
    expect(Array.from(bt.state!.data)).toEqual([5, 6]);
    // Per-node mean of incoming edge features, batched = alone.
    expect(Array.from(segmentReduce(bt.edges, bt.edgeOffsets, 'mean').data)).toEqual([11, 10, 14, 0, 12.5]);
  });
});
