/**
 * The graph the crystal-property MEGNet reads ("crystal-full/1",
 * models/properties/graphs.py): one node per site with the one-hot of its
 * atomic number, one directed edge per neighbour closer than the cutoff
 * (both directions, every periodic image), edge feature = distance, and a
 * graph state of two zeros (MEGNet's Materials Project models carry no
 * temperature or pressure). The tests check these edges against the
 * pymatgen neighbour list the model was trained on.
 */
import type { Graph } from '../graph/batch';
import { structureGraph, type NodeFeaturizer } from '../graph/crystal-graph';
import type { Structure } from '../structure';

export const REPRESENTATION = 'crystal-full/1';
export const STATE_IN = 2;

/** One-hot of Z over 1..width (column Z − 1); an element beyond gets zeros (the model warns). */
export function oneHotZ(width: number): NodeFeaturizer {
  return (el) => {
    const row = new Array<number>(width).fill(0);
    if (el.Z >= 1 && el.Z <= width) row[el.Z - 1] = 1;
    return row;
  };
}

export function crystalGraph(s: Structure, cutoff: number, nodeIn: number): Graph {
  return structureGraph(s, cutoff, new Float32Array(STATE_IN), oneHotZ(nodeIn));
}
