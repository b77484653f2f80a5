/**
 * Annealed Langevin dynamics: CDVAE's sampler (Xie et al., ICLR 2022,
 * algorithm 1, after Song & Ermon 2019), step for step the same as
 * `langevin` in models/cdvae/sample.py.
 *
 * 1. z ~ N(0, I); from z: number of atoms (argmax), lattice (lengths ×
 *    N^(1/3), angles), composition → whole counts, random positions.
 * 2. For each noise level σ (largest first), `stepsPerLevel` times:
 *    step = stepLr · (σ / σ_last)²;  x ← x + step · score / σ + √(2 step) · ξ
 *    in Cartesian coordinates, wrapped back into the cell; each atom's type
 *    becomes the argmax of its predicted logits.
 *
 * The periodic graph of every step comes from the project's neighbour list
 * (src/core/neighbors), the score from any ScoreModel (onnxruntime-web in
 * the app and the CLI).
 */
import { Lattice } from '../lattice';
import { type Mat3, type Vec3, vecmat } from '../math3';
import { neighborListCpu } from '../neighbors/cpu';
import { compositionCounts, typesFromCounts } from './composition';
import { applyLatentPrior } from './latent-prior';
import { Rng } from './rng';
import type { ScoreModel } from './score-model';

export interface SampleOptions {
  n: number;
  seed: number;
  stepsPerLevel?: number;
  stepLr?: number;
  /** Called after every step. */
  onProgress?: (done: number, total: number) => void;
  /** Called every `frameEvery` steps (and at the end) with the current state. */
  onFrame?: (frame: SampleFrame) => void | Promise<void>;
  frameEvery?: number;
  signal?: AbortSignal;
  /**
   * Changes the latent vectors (n × latent, row-major) after they are drawn
   * and before they are decoded: the target mode's gradient steps
   * (property-head.ts). The random stream is the same with or without it, so
   * a run with a target starts from the same vectors as the plain run of the
   * same seed.
   */
  transformLatent?: (z: Float32Array, n: number) => Promise<Float32Array>;
}

export interface GeneratedCrystal {
  lengths: Vec3;
  angles: Vec3;
  lattice: Mat3;
  frac: Vec3[];
  /** Atomic numbers. */
  numbers: number[];
  /** The property head's prediction for this z (manifest.property). */
  property: number;
  /** Notes about repairs (e.g. angles that did not form a cell). */
  notes: string[];
}

export interface SampleFrame {
  step: number;
  total: number;
  sigma: number;
  crystals: GeneratedCrystal[];
}

export interface SampleResult {
  crystals: GeneratedCrystal[];
  steps: number;
  provider: string;
  /** Wall time of the whole run, ms. */
  ms: number;
  /** Time inside the score network, ms. */
  modelMs: number;
  /** Time building neighbour lists, ms. */
  graphMs: number;
}

export const MAX_SAMPLES = 256;
export const MAX_STEPS_PER_LEVEL = 200;

const argmax = (a: ArrayLike<number>, from: number, len: number): number => {
  let best = 0;
  for (let k = 1; k < len; k++) if (a[from + k] > a[from + best]) best = k;
  return best;
};

/** A lattice from predicted parameters; angles that cannot form a cell are pulled towards 90°. */
function predictedLattice(lengths: Vec3, angles: Vec3, notes: string[]): Lattice {
  const l = lengths.map((x) => Math.max(x, 1)) as Vec3;
  if (l.some((x, i) => x !== lengths[i])) notes.push('lattice lengths below 1 Å were raised to 1 Å');
  for (const t of [1, 0.75, 0.5, 0.25, 0]) {
    const a = angles.map((x) => 90 + (Math.min(Math.max(x, 20), 160) - 90) * t) as Vec3;
    try {
      const lat = Lattice.fromParameters(l[0], l[1], l[2], a[0], a[1], a[2]);
      if (t !== 1)
        notes.push(`predicted angles ${angles.map((x) => x.toFixed(1)).join(', ')}° do not form a cell; used ${a.map((x) => x.toFixed(1)).join(', ')}°`);
      return lat;
    } catch {
      /* try angles closer to 90° */
    }
  }
  throw new Error('unreachable: 90° angles always form a cell');
}

