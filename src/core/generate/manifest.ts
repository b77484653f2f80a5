import { checkLatentPrior, type LatentPrior } from './latent-prior';

/**
 * The manifest of an exported CDVAE (`models/cdvae/export/<dataset>/model.json`,
 * format `latticelab-cdvae/1`, written by models/cdvae/export.py).
 */
export interface CdvaeManifest {
  format: 'latticelab-cdvae/1';
  dataset: string;
  reference: string;
  /** Atomic numbers; a type index i means element vocab[i]. */
  vocab: number[];
  max_atoms: number;
  latent: number;
  /** Å: the score network sees every periodic neighbour closer than this. */
  cutoff: number;
  /** The score network's architecture (models/cdvae/model.py); exports before it was recorded are "radial". */
  score_net?: 'radial' | 'painn';
  /**
   * Whether heads.onnx scales the decoded cell to a predicted volume per atom
   * (models/cdvae/model.py, `scale_to_volume`). Informative only: the scaling is
   * inside heads.onnx, whose outputs keep their meaning; older exports lack it.
   */
  volume_head?: boolean;
  /**
   * PaiNN only: the clamp on each block's features (models/cdvae/model.py,
   * `bound_features`) and the training range it was set from
   * (models/cdvae/feature_bound.py). Informative only: the clamp is inside score.onnx.
   */
  feature_bound?: { bound: number; max_s?: number; max_v?: number; factor?: number };
  /** Where z is drawn from (latent-prior.ts); absent: N(0, I), the paper's. */
  latent_prior?: LatentPrior;
  /** Coordinate noise levels, Å, largest first. */
  sigmas: number[];
  type_sigmas: number[];
  defaults: { steps_per_level: number; step_lr: number };
  property: { name: string; column: string; unit: string; source: string } | null;
  /**
   * `property_head`: the head's weights for the target mode (property-head.ts); older exports lack it.
   * `score_weights`: the radial score network's weights for the WASM SIMD kernels (wasm-score/), written by models/cdvae/score_weights.py.
   */
  files: { heads: string; score: string; property_head?: string; score_weights?: string };
  training: {
    epochs: number;
    hours: number;
    best_val_loss: number;
    sizes: Record<string, number>;
    split_rule: string;
    date: string;
  };
}

export function parseManifest(json: unknown): CdvaeManifest {
  const m = json as Partial<CdvaeManifest> | null;
  if (!m || typeof m !== 'object') throw new Error('model manifest is not a JSON object');
  if (m.format !== 'latticelab-cdvae/1') {
    throw new Error(`model manifest has format ${JSON.stringify(m.format)}; this app reads latticelab-cdvae/1`);
  }
  const arrays = ['vocab', 'sigmas', 'type_sigmas'] as const;
  for (const k of arrays) {
    const v = m[k];
    if (!Array.isArray(v) || v.length === 0 || !v.every(Number.isFinite)) {
      throw new Error(`model manifest: ${k} must be a non-empty list of numbers`);
    }
  }
  for (const k of ['max_atoms', 'latent', 'cutoff'] as const) {
    if (!(typeof m[k] === 'number' && (m[k] as number) > 0)) throw new Error(`model manifest: ${k} must be a positive number`);
  }
  if (m.latent_prior !== undefined) checkLatentPrior(m.latent_prior, m.latent as number);
  return m as CdvaeManifest;
}
