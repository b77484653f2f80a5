/**
 * The weight files of every MEGNet the app runs (format written by
 * models/mlcore/weights.py, contract in models/defects/REPRESENTATION.md): a
 * JSON manifest plus a float32 little-endian blob, tensors named after the
 * MegnetWeights fields. Format /2 holds an ensemble (the seeds of one
 * training run, tensors tagged with their member index); /1, one model
 * without member tags, is still read. What a model was trained on lives in
 * its manifest's `training`, whose shape each model defines (defects:
 * core/defects/model-file.ts; crystal properties: core/properties/model.ts).
 */
import type { DenseLayer, MegnetShape, MegnetWeights, Mlp } from './megnet';
import { matrix } from './types';

export const MODEL_FORMAT = 'latticelab-megnet/2';
const READABLE_FORMATS = ['latticelab-megnet/1', MODEL_FORMAT];
/** More members than this is not an ensemble of seeds but a malformed file. */
const MAX_MEMBERS = 64;

export interface TensorEntry {
  name: string;
  shape: number[];
  /** In float32 elements from the start of the .bin. */
  offset: number;
  /** Ensemble member the tensor belongs to (format /2; absent = 0). */
  member?: number;
}

/** The parts of a manifest every MEGNet weight file has. */
export interface WeightManifest {
  format: string;
  name: string;
  created: string;
  /** What the graph's nodes and edges mean, e.g. "sparse-defect/1", "crystal-full/1". */
  representation: string;
  shape: MegnetShape;
  set2setSteps: number;
  /** Ensemble size (format /2); absent = 1. */
  members?: number;
  targets: string[];
  normalization: { mean: number[]; std: number[] };
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

/**
 * Builds the MegnetWeights of every ensemble member from a manifest and its
 * blob, checking every name, shape and range. A /1 file gives one member.
 */
export function readModel(manifest: WeightManifest, blob: ArrayBuffer): MegnetWeights[] {
  if (!READABLE_FORMATS.includes(manifest.format))
    throw new ModelFileError(`unknown model format ${JSON.stringify(manifest.format)} (expected ${MODEL_FORMAT})`);
  if (blob.byteLength % 4 !== 0) throw new ModelFileError('the weight file is not a whole number of float32 values');
  const count = manifest.members ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_MEMBERS)
    throw new ModelFileError(`the model claims ${JSON.stringify(manifest.members)} members (1–${MAX_MEMBERS})`);
  const data = new Float32Array(blob);
  const byMember = Array.from({ length: count }, () => new Map<string, TensorEntry>());
  for (const t of manifest.tensors) {
    const m = t.member ?? 0;
    if (!Number.isInteger(m) || m < 0 || m >= count) throw new ModelFileError(`tensor ${t.name} belongs to member ${m}, but the model has ${count}`);
    if (byMember[m].has(t.name)) throw new ModelFileError(`member ${m} has two tensors ${t.name}`);
    byMember[m].set(t.name, t);
  }
  return byMember.map((byName, m) => readMember(manifest, data, byName, count > 1 ? `member ${m}: ` : ''));
}

function readMember(manifest: WeightManifest, data: Float32Array, byName: Map<string, TensorEntry>, where: string): MegnetWeights {
  const fail = (message: string) => new ModelFileError(where + message);
  const take = (name: string, shape: number[]): Float32Array => {
    const t = byName.get(name);
    if (!t) throw fail(`the model has no tensor ${name}`);
    if (t.shape.length !== shape.length || t.shape.some((d, k) => d !== shape[k])) throw fail(`tensor ${name} is [${t.shape}], expected [${shape}]`);
    const n = shape.reduce((a, b) => a * b, 1);
    if (!(t.offset >= 0) || t.offset + n > data.length) throw fail(`tensor ${name} runs past the end of the weight file`);
    const v = data.slice(t.offset, t.offset + n);
    if (!v.every(Number.isFinite)) throw fail(`tensor ${name} holds non-finite values`);
    return v;
  };
  const mlp = (prefix: string): Mlp => {
    const layers: DenseLayer[] = [];
    for (let k = 0; byName.has(`${prefix}.${k}.w`); k++) {
      const shape = byName.get(`${prefix}.${k}.w`)!.shape;
      if (shape.length !== 2) throw fail(`tensor ${prefix}.${k}.w is not a matrix`);
      layers.push({ w: matrix(shape[0], shape[1], take(`${prefix}.${k}.w`, shape)), b: take(`${prefix}.${k}.b`, [shape[1]]) });
    }
    if (!layers.length) throw fail(`the model has no layers ${prefix}.*`);
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
    blocks: Array.from({ length: manifest.shape.blocks }, (_, i) => ({
      edge: mlp(`blocks.${i}.edge`),
      node: mlp(`blocks.${i}.node`),
      state: mlp(`blocks.${i}.state`),
    })),
    set2setNodes: lstm('set2setNodes'),
    set2setEdges: lstm('set2setEdges'),
    set2setSteps: manifest.set2setSteps,
    readout: mlp('readout'),
  };
}

/** The inverse of readModel: manifest tensors + blob for an ensemble of one shape (tests, and models made in TypeScript). */
export function writeModel<M extends WeightManifest>(
  members: MegnetWeights[],
  meta: Omit<M, 'tensors' | 'format' | 'members'>,
): { manifest: M; blob: ArrayBuffer } {
  const parts: { name: string; member: number; shape: number[]; data: Float32Array }[] = [];
  members.forEach((weights, member) => {
    const add = (name: string, shape: number[], data: Float32Array) => parts.push({ name, member, shape, data });
    const addMlp = (prefix: string, layers: Mlp) =>
      layers.forEach((l, k) => {
        add(`${prefix}.${k}.w`, [l.w.rows, l.w.cols], l.w.data);
        add(`${prefix}.${k}.b`, [l.b.length], l.b);
      });
    for (const m of MLPS) addMlp(m, weights[m]);
    weights.blocks.forEach((b, i) => BLOCK_MLPS.forEach((m) => addMlp(`blocks.${i}.${m}`, b[m])));
    for (const [name, l] of [
      ['set2setNodes', weights.set2setNodes],
      ['set2setEdges', weights.set2setEdges],
    ] as const) {
      add(`${name}.wIh`, [l.wIh.rows, l.wIh.cols], l.wIh.data);
      add(`${name}.wHh`, [l.wHh.rows, l.wHh.cols], l.wHh.data);
      add(`${name}.b`, [l.b.length], l.b);
    }
  });
  const total = parts.reduce((n, p) => n + p.data.length, 0);
  const all = new Float32Array(total);
  const tensors: TensorEntry[] = [];
  let at = 0;
  for (const p of parts) {
    all.set(p.data, at);
    tensors.push({ name: p.name, member: p.member, shape: p.shape, offset: at });
    at += p.data.length;
  }
  return { manifest: { format: MODEL_FORMAT, ...meta, members: members.length, tensors } as unknown as M, blob: all.buffer };
}
