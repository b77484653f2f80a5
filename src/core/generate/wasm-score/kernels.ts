/**
 * The compiled WASM SIMD kernels of shaders/wasm/score.ts (see there for
 * what each computes), instantiated with their own memory.
 */
import { KERNELS_WASM_BASE64 } from './kernels.wasm';

type Ptr = number;

export interface ScoreKernels {
  memory: WebAssembly.Memory;
  heapBase(): Ptr;
  silu(x: Ptr, n: number, out: Ptr): void;
  linear(x: Ptr, rows: number, k: number, xs: number, w: Ptr, b: Ptr, m: number, out: Ptr, mode: number): void;
  radial(vec: Ptr, e: number, nr: number, kw: number, cutoff: number, width: number, g: Ptr, k0s: Ptr, env: Ptr, unit: Ptr): void;
  edgeFirst(a: Ptr, c: Ptr, g: Ptr, k0s: Ptr, kw: number, wr: Ptr, src: Ptr, dst: Ptr, e: number, m: number, out: Ptr): void;
  scatterRows(x: Ptr, env: Ptr, src: Ptr, e: number, m: number, scale: number, out: Ptr, os: number, col: number): void;
  edgeScore(y: Ptr, e: number, m: number, w: Ptr, b: number, env: Ptr, unit: Ptr, src: Ptr, score: Ptr): void;
  layerNorm(x: Ptr, rows: number, m: number, g: Ptr, b: Ptr, eps: number, out: Ptr, os: number): void;
}

/** `linear`'s modes: out = xW + b, silu(xW + b), out += xW + b. */
export const MODE = { plain: 0, silu: 1, add: 2 } as const;

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Rejects where the engine has no WebAssembly SIMD (Safari before 16.4, old engines). */
export async function instantiateScoreKernels(): Promise<ScoreKernels> {
  const module = await WebAssembly.compile(decode(KERNELS_WASM_BASE64));
  const instance = await WebAssembly.instantiate(module, {});
  return instance.exports as unknown as ScoreKernels;
}
