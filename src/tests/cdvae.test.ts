/**
 * The exported CDVAE (models/cdvae/export.py) on onnxruntime-web (WASM, in
 * Node) against the PyTorch outputs stored in its fixtures, with the graph
 * as PyTorch built it and as the project's neighbour list builds it; and the
 * sampler's own pieces.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Mat3, Vec3 } from '../core/math3';
import { compositionCounts, typesFromCounts } from '../core/generate/composition';
import { sampleCrystals, periodicGraph } from '../core/generate/langevin';
import { applyLatentPrior } from '../core/generate/latent-prior';
import { parseManifest } from '../core/generate/manifest';
import { createOrtScoreModel } from '../core/generate/ort-score-model';
import { Rng } from '../core/generate/rng';
import type { ScoreModel } from '../core/generate/score-model';
import { compositionalValidity, structuralValidity } from '../core/generate/validity';

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
/** Every model the app ships (src/app/generate/models.ts) has its parity fixtures. */
const MODELS = ['perov_5', 'carbon_24', 'mp20_biternary_pilot'] as const;
type ModelId = (typeof MODELS)[number];

interface Case {
  /**
   * Crowded crystals on which PaiNN's feature bound clips (export.py `clipped_inputs`):
   * unbounded, they overflow. Scores reach hundreds there, so their tolerance is relative.
   */
  clipped?: boolean;
  sigma: number;
  num_atoms: number[];
  lattice: Mat3[];
  frac: Vec3[];
  z: number[][];
  types: number[];
  edges: { src: number[]; dst: number[]; vec: number[] };
  score: number[][];
  type_logits: number[][];
  heads: { num_atoms_logits: number[][]; lattice: number[][]; composition: number[][]; property: number[] };
}

const dirOf = (id: ModelId) => `models/cdvae/export/${id}/`;
const fixturesOf = (id: ModelId) =>
  JSON.parse(readFileSync(root(`models/cdvae/fixtures/${id}.json`), 'utf8')) as {
    cases: Case[];
    /** standard normals and PyTorch's latent_prior.apply of them, for a model exported with a fitted prior */
    latent_prior?: { eps: number[][]; z: number[][] };
  };
const manifestOf = (id: ModelId) => parseManifest(JSON.parse(readFileSync(root(dirOf(id) + 'model.json'), 'utf8')));
const models = new Map<ModelId, ScoreModel>();

beforeAll(async () => {
  const ort = await import('onnxruntime-web');
  for (const id of MODELS) {
    const dir = dirOf(id);
    const files = { heads: readFileSync(root(dir + 'heads.onnx')), score: readFileSync(root(dir + 'score.onnx')) };
    models.set(id, await createOrtScoreModel(ort, manifestOf(id), files, 'wasm'));
  }
});

/**
 * 1e-4; on a clipped case 1e-3 of the largest wanted value. There the blocks'
 * products of clamped features reach 176² ≈ 3e4, where float32's spacing is
 * about 2e-3, so the two runtimes agree to a few 1e-4 of scores in the
 * hundreds (measured 3e-4); without the clamp onnxruntime gives NaN.
 */
const tolerance = (c: Case, want: number[]) => (c.clipped ? 1e-3 * Math.max(1, ...want.map(Math.abs)) : 1e-4);

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

function zAtomOf(c: Case): Float32Array {
  const rows: number[] = [];
  c.num_atoms.forEach((n, b) => {
    for (let k = 0; k < n; k++) rows.push(...c.z[b]);
  });
  return Float32Array.from(rows);
}

