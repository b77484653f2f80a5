/**
 * A ScoreModel on onnxruntime-web: the two ONNX graphs written by
 * models/cdvae/export.py. The caller passes the runtime module (the WebGPU
 * bundle for WebGPU, the plain build for WASM) and the model bytes or URLs,
 * so this file runs in both.
 */
import type * as OrtModule from 'onnxruntime-web';
import type { CdvaeManifest } from './manifest';
import type { HeadsOutput, ScoreInput, ScoreModel, ScoreOutput } from './score-model';

type Ort = typeof OrtModule;
type Source = string | Uint8Array;

export type Provider = 'webgpu' | 'wasm';

export const PROVIDER_LABEL: Record<Provider, string> = {
  webgpu: 'onnxruntime-web, WebGPU execution provider',
  wasm: 'onnxruntime-web, WASM execution provider',
};

/** Without `files.score` only the heads are opened (the score network then runs elsewhere: wasm-score/). */
export async function createOrtScoreModel(
  ort: Ort,
  manifest: CdvaeManifest,
  files: { heads: Source; score?: Source },
  provider: Provider,
): Promise<ScoreModel> {
  const options = { executionProviders: [provider], graphOptimizationLevel: 'all' as const };
  // The branches look alike but call different overloads (URL vs bytes) of create().
  const open = (s: Source) => (typeof s === 'string' ? ort.InferenceSession.create(s, options) : ort.InferenceSession.create(s, options));
  // One after the other: the WebGPU EP refuses to create two sessions at once.
  const heads = await open(files.heads);
  const scoreFile = files.score;
  const score =
    scoreFile === undefined
      ? null
      : await open(scoreFile).catch(async (e: unknown) => {
          await heads.release();
          throw e;
        });
  const V = manifest.vocab.length;
  const f32 = (t: OrtModule.Tensor) => t.data as Float32Array;

  return {
    manifest,
    provider: PROVIDER_LABEL[provider],
    async heads(z: Float32Array, batch: number): Promise<HeadsOutput> {
      const out = await heads.run({ z: new ort.Tensor('float32', z, [batch, manifest.latent]) });
      return {
        numAtomsLogits: f32(out.num_atoms_logits),
        lattice: f32(out.lattice),
        composition: f32(out.composition),
        property: f32(out.property),
      };
    },
    async score(x: ScoreInput): Promise<ScoreOutput> {
      if (!score) throw new Error('this model was opened for its heads only');
      const N = x.types.length;
      const { src, dst, vec } = x.src.length === 0 && N > 0 ? pastCutoffEdge(manifest.cutoff) : x;
      const E = src.length;
      const out = await score.run({
        z_atom: new ort.Tensor('float32', x.zAtom, [N, manifest.latent]),
        types: new ort.Tensor('int64', x.types, [N]),
        log_sigma: new ort.Tensor('float32', x.logSigma, [N]),
        src: new ort.Tensor('int64', src, [E]),
        dst: new ort.Tensor('int64', dst, [E]),
        vec: new ort.Tensor('float32', vec, [E, 3]),
      });
      const typeLogits = f32(out.type_logits);
      if (typeLogits.length !== N * V) throw new Error(`score network returned ${typeLogits.length} type logits for ${N} atoms`);
      return { score: f32(out.score), typeLogits };
    },
    async release() {
      await Promise.all([heads.release(), score?.release()]);
    },
  };
}

/**
 * onnxruntime-web cannot run the score graph on zero edges ("Attempting to
 * broadcast an axis by a dimension other than 1"): every crystal of a batch
 * without a neighbour within the cutoff. One edge from atom 0 to itself,
 * longer than the cutoff, stands in: its cosine envelope is exactly 0, so it
 * adds nothing to any message or score (the kernels in wasm-score/ take
 * E = 0 as it is, and the test compares the two).
 */
function pastCutoffEdge(cutoff: number): Pick<ScoreInput, 'src' | 'dst' | 'vec'> {
  return { src: new BigInt64Array(1), dst: new BigInt64Array(1), vec: Float32Array.from([0, cutoff + 1, 0]) };
}
