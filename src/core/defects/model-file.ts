/**
 * Reading (and, for tests, writing) the model weight files of
 * models/defects/REPRESENTATION.md: a JSON manifest plus a float32
 * little-endian blob, tensors named after the MegnetWeights fields. Format /2
 * holds an ensemble (the seeds of one training run, tensors tagged with their
 * member index); /1, one model without member tags, is still read.
 */
import type { DenseLayer, MegnetShape, MegnetWeights, Mlp } from '../graph/megnet';
import { matrix } from '../graph/types';

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

/** How the members' spread related to the error on the test split (train.py spread_check). */
export interface SpreadCheck {
  /** Mean spread (std over members), eV. */
  meanSpread: number;
  /** MAE of the members' mean, eV. */
  mae: number;
  /** Share of test structures whose error is within 1× / 2× the spread. */
  within1: number;
  within2: number;
  /** Spearman rank correlation between spread and |error|. */
  spearman: number | null;
  n: number;
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
  /** Which training variant the members come from, and their seeds. */
  variant?: string;
  seeds?: number[];
  /** Per member (same order as `seeds`), the variant it was trained as; a mixed ensemble has more than one. */
  memberVariants?: string[];
  /** Per member (same order as `seeds`), whether it was pretrained on cheaper labels first (train.py after session 16). */
  memberPretrained?: boolean[];
  /** Test MAE (eV) of the members' mean, by target name. */
  testMae?: Record<string, number>;
  /** Per target name, on the test split. */
  spread?: Record<string, SpreadCheck>;
}

/**
 * How an ensemble's members differ, for the prediction panel: seeds only, or
 * also how they were trained (session 14 exports plain and GFN0-xTB
 * pretrained seeds together). Files from before session 16 have no
 * `memberPretrained` flags; their variant names are matched instead.
 */
export function describeMembers(training: TrainingInfo): string {
  const variants = training.memberVariants ?? [];
  const kinds = new Set(variants).size;
  if (kinds < 2) return 'trained from different random starts';
  const flags = training.memberPretrained?.length === variants.length
    ? training.memberPretrained
    : variants.map((v) => /pretrain/i.test(v));
  const pretrained = flags.filter(Boolean).length;
  return pretrained > 0 && pretrained < variants.length
    ? `trained from different random starts, ${pretrained} of them pretrained on cheaper labels first`
    : `trained from different random starts in ${kinds} ways`;
}

export interface ModelManifest {
  format: string;
  name: string;
  created: string;
  representation: string;
  shape: MegnetShape;
  set2setSteps: number;
  /** Ensemble size (format /2); absent = 1. */
  members?: number;
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

/**
 * Builds the MegnetWeights of every ensemble member from a manifest and its
 * blob, checking every name, shape and range. A /1 file gives one member.
 */
export function readModel(manifest: ModelManifest, blob: ArrayBuffer): MegnetWeights[] {
  if (!READABLE_FORMATS.includes(manifest.format)) throw new ModelFileError(`unknown model format ${JSON.stringify(manifest.format)} (expected ${MODEL_FORMAT})`);
  if (blob.byteLength % 4 !== 0) throw new ModelFileError('the weight file is not a whole number of float32 values');
  const count = manifest.members ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_MEMBERS) throw new ModelFileError(`the model claims ${JSON.stringify(manifest.members)} members (1–${MAX_MEMBERS})`);
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

function readMember(manifest: ModelManifest, data: Float32Array, byName: Map<string, TensorEntry>, where: string): MegnetWeights {
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
    blocks: Array.from({ length: manifest.shape.blocks }, (_, i) => ({ edge: mlp(`blocks.${i}.edge`), node: mlp(`blocks.${i}.node`), state: mlp(`blocks.${i}.state`) })),
    set2setNodes: lstm('set2setNodes'),
    set2setEdges: lstm('set2setEdges'),
    set2setSteps: manifest.set2setSteps,
    readout: mlp('readout'),
  };
}

/** The inverse of readModel: manifest tensors + blob for an ensemble of one shape (tests, and models made in TypeScript). */
export function writeModel(members: MegnetWeights[], meta: Omit<ModelManifest, 'tensors' | 'format' | 'members'>): { manifest: ModelManifest; blob: ArrayBuffer } {
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
    for (const [name, l] of [['set2setNodes', weights.set2setNodes], ['set2setEdges', weights.set2setEdges]] as const) {
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
  return { manifest: { format: MODEL_FORMAT, ...meta, members: members.length, tensors }, blob: all.buffer };
}
