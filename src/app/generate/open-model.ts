/**
 * How a generative model (generate/models.ts) is opened on onnxruntime-web,
 * in the generation worker (the only importer, so the page itself never
 * loads onnxruntime).
 * 'auto' takes the WebGPU execution provider on a hardware GPU and WASM
 * where there is no WebGPU or only a software renderer (on SwiftShader a
 * score step takes ~1 s on WebGPU and a few ms on WASM: bench/RESULTS.md);
 * a failing WebGPU session falls back to WASM. The caller is told which
 * provider runs and why. Each provider gets its own runtime build
 * (app/ort-runtime.ts): WebGPU the WebGPU bundle, WASM the plain build.
 * On WASM, a model exported with its score weights runs its score network
 * on the project's WASM SIMD kernels (core/generate/wasm-score/, about
 * twice onnxruntime-web's speed on the same step: bench/RESULTS.md) and
 * only its heads on onnxruntime; if the kernels cannot start (an engine
 * without WebAssembly SIMD), onnxruntime runs both and the caller is told.
 */
import { type CdvaeManifest, parseManifest } from '../../core/generate/manifest';
import { createOrtScoreModel } from '../../core/generate/ort-score-model';
import { type KnownSet, parseKnown } from '../../core/generate/novelty';
import { type PropertyHead, parsePropertyHead } from '../../core/generate/property-head';
import type { ScoreModel } from '../../core/generate/score-model';
import { hasWasmScore, withWasmScore } from '../../core/generate/wasm-score/model';
import { describeAdapter } from '../../gpu/device';
import { loadOrt, ortThreads } from '../ort-runtime';
import type { GenerativeModelInfo, ProviderPreference } from './models';

export interface OpenedModel {
  model: ScoreModel;
  manifest: CdvaeManifest;
  /** The property head with its gradient, for the target mode. */
  head: PropertyHead;
  /** The training crystals, to mark generated ones "new". */
  known: KnownSet;
  /** Why the preferred provider is not the one in use, if it is not. */
  fallback: string | null;
}

/** Why WebGPU cannot be used (null: it can), and whether the adapter is a software renderer. */
async function probeWebGpu(): Promise<{ problem: string | null; software: string | null }> {
  const gpu = self.navigator.gpu as GPU | undefined;
  if (!gpu) return { problem: 'this browser has no WebGPU', software: null };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { problem: 'no WebGPU adapter is available', software: null };
    const { adapterName, software } = describeAdapter(adapter.info);
    return { problem: null, software: software ? adapterName : null };
  } catch (e) {
    return { problem: `WebGPU adapter request failed: ${(e as Error).message}`, software: null };
  }
}

async function fetchOk(url: string, what: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not load ${what} (HTTP ${res.status})`);
  return res;
}

const fetchJson = async (url: string, what: string): Promise<unknown> => (await fetchOk(url, what)).json();
const fetchBytes = async (url: string, what: string) => new Uint8Array(await (await fetchOk(url, what)).arrayBuffer());

/** The WASM path: the score network on the WASM SIMD kernels where the model has them, else all on onnxruntime. */
async function openOnWasm(info: GenerativeModelInfo, manifest: CdvaeManifest): Promise<{ model: ScoreModel; problem: string | null }> {
  const ort = await loadOrt('wasm');
  const allOnOrt = () => createOrtScoreModel(ort, manifest, { heads: info.urls.heads, score: info.urls.score }, 'wasm');
  const weightsUrl = info.urls.scoreWeights;
  if (weightsUrl && hasWasmScore(manifest)) {
    const [heads, bytes] = await Promise.all([
      createOrtScoreModel(ort, manifest, { heads: info.urls.heads }, 'wasm'),
      fetchBytes(weightsUrl, 'the score weights'),
    ]);
    try {
      return { model: await withWasmScore(heads, bytes), problem: null };
    } catch (e) {
      await heads.release?.();
      const problem = `The WASM SIMD score kernels did not start (${(e as Error).message}); onnxruntime-web runs the score network.`;
      return { model: await allOnOrt(), problem };
    }
  }
  return { model: await allOnOrt(), problem: null };
}

export async function openGenerativeModel(info: GenerativeModelInfo, preference: ProviderPreference): Promise<OpenedModel> {
  // The three small files are independent: fetched at once, each refused with its own name.
  const [manifestJson, headJson, knownJson] = await Promise.all([
    fetchJson(info.urls.manifest, 'the model manifest'),
    fetchJson(info.urls.propertyHead, 'the property head'),
    fetchJson(info.urls.known, "the training crystals' descriptors"),
  ]);
  const manifest = parseManifest(manifestJson);
  const head = parsePropertyHead(headJson);
  if (head.latent !== manifest.latent) throw new Error(`the property head takes ${head.latent} numbers, the model's latent has ${manifest.latent}`);
  const known = parseKnown(knownJson);
  const files = { heads: info.urls.heads, score: info.urls.score };
  let fallback: string | null = null;
  if (preference !== 'wasm') {
    const { problem, software } = await probeWebGpu();
    if (problem) {
      fallback = `WebGPU is not used: ${problem}. Running on WASM.`;
    } else if (software && preference === 'auto') {
      fallback = `The GPU is a software renderer (${software}), where WASM is much faster; choose “WebGPU” to use it anyway.`;
    } else {
      try {
        return { model: await createOrtScoreModel(await loadOrt('webgpu-bundle'), manifest, files, 'webgpu'), manifest, head, known, fallback: null };
      } catch (e) {
        fallback = `The WebGPU execution provider failed (${(e as Error).message}). Running on WASM.`;
      }
    }
  }
  const { model, problem } = await openOnWasm(info, manifest);
  const threads = ortThreads();
  const why = [fallback, problem].filter(Boolean).join(' ') || null;
  return { model: { ...model, provider: `${model.provider}, ${threads} thread${threads > 1 ? 's' : ''}` }, manifest, head, known, fallback: why };
}
