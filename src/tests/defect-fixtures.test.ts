/**
 * The contract of models/defects/REPRESENTATION.md, checked against what the
 * Python pipeline wrote: the same sparse graph from the same configuration,
 * and the exported ensemble's PyTorch outputs (each member's and their mean)
 * reproduced by the TypeScript MEGNet (CPU reference) and by
 * onnxruntime-web's WASM provider in Node.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, loadModel } from '../cli/predict';
import { batchGraphs } from '../core/graph/batch';
import { type DefectConfig, sparseDefectGraph } from '../core/defects/representation';
import { toTrainingGeometry } from '../core/defects/predict';

interface Fixture {
  config: DefectConfig;
  graph: { nodes: number[][]; src: number[]; dst: number[]; dist: number[]; state: number[] };
  output: number[];
  members: number[][];
}

const fixtures = JSON.parse(readFileSync(fileURLToPath(new URL('../../models/defects/fixtures/sparse-graphs.json', import.meta.url)), 'utf8')) as Fixture[];

/** Edges as sorted "src,dst,distance" strings (order is not part of the contract). */
const edgeSet = (src: ArrayLike<number>, dst: ArrayLike<number>, dist: ArrayLike<number>) =>
  Array.from(src, (s, k) => `${s},${dst[k]},${dist[k].toFixed(4)}`).sort();

describe('sparse-defect fixtures from the Python pipeline', () => {
  it('has fixtures, including a zero-edge graph', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(5);
    expect(fixtures.some((f) => f.graph.src.length === 0)).toBe(true);
  });

  it('rebuilds the same graph from each configuration', () => {
    for (const f of fixtures) {
      const g = sparseDefectGraph(f.config);
      expect(g.nodes.rows).toBe(f.graph.nodes.length);
      f.graph.nodes.flat().forEach((x, k) => expect(g.nodes.data[k]).toBeCloseTo(x, 5));
      expect(Array.from(g.state!)).toEqual(f.graph.state.map((x) => Math.fround(x)));
      expect(edgeSet(g.src, g.dst, g.edges.data)).toEqual(edgeSet(f.graph.src, f.graph.dst, f.graph.dist));
    }
  });

  it('reproduces the PyTorch outputs with the exported weights (CPU reference), every member and their mean', () => {
    const model = loadModel(DEFAULT_MODEL);
    for (const f of fixtures) {
      expect(model.members.length).toBe(f.members.length);
      const seen = toTrainingGeometry(f.config, model.manifest.hostLattice?.[f.config.host]);
      const each = model.forwardMembers(batchGraphs([sparseDefectGraph(seen)]));
      const T = model.manifest.targets.length;
      expect(f.output).toHaveLength(T);
      each.forEach((y, m) => {
        expect(y).toHaveLength(T);
        for (let t = 0; t < T; t++) expect(Math.abs(y[t] - f.members[m][t])).toBeLessThan(1e-4);
      });
      const p = model.predict(f.config);
      expect(Math.abs(p.formationEnergy - f.output[0])).toBeLessThan(1e-4);
      expect(Math.abs(p.gap - f.output[1])).toBeLessThan(1e-4);
      if (T === 4) {
        expect(Math.abs(p.levels!.homo - f.output[2])).toBeLessThan(1e-4);
        expect(Math.abs(p.levels!.lumo - f.output[3])).toBeLessThan(1e-4);
      } else expect(p.levels).toBeNull();
    }
  });

  it('reproduces them with the ONNX export on onnxruntime-web (WASM, in Node)', async () => {
    const ort = await import('onnxruntime-web');
    const bytes = readFileSync(fileURLToPath(new URL('../../models/defects/export/megnet-sparse.onnx', import.meta.url)));
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    for (const f of fixtures) {
      const N = f.graph.nodes.length;
      const E = f.graph.dist.length;
      const out = await session.run({
        nodes: new ort.Tensor('float32', Float32Array.from(f.graph.nodes.flat()), [N, 33]),
        src: new ort.Tensor('int64', BigInt64Array.from(f.graph.src.map(BigInt)), [E]),
        dst: new ort.Tensor('int64', BigInt64Array.from(f.graph.dst.map(BigInt)), [E]),
        dist: new ort.Tensor('float32', Float32Array.from(f.graph.dist), [E]),
        state: new ort.Tensor('float32', Float32Array.from(f.graph.state), [1, 7]),
      });
      const y = out.y.data as Float32Array;
      const T = f.output.length;
      for (let t = 0; t < T; t++) expect(Math.abs(y[t] - f.output[t])).toBeLessThan(1e-4);
      const each = out.members.data as Float32Array;
      expect(out.members.dims).toEqual([f.members.length, T]);
      f.members.flat().forEach((v, k) => expect(Math.abs(each[k] - v)).toBeLessThan(1e-4));
    }
  }, 60_000);
});
