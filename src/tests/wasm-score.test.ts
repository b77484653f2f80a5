/**
 * The score network on the hand-written WASM SIMD kernels
 * (src/core/generate/wasm-score/, shaders/wasm/score.ts): each kernel
 * against plain arithmetic on awkward shapes, the whole forward against
 * PyTorch's outputs (the export fixtures) and against onnxruntime-web on
 * adversarial graphs, the refusals, and the committed binary against a
 * fresh build of its source.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleCrystals } from '../core/generate/langevin';
import { parseManifest } from '../core/generate/manifest';
import { createOrtScoreModel } from '../core/generate/ort-score-model';
import { Rng } from '../core/generate/rng';
import type { ScoreInput, ScoreModel } from '../core/generate/score-model';
import { structuralValidity } from '../core/generate/validity';
import { createWasmScore, gaussianWindow, type WasmScore } from '../core/generate/wasm-score/forward';
import { instantiateScoreKernels, MODE, type ScoreKernels } from '../core/generate/wasm-score/kernels';
import { hasWasmScore, withWasmScore } from '../core/generate/wasm-score/model';
import { parseScoreWeights } from '../core/generate/wasm-score/weights';

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
/** The shipped models with score weights (carbon_24's export predates its checkpoint: score_weights.py refuses it). */
const MODELS = ['perov_5', 'mp20_biternary_pilot'] as const;
type ModelId = (typeof MODELS)[number];
const dirOf = (id: string) => root(`models/cdvae/export/${id}/`);
const manifestOf = (id: string) => parseManifest(JSON.parse(readFileSync(dirOf(id) + 'model.json', 'utf8')));
const weightBytes = (id: string) => readFileSync(dirOf(id) + 'score_weights.bin');

interface Case {
  sigma: number;
  num_atoms: number[];
  z: number[][];
  types: number[];
  edges: { src: number[]; dst: number[]; vec: number[] };
  score: number[][];
  type_logits: number[][];
}

let kernels: ScoreKernels;
const wasm = new Map<ModelId, WasmScore>();
const ort = new Map<ModelId, ScoreModel>();

beforeAll(async () => {
  kernels = await instantiateScoreKernels();
  const runtime = await import('onnxruntime-web');
  for (const id of MODELS) {
    wasm.set(id, createWasmScore(await instantiateScoreKernels(), parseScoreWeights(weightBytes(id))));
    const files = { heads: readFileSync(dirOf(id) + 'heads.onnx'), score: readFileSync(dirOf(id) + 'score.onnx') };
    ort.set(id, await createOrtScoreModel(runtime, manifestOf(id), files, 'wasm'));
  }
});

/** max |a - b| / (atol + rtol max |b|): at most 1 passes. */
function closeness(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol: number): number {
  expect(a.length).toBe(b.length);
  let scale = 0;
  let d = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) {
    expect(Number.isFinite(a[i])).toBe(true);
    d = Math.max(d, Math.abs(a[i] - b[i]));
  }
  return d / (atol + rtol * scale);
}

// A scratch region of the kernels' memory, above everything the forwards use.
function scratch(k: ScoreKernels) {
  let top = k.memory.buffer.byteLength;
  k.memory.grow(64);
  return {
    put(data: ArrayLike<number>, int = false): number {
      const at = top;
      top += Math.ceil((4 * data.length) / 16) * 16 + 16;
      (int ? new Int32Array(k.memory.buffer, at, data.length) : new Float32Array(k.memory.buffer, at, data.length)).set(data);
      return at;
    },
    f32: (p: number, n: number) => new Float32Array(k.memory.buffer, p, n),
    i32: (p: number, n: number) => new Int32Array(k.memory.buffer, p, n),
  };
}

const silu = (x: number) => x / (1 + Math.exp(-x));

