import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { initSymmetry } from '../core/symmetry';

/** Loads moyo's wasm from node_modules (Node has no fetch for file paths). */
export function initSymmetryNode(): Promise<unknown> {
  const path = createRequire(import.meta.url).resolve('@spglib/moyo-wasm/moyo_wasm_bg.wasm');
  return initSymmetry(readFileSync(path));
}