describe.each(MODELS)('CDVAE export %s: PyTorch vs onnxruntime-web (WASM)', (id) => {
  const fixtures = fixturesOf(id);
  const manifest = manifestOf(id);
  const model = () => models.get(id)!;

  it('heads agree within 1e-4', async () => {
    for (const c of fixtures.cases) {
      const h = await model().heads(Float32Array.from(c.z.flat()), c.z.length);
      expect(maxAbsDiff(h.numAtomsLogits, c.heads.num_atoms_logits.flat())).toBeLessThan(1e-4);
      expect(maxAbsDiff(h.lattice, c.heads.lattice.flat())).toBeLessThan(1e-4);
      expect(maxAbsDiff(h.composition, c.heads.composition.flat())).toBeLessThan(1e-4);
      expect(maxAbsDiff(h.property, c.heads.property)).toBeLessThan(1e-4);
    }
  });

  it('draws z from the same latent prior as PyTorch (or both from N(0, I))', () => {
    expect(manifest.latent_prior === undefined).toBe(fixtures.latent_prior === undefined);
    if (!fixtures.latent_prior) return;
    const { eps, z } = fixtures.latent_prior;
    const mine = applyLatentPrior(manifest.latent_prior, Float32Array.from(eps.flat()), eps.length);
    expect(maxAbsDiff(mine, z.flat())).toBeLessThan(1e-5);
  });

  it('one score step agrees within 1e-4 on the same graph, at large, middle and small noise', async () => {
    for (const c of fixtures.cases) {
      const out = await model().score({
        zAtom: zAtomOf(c),
        types: BigInt64Array.from(c.types.map(BigInt)),
        logSigma: new Float32Array(c.types.length).fill(Math.log(c.sigma)),
        src: BigInt64Array.from(c.edges.src.map(BigInt)),
        dst: BigInt64Array.from(c.edges.dst.map(BigInt)),
        vec: Float32Array.from(c.edges.vec),
      });
      expect(maxAbsDiff(out.score, c.score.flat())).toBeLessThan(tolerance(c, c.score.flat()));
      expect(maxAbsDiff(out.typeLogits, c.type_logits.flat())).toBeLessThan(tolerance(c, c.type_logits.flat()));
    }
  });

  it('a PaiNN export with a feature bound has a case on which the bound clips', () => {
    const bounded = manifest.feature_bound !== undefined;
    expect(fixtures.cases.some((c) => c.clipped)).toBe(bounded);
  });

  it('the neighbour list builds the same graph: same edge count and the same outputs', async () => {
    for (const c of fixtures.cases) {
      const starts = c.num_atoms.map((_, b) => c.num_atoms.slice(0, b).reduce((s, x) => s + x, 0));
      const graph = periodicGraph(
        c.lattice.map((lattice) => ({ lattice })),
        starts,
        c.types.length,
        Float64Array.from(c.frac.flat()),
        manifest.cutoff,
      );
      expect(graph.src.length).toBe(c.edges.src.length);
      const out = await model().score({
        zAtom: zAtomOf(c),
        types: BigInt64Array.from(c.types.map(BigInt)),
        logSigma: new Float32Array(c.types.length).fill(Math.log(c.sigma)),
        ...graph,
      });
      expect(maxAbsDiff(out.score, c.score.flat())).toBeLessThan(tolerance(c, c.score.flat()));
    }
  });
});

describe('CDVAE sampler', () => {
  const manifest = manifestOf('perov_5');
  const model = () => models.get('perov_5')!;

  it('is deterministic for a seed and gives crystals of the vocabulary inside their cells', async () => {
    const a = await sampleCrystals(model(), { n: 3, seed: 7, stepsPerLevel: 1 });
    const b = await sampleCrystals(model(), { n: 3, seed: 7, stepsPerLevel: 1 });
    const c = await sampleCrystals(model(), { n: 3, seed: 8, stepsPerLevel: 1 });
    expect(a.steps).toBe(manifest.sigmas.length);
    expect(b.crystals).toEqual(a.crystals);
    expect(c.crystals).not.toEqual(a.crystals);
    for (const x of a.crystals) {
      expect(x.numbers.length).toBeGreaterThan(0);
      expect(x.numbers.length).toBeLessThanOrEqual(manifest.max_atoms);
      for (const z of x.numbers) expect(manifest.vocab).toContain(z);
      for (const f of x.frac) for (const v of f) expect(v >= 0 && v < 1).toBe(true);
      expect(Number.isFinite(x.property)).toBe(true);
    }
  }, 60_000); // three 50-step samplings on WASM: 3.8 s under the GPAW generators' load, near the 5 s default

  it('samples carbon_24: carbon only, at most 24 atoms', async () => {
    const carbon = manifestOf('carbon_24');
    const { crystals } = await sampleCrystals(models.get('carbon_24')!, { n: 2, seed: 3, stepsPerLevel: 1 });
    for (const x of crystals) {
      expect(x.numbers.length).toBeGreaterThan(0);
      expect(x.numbers.length).toBeLessThanOrEqual(carbon.max_atoms);
      expect(new Set(x.numbers)).toEqual(new Set([6]));
    }
  }, 60_000);

  it('samples mp20_biternary_pilot: 1–20 atoms, every element in its vocabulary', async () => {
    const mp = manifestOf('mp20_biternary_pilot');
    const { crystals } = await sampleCrystals(models.get('mp20_biternary_pilot')!, { n: 3, seed: 5, stepsPerLevel: 1 });
    for (const x of crystals) {
      expect(x.numbers.length).toBeGreaterThan(0);
      expect(x.numbers.length).toBeLessThanOrEqual(mp.max_atoms);
      for (const z of x.numbers) expect(mp.vocab).toContain(z);
    }
  }, 60_000);

  it('rejects absurd requests with a message', async () => {
    await expect(sampleCrystals(model(), { n: 0, seed: 1 })).rejects.toThrow(/number of samples/);
    await expect(sampleCrystals(model(), { n: 1e6, seed: 1 })).rejects.toThrow(/number of samples/);
    await expect(sampleCrystals(model(), { n: 2, seed: 1, stepsPerLevel: 0 })).rejects.toThrow(/steps per noise level/);
  });

  it('stops when cancelled', async () => {
    const ctl = new AbortController();
    const run = sampleCrystals(model(), { n: 2, seed: 1, stepsPerLevel: 5, onProgress: (d) => d === 3 && ctl.abort(), signal: ctl.signal });
    await expect(run).rejects.toThrow(/cancelled/);
  });
});