describe('the kernels, against plain arithmetic', () => {
  it('SiLU to 1e-6 of the value from -100 to 100 (1e-36 where e^-x is clamped at e^88), exactly 0 at 0', () => {
    const s = scratch(kernels);
    const xs = [0, -0, 1e-30, -1e-30, 87.5, -87.5, 88.7, -88.7, 100, -100];
    for (let i = 0; i <= 2000; i++) xs.push(-100 + i * 0.1);
    const p = s.put(xs);
    const out = s.put(new Float32Array(xs.length));
    kernels.silu(p, xs.length, out);
    const y = s.f32(out, xs.length);
    xs.forEach((x, i) => expect(Math.abs(y[i] - silu(Math.fround(x)))).toBeLessThanOrEqual(1e-6 * Math.abs(silu(x)) + 1e-36));
    expect(y[0]).toBe(0);
  });

  it('linear: every row tail, odd k, each mode, strided input', () => {
    const s = scratch(kernels);
    const rng = new Rng(3);
    for (const [rows, k, m] of [
      [1, 1, 8],
      [3, 129, 16],
      [4, 64, 64],
      [9, 7, 8],
      [13, 32, 24],
    ]) {
      const xs = k + 3; // input rows 3 floats longer than k
      const x = Array.from({ length: rows * xs }, () => rng.normal());
      const w = Array.from({ length: k * m }, () => rng.normal() * 0.3);
      const b = Array.from({ length: m }, () => rng.normal());
      const prev = Array.from({ length: rows * m }, () => rng.normal());
      for (const mode of [MODE.plain, MODE.silu, MODE.add]) {
        const out = s.put(prev);
        kernels.linear(s.put(x), rows, k, xs, s.put(w), s.put(b), m, out, mode);
        const got = s.f32(out, rows * m);
        const want: number[] = [];
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < m; j++) {
            let v = b[j];
            for (let q = 0; q < k; q++) v += x[r * xs + q] * w[q * m + j];
            want.push(mode === MODE.silu ? silu(v) : mode === MODE.add ? v + prev[r * m + j] : v);
          }
        }
        expect(closeness(got, want, 1e-5, 1e-5), `rows ${rows} k ${k} m ${m} mode ${mode}`).toBeLessThanOrEqual(1);
      }
    }
  });

  it('radial: the Gaussian window holds every centre within 4.5 widths, envelope and unit vectors exact', () => {
    const s = scratch(kernels);
    const { header: h } = parseScoreWeights(weightBytes('perov_5'));
    const R = h.rbf;
    const step = h.cutoff / (R - 1);
    const KW = gaussianWindow(h);
    // lengths on every centre, halfway between, near 0, at and past the cutoff
    const ds: number[] = [0, 1e-7, h.cutoff, h.cutoff + 0.3, 6];
    for (let k = 0; k < R; k++) ds.push(k * step, (k + 0.5) * step, k * step + 4.5 * h.rbf_width);
    const rng = new Rng(5);
    const vec: number[] = [];
    for (const d of ds) {
      const u = [rng.normal(), rng.normal(), rng.normal()];
      const n = Math.hypot(...u);
      vec.push((d * u[0]) / n, (d * u[1]) / n, (d * u[2]) / n);
    }
    const E = ds.length;
    const g = s.put(new Float32Array(E * KW));
    const k0 = s.put(new Int32Array(E), true);
    const env = s.put(new Float32Array(E));
    const unit = s.put(new Float32Array(3 * E));
    kernels.radial(s.put(vec), E, R, KW, h.cutoff, h.rbf_width, g, k0, env, unit);
    const G = s.f32(g, E * KW);
    const K0 = s.i32(k0, E);
    const ENV = s.f32(env, E);
    const U = s.f32(unit, 3 * E);
    for (let e = 0; e < E; e++) {
      const d = Math.hypot(vec[3 * e], vec[3 * e + 1], vec[3 * e + 2]);
      expect(K0[e] >= 0 && K0[e] + KW <= R).toBe(true);
      for (let k = 0; k < R; k++) {
        const exact = Math.exp(-(((d - k * step) / h.rbf_width) ** 2));
        const inWindow = k >= K0[e] && k < K0[e] + KW;
        const got = inWindow ? G[e * KW + k - K0[e]] : 0;
        // dropped: only centres beyond 4.5 widths, each below exp(-20.25) = 1.6e-9;
        // kept: float32 throughout (d from float32 components: q is good to ~3e-6)
        expect(Math.abs(got - exact), `d ${d} centre ${k}`).toBeLessThanOrEqual(3e-5 * exact + 1.7e-9);
      }
      expect(ENV[e]).toBeCloseTo(0.5 * (Math.cos(Math.PI * Math.min(d / h.cutoff, 1)) + 1), 6);
      for (let a = 0; a < 3; a++) expect(U[3 * e + a]).toBeCloseTo(vec[3 * e + a] / Math.max(d, 1e-6), 5);
    }
  });
});

function inputOf(c: Case, latent: number): ScoreInput {
  const zAtom: number[] = [];
  c.num_atoms.forEach((n, b) => {
    for (let i = 0; i < n; i++) zAtom.push(...c.z[b]);
  });
  expect(zAtom.length).toBe(c.types.length * latent);
  return {
    zAtom: Float32Array.from(zAtom),
    types: BigInt64Array.from(c.types.map(BigInt)),
    logSigma: new Float32Array(c.types.length).fill(Math.log(c.sigma)),
    src: BigInt64Array.from(c.edges.src.map(BigInt)),
    dst: BigInt64Array.from(c.edges.dst.map(BigInt)),
    vec: Float32Array.from(c.edges.vec),
  };
}