export async function sampleCrystals(model: ScoreModel, opts: SampleOptions): Promise<SampleResult> {
  const m = model.manifest;
  const n = opts.n;
  if (!Number.isInteger(n) || n < 1 || n > MAX_SAMPLES) throw new Error(`number of samples must be 1–${MAX_SAMPLES}, got ${n}`);
  const stepsPerLevel = opts.stepsPerLevel ?? m.defaults.steps_per_level;
  if (!Number.isInteger(stepsPerLevel) || stepsPerLevel < 1 || stepsPerLevel > MAX_STEPS_PER_LEVEL) {
    throw new Error(`steps per noise level must be 1–${MAX_STEPS_PER_LEVEL}, got ${stepsPerLevel}`);
  }
  const stepLr = opts.stepLr ?? m.defaults.step_lr;
  const t0 = performance.now();
  const rng = new Rng(opts.seed);
  const L = m.latent;
  const V = m.vocab.length;
  const drawn = applyLatentPrior(m.latent_prior, rng.normals(n * L), n);
  const z = opts.transformLatent ? await opts.transformLatent(drawn, n) : drawn;
  if (z.length !== n * L) throw new Error(`the latent transform returned ${z.length} numbers, not ${n}×${L}`);
  const h = await model.heads(z, n);

  // Initial state per crystal.
  const crystals: GeneratedCrystal[] = [];
  const types: number[] = [];
  const crystalOf: number[] = [];
  for (let b = 0; b < n; b++) {
    const N = Math.max(1, argmax(h.numAtomsLogits, b * (m.max_atoms + 1), m.max_atoms + 1));
    const lat = Array.from(h.lattice.subarray(b * 6, b * 6 + 6));
    const lengths = lat.slice(0, 3).map((x) => x * Math.cbrt(N)) as Vec3;
    const angles = lat.slice(3) as Vec3;
    const notes: string[] = [];
    const lattice = predictedLattice(lengths, angles, notes).matrix;
    const t = typesFromCounts(compositionCounts(h.composition.subarray(b * V, b * V + V), N));
    crystals.push({ lengths, angles, lattice, frac: [], numbers: [], property: h.property[b], notes });
    types.push(...t);
    crystalOf.push(...t.map(() => b));
  }
  const total = types.length;
  const frac = new Float64Array(total * 3);
  for (let i = 0; i < frac.length; i++) frac[i] = rng.uniform();
  const zAtom = new Float32Array(total * L);
  crystalOf.forEach((b, i) => zAtom.set(z.subarray(b * L, b * L + L), i * L));
  const typeIdx = BigInt64Array.from(types.map(BigInt));
  const starts: number[] = [];
  crystalOf.forEach((b, i) => {
    if (starts[b] === undefined) starts[b] = i;
  });
  const inverse = crystals.map((c) => new Lattice(c.lattice).inverseMatrix);

  const snapshot = (): GeneratedCrystal[] =>
    crystals.map((c, b) => {
      const count = (starts[b + 1] ?? total) - starts[b];
      const f: Vec3[] = [];
      const numbers: number[] = [];
      for (let i = starts[b]; i < starts[b] + count; i++) {
        f.push([frac[3 * i], frac[3 * i + 1], frac[3 * i + 2]]);
        numbers.push(m.vocab[Number(typeIdx[i])]);
      }
      return { ...c, frac: f, numbers, notes: [...c.notes] };
    });

  const totalSteps = m.sigmas.length * stepsPerLevel;
  const frameEvery = opts.frameEvery ?? 0;
  const sigmaLast = m.sigmas[m.sigmas.length - 1];
  let done = 0;
  let modelMs = 0;
  let graphMs = 0;
  const logSigma = new Float32Array(total);
  for (const sigma of m.sigmas) {
    const step = stepLr * (sigma / sigmaLast) ** 2;
    const noise = Math.sqrt(2 * step);
    logSigma.fill(Math.log(sigma));
    for (let s = 0; s < stepsPerLevel; s++) {
      if (opts.signal?.aborted) throw new DOMException('sampling was cancelled', 'AbortError');
      const tg = performance.now();
      const graph = periodicGraph(crystals, starts, total, frac, m.cutoff);
      graphMs += performance.now() - tg;
      const tm = performance.now();
      const out = await model.score({ zAtom, types: typeIdx, logSigma, ...graph });
      modelMs += performance.now() - tm;
      for (let i = 0; i < total; i++) {
        const b = crystalOf[i];
        const cart = vecmat([frac[3 * i], frac[3 * i + 1], frac[3 * i + 2]], crystals[b].lattice);
        // The noise is drawn whatever happens, so that one atom's skipped
        // move leaves every other draw of the seed where it was.
        const kick = [0, 1, 2].map((k) => (step * out.score[3 * i + k]) / sigma + noise * rng.normal());
        if (!kick.every(Number.isFinite)) {
          // A diverged score network (seen with PaiNN on carbon: NaN) would
          // leave NaN coordinates; the atom keeps its place and the crystal says so.
          const note = 'the score network returned a non-number; some moves were skipped (the structure may be wrong)';
          if (!crystals[b].notes.includes(note)) crystals[b].notes.push(note);
        } else {
          const f = vecmat([cart[0] + kick[0], cart[1] + kick[1], cart[2] + kick[2]], inverse[b]);
          for (let k = 0; k < 3; k++) {
            const w = f[k] - Math.floor(f[k]);
            frac[3 * i + k] = w >= 1 ? 0 : w;
          }
        }
        typeIdx[i] = BigInt(argmax(out.typeLogits, i * V, V));
      }
      done++;
      opts.onProgress?.(done, totalSteps);
      if (opts.onFrame && frameEvery > 0 && done % frameEvery === 0 && done < totalSteps) {
        await opts.onFrame({ step: done, total: totalSteps, sigma, crystals: snapshot() });
      }
    }
  }
  const result = snapshot();
  await opts.onFrame?.({ step: totalSteps, total: totalSteps, sigma: sigmaLast, crystals: result });
  return { crystals: result, steps: totalSteps, provider: model.provider, ms: performance.now() - t0, modelMs, graphMs };
}

/** Every periodic neighbour within the cutoff, per crystal, concatenated with global atom indices. */
export function periodicGraph(
  crystals: readonly { lattice: Mat3 }[],
  starts: readonly number[],
  total: number,
  frac: Float64Array,
  cutoff: number,
): { src: BigInt64Array; dst: BigInt64Array; vec: Float32Array } {
  const parts = crystals.map((c, b) => {
    const start = starts[b];
    const end = starts[b + 1] ?? total;
    return { start, edges: neighborListCpu({ lattice: c.lattice, pbc: [true, true, true], frac: frac.slice(3 * start, 3 * end), cutoff }) };
  });
  const E = parts.reduce((s, p) => s + p.edges.count, 0);
  const src = new BigInt64Array(E);
  const dst = new BigInt64Array(E);
  const vec = new Float32Array(3 * E);
  let o = 0;
  for (const { start, edges } of parts) {
    for (let e = 0; e < edges.count; e++) {
      src[o + e] = BigInt(start + edges.src[e]);
      dst[o + e] = BigInt(start + edges.dst[e]);
    }
    vec.set(edges.vec, 3 * o);
    o += edges.count;
  }
  return { src, dst, vec };
}
