/**
 * Predictions of the sparse-representation MEGNet for a defect
 * configuration, with a plain statement of how far the configuration is from
 * what the model was trained on. The shipped model is an ensemble (the seeds
 * of one training run): the prediction is the members' mean, which has been
 * more accurate on the test split than a single seed (models/RESULTS.md, the
 * "mean of the seeds' predictions" rows), and their spread is the
 * uncertainty shown beside it. The graphs are a handful of nodes, so the CPU
 * reference is the fast path (a GPU round trip costs more than the whole
 * forward; bench/RESULTS.md).
 */
import { batchGraphs, type GraphBatch } from '../graph/batch';
import { megnetForward, type MegnetWeights } from '../graph/megnet';
import { elementByZ } from '../elements';
import { type ModelManifest, readModel } from './model-file';
import { type DefectConfig, sparseDefectGraph } from './representation';

export interface DefectPrediction {
  /** Formation energy per defect site, eV. */
  formationEnergy: number;
  /** HOMO−LUMO gap, eV. */
  gap: number;
  /** Number of ensemble members averaged. */
  members: number;
  /** Standard deviation over the members (eV; population, ddof 0); null for a single model. */
  spread: { formationEnergy: number; gap: number } | null;
  /**
   * The configuration's HOMO and LUMO relative to the pristine host's
   * valence band maximum (eV; the 2DMD normalisation), with the members'
   * spread; null for a model file without these outputs.
   */
  levels: { homo: number; lumo: number; spread: { homo: number; lumo: number } | null } | null;
  /** Wall time of featurisation + forward, ms. */
  ms: number;
  /** Why the configuration is outside what the model has seen; empty when inside. */
  outOfDomain: string[];
}

/**
 * The configuration as the model was trained to see it: the app's built-in
 * hosts use published lattice parameters (e.g. MoS2 a = 3.16 Å, experiment)
 * while the training data used its own (3.19 Å, PBE); distances between
 * defects are the model's input, so the in-plane geometry is scaled to the
 * training lattice parameter (n·a_train over the supercell's a length).
 */
export function toTrainingGeometry(config: DefectConfig, aTrain: number | undefined): DefectConfig {
  if (!aTrain) return config;
  const [a, b, c] = config.lattice;
  const length = Math.hypot(a[0], a[1], a[2]);
  const n = Math.max(1, Math.round(length / aTrain));
  const s = (n * aTrain) / length;
  if (Math.abs(s - 1) < 1e-9) return config;
  const inPlane = (v: readonly number[]): [number, number, number] => [v[0] * s, v[1] * s, v[2]];
  return {
    ...config,
    lattice: [inPlane(a), inPlane(b), [...c] as [number, number, number]],
    defects: config.defects.map((d) => ({ ...d, position: inPlane(d.position) })),
  };
}

/**
 * Below this many training structures of a host, its predictions get a
 * warning: a handful of points cannot pin a host's own offsets (its chemical
 * potentials, its band edges) even when other hosts are well covered.
 */
const FEW_PER_HOST = 20;

export class DefectModel {
  /** One MegnetWeights per ensemble member. */
  readonly members: MegnetWeights[];

  constructor(
    readonly manifest: ModelManifest,
    blob: ArrayBuffer,
  ) {
    this.members = readModel(manifest, blob);
    const t = manifest.targets;
    const levels = t.length === 4 && /^homo/.test(t[2]) && /^lumo/.test(t[3]);
    if (!(t.length === 2 || levels) || !/formation/.test(t[0]) || !/gap/.test(t[1]))
      throw new Error(`the model predicts ${t.join(', ')}, not formation energy and gap (and optionally the HOMO and LUMO)`);
    this.hasLevels = levels;
  }

  /** Whether the model also predicts the defect levels (HOMO, LUMO relative to the host's VBM). */
  readonly hasLevels: boolean;

  /** Reasons a configuration lies outside the training data (new host or elements, more defects). */
  domainWarnings(config: DefectConfig): string[] {
    const tr = this.manifest.training;
    const out: string[] = [];
    if (!tr.hosts.includes(config.host)) out.push(`the model was not trained on ${config.host} (only ${tr.hosts.join(', ')})`);
    else {
      const n = tr.hostCounts?.[config.host];
      if (n !== undefined && n < FEW_PER_HOST) out.push(`it has seen only ${n} ${config.host} structure${n === 1 ? '' : 's'}`);
    }
    const seen = new Set(tr.elements);
    const fresh = [...new Set(config.defects.map((d) => d.zNew).filter((z) => z !== 0 && !seen.has(z)))];
    if (fresh.length) out.push(`it has never seen ${fresh.map((z) => elementByZ(z)?.symbol ?? z).join(', ')} as a substituent`);
    if (config.defects.length > tr.maxDefects) out.push(`${config.defects.length} defects; it was trained on at most ${tr.maxDefects}`);
    if (tr.concentration) {
      const c = (100 * config.defects.length) / config.pristineSites;
      const [lo, hi] = tr.concentration;
      // 1 % slack: the same supercell and count must not warn from rounding.
      if (c < lo * 0.99 || c > hi * 1.01) out.push(`${c.toFixed(1)} defects per 100 sites; it was trained on ${lo.toFixed(1)}–${hi.toFixed(1)}`);
    }
    if (tr.structures < 100) out.push(`it was trained on only ${tr.structures} structures, so every prediction is rough`);
    return out;
  }

  predict(config: DefectConfig): DefectPrediction {
    const t0 = performance.now();
    const seen = toTrainingGeometry(config, this.manifest.hostLattice?.[config.host]);
    const each = this.forwardMembers(batchGraphs([sparseDefectGraph(seen)]));
    const [ef, gap, homo, lumo] = this.manifest.targets.map((_, t) => meanAndSpread(each.map((y) => y[t])));
    const several = each.length > 1;
    return {
      formationEnergy: ef.mean,
      gap: gap.mean,
      members: each.length,
      spread: several ? { formationEnergy: ef.spread, gap: gap.spread } : null,
      levels: this.hasLevels ? { homo: homo.mean, lumo: lumo.mean, spread: several ? { homo: homo.spread, lumo: lumo.spread } : null } : null,
      ms: performance.now() - t0,
      outOfDomain: this.domainWarnings(config),
    };
  }

  /**
   * Every member's de-normalised outputs for one batch: [member][graph·T + target], T = manifest.targets.length.
   * The GPU path (GpuMegnet) is checked against this per member in e2e.
   */
  forwardMembers(batch: GraphBatch): Float64Array[] {
    return this.members.map((w) => this.denormalise(megnetForward(w, batch).data));
  }

  /** Raw outputs [graph·T + target] in eV: y · std + mean (REPRESENTATION.md); the GPU path shares it. */
  denormalise(raw: ArrayLike<number>): Float64Array {
    const { mean, std } = this.manifest.normalization;
    const T = this.manifest.targets.length;
    return Float64Array.from(raw, (v, k) => v * std[k % T] + mean[k % T]);
  }
}

/** Mean and population standard deviation (the ensemble's spread). */
export function meanAndSpread(xs: readonly number[]): { mean: number; spread: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const spread = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length);
  return { mean, spread };
}
