/**
 * One evaluation of the radial score network (models/cdvae/model.py
 * ScoreNet, as exported by export.py's Score) on the WASM SIMD kernels: the
 * same inputs and outputs as score.onnx, checked against PyTorch's outputs
 * (fixtures) and onnxruntime-web's (src/tests/wasm-score.test.ts).
 *
 * Per layer, with H = hidden:
 *   y  = silu(h W_s + b)[src] + (h W_d)[dst] + rbf W_r     (edgeFirst)
 *   m  = silu(y W_1 + b_1)                                   (linear)
 *   h += upd([LayerNorm(h), scale sum_src env m])           (scatterRows, linear x2)
 * then the edge score env (silu(...) . w + b) summed into unit vectors
 * (edgeScore) and the type logits (two linears). The rbf part of each edge
 * MLP, rbf W_r, reads only the Gaussians within 4.5 widths of the edge's
 * length (the `radial` kernel says why).
 */
import type { ScoreInput, ScoreOutput } from '../score-model';
import { MODE, type ScoreKernels } from './kernels';
import type { ScoreWeights, ScoreWeightsHeader } from './weights';

const WASM_PAGE = 65536;
const ALIGN = 16;

/** A bump allocator over the kernels' memory: weights first (kept), then each call's buffers. */
class Arena {
  private top: number;
  constructor(
    private readonly k: ScoreKernels,
    base: number,
  ) {
    this.top = align(base);
  }
  /** Reserves `floats` float32 (or int32) slots; returns the byte offset. */
  alloc(floats: number): number {
    const at = this.top;
    this.top = align(at + 4 * floats);
    const need = this.top - this.k.memory.buffer.byteLength;
    if (need > 0) this.k.memory.grow(Math.ceil(need / WASM_PAGE));
    return at;
  }
  mark(): number {
    return this.top;
  }
  reset(to: number): void {
    this.top = to;
  }
  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, ptr, n);
  }
  i32(ptr: number, n: number): Int32Array {
    return new Int32Array(this.k.memory.buffer, ptr, n);
  }
}

function align(x: number): number {
  return Math.ceil(x / ALIGN) * ALIGN;
}

export type WasmScore = (input: ScoreInput) => ScoreOutput;

/**
 * How many Gaussians the kernel `radial` keeps per edge: every centre within
 * 4.5 widths of the length, the centres being cutoff / (R - 1) apart, plus
 * one for rounding.
 */
export function gaussianWindow(h: Pick<ScoreWeightsHeader, 'rbf' | 'rbf_width' | 'cutoff'>): number {
  return Math.min(h.rbf, Math.floor((9 * h.rbf_width * (h.rbf - 1)) / h.cutoff) + 2);
}

interface LayerPtrs {
  ws: number;
  wr: number;
  wd: number;
  b: number;
  w1: number;
  b1: number;
  g: number;
  beta: number;
  u0: number;
  ub0: number;
  u1: number;
  ub1: number;
}

