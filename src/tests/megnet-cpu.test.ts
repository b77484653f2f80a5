import { describe, expect, it } from 'vitest';
import { batchGraphs, type Graph } from '../core/graph/batch';
import { megnetForward, randomMegnet, seededRandom } from '../core/graph/megnet';
import { matrix } from '../core/graph/types';
import { neighborListCpu } from '../core/neighbors/cpu';
import { builtinById } from '../core/library/builtins';
import { repeat } from '../core/structure';

const shape = { nodeIn: 4, stateIn: 2, rbf: 10, cutoff: 5, hidden: 16, features: 8, blocks: 2, outputs: 2 };

/** A crystal graph: one-hot-ish node features from the element, edges from the CPU neighbour list. */
function crystalGraph(id: string, reps: [number, number, number], seed: number): Graph {
  const s = repeat(builtinById(id)!.build(), reps);
  const nl = neighborListCpu({ lattice: s.lattice.matrix, pbc: s.pbc, frac: s.frac, cutoff: shape.cutoff });
  const rand = seededRandom(seed);
  const kinds = [...new Set(s.species)];
  const nodes = matrix(
    s.numSites,
    shape.nodeIn,
    s.species.flatMap((el) => [kinds.indexOf(el) === 0 ? 1 : 0, kinds.indexOf(el) === 1 ? 1 : 0, rand(), 0.5]),
  );
  return { nodes, edges: matrix(nl.count, 1, nl.dist), src: nl.src, dst: nl.dst, state: Float32Array.from([0.3, -0.2]) };
}

function permuteNodes(g: Graph, perm: number[]): Graph {
  // New node k is old node perm[k].
  const inv = new Int32Array(perm.length);
  perm.forEach((old, k) => (inv[old] = k));
  const nodes = matrix(g.nodes.rows, g.nodes.cols);
  perm.forEach((old, k) => nodes.data.set(g.nodes.data.subarray(old * g.nodes.cols, (old + 1) * g.nodes.cols), k * g.nodes.cols));
  return { ...g, nodes, src: g.src.map((i) => inv[i]), dst: g.dst.map((i) => inv[i]) };
}

describe('MEGNet forward (CPU reference)', () => {
  const w = randomMegnet(shape, 7);
  const mos2 = crystalGraph('mos2-monolayer', [3, 3, 1], 1);
  const si = crystalGraph('si', [1, 1, 1], 2);

  it('gives one finite output row per graph', () => {
    const y = megnetForward(w, batchGraphs([mos2]));
    expect([y.rows, y.cols]).toEqual([1, 2]);
    expect([...y.data].every(Number.isFinite)).toBe(true);
  });

  it('is invariant to the order of atoms', () => {
    const rand = seededRandom(3);
    const perm = [...Array(mos2.nodes.rows).keys()].sort(() => rand() - 0.5);
    const a = megnetForward(w, batchGraphs([mos2])).data;
    const b = megnetForward(w, batchGraphs([permuteNodes(mos2, perm)])).data;
    a.forEach((x, k) => expect(b[k]).toBeCloseTo(x, 4));
  });

  it('batching graphs gives the same outputs as running each alone', () => {
    const both = megnetForward(w, batchGraphs([mos2, si])).data;
    const alone = [...megnetForward(w, batchGraphs([mos2])).data, ...megnetForward(w, batchGraphs([si])).data];
    alone.forEach((x, k) => expect(both[k]).toBeCloseTo(x, 5));
  });

  it('sees a defect: removing an atom changes the output', () => {
    const s = repeat(builtinById('mos2-monolayer')!.build(), [3, 3, 1]);
    const keep = [...Array(s.numSites).keys()].filter((i) => i !== 1);
    const v = s.with({ species: keep.map((i) => s.species[i]), frac: keep.map((i) => s.frac[i]) });
    const nl = neighborListCpu({ lattice: v.lattice.matrix, pbc: v.pbc, frac: v.frac, cutoff: shape.cutoff });
    const nodes = matrix(
      v.numSites,
      shape.nodeIn,
      keep.flatMap((i) => [...mos2.nodes.data.subarray(i * shape.nodeIn, (i + 1) * shape.nodeIn)]),
    );
    const vac = megnetForward(w, batchGraphs([{ nodes, edges: matrix(nl.count, 1, nl.dist), src: nl.src, dst: nl.dst, state: mos2.state }])).data;
    const pristine = megnetForward(w, batchGraphs([mos2])).data;
    expect(Math.abs(vac[0] - pristine[0]) + Math.abs(vac[1] - pristine[1])).toBeGreaterThan(1e-4);
  });
});