describe('sampler pieces', () => {
  it('turns composition probabilities into whole counts by largest remainders', () => {
    expect(compositionCounts([0.2, 0.2, 0.6], 5)).toEqual([1, 1, 3]);
    expect(compositionCounts([0.5, 0.5], 3)).toEqual([2, 1]);
    expect(compositionCounts([0.1, 0.25, 0.65], 4)).toEqual([0, 1, 3]);
    expect(typesFromCounts([2, 0, 1])).toEqual([0, 0, 2]);
  });

  it('draws reproducible uniforms and normals', () => {
    const a = new Rng(3).normals(1000);
    const b = new Rng(3).normals(1000);
    expect(a).toEqual(b);
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    const variance = a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(Math.abs(variance - 1)).toBeLessThan(0.1);
  });

  it('checks charge neutrality with the Pauling test, like CDVAE', () => {
    const Z = { O: 8, Na: 11, Cl: 17, Ti: 22, Fe: 26, Ni: 28, Sr: 38, C: 6, F: 9 };
    expect(compositionalValidity([Z.Sr, Z.Ti, Z.O, Z.O, Z.O])).toBe(true);
    expect(compositionalValidity([Z.Na, Z.Cl])).toBe(true);
    expect(compositionalValidity([Z.Na, Z.Cl, Z.Cl])).toBe(false);
    expect(compositionalValidity([Z.Na, Z.Na, Z.Na, Z.O])).toBe(false); // Na3O: no neutral state set
    expect(compositionalValidity([Z.Fe, Z.Ni, Z.Ni])).toBe(true); // alloy
    expect(compositionalValidity([Z.C, Z.C, Z.C])).toBe(true); // element
    expect(compositionalValidity([Z.O, Z.F, Z.F])).toBe(true); // OF2: O(+2) is less electronegative than F
  });

  it('finds atoms that overlap across the cell boundary', () => {
    const cubic: Mat3 = [
      [4, 0, 0],
      [0, 4, 0],
      [0, 0, 4],
    ];
    expect(
      structuralValidity(cubic, [
        [0, 0, 0],
        [0.5, 0.5, 0.5],
      ]).valid,
    ).toBe(true);
    const bad = structuralValidity(cubic, [
      [0.01, 0, 0],
      [0.96, 0, 0],
    ]);
    expect(bad.valid).toBe(false);
    expect(bad.minDistance).toBeCloseTo(0.2, 6);
    const skew: Mat3 = [
      [4, 0, 0],
      [3.9, 1, 0],
      [0, 0, 4],
    ];
    // 0.9a + 0.1b − a = (−0.01, 0.1, 0): 0.1 Å apart, though 0.9 and 0.1 look far apart in fractions
    expect(
      structuralValidity(skew, [
        [0, 0, 0],
        [0.9, 0.1, 0],
      ]).minDistance,
    ).toBeLessThan(0.5);
  });
});