describe.each(MODELS)('%s: the whole forward', (id) => {
  it('matches PyTorch on the export fixtures (three noise levels)', () => {
    const { cases } = JSON.parse(readFileSync(root(`models/cdvae/fixtures/${id}.json`), 'utf8')) as { cases: Case[] };
    for (const c of cases) {
      const out = wasm.get(id)!(inputOf(c, manifestOf(id).latent));
      expect(closeness(out.score, c.score.flat(), 1e-5, 1e-4), `sigma ${c.sigma}`).toBeLessThanOrEqual(1);
      expect(closeness(out.typeLogits, c.type_logits.flat(), 1e-5, 1e-4), `sigma ${c.sigma}`).toBeLessThanOrEqual(1);
    }
  });

  it('matches onnxruntime-web on random and adversarial graphs', async () => {
    const m = manifestOf(id);
    const rng = new Rng(11);
    const graphs: { name: string; N: number; pos: number[][]; extra?: [number, number, number[]][] }[] = [
      {
        name: 'two atoms beyond the cutoff',
        N: 2,
        pos: [
          [0, 0, 0],
          [0, 0, m.cutoff + 1],
        ],
        extra: [[0, 1, [0, 0, m.cutoff + 1]]],
      },
      // a dense cluster: many edges per atom, lengths from 0.3 Å
      { name: 'dense cluster', N: 40, pos: Array.from({ length: 40 }, () => [rng.uniform() * 4, rng.uniform() * 4, rng.uniform() * 4]) },
      // a vacuum slab: a flat layer, every edge in its plane, one atom far above
      { name: 'slab with an adatom', N: 26, pos: [...Array.from({ length: 25 }, (_, i) => [(i % 5) * 1.6, Math.floor(i / 5) * 1.6, 0]), [3, 3, 12]] },
      // a zero-length edge, one exactly at the cutoff and one a hair inside it, a duplicated edge
      {
        name: 'degenerate edges',
        N: 3,
        pos: [
          [0, 0, 0],
          [1, 1, 1],
          [2, 0, 1],
        ],
        extra: [
          [0, 0, [0, 0, 0]],
          [1, 2, [m.cutoff, 0, 0]],
          [2, 1, [0, m.cutoff - 1e-4, 0]],
          [0, 1, [1, 1, 1]],
          [0, 1, [1, 1, 1]],
        ],
      },
    ];
    for (const g of graphs) {
      const src: number[] = [];
      const dst: number[] = [];
      const vec: number[] = [];
      for (let i = 0; i < g.N; i++) {
        for (let j = 0; j < g.N; j++) {
          const v = g.pos[j].map((x, a) => x - g.pos[i][a]);
          const d = Math.hypot(...v);
          if (i !== j && d < m.cutoff + 0.5) (src.push(i), dst.push(j), vec.push(...v));
        }
      }
      for (const [i, j, v] of g.extra ?? []) (src.push(i), dst.push(j), vec.push(...v));
      const input: ScoreInput = {
        zAtom: Float32Array.from({ length: g.N * m.latent }, () => rng.normal()),
        types: BigInt64Array.from({ length: g.N }, (_, i) => BigInt(i === 0 ? m.vocab.length - 1 : Math.floor(rng.uniform() * m.vocab.length))),
        logSigma: Float32Array.from({ length: g.N }, () => Math.log(0.01 + rng.uniform() * 5)),
        src: BigInt64Array.from(src.map(BigInt)),
        dst: BigInt64Array.from(dst.map(BigInt)),
        vec: Float32Array.from(vec),
      };
      const want = await ort.get(id)!.score(input);
      const got = wasm.get(id)!(input);
      expect(closeness(got.score, want.score, 1e-5, 1e-4), g.name).toBeLessThanOrEqual(1);
      expect(closeness(got.typeLogits, want.typeLogits, 1e-5, 1e-4), g.name).toBeLessThanOrEqual(1);
    }
  });

  it('takes a graph without edges: as if every edge were past the cutoff, and so does the onnxruntime model', async () => {
    // onnxruntime-web itself fails on E = 0 ("Attempting to broadcast an axis
    // by a dimension other than 1"); an edge past the cutoff has envelope 0
    // and changes nothing, so createOrtScoreModel gives it one.
    const m = manifestOf(id);
    const rng = new Rng(4);
    const base = {
      zAtom: Float32Array.from({ length: 2 * m.latent }, () => rng.normal()),
      types: BigInt64Array.from([0n, 1n]),
      logSigma: Float32Array.from([0.5, -1]),
    };
    const none = { ...base, src: new BigInt64Array(0), dst: new BigInt64Array(0), vec: new Float32Array(0) };
    const far = { ...base, src: BigInt64Array.from([0n]), dst: BigInt64Array.from([1n]), vec: Float32Array.from([0, m.cutoff + 0.3, 0]) };
    const got = wasm.get(id)!(none);
    expect(Array.from(got.score)).toEqual([0, 0, 0, 0, 0, 0]);
    const want = await ort.get(id)!.score(far);
    expect(closeness(got.typeLogits, want.typeLogits, 1e-5, 1e-4)).toBeLessThanOrEqual(1);
    expect(Array.from(wasm.get(id)!(far).typeLogits)).toEqual(Array.from(got.typeLogits));
    const viaOrt = await ort.get(id)!.score(none);
    expect(Array.from(viaOrt.score)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(viaOrt.typeLogits)).toEqual(Array.from(want.typeLogits));
  });
});

