/**
 * `latticelab xrd FILE... [--range LO,HI]`: the simulated Cu Kα powder
 * pattern of every structure in the files (src/core/xrd), one JSON line per
 * structure: each peak's 2θ (degrees), scaled intensity (strongest = 100),
 * d spacing (Å) and hkl families with multiplicities.
 */
import { formula } from '../core/formula';
import type { Structure } from '../core/structure';
import { CU_KA_LABEL, hklText, type XrdPattern } from '../core/xrd/index';

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/** "10,90" → [10, 90], or a message saying what is wrong with it. */
export function parseTwoThetaRange(text: string): [number, number] | string {
  const parts = text.split(',').map((x) => Number(x.trim()));
  if (parts.length !== 2 || !parts.every(Number.isFinite)) return '--range must be two numbers of degrees, LO,HI (e.g. 10,90)';
  const [lo, hi] = parts;
  if (!(lo >= 0 && hi > lo && hi < 180)) return '--range must satisfy 0 ≤ LO < HI < 180 (degrees of 2θ)';
  return [lo, hi];
}

/** One output line for a structure whose pattern was computed. */
export function xrdRecord(file: string, index: number, s: Structure, p: XrdPattern, ms: number): Record<string, unknown> {
  return {
    file,
    index,
    title: s.title,
    formula: formula(s.species, s.occupancy),
    radiation: CU_KA_LABEL,
    wavelength: p.wavelength,
    twoThetaRange: p.twoThetaRange,
    units: { twoTheta: 'degrees', intensity: 'scaled, strongest peak = 100', d: 'Å' },
    millerBravais: p.millerBravais,
    peaks: p.peaks.map((q) => ({
      twoTheta: round(q.twoTheta, 4),
      intensity: round(q.intensity, 3),
      d: round(q.d, 5),
      hkl: q.families.map((f) => ({ hkl: f.hkl, label: hklText(f.hkl), multiplicity: f.multiplicity })),
    })),
    reflections: p.reflections,
    ms: round(ms, 3),
  };
}
