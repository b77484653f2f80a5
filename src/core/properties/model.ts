/**
 * The project's crystal-property MEGNet (models/properties/): formation
 * energy, band gap and energy above the hull of any crystal from its full
 * periodic graph, as the mean of an ensemble (independently trained seeds)
 * with the members' spread as a rough uncertainty (models/RESULTS.md says
 * how often the test errors fell within it). This file is the CPU path; the
 * WebGPU path (src/gpu/graph/megnet.ts) runs the same weights and is checked
 * against it.
 */
import { batchGraphs, type Graph, type GraphBatch } from '../graph/batch';
import { megnetForward, megnetReadout, type MegnetTrunk, type MegnetWeights } from '../graph/megnet';
import { readModel, type WeightManifest } from '../graph/weights-file';
import { elementBySymbol } from '../elements';
import type { Structure } from '../structure';
import { crystalGraph, REPRESENTATION } from './graph';

/** What the manifest says about the training data (models/properties/export.py). */
export interface PropertyTrainingInfo {
  dataset: string;
  split: string;
  /** Training crystals. */
  structures: number;
  /** Atomic numbers present in the training crystals. */
  elements: number[];
  /** Most sites of any training crystal. */
  maxAtoms: number;
  seeds?: number[];
  /** Test MAE of the ensemble's mean, by manifest target name. */
  testMae?: Record<string, number>;
  spread?: Record<string, { meanSpread: number; mae: number; within1: number; within2: number; n: number }>;
}

export interface PropertyManifest extends WeightManifest {
  training: PropertyTrainingInfo;
}

/** The three properties the app shows, keyed by the manifest's target names. */
export const PROPERTY_TARGETS = {
  formation_energy_eV_per_atom: { key: 'eform', label: 'Formation energy', unit: 'eV/atom', nonNegative: false },
  band_gap_eV: { key: 'gap', label: 'Band gap', unit: 'eV', nonNegative: true },
  energy_above_hull_eV_per_atom: { key: 'ehull', label: 'Energy above hull', unit: 'eV/atom', nonNegative: true },
} as const;

export type PropertyKey = (typeof PROPERTY_TARGETS)[keyof typeof PROPERTY_TARGETS]['key'];

export interface PredictedValue {
  key: PropertyKey;
  label: string;
  unit: string;
  /**
   * Mean over the members; a band gap or hull energy below zero (which the
   * regression can produce for metals and stable crystals) is shown as 0,
   * since neither can be negative.
   */
  value: number;
  /** The members' mean before that clamp. */
  raw: number;
  /** Standard deviation over the members (population); null for one model. */
  spread: number | null;
}

export interface PropertyPrediction {
  values: PredictedValue[];
  members: number;
  /** Why the structure is outside what the model saw; empty when inside. */
  outOfDomain: string[];
}

/** Empty space thicker than this along a periodic axis reads as a vacuum layer (a slab), not a bulk crystal. */
export const VACUUM_ANGSTROM = 6;

/**
 * The thickest empty layer along each periodic axis (Å, perpendicular to
 * the other two axes), from the largest gap between the sites' wrapped
 * fractional coordinates along it.
 */
export function vacuumGaps(s: Structure): number[] {
  const m = s.lattice.matrix;
  const volume = Math.abs(s.lattice.volume);
  return [0, 1, 2].map((k) => {
    if (!s.pbc[k] || s.numSites === 0) return 0;
    const [i, j] = [(k + 1) % 3, (k + 2) % 3];
    const a = m[i];
    const b = m[j];
    const cross = Math.hypot(a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]);
    const height = volume / cross;
    const f = s.frac.map((p) => p[k] - Math.floor(p[k])).sort((x, y) => x - y);
    let gap = f[0] + 1 - f[f.length - 1];
    for (let n = 1; n < f.length; n++) gap = Math.max(gap, f[n] - f[n - 1]);
    return gap * height;
  });
}

export class PropertyModel {
  readonly members: MegnetWeights[];
  /** Manifest target order → what the app calls it. */
  private readonly targets: (typeof PROPERTY_TARGETS)[keyof typeof PROPERTY_TARGETS][];

