/**
 * What the defect model's manifest says about its training (hosts, defect
 * counts, test errors, how the ensemble members differ). The weight file
 * itself is read by core/graph/weights-file.ts, shared with the crystal
 * property model; its names are re-exported here for older imports.
 */
import type { MegnetWeights } from '../graph/megnet';
import { type WeightManifest, writeModel as writeWeights } from '../graph/weights-file';

export { MODEL_FORMAT, ModelFileError, readModel, type TensorEntry } from '../graph/weights-file';

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
  const flags = training.memberPretrained?.length === variants.length ? training.memberPretrained : variants.map((v) => /pretrain/i.test(v));
  const pretrained = flags.filter(Boolean).length;
  return pretrained > 0 && pretrained < variants.length
    ? `trained from different random starts, ${pretrained} of them pretrained on cheaper labels first`
    : `trained from different random starts in ${kinds} ways`;
}

export interface ModelManifest extends WeightManifest {
  training: TrainingInfo;
  /** In-plane lattice parameter (Å) of each host in the training data. */
  hostLattice?: Record<string, number>;
  /** The chemical potentials (eV per atom) the formation-energy labels use (models/defects/references.py reference_potentials). */
  referencePotentials?: { convention: string; mu: Record<string, number>; systems?: Record<string, string> };
  /**
   * The pristine hosts' Γ-point band edges per supercell ("4x4"): `vbm` the
   * pristine HOMO (eV, GPAW's absolute scale) and `gap` (eV); the predicted
   * defect levels are relative to `vbm` of the same supercell
   * (models/defects/references.py host_band_edges).
   */
  hostBandEdges?: Record<string, Record<string, { vbm: number; gap: number }>>;
}

/** writeModel of weights-file.ts for a defect model's manifest (tests, and models made in TypeScript). */
export function writeModel(
  members: MegnetWeights[],
  meta: Omit<ModelManifest, 'tensors' | 'format' | 'members'>,
): { manifest: ModelManifest; blob: ArrayBuffer } {
  return writeWeights<ModelManifest>(members, meta);
}
