/**
 * The sparse defect representation (models/defects/REPRESENTATION.md, after
 * Kazeev et al., npj Comput Mater 9, 113 (2023), whose dataset is 2DMD of
 * Huang et al., npj 2D Mater Appl 7, 6 (2023)): one graph node per defect
 * site, edges between defect sites (and their periodic images) closer than
 * 10 Å, and a global state naming the host and the defect concentration.
 * The Python training pipeline implements the same contract; fixture files
 * it writes are checked against this module in the tests.
 */
import type { Graph } from '../graph/batch';
import { matrix } from '../graph/types';
import type { Mat3, Vec3 } from '../math3';

export const HOSTS = ['MoS2', 'WSe2', 'hBN', 'GaSe', 'InSe', 'BP'] as const;
export type HostName = (typeof HOSTS)[number];

/** Element vocabulary: position = one-hot index, value = Z (0 = vacancy). */
export const VOCABULARY: readonly number[] = [0, 5, 6, 7, 8, 15, 16, 31, 34, 42, 49, 74, 52, 24, 41, 23];

export const EDGE_CUTOFF = 10; // Å, edges have distance strictly below
export const NODE_FEATURES = 2 * VOCABULARY.length + 1;
export const STATE_FEATURES = HOSTS.length + 1;

export interface DefectSite {
  /** Atomic number of the pristine atom at the site. */
  zOld: number;
  /** Atomic number now on the site; 0 for a vacancy. */
  zNew: number;
  /** Cartesian position of the pristine site (Å). */
  position: Vec3;
}

export interface DefectConfig {
  host: HostName;
  /** Supercell rows a, b, c (Å); periodic along a and b. */
  lattice: Mat3;
  pristineSites: number;
  /** Mean z (Å) of the pristine atoms: the host's middle plane. */
  zMid: number;
  defects: DefectSite[];
}

export class RepresentationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RepresentationError';
  }
}

function oneHot(z: number, what: string): number[] {
  const k = VOCABULARY.indexOf(z);
  if (k < 0) throw new RepresentationError(`${what}: element Z = ${z} is not in the model's vocabulary`);
  return VOCABULARY.map((_, i) => (i === k ? 1 : 0));
}

/** Node features of one defect: onehot(zNew) ++ onehot(zOld) ++ [(z − zMid) / 3]. */
export function nodeFeatures(d: DefectSite, zMid: number): number[] {
  return [...oneHot(d.zNew, 'new species'), ...oneHot(d.zOld, 'pristine species'), (d.position[2] - zMid) / 3];
}

/**
 * Edges i → j (+ in-plane image n) for every pair, i = j included except the
 * zero self-edge, with distance < EDGE_CUTOFF. Images are enumerated far
 * enough that every vector shorter than the cutoff is reached: |n_k| ≤
 * ceil(cutoff / h_k) + 1 with h_k the in-plane height of the 2-D cell.
 */
export function defectEdges(config: DefectConfig): { src: Int32Array; dst: Int32Array; dist: Float32Array } {
  const [a, b] = config.lattice;
  const area = Math.abs(a[0] * b[1] - a[1] * b[0]);
  if (!(area > 1e-6)) throw new RepresentationError('the supercell has no in-plane area');
  const ha = area / Math.hypot(b[0], b[1]);
  const hb = area / Math.hypot(a[0], a[1]);
  const ma = Math.ceil(EDGE_CUTOFF / ha) + 1;
  const mb = Math.ceil(EDGE_CUTOFF / hb) + 1;
  const src: number[] = [];
  const dst: number[] = [];
  const dist: number[] = [];
  const ds = config.defects;
  for (let i = 0; i < ds.length; i++) {
    for (let j = 0; j < ds.length; j++) {
      for (let na = -ma; na <= ma; na++) {
        for (let nb = -mb; nb <= mb; nb++) {
          if (i === j && na === 0 && nb === 0) continue;
          const v = [0, 1, 2].map((c) => ds[j].position[c] + na * a[c] + nb * b[c] - ds[i].position[c]);
          const d = Math.hypot(v[0], v[1], v[2]);
          if (d < EDGE_CUTOFF) {
            src.push(i);
            dst.push(j);
            dist.push(d);
          }
        }
      }
    }
  }
  return { src: Int32Array.from(src), dst: Int32Array.from(dst), dist: Float32Array.from(dist) };
}

export function stateFeatures(config: DefectConfig): number[] {
  const h = HOSTS.indexOf(config.host);
  if (h < 0) throw new RepresentationError(`unknown host ${config.host}`);
  if (!(config.pristineSites > 0)) throw new RepresentationError('the pristine supercell has no sites');
  return [...HOSTS.map((_, k) => (k === h ? 1 : 0)), (100 * config.defects.length) / config.pristineSites];
}

/** The graph a sparse-representation MEGNet reads. */
export function sparseDefectGraph(config: DefectConfig): Graph {
  if (config.defects.length === 0) throw new RepresentationError('a configuration needs at least one defect');
  const nodes = config.defects.map((d) => nodeFeatures(d, config.zMid));
  const { src, dst, dist } = defectEdges(config);
  return {
    nodes: matrix(nodes.length, NODE_FEATURES, nodes.flat()),
    edges: matrix(dist.length, 1, dist),
    src,
    dst,
    state: Float32Array.from(stateFeatures(config)),
  };
}
