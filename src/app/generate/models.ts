/**
 * The generative models shipped with the app (exported by
 * models/cdvae/export.py). Only URLs and words: the page lists these
 * without loading onnxruntime, which only the generation worker imports.
 */
import perovManifestUrl from '../../../models/cdvae/export/perov_5/model.json?url';
import perovHeadsUrl from '../../../models/cdvae/export/perov_5/heads.onnx?url';
import perovScoreUrl from '../../../models/cdvae/export/perov_5/score.onnx?url';
import perovHeadUrl from '../../../models/cdvae/export/perov_5/property_head.json?url';
import perovKnownUrl from '../../../models/cdvae/export/perov_5/known.json?url';
import perovWeightsUrl from '../../../models/cdvae/export/perov_5/score_weights.bin?url';
import carbonManifestUrl from '../../../models/cdvae/export/carbon_24/model.json?url';
import carbonHeadsUrl from '../../../models/cdvae/export/carbon_24/heads.onnx?url';
import carbonScoreUrl from '../../../models/cdvae/export/carbon_24/score.onnx?url';
import carbonHeadUrl from '../../../models/cdvae/export/carbon_24/property_head.json?url';
import carbonKnownUrl from '../../../models/cdvae/export/carbon_24/known.json?url';
import mpManifestUrl from '../../../models/cdvae/export/mp20_biternary_pilot/model.json?url';
import mpHeadsUrl from '../../../models/cdvae/export/mp20_biternary_pilot/heads.onnx?url';
import mpScoreUrl from '../../../models/cdvae/export/mp20_biternary_pilot/score.onnx?url';
import mpHeadUrl from '../../../models/cdvae/export/mp20_biternary_pilot/property_head.json?url';
import mpKnownUrl from '../../../models/cdvae/export/mp20_biternary_pilot/known.json?url';
import mpWeightsUrl from '../../../models/cdvae/export/mp20_biternary_pilot/score_weights.bin?url';
import type { Provider } from '../../core/generate/ort-score-model';

export interface GenerativeModelInfo {
  id: string;
  label: string;
  description: string;
  /**
   * `known`: the training crystals' novelty descriptors (core/generate/novelty.ts).
   * `scoreWeights`: the score network for the WASM SIMD kernels (core/generate/wasm-score/), where exported.
   */
  urls: { manifest: string; heads: string; score: string; propertyHead: string; known: string; scoreWeights?: string };
}

export const GENERATIVE_MODELS: readonly GenerativeModelInfo[] = [
  {
    id: 'perov_5',
    label: 'perov_5: cubic perovskites ABX₃',
    description: '5-atom perovskite cells (Castelli et al. 2012, as used by CDVAE), 56 elements',
    urls: {
      manifest: perovManifestUrl,
      heads: perovHeadsUrl,
      score: perovScoreUrl,
      propertyHead: perovHeadUrl,
      known: perovKnownUrl,
      scoreWeights: perovWeightsUrl,
    },
  },
  {
    id: 'carbon_24',
    label: 'carbon_24: carbon allotropes',
    description:
      'Carbon structures of 6–24 atoms found by random structure searching at 10 GPa (Pickard, AIRSS, Materials Cloud 2020, as used by CDVAE); only the structure is generated. Still in training (59 epochs on one CPU core): most samples are carbon networks of the right density, but only about a third lie near a real one. Latent vectors are drawn from a Gaussian fitted to the encodings of the training crystals, not from N(0, I) as in the CDVAE paper (it raised recall from 65 to 83 % on the validation crystals)',
    urls: { manifest: carbonManifestUrl, heads: carbonHeadsUrl, score: carbonScoreUrl, propertyHead: carbonHeadUrl, known: carbonKnownUrl },
  },
  {
    id: 'mp20_biternary_pilot',
    label: 'mp20_biternary_pilot: Materials Project compounds',
    description:
      'Materials Project crystals of 1–20 atoms, mostly binary and ternary (the mp_20_biternary and mp_20_pilot sets, 15,686 crystals, 87 elements; CC BY 4.0). Still in training (86 epochs on one CPU core). Latent vectors are drawn from a Gaussian fitted to the encodings of the training crystals, not from N(0, I) as in the CDVAE paper: from N(0, I) most samples mixed far more elements than real compounds do. Each row says whether it passes the validity checks',
    urls: { manifest: mpManifestUrl, heads: mpHeadsUrl, score: mpScoreUrl, propertyHead: mpHeadUrl, known: mpKnownUrl, scoreWeights: mpWeightsUrl },
  },
];

export type ProviderPreference = 'auto' | Provider;
