/**
 * The project's crystal-property MEGNet, shipped with the app (files from
 * models/properties/export/, written by `python3 -m properties.export`) and
 * precached by the service worker like every other asset. Loaded once per
 * context (the property worker, the GPU lab page).
 */
import manifestUrl from '../../../models/properties/export/megnet-properties.json?url';
import binUrl from '../../../models/properties/export/megnet-properties.bin?url';
import trunkUrl from '../../../models/properties/export/megnet-properties-trunk.onnx?url';
import { type PropertyManifest, PropertyModel } from '../../core/properties/model';
import { OrtPropertyPath } from '../../core/properties/ort-path';

let loading: Promise<PropertyModel> | null = null;

export function loadPropertyModel(): Promise<PropertyModel> {
  loading ??= (async () => {
    const [m, b] = await Promise.all([fetch(manifestUrl), fetch(binUrl)]);
    if (!m.ok || !b.ok) throw new Error(`could not load the property model (HTTP ${m.ok ? b.status : m.status})`);
    return new PropertyModel((await m.json()) as PropertyManifest, await b.arrayBuffer());
  })().catch((e: unknown) => {
    loading = null;
    throw e;
  });
  return loading;
}

/**
 * The fast CPU path (core/properties/ort-path.ts) on onnxruntime-web's WASM
 * provider, loaded only when first needed, one thread unless the page is
 * cross-origin isolated (threads need SharedArrayBuffer). It imports the
 * same runtime build as crystal generation (the WebGPU bundle, whose WASM
 * is the asyncify build), so the app downloads and precaches one 27 MB
 * runtime, not two (scripts/vite-plugin-sw.ts).
 */
export async function loadOrtPropertyPath(model: PropertyModel): Promise<OrtPropertyPath> {
  const [ort, res] = await Promise.all([import('onnxruntime-web/webgpu'), fetch(trunkUrl)]);
  if (!res.ok) throw new Error(`could not load the ONNX trunk (HTTP ${res.status})`);
  // The runtime's .mjs/.wasm files are served under ort/ (scripts/vite-plugin-ort.ts).
  ort.env.wasm.wasmPaths = new URL(`${import.meta.env.BASE_URL}ort/`, self.location.href).href;
  ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, self.navigator.hardwareConcurrency || 1) : 1;
  return OrtPropertyPath.open(ort, model, new Uint8Array(await res.arrayBuffer()));
}
