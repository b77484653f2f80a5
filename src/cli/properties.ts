/**
 * `latticelab properties FILE... [--backend wasm|cpu|webgpu] [--model PATH]`:
 * formation energy, band gap and energy above the hull of every structure
 * in the files (any format `convert` reads; every frame of a multi-frame
 * XYZ), from the project's full-graph MEGNet, one JSON line per structure.
 * Backends: `wasm` (default) the ensemble's trunk on onnxruntime-web's WASM
 * provider, `cpu` the TypeScript reference (same numbers, slower), `webgpu`
 * the WGSL kernels.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type PropertyManifest, PropertyModel, type PropertyPrediction } from '../core/properties/model';
import { OrtPropertyPath } from '../core/properties/ort-path';
import type { Structure } from '../core/structure';
import { formula } from '../core/formula';

export const DEFAULT_PROPERTY_MODEL = fileURLToPath(new URL('../../models/properties/export/megnet-properties.json', import.meta.url));

/** Structures per batch: bounds the memory of the CPU path, amortises a GPU submission. */
export const CLI_BATCH = 64;

export class PropertiesInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PropertiesInputError';
  }
}

export function loadPropertyModel(manifestPath: string = DEFAULT_PROPERTY_MODEL): PropertyModel {
  if (!existsSync(manifestPath)) throw new PropertiesInputError(`no model at ${manifestPath} (train and export one: see models/properties/README.md)`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as PropertyManifest;
  const bin = readFileSync(manifestPath.replace(/\.json$/, '.bin'));
  return new PropertyModel(manifest, bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
}

/** The fast CPU path: the trunk ONNX beside the manifest (`…-trunk.onnx`) on onnxruntime-web's WASM provider, one thread. */
export async function openOrtPropertyPath(model: PropertyModel, manifestPath: string = DEFAULT_PROPERTY_MODEL): Promise<OrtPropertyPath> {
  const trunkPath = manifestPath.replace(/\.json$/, '-trunk.onnx');
  if (!existsSync(trunkPath))
    throw new PropertiesInputError(`no ONNX trunk at ${trunkPath} (cd models && python3 -m properties.export_trunk), or use --backend cpu`);
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  try {
    return await OrtPropertyPath.open(ort, model, readFileSync(trunkPath));
  } catch (e) {
    throw new PropertiesInputError(`${trunkPath}: ${(e as Error).message}`);
  }
}

const round = (x: number) => Number(x.toFixed(4));

/** One output line: the structure, every property with its spread and unit, and the warnings. */
export function propertiesRecord(file: string, index: number, s: Structure, p: PropertyPrediction, backend: string, ms: number): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const v of p.values) {
    values[v.key] = round(v.value);
    if (v.spread !== null) values[`${v.key}Spread`] = round(v.spread);
  }
  return {
    file,
    index,
    title: s.title,
    formula: formula(s.species, s.occupancy),
    numSites: s.numSites,
    ...values,
    units: Object.fromEntries(p.values.map((v) => [v.key, v.unit])),
    members: p.members,
    outOfDomain: p.outOfDomain,
    backend,
    msPerStructure: round(ms),
  };
}