/** Copies the weights into the kernels' memory once and returns the forward. */
export function createWasmScore(kernels: ScoreKernels, weights: ScoreWeights): WasmScore {
  const hd = weights.header;
  const H = hd.hidden;
  const R = hd.rbf;
  const V = hd.vocab_size;
  const L = hd.layers;
  const IN = H + hd.latent + 1;
  if (H % 16 !== 0) throw new Error(`score weights: hidden ${H} must be a multiple of 16`);
  // type logits padded to a multiple of 8 columns for `linear`
  const VP = Math.ceil(V / 8) * 8;
  const KW = gaussianWindow(hd);
  const arena = new Arena(kernels, kernels.heapBase());

  const put = (data: Float32Array): number => {
    const p = arena.alloc(data.length);
    arena.f32(p, data.length).set(data);
    return p;
  };
  const embed = weights.get('embed', [V, H]).slice();
  const inp0 = put(weights.get('inp0.w', [IN, H]));
  const inp0b = put(weights.get('inp0.b', [H]));
  const inp1 = put(weights.get('inp1.w', [H, H]));
  const inp1b = put(weights.get('inp1.b', [H]));
  const layers: LayerPtrs[] = [];
  for (let i = 0; i < L; i++) {
    const p = `layer${i}.`;
    layers.push({
      wr: put(weights.get(p + 'msg0.wr', [R, H])),
      ws: put(weights.get(p + 'msg0.ws', [H, H])),
      wd: put(weights.get(p + 'msg0.wd', [H, H])),
      b: put(weights.get(p + 'msg0.b', [H])),
      w1: put(weights.get(p + 'msg1.w', [H, H])),
      b1: put(weights.get(p + 'msg1.b', [H])),
      g: put(weights.get(p + 'norm.g', [H])),
      beta: put(weights.get(p + 'norm.b', [H])),
      u0: put(weights.get(p + 'upd0.w', [2 * H, H])),
      ub0: put(weights.get(p + 'upd0.b', [H])),
      u1: put(weights.get(p + 'upd1.w', [H, H])),
      ub1: put(weights.get(p + 'upd1.b', [H])),
    });
  }
  const zerosH = put(new Float32Array(H)); // the destination part has no bias
  const out0 = {
    wr: put(weights.get('out0.wr', [R, H])),
    ws: put(weights.get('out0.ws', [H, H])),
    wd: put(weights.get('out0.wd', [H, H])),
    b: put(weights.get('out0.b', [H])),
  };
  const out1w = put(weights.get('out1.w', [H, 1]));
  const out1b = weights.get('out1.b', [1])[0];
  const type0 = put(weights.get('type0.w', [H, H]));
  const type0b = put(weights.get('type0.b', [H]));
  const t1 = weights.get('type1.w', [H, V]);
  const t1pad = new Float32Array(H * VP);
  for (let r = 0; r < H; r++) t1pad.set(t1.subarray(r * V, (r + 1) * V), r * VP);
  const type1 = put(t1pad);
  const type1bPad = new Float32Array(VP);
  type1bPad.set(weights.get('type1.b', [V]));
  const type1b = put(type1bPad);
  const weightsEnd = arena.mark();

  const forward = (x: ScoreInput): ScoreOutput => {
    const N = x.types.length;
    const E = x.src.length;
    if (x.dst.length !== E || x.vec.length !== 3 * E) throw new Error(`score input: ${E} src, ${x.dst.length} dst and ${x.vec.length / 3} vectors`);
    if (x.zAtom.length !== N * hd.latent || x.logSigma.length !== N) throw new Error('score input: z_atom or log_sigma does not match the atom count');
    arena.reset(weightsEnd);
    const k = kernels;
    const pSrc = arena.alloc(E);
    const pDst = arena.alloc(E);
    const pVec = arena.alloc(3 * E);
    const pX = arena.alloc(N * IN);
    const pH = arena.alloc(N * H);
    const pT = arena.alloc(N * H);
    const pA = arena.alloc(N * H);
    const pC = arena.alloc(N * H);
    const pCat = arena.alloc(N * 2 * H);
    const pG = arena.alloc(E * KW);
    const pK0 = arena.alloc(E);
    const pEnv = arena.alloc(E);
    const pUnit = arena.alloc(3 * E);
    const pY1 = arena.alloc(E * H);
    const pY2 = arena.alloc(E * H);
    const pScore = arena.alloc(3 * N);
    const pLogits = arena.alloc(N * VP);
    // Views after every alloc: a grown memory detaches the old ones.
    const src = arena.i32(pSrc, E);
    const dst = arena.i32(pDst, E);
    for (let e = 0; e < E; e++) {
      const s = Number(x.src[e]);
      const d = Number(x.dst[e]);
      // an index out of range would write outside its row: refuse it here
      if (!(s >= 0 && s < N && d >= 0 && d < N)) throw new Error(`score input: edge ${e} joins atoms ${s} and ${d} of ${N}`);
      src[e] = s;
      dst[e] = d;
    }
    arena.f32(pVec, 3 * E).set(x.vec);
    const xin = arena.f32(pX, N * IN);
    for (let i = 0; i < N; i++) {
      const t = Number(x.types[i]);
      if (!(t >= 0 && t < V)) throw new Error(`score input: atom ${i} has type ${t}; the model knows ${V}`);
      xin.set(embed.subarray(t * H, (t + 1) * H), i * IN);
      xin.set(x.zAtom.subarray(i * hd.latent, (i + 1) * hd.latent), i * IN + H);
      xin[i * IN + IN - 1] = x.logSigma[i];
    }

    k.radial(pVec, E, R, KW, hd.cutoff, hd.rbf_width, pG, pK0, pEnv, pUnit);
    k.linear(pX, N, IN, IN, inp0, inp0b, H, pT, MODE.silu);
    k.linear(pT, N, H, H, inp1, inp1b, H, pH, MODE.plain);
    for (let i = 0; i < L; i++) {
      const w = layers[i];
      k.linear(pH, N, H, H, w.ws, w.b, H, pA, MODE.plain);
      k.linear(pH, N, H, H, w.wd, zerosH, H, pC, MODE.plain);
      k.edgeFirst(pA, pC, pG, pK0, KW, w.wr, pSrc, pDst, E, H, pY1);
      k.linear(pY1, E, H, H, w.w1, w.b1, H, pY2, MODE.silu);
      k.layerNorm(pH, N, H, w.g, w.beta, hd.layer_norm_eps, pCat, 2 * H);
      const cat = arena.f32(pCat, N * 2 * H);
      for (let a = 0; a < N; a++) cat.fill(0, a * 2 * H + H, (a + 1) * 2 * H);
      k.scatterRows(pY2, pEnv, pSrc, E, H, hd.msg_scale, pCat, 2 * H, H);
      k.linear(pCat, N, 2 * H, 2 * H, w.u0, w.ub0, H, pT, MODE.silu);
      k.linear(pT, N, H, H, w.u1, w.ub1, H, pH, MODE.add);
    }
    k.linear(pH, N, H, H, out0.ws, out0.b, H, pA, MODE.plain);
    k.linear(pH, N, H, H, out0.wd, zerosH, H, pC, MODE.plain);
    k.edgeFirst(pA, pC, pG, pK0, KW, out0.wr, pSrc, pDst, E, H, pY1);
    arena.f32(pScore, 3 * N).fill(0);
    k.edgeScore(pY1, E, H, out1w, out1b, pEnv, pUnit, pSrc, pScore);
    k.linear(pH, N, H, H, type0, type0b, H, pT, MODE.silu);
    k.linear(pT, N, H, H, type1, type1b, VP, pLogits, MODE.plain);

    const score = arena.f32(pScore, 3 * N).slice();
    const padded = arena.f32(pLogits, N * VP);
    const typeLogits = new Float32Array(N * V);
    for (let i = 0; i < N; i++) typeLogits.set(padded.subarray(i * VP, i * VP + V), i * V);
    return { score, typeLogits };
  };
  return forward;
}
