/**
 * onnxruntime-web as the app's workers load it: which build, from where,
 * on how many threads. Shared by the property model's CPU path and crystal
 * generation, so both make the same choices.
 *
 * - `wasm`: the plain threaded-SIMD build (`ort/ort-wasm-simd-threaded.*`),
 *   for the WASM execution provider. Precached.
 * - `webgpu-bundle`: the WebGPU bundle, whose WASM is the asyncify build
 *   (`…asyncify.*`, 27 MB), needed only for the WebGPU execution provider;
 *   its WASM provider is 1.3–2x slower per step than the plain build's
 *   (bench/RESULTS.md), so nothing uses it for WASM any more.
 *
 * Threads need SharedArrayBuffer, so a cross-origin-isolated context
 * (vite.config.ts and the service worker send the headers); elsewhere one.
 * A runtime's thread count is fixed by its first session.
 */
import type * as OrtModule from 'onnxruntime-web';

export type OrtRuntime = 'wasm' | 'webgpu-bundle';
export type Ort = typeof OrtModule;

/**
 * Threads onnxruntime-web may use here: several only where cross-origin
 * isolated, at most 4, and always one core left to the page and the GPU
 * process, which draw while the workers compute. Measured on this
 * project's 2-core machine (bench/RESULTS.md): a second thread made the
 * property model 1.5x faster alone, but with the view drawing it made the
 * warm first render 0.3 s slower and edits 20 ms slower, and during
 * generation it made the page's timers 309 ms late instead of 81 ms for
 * 3 % more sampler steps.
 */
export function ortThreads(): number {
  if (!self.crossOriginIsolated) return 1;
  return Math.max(1, Math.min(4, (self.navigator.hardwareConcurrency || 1) - 1));
}

/** The runtime module, its files served under `ort/` (scripts/vite-plugin-ort.ts); `threads` counts only before its first session. */
export async function loadOrt(runtime: OrtRuntime, threads = ortThreads()): Promise<Ort> {
  const ort: Ort = runtime === 'wasm' ? await import('onnxruntime-web/wasm') : await import('onnxruntime-web/webgpu');
  ort.env.wasm.wasmPaths = new URL(`${import.meta.env.BASE_URL}ort/`, self.location.href).href;
  ort.env.wasm.numThreads = threads;
  return ort;
}