  constructor(
    readonly manifest: PropertyManifest,
    /** The weight file's bytes, kept so a derived file (the ONNX trunk) can be checked against them. */
    readonly weights: ArrayBuffer,
  ) {
    if (manifest.representation !== REPRESENTATION)
      throw new Error(`the property model reads ${JSON.stringify(manifest.representation)} graphs, not ${REPRESENTATION}`);
    this.members = readModel(manifest, weights);
    this.targets = manifest.targets.map((t) => {
      const known = (PROPERTY_TARGETS as Record<string, (typeof PROPERTY_TARGETS)[keyof typeof PROPERTY_TARGETS]>)[t];
      if (!known) throw new Error(`the property model predicts ${JSON.stringify(t)}, which the app does not know`);
      return known;
    });
    if (manifest.normalization.mean.length !== this.targets.length || manifest.normalization.std.length !== this.targets.length)
      throw new Error('the property model’s normalisation does not match its targets');
  }

  get cutoff(): number {
    return this.manifest.shape.cutoff;
  }

  /** The structure's graph as the model reads it (throws on an unknown element). */
  graph(s: Structure): Graph {
    return crystalGraph(s, this.cutoff, this.manifest.shape.nodeIn);
  }

  /** Reasons a structure lies outside the training data. */
  domainWarnings(s: Structure): string[] {
    const tr = this.manifest.training;
    const out: string[] = [];
    const seen = new Set(tr.elements);
    const unseen = [...new Set(s.species)].filter((sym) => !seen.has(elementBySymbol(sym)?.Z ?? -1));
    if (unseen.length) out.push(`it has never seen ${unseen.join(', ')}`);
    if (s.numSites > tr.maxAtoms) out.push(`${s.numSites} sites; it was trained on crystals of at most ${tr.maxAtoms}`);
    const axes = s.pbc.map((p, k) => (p ? '' : 'abc'[k])).join('');
    if (axes) out.push(`the structure is not periodic along ${axes}; the model was trained on bulk crystals`);
    const gaps = vacuumGaps(s);
    const k = gaps.indexOf(Math.max(...gaps));
    if (gaps[k] > VACUUM_ANGSTROM) out.push(`a ${gaps[k].toFixed(1)} Å vacuum layer along ${'abc'[k]} (a slab); the model was trained on bulk crystals`);
    if (s.hasPartialOccupancy) out.push('partial occupancies are read as full sites');
    if (s.numSites === 0) out.push('the structure has no atoms');
    return out;
  }

  /** Every member's de-normalised outputs for one batch: [member][graph · targets + t]. */
  forwardMembers(batch: GraphBatch): Float64Array[] {
    return this.members.map((w) => this.denormalise(megnetForward(w, batch).data));
  }

  /** The same from trunks computed elsewhere (the ONNX fast path): Set2Set and readout here. */
  readoutMembers(batch: GraphBatch, trunks: readonly MegnetTrunk[]): Float64Array[] {
    if (trunks.length !== this.members.length) throw new RangeError(`${trunks.length} trunks for ${this.members.length} members`);
    return this.members.map((w, k) => this.denormalise(megnetReadout(w, batch, trunks[k]).data));
  }

  denormalise(raw: Float32Array): Float64Array {
    const { mean, std } = this.manifest.normalization;
    const T = mean.length;
    return Float64Array.from(raw, (x, i) => x * std[i % T] + mean[i % T]);
  }

  /** Mean and spread per structure from every member's outputs (CPU or GPU). */
  summarise(each: ArrayLike<number>[], structures: readonly Structure[]): PropertyPrediction[] {
    const T = this.targets.length;
    return structures.map((s, g) => ({
      values: this.targets.map((t, k) => {
        const ys = each.map((y) => y[g * T + k]);
        const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
        const spread = ys.length > 1 ? Math.sqrt(ys.reduce((a, y) => a + (y - mean) ** 2, 0) / ys.length) : null;
        return { key: t.key, label: t.label, unit: t.unit, value: t.nonNegative ? Math.max(0, mean) : mean, raw: mean, spread };
      }),
      members: each.length,
      outOfDomain: this.domainWarnings(s),
    }));
  }

  /** The structures' graphs as one batch (what every backend runs). */
  batch(structures: readonly Structure[]): GraphBatch {
    return batchGraphs(structures.map((s) => this.graph(s)));
  }

  /** Predictions for several structures in one batch on the CPU. */
  predict(structures: readonly Structure[]): PropertyPrediction[] {
    if (!structures.length) return [];
    return this.summarise(this.forwardMembers(this.batch(structures)), structures);
  }
}
