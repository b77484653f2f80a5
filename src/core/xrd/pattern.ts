import type { Structure } from '../structure';
import { type HklFamily, uniqueFamilies, usesMillerBravais } from './families';
import { type FormFactor, formFactorOf, scatteringFactor } from './form-factor';
import { reflectionsInShell, TooManyReflections } from './reflections';
import { CU_KA } from './wavelengths';

/**
 * The simulated powder X-ray diffraction pattern of a crystal, by the method
 * of pymatgen's `XRDCalculator.get_pattern` (pymatgen/analysis/diffraction/
 * xrd.py, after De Graef & McHenry, *Structure of Materials*, ch. 11–12), so
 * that the two agree peak for peak:
 *
 * 1. every reciprocal-lattice point g (|g| = 1/d) in the 2θ range;
 * 2. Bragg's law, sin θ = λ|g| / 2;
 * 3. the structure factor F = Σⱼ occⱼ fⱼ(s) exp(2πi g·rⱼ), s = |g|/2, with
 *    the atomic scattering factors of form-factor.ts and site occupancies
 *    (a disordered site counts each species by its share);
 * 4. intensity |F|² times the Lorentz-polarisation factor
 *    (1 + cos² 2θ) / (sin² θ cos θ) of an unpolarised beam on a powder;
 * 5. reflections within 1e-5° of 2θ merged into one peak (the symmetry
 *    equivalents, and accidental coincidences such as 333/511 in a cube),
 *    their hkl grouped into families; intensities scaled so the strongest
 *    peak is 100, and peaks below 0.001 of that dropped (systematic
 *    absences that cancel only to rounding).
 *
 * No multiplicity factor is applied, because every equivalent reflection is
 * summed in step 5 individually; no Debye–Waller (thermal) factor, as in
 * pymatgen's default; no absorption, preferred orientation or peak shape:
 * these are stick positions and integrated intensities.
 */
export interface XrdOptions {
  /** Å; default Cu Kα (wavelengths.ts). */
  wavelength?: number;
  /** Degrees of 2θ, 0 ≤ lo < hi < 180; default [0, 90], pymatgen's. */
  twoThetaRange?: [number, number];
}

export interface XrdPeak {
  /** Degrees. */
  twoTheta: number;
  /** Scaled: the strongest peak of the pattern is 100. */
  intensity: number;
  /** Interplanar spacing, Å. */
  d: number;
  /** The reflections on this peak, by family, largest tuple first within each. */
  families: HklFamily[];
}

export interface XrdPattern {
  wavelength: number;
  twoThetaRange: [number, number];
  /** In order of 2θ. */
  peaks: XrdPeak[];
  /** Reciprocal-lattice points in the range (both of each Friedel pair). */
  reflections: number;
  /** Whether the families are written (h k i l), on a hexagonal cell. */
  millerBravais: boolean;
}

/** A pattern, or why there is none: refusals are part of the answer, not exceptions. */
export type XrdResult = { ok: true; pattern: XrdPattern } | { ok: false; reason: string };

/** pymatgen's `TWO_THETA_TOL`: reflections closer than this in 2θ (degrees) are one peak. */
const TWO_THETA_TOL = 1e-5;

/** pymatgen's `SCALED_INTENSITY_TOL`: peaks at or below this (of 100) are rounding residue of absences. */
const SCALED_INTENSITY_TOL = 1e-3;

/**
 * Sites × reflections above which the pattern is refused: about 0.5 s of
 * structure factors in V8 (measured 10–15 ns per pair); reached by, e.g.,
 * a 600-site supercell, whose pattern is its primitive cell's anyway.
 */
export const MAX_SITE_REFLECTIONS = 3e7;

const DEG = Math.PI / 180;

function periodicity(s: Structure): string {
  if (s.pbc.some(Boolean)) return `a slab, periodic along ${s.pbc.map((p, k) => (p ? 'abc'[k] : '')).join('')} only`;
  return 'a molecule, periodic along no axis';
}

