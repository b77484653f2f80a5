/**
 * Reading (and, for tests, writing) the model weight files of
 * models/defects/REPRESENTATION.md: a JSON manifest plus a float32
 * little-endian blob, tensors named after the MegnetWeights fields.
 */
import type { DenseLayer, MegnetShape, MegnetWeights, Mlp } from '../graph/megnet';
import { matrix } from '../graph/types';

export const MODEL_FORMAT = 'latticelab-megnet/1';

export interface TensorEntry {
  name: string;
  shape: number[];
  /** In float32 elements from the start of the .bin. */
  offset: number;
}

export interface TrainingInfo {
  structures: number;
  hosts: string[];
  elements: number[];
  maxDefects: number;
  /** Range of defects per 100 pristine sites in the training data. */
  concentration?: [number, number];
  dataset?: string;
  split?: string;
  /** Training structures per host; the app warns when a host has only a few. */
  hostCounts?: Record<string, number>;
  /** Set when the exported weights were pretrained on cheaper labels (GFN0-xTB) before the DFT fine-tuning. */
  pretrained?: string;
}

export interface ModelManifest {
  format: string;
  name: string;
  created: string;
  representation: string;
  shape: MegnetShape;
  set2setSteps: number;
  targets: string[];
  normalization: { mean: number[]; std: number[] };
  training: TrainingInfo;
  /** In-plane lattice parameter (Å) of each host in the training data. */
  hostLattice?: Record<string, number>;
  tensors: TensorEntry[];
}

export class ModelFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFileError';
  }
}

const MLPS = ['nodeEncoder', 'edgeEncoder', 'stateEncoder', 'readout'] as const;
const BLOCK_MLPS = ['edge', 'node', 'state'] as const;

/** Builds MegnetWeights from a manifest and its blob, checking every name, shape and range. */
export function readModel(manifest: ModelManifest, blob: ArrayBuffer): MegnetWeights {
  if (manifest.format !== MODEL_FORMAT) throw new ModelFileError(`unknown model format ${JSON.stringify(manifest.format)} (expected ${MODEL_FORMAT})`);
  if (blob.byteLength % 4 !== 0) throw new ModelFileError('the weight file is not a whole number of float32 values');
  const data = new Float32Array(blob);
  const byName = new Map(manifest.tensors.map((t) => [t.name, t]));
  const take = (name: string, shape: number[]): Float32Array => {
    const t = byName.get(name);
    if (!t) throw new ModelFileError(`the model has no tensor ${name}`);
    if (t.shape.length !== shape.length || t.shape.some((d, k) => d !== shape[k])) throw new ModelFileError(`tensor ${name} is [${t.shape}], expected [${shape}]`);
    const n = shape.reduce((a, b) => a * b, 1);
    if (!(t.offset >= 0) || t.offset + n > data.length) throw new ModelFileError(`tensor ${name} runs past the end of the weight file`);
    const v = data.slice(t.offset, t.offset + n);
    if (!v.every(Number.isFinite)) throw new ModelFileError(`tensor ${name} holds non-finite values`);
    return v;
  };
  const mlp = (prefix: string): Mlp => {
    const layers: DenseLayer[] = [];
    for (let k = 0; byName.has(`${prefix}.${k}.w`); k++) {
      const shape = byName.get(`${prefix}.${k}.w`)!.shape;
      if (shape.length !== 2) throw new ModelFileError(`tensor ${prefix}.${k}.w is not a matrix`);
      layers.push({ w: matrix(shape[0], shape[1], take(`${prefix}.${k}.w`, shape)), b: take(`${prefix}.${k}.b`, [shape[1]]) });
    }
    if (!layers.length) throw new ModelFileError(`the model has no layers ${prefix}.*`);
    return layers;
  };
  const F = manifest.shape.features;
  const lstm = (prefix: string) => ({
    wIh: matrix(2 * F, 4 * F, take(`${prefix}.wIh`, [2 * F, 4 * F])),
    wHh: matrix(F, 4 * F, take(`${prefix}.wHh`, [F, 4 * F])),
    b: take(`${prefix}.b`, [4 * F]),
  });
  const { cutoff, rbf } = manifest.shape;
  return {
    basis: { rMin: 0, rMax: cutoff, count: rbf, width: rbf > 1 ? cutoff / (rbf - 1) : cutoff },
    nodeEncoder: mlp('nodeEncoder'),
    edgeEncoder: mlp('edgeEncoder'),
    stateEncoder: mlp('stateEncoder'),
    blocks: Array.from({ length: manifest.shape.blocks }, (_, i) => ({ edge: mlp(`blocks.${i}.edge`), node: mlp(`blocks.${i}.node`), state: mlp(`blocks.${i}.state`) })),
    set2setNodes: lstm('set2setNodes'),
    set2setEdges: lstm('set2setEdges'),
    set2setSteps: manifest.set2setSteps,
    readout: mlp('readout'),
  };
}

/** The inverse of readModel: manifest tensors + blob (tests, and models made in TypeScript). */
export function writeModel(weights: MegnetWeights, meta: Omit<ModelManifest, 'tensors' | 'format'>): { manifest: ModelManifest; blob: ArrayBuffer } {
  const parts: { name: string; shape: number[]; data: Float32Array }[] = [];
  const addMlp = (prefix: string, layers: Mlp) =>
    layers.forEach((l, k) => {
      parts.push({ name: `${prefix}.${k}.w`, shape: [l.w.rows, l.w.cols], data: l.w.data });
      parts.push({ name: `${prefix}.${k}.b`, shape: [l.b.length], data: l.b });
    });
  for (const m of MLPS) addMlp(m, weights[m]);
  weights.blocks.forEach((b, i) => BLOCK_MLPS.forEach((m) => addMlp(`blocks.${i}.${m}`, b[m])));
  for (const [name, l] of [['set2setNodes', weights.set2setNodes], ['set2setEdges', weights.set2setEdges]] as const) {
    parts.push({ name: `${name}.wIh`, shape: [l.wIh.rows, l.wIh.cols], data: l.wIh.data });
    parts.push({ name: `${name}.wHh`, shape: [l.wHh.rows, l.wHh.cols], data: l.wHh.data });
    parts.push({ name: `${name}.b`, shape: [l.b.length], data: l.b });
  }
  const total = parts.reduce((n, p) => n + p.data.length, 0);
  const all = new Float32Array(total);
  const tensors: TensorEntry[] = [];
  let at = 0;
  for (const p of parts) {
    all.set(p.data, at);
    tensors.push({ name: p.name, shape: p.shape, offset: at });
    at += p.data.length;
  }
  return { manifest: { format: MODEL_FORMAT, ...meta, tensors }, blob: all.buffer };
}
