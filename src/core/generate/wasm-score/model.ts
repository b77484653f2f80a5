/**
 * A ScoreModel whose score network runs on the hand-written WASM SIMD
 * kernels (forward.ts) and whose heads (called once per batch) stay on
 * another ScoreModel, onnxruntime-web in the app and the CLI.
 */
import type { CdvaeManifest } from '../manifest';
import type { ScoreModel } from '../score-model';
import { createWasmScore } from './forward';
import { instantiateScoreKernels } from './kernels';
import { parseScoreWeights } from './weights';

export const WASM_SCORE_LABEL = 'hand-written WASM SIMD kernels for the score network';

/** Whether the model was exported with the weights the kernels read (radial score networks only). */
export function hasWasmScore(manifest: CdvaeManifest): boolean {
  return typeof manifest.files.score_weights === 'string' && (manifest.score_net ?? 'radial') === 'radial';
}

export async function withWasmScore(heads: ScoreModel, weightBytes: Uint8Array): Promise<ScoreModel> {
  const m = heads.manifest;
  const weights = parseScoreWeights(weightBytes);
  const h = weights.header;
  if (h.vocab_size !== m.vocab.length || h.latent !== m.latent || h.cutoff !== m.cutoff) {
    throw new Error(
      `score weights (vocabulary ${h.vocab_size}, latent ${h.latent}, cutoff ${h.cutoff} Å) do not match the model (${m.vocab.length}, ${m.latent}, ${m.cutoff} Å)`,
    );
  }
  const score = createWasmScore(await instantiateScoreKernels(), weights);
  return {
    manifest: m,
    provider: `${WASM_SCORE_LABEL}, heads on ${heads.provider}`,
    heads: (z, batch) => heads.heads(z, batch),
    score: async (x) => score(x),
    release: heads.release ? () => heads.release!() : undefined,
  };
}