describe('refusals', () => {
  const one = (over: Partial<ScoreInput> = {}): ScoreInput => ({
    zAtom: new Float32Array(2 * 64),
    types: BigInt64Array.from([0n, 1n]),
    logSigma: new Float32Array(2),
    src: BigInt64Array.from([0n]),
    dst: BigInt64Array.from([1n]),
    vec: Float32Array.from([1, 0, 0]),
    ...over,
  });

  it('an edge to a missing atom, a type outside the vocabulary, mismatched lengths', () => {
    const f = wasm.get('perov_5')!;
    expect(f(one()).score.length).toBe(6);
    expect(() => f(one({ dst: BigInt64Array.from([2n]) }))).toThrow(/edge 0 joins atoms 0 and 2 of 2/);
    expect(() => f(one({ src: BigInt64Array.from([-1n]) }))).toThrow(/edge 0 joins atoms -1 and 1/);
    expect(() => f(one({ types: BigInt64Array.from([0n, 56n]) }))).toThrow(/atom 1 has type 56; the model knows 56/);
    expect(() => f(one({ vec: new Float32Array(6) }))).toThrow(/1 src, 1 dst and 2 vectors/);
  });

  it('weights that are not a weights file, or of another shape or model', async () => {
    expect(() => parseScoreWeights(new Uint8Array(16))).toThrow(/not a latticelab score-weights file/);
    const w = parseScoreWeights(weightBytes('perov_5'));
    expect(() => w.get('embed', [3, 64])).toThrow(/embed has shape \[56, 64\], expected \[3, 64\]/);
    expect(() => w.get('nothing', [1])).toThrow(/no tensor nothing/);
    const mpHeads = ort.get('mp20_biternary_pilot')!;
    await expect(withWasmScore(mpHeads, weightBytes('perov_5'))).rejects.toThrow(/do not match the model/);
  });

  it('only radial exports with weights take the kernels', () => {
    expect(hasWasmScore(manifestOf('perov_5'))).toBe(true);
    expect(hasWasmScore(manifestOf('carbon_24'))).toBe(false);
    const painn = manifestOf('perov_5');
    painn.score_net = 'painn';
    expect(hasWasmScore(painn)).toBe(false);
  });
});

it('samples perov_5 on the kernels: deterministic for a seed, valid crystals, the provider named', async () => {
  const model = await withWasmScore(ort.get('perov_5')!, weightBytes('perov_5'));
  expect(model.provider).toMatch(/^hand-written WASM SIMD kernels for the score network, heads on onnxruntime-web/);
  const a = await sampleCrystals(model, { n: 4, seed: 9, stepsPerLevel: 1 });
  const b = await sampleCrystals(model, { n: 4, seed: 9, stepsPerLevel: 1 });
  expect(a.crystals.map((c) => c.frac)).toEqual(b.crystals.map((c) => c.frac));
  const vocab = new Set(manifestOf('perov_5').vocab);
  for (const c of a.crystals) {
    expect(c.frac.flat().every((x) => x >= 0 && x < 1)).toBe(true);
    expect(c.numbers.every((z) => vocab.has(z))).toBe(true);
    expect(structuralValidity(c.lattice, c.frac).volume).toBeGreaterThan(0);
  }
});

it('the committed kernels module is the build of shaders/wasm/score.ts', () => {
  const built = execFileSync(process.execPath, [root('scripts/build-wasm.mjs'), '--print'], { encoding: 'utf8', timeout: 60_000 });
  expect(built).toBe(readFileSync(root('src/core/generate/wasm-score/kernels.wasm.ts'), 'utf8'));
}, 60_000);
