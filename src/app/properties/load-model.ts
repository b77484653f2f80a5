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
import { loadOrt, type OrtRuntime, ortThreads } from '../ort-runtime';

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
 * provider, loaded only when first needed: by default the plain WASM build,
 * on every core but one where the context allows threads (app/ort-runtime.ts).
 */
export async function loadOrtPropertyPath(model: PropertyModel, opts: { runtime?: OrtRuntime; threads?: number } = {}): Promise<OrtPropertyPath> {
  const [ort, res] = await Promise.all([loadOrt(opts.runtime ?? 'wasm', opts.threads ?? ortThreads()), fetch(trunkUrl)]);
  if (!res.ok) throw new Error(`could not load the ONNX trunk (HTTP ${res.status})`);
  return OrtPropertyPath.open(ort, model, new Uint8Array(await res.arrayBuffer()));
}
