/**
 * Messages between the page and the property worker (worker.ts). A
 * structure crosses as plain arrays; predictions come back as the core's
 * PropertyPrediction objects, which are plain data.
 */
import type { Mat3, Vec3 } from '../../core/math3';
import type { PropertyPrediction } from '../../core/properties/model';
import { type Pbc, Structure } from '../../core/structure';

export interface StructureData {
  lattice: Mat3;
  species: string[];
  frac: Vec3[];
  pbc: Pbc;
  occupancy?: number[];
}

/**
 * 'cpu': the TypeScript reference (megnet.ts); 'wasm': the ensemble's trunk
 * on onnxruntime-web's WASM provider (SIMD), same numbers, several times
 * faster; 'webgpu': the WGSL kernels.
 */
export type Backend = 'cpu' | 'wasm' | 'webgpu';

/** How the panel names a backend ("… ms on the CPU (WebAssembly)"). */
export const BACKEND_LABEL: Record<Backend, string> = {
  cpu: 'CPU (TypeScript reference)',
  wasm: 'CPU (WebAssembly)',
  webgpu: 'GPU (WebGPU)',
};

/** The short form for notifications. */
export const BACKEND_SHORT: Record<Backend, string> = { cpu: 'CPU', wasm: 'CPU, WebAssembly', webgpu: 'WebGPU' };
export type BackendPreference = 'auto' | Backend;

export type Request =
  /** Predict `structures` in batches, reporting progress after each. */
  | { id: number; kind: 'predict'; structures: StructureData[]; backend: BackendPreference; batch: number }
  /** Stop request `id` after the batch in flight. */
  | { id: number; kind: 'cancel' };

export type Reply =
  | { id: number; kind: 'progress'; done: number; total: number; predictions: PropertyPrediction[] }
  | { id: number; kind: 'done'; backend: Backend; why: string; msPerStructure: number; ms: number; cancelled: boolean }
  | { id: number; kind: 'error'; message: string };

export function toData(s: Structure): StructureData {
  return { lattice: s.lattice.matrix, species: s.species, frac: s.frac, pbc: s.pbc, ...(s.occupancy ? { occupancy: s.occupancy } : {}) };
}

export function fromData(d: StructureData): Structure {
  return new Structure({ lattice: d.lattice, species: d.species, frac: d.frac, pbc: d.pbc, occupancy: d.occupancy });
}
