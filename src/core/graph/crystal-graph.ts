/**
 * From a Structure to the graph a MEGNet reads: one node per site, one
 * directed edge per neighbour within the cutoff (both directions, periodic
 * images included), edge feature = distance. Node features default to a
 * small physical descriptor of the element, so that untrained benchmarks and
 * parity tests see realistic, non-constant inputs; trained models bring
 * their own featuriser.
 */
import { elementBySymbol, type Element } from '../elements';
import { neighborListCpu } from '../neighbors/cpu';
import type { EdgeList } from '../neighbors/types';
import type { Structure } from '../structure';
import type { Graph } from './batch';
import { matrix } from './types';

export type NodeFeaturizer = (element: Element) => number[];

/** Z, Pauling electronegativity, covalent radius and mass, each scaled to about [0, 1]. */
export const basicFeatures: NodeFeaturizer = (el) => [el.Z / 100, (el.electronegativity ?? 0) / 4, el.covalentRadius / 2.5, el.mass / 250];

/** A graph from a structure and its neighbour list (from either backend). */
export function graphFromEdges(s: Structure, edges: EdgeList, state: Float32Array, featurize: NodeFeaturizer = basicFeatures): Graph {
  const rows = s.species.map((symbol, i) => {
    const el = elementBySymbol(symbol);
    if (!el) throw new RangeError(`site ${i}: unknown element ${symbol}`);
    return featurize(el);
  });
  const cols = rows[0]?.length ?? featurize(elementBySymbol('H')!).length;
  return { nodes: matrix(s.numSites, cols, rows.flat()), edges: matrix(edges.count, 1, edges.dist), src: edges.src, dst: edges.dst, state };
}

/** The graph of a structure with edges from the CPU neighbour list. */
export function structureGraph(s: Structure, cutoff: number, state: Float32Array, featurize: NodeFeaturizer = basicFeatures): Graph {
  const edges = neighborListCpu({ lattice: s.lattice.matrix, pbc: s.pbc, frac: s.frac, cutoff });
  return graphFromEdges(s, edges, state, featurize);
}