export function xrdPattern(s: Structure, options: XrdOptions = {}): XrdResult {
  const wavelength = options.wavelength ?? CU_KA;
  const [lo, hi] = options.twoThetaRange ?? [0, 90];
  if (!(wavelength > 0) || !Number.isFinite(wavelength)) throw new RangeError(`wavelength must be a positive number of Å, got ${wavelength}`);
  if (!(lo >= 0 && hi > lo && hi < 180)) throw new RangeError(`2θ range must satisfy 0 ≤ lo < hi < 180°, got ${lo}–${hi}`);

  // A slab's or molecule's "reciprocal lattice" along its vacuum axis is an
  // artefact of the box size: its pattern would be a wrong answer, not an
  // approximate one.
  if (!s.pbc.every(Boolean)) return { ok: false, reason: `A powder pattern needs a crystal periodic in three dimensions; this is ${periodicity(s)}.` };
  if (s.numSites === 0) return { ok: false, reason: 'The structure has no atoms.' };

  // One form factor per element, and each site's index into them.
  const elements: FormFactor[] = [];
  const elementOf = new Int32Array(s.numSites);
  const index = new Map<string, number>();
  for (let j = 0; j < s.numSites; j++) {
    const el = s.species[j];
    let e = index.get(el);
    if (e === undefined) {
      const ff = formFactorOf(el);
      if (!ff) return { ok: false, reason: `No X-ray scattering factors for ${el} (the table covers H to Cf).` };
      e = elements.length;
      elements.push(ff);
      index.set(el, e);
    }
    elementOf[j] = e;
  }

  // Bragg: |g| = 2 sin θ / λ bounds the shell of reflections.
  const rMin = (2 * Math.sin((lo / 2) * DEG)) / wavelength;
  const rMax = (2 * Math.sin((hi / 2) * DEG)) / wavelength;
  let refl;
  try {
    refl = reflectionsInShell(s.lattice, rMin, rMax);
  } catch (e) {
    if (e instanceof TooManyReflections) return { ok: false, reason: `Too large a cell for a pattern: ${e.message}.` };
    throw e;
  }
  const n = s.numSites;
  if (refl.count * n > MAX_SITE_REFLECTIONS) {
    return {
      ok: false,
      reason: `Too large a cell for a pattern: ${n} sites × ${2 * refl.count} reflections exceeds ${MAX_SITE_REFLECTIONS.toExponential(0)} (use the primitive or conventional cell rather than a supercell).`,
    };
  }

  // Phase tables: exp(2πi m x) for each site and m = −max..max along each
  // axis, so each reflection's phase is two complex products instead of a
  // cos and a sin per site.
  const [H, K, L] = refl.max;
  const table = (axis: number, M: number) => {
    const w = 2 * M + 1;
    const re = new Float64Array(n * w);
    const im = new Float64Array(n * w);
    for (let j = 0; j < n; j++) {
      const x = s.frac[j][axis];
      for (let m = -M; m <= M; m++) {
        const phi = 2 * Math.PI * m * x;
        re[j * w + m + M] = Math.cos(phi);
        im[j * w + m + M] = Math.sin(phi);
      }
    }
    return { re, im, w, M };
  };
  const ta = table(0, H);
  const tb = table(1, K);
  const tc = table(2, L);
  const occ = Float64Array.from({ length: n }, (_, j) => s.occupancy?.[j] ?? 1);
  const f = new Float64Array(elements.length);

  // Intensity × Lorentz-polarisation of each listed reflection.
  const weighted = new Float64Array(refl.count);
  for (let r = 0; r < refl.count; r++) {
    const h = refl.hkl[3 * r];
    const k = refl.hkl[3 * r + 1];
    const l = refl.hkl[3 * r + 2];
    const g = refl.g[r];
    const s2 = (g / 2) ** 2; // s = sin θ / λ = 1/(2d)
    for (let e = 0; e < elements.length; e++) f[e] = scatteringFactor(elements[e], s2);
    let Fre = 0;
    let Fim = 0;
    const ia = h + ta.M;
    const ib = k + tb.M;
    const ic = l + tc.M;
    for (let j = 0; j < n; j++) {
      const ar = ta.re[j * ta.w + ia];
      const ai = ta.im[j * ta.w + ia];
      const br = tb.re[j * tb.w + ib];
      const bi = tb.im[j * tb.w + ib];
      const cr = tc.re[j * tc.w + ic];
      const ci = tc.im[j * tc.w + ic];
      const abr = ar * br - ai * bi;
      const abi = ar * bi + ai * br;
      const wj = f[elementOf[j]] * occ[j];
      Fre += wj * (abr * cr - abi * ci);
      Fim += wj * (abr * ci + abi * cr);
    }
    const theta = Math.asin((wavelength * g) / 2);
    const lp = (1 + Math.cos(2 * theta) ** 2) / (Math.sin(theta) ** 2 * Math.cos(theta));
    weighted[r] = (Fre * Fre + Fim * Fim) * lp;
  }

  // Merge into peaks in order of |g|; each listed reflection stands for its Friedel pair too.
  const order = Array.from({ length: refl.count }, (_, r) => r).sort((x, y) => refl.g[x] - refl.g[y]);
  interface Group {
    g: number;
    twoTheta: number;
    intensity: number;
    hkls: number[][];
  }
  const groups: Group[] = [];
  for (const r of order) {
    const g = refl.g[r];
    const twoTheta = (2 * Math.asin((wavelength * g) / 2)) / DEG;
    const h = refl.hkl[3 * r];
    const k = refl.hkl[3 * r + 1];
    const l = refl.hkl[3 * r + 2];
    const last = groups[groups.length - 1];
    // Sorted by 2θ, so the last peak is the only one this reflection can join (pymatgen tests all; same result).
    const group = last && Math.abs(twoTheta - last.twoTheta) < TWO_THETA_TOL ? last : undefined;
    if (group) {
      group.intensity += 2 * weighted[r];
      group.hkls.push([h, k, l], [-h, -k, -l]);
    } else {
      groups.push({
        g,
        twoTheta,
        intensity: 2 * weighted[r],
        hkls: [
          [h, k, l],
          [-h, -k, -l],
        ],
      });
    }
  }

  const millerBravais = usesMillerBravais(s.lattice);
  const max = groups.reduce((m, p) => Math.max(m, p.intensity), 0);
  const peaks: XrdPeak[] = [];
  for (const p of groups) {
    const intensity = max > 0 ? (p.intensity / max) * 100 : 0;
    if (!(intensity > SCALED_INTENSITY_TOL)) continue;
    // pymatgen meets a peak's reflections in order of (|g|, −h, −k, −l); within a peak |g| ties, so
    // largest (h, k, l) first, which fixes the order of the families.
    p.hkls.sort((x, y) => y[0] - x[0] || y[1] - x[1] || y[2] - x[2]);
    const hkls = millerBravais ? p.hkls.map(([h, k, l]) => [h, k, -h - k, l]) : p.hkls;
    peaks.push({ twoTheta: p.twoTheta, intensity, d: 1 / p.g, families: uniqueFamilies(hkls) });
  }
  return { ok: true, pattern: { wavelength, twoThetaRange: [lo, hi], peaks, reflections: 2 * refl.count, millerBravais } };
}
