import type { CdvaeManifest } from './manifest';

/** What the heads of a CDVAE say about a batch of latent vectors. */
export interface HeadsOutput {
  /** B × (max_atoms + 1) */
  numAtomsLogits: Float32Array;
  /** B × 6: lengths / N^(1/3) (Å), angles (degrees) */
  lattice: Float32Array;
  /** B × V probabilities */
  composition: Float32Array;
  /** B, in the manifest's property unit */
  property: Float32Array;
}

/** One evaluation of the score network on a batch of crystals (N atoms, E edges). */
export interface ScoreInput {
  /** N × latent: each atom's crystal's z */
  zAtom: Float32Array;
  /** N vocabulary indices */
  types: BigInt64Array;
  /** N */
  logSigma: Float32Array;
  /** E each; edge e points from atom src to a periodic image of atom dst */
  src: BigInt64Array;
  dst: BigInt64Array;
  /** E × 3, Å: r_dst + image·L − r_src */
  vec: Float32Array;
}

export interface ScoreOutput {
  /** N × 3: predicted (clean − noisy) / sigma, Cartesian */
  score: Float32Array;
  /** N × V */
  typeLogits: Float32Array;
}

/** A CDVAE that the sampler can drive, whatever runs it (onnxruntime-web, a test double). */
export interface ScoreModel {
  readonly manifest: CdvaeManifest;
  /** The backend in use, in words ("onnxruntime-web WebGPU", ...). */
  readonly provider: string;
  heads(z: Float32Array, batch: number): Promise<HeadsOutput>;
  score(input: ScoreInput): Promise<ScoreOutput>;
  release?(): Promise<void>;
}
