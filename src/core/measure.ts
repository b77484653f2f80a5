/**
 * Distances and angles between picked atoms, as a student measures them on
 * the screen: each pick is a site of the cell plus the periodic image it was
 * clicked in, so a bond drawn across the cell boundary measures what it
 * shows, not the minimum image of something else.
 */
import { dot, norm, sub, type Vec3 } from './math3';
import type { Structure } from './structure';

export interface AtomRef {
  site: number;
  /** The image (cell of the displayed block) it was picked in. */
  cell: Vec3;
}

/** Cartesian position (Å) of a picked atom as the view draws it (wrapped site + image). */
export function positionOf(s: Structure, a: AtomRef): Vec3 {
  if (!Number.isInteger(a.site) || a.site < 0 || a.site >= s.numSites) throw new RangeError(`no site ${a.site + 1} in a ${s.numSites}-site structure`);
  const f = s.wrapped().frac[a.site];
  return s.lattice.fracToCart([f[0] + a.cell[0], f[1] + a.cell[1], f[2] + a.cell[2]]);
}

/** Distance between two picked atoms, Å. */
export function distanceBetween(s: Structure, a: AtomRef, b: AtomRef): number {
  return norm(sub(positionOf(s, b), positionOf(s, a)));
}

/** Angle a–b–c at b, degrees; null when two of the atoms coincide (no angle is defined). */
export function angleAt(s: Structure, a: AtomRef, b: AtomRef, c: AtomRef): number | null {
  const u = sub(positionOf(s, a), positionOf(s, b));
  const v = sub(positionOf(s, c), positionOf(s, b));
  const nu = norm(u);
  const nv = norm(v);
  if (nu < 1e-9 || nv < 1e-9) return null;
  // Clamped: rounding can push the cosine of a straight angle just past -1.
  return (Math.acos(Math.max(-1, Math.min(1, dot(u, v) / (nu * nv)))) * 180) / Math.PI;
}

/** What the measurement panel shows for 1–3 picks. */
export interface Measurement {
  labels: string[];
  positions: Vec3[];
  /** Consecutive distances: 1–2, and 2–3 when there are three picks. */
  distances: number[];
  /** The angle 1–2–3 at the middle atom, when there are three picks. */
  angle: number | null;
}

export function measure(s: Structure, picks: readonly AtomRef[]): Measurement {
  const positions = picks.map((p) => positionOf(s, p));
  const labels = picks.map((p) => `${s.species[p.site]}${p.site + 1}`);
  const distances = picks.slice(1).map((p, k) => distanceBetween(s, picks[k], p));
  const angle = picks.length === 3 ? angleAt(s, picks[0], picks[1], picks[2]) : null;
  return { labels, positions, distances, angle };
}
