/**
 * The primitive cell of a supercell, by its pure translations: a lattice
 * vector t of the crystal maps every atom onto an atom of the same element,
 * and a supercell of n primitive cells has n of them (counting 0). moyo's
 * analysis time grows with the translations of the cell it is given (100 s
 * for a 1,000-site supercell, bench/RESULTS.md), so a supercell is reduced
 * here first, in O(N x candidates), and moyo sees the small cell.
 *
 * Candidates are the vectors from one atom of the rarest element to the
 * others of that element; each is checked against every atom with a spatial
 * hash (TOLERANCE in Å). A basis of the translation lattice is three of the
 * shortest translations whose volume is V / n.
 */
import { inverse, type Mat3, type Vec3 } from './math3';
import { Structure, wrapFrac } from './structure';

/** Å: positions that agree this closely are the same atom (as moyo's default symprec of 0.01 Å). */
export const TOLERANCE = 0.01;
/**
 * Above this many sites the search is not tried: it checks every atom for
 * every true translation, N²/n_primitive steps (0.9 s for NaCl 5x5x5, 1,000
 * sites, and 27 s for Si 8x8x8, 4,096 sites, on the dev machine).
 */
export const MAX_SITES_FOR_REDUCTION = 1500;

export interface PrimitiveReduction {
  primitive: Structure;
  /** For each site of the input, its site in the primitive cell. */
  siteOf: number[];
  /** How many primitive cells the input holds. */
  cells: number;
}

export function reduceByTranslations(s: Structure, tol = TOLERANCE): PrimitiveReduction | null {
  const n = s.numSites;
  if (n === 0 || n > MAX_SITES_FOR_REDUCTION || !s.pbc.every(Boolean)) return null;
  if (s.occupancy?.some((o) => o < 1)) return null;
  const frac = s.frac.map((f) => wrapFrac(f, s.pbc));
  const L = s.lattice.matrix;
  const cart = (f: Vec3): Vec3 => [0, 1, 2].map((k) => f[0] * L[0][k] + f[1] * L[1][k] + f[2] * L[2][k]) as Vec3;
  // Spatial hash on wrapped fractional coordinates, bins at least tol thick.
  const h = s.lattice.heights;
  const bins = h.map((hk) => Math.max(1, Math.min(64, Math.floor(hk / Math.max(tol, 1e-6))))) as Vec3;
  const key = (a: number, b: number, c: number) =>
    ((((a % bins[0]) + bins[0]) % bins[0]) * bins[1] + (((b % bins[1]) + bins[1]) % bins[1])) * bins[2] + (((c % bins[2]) + bins[2]) % bins[2]);
  const table = new Map<number, number[]>();
  frac.forEach((f, i) => {
    const k = key(Math.floor(f[0] * bins[0]), Math.floor(f[1] * bins[1]), Math.floor(f[2] * bins[2]));
    (table.get(k) ?? table.set(k, []).get(k)!).push(i);
  });
  /** The atom of element `el` within tol of fractional position f (any image), or -1. */
  const find = (f: Vec3, el: string): number => {
    const w = wrapFrac(f, s.pbc);
    const b = [0, 1, 2].map((k) => Math.floor(w[k] * bins[k]));
    for (let da = -1; da <= 1; da++) {
      for (let db = -1; db <= 1; db++) {
        for (let dc = -1; dc <= 1; dc++) {
          for (const j of table.get(key(b[0] + da, b[1] + db, b[2] + dc)) ?? []) {
            if (s.species[j] !== el) continue;
            const d = [0, 1, 2].map((k) => w[k] - frac[j][k] - Math.round(w[k] - frac[j][k])) as Vec3;
            const v = cart(d);
            if (Math.hypot(v[0], v[1], v[2]) < tol) return j;
          }
        }
      }
    }
    return -1;
  };
  // Candidates from the rarest element.
  const counts = new Map<string, number[]>();
  s.species.forEach((el, i) => (counts.get(el) ?? counts.set(el, []).get(el)!).push(i));
  const rarest = [...counts.values()].sort((a, b) => a.length - b.length)[0];
  const origin = frac[rarest[0]];
  const translations: Vec3[] = [];
  for (const j of rarest) {
    const t = [0, 1, 2].map((k) => frac[j][k] - origin[k]) as Vec3;
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = find([frac[i][0] + t[0], frac[i][1] + t[1], frac[i][2] + t[2]], s.species[i]) >= 0;
    if (ok) translations.push(t.map((x) => x - Math.floor(x + 1e-9)) as Vec3);
  }
  const cells = translations.length;
  if (cells <= 1 || n % cells !== 0) return null;
  // Basis: three short lattice vectors (translations, shifted to their shortest image, and a, b, c) of volume 1/cells (fractional).
  const shortest = (t: Vec3): Vec3 => {
    let best = t;
    let len = Infinity;
    for (const da of [-1, 0])
      for (const db of [-1, 0])
        for (const dc of [-1, 0]) {
          const u: Vec3 = [t[0] + da, t[1] + db, t[2] + dc];
          const c = cart(u);
          const l = Math.hypot(c[0], c[1], c[2]);
          if (l < len) [best, len] = [u, l];
        }
    return best;
  };
  // Shortest first; among equal lengths, vectors along a, b or c and pointing forward, so the
  // primitive cell of a plain supercell is the cell it was made from, in the same orientation
  // (Wyckoff letters depend on the setting: 2c and 2d of P6_3/mmc swap when c is reversed).
  const penalty = (t: Vec3) => 2 * t.filter((x) => Math.abs(x) > 1e-9).length + (t.some((x) => x < -1e-9) ? 1 : 0);
  const candidates = [...translations.filter((t) => t.some((x) => Math.abs(x) > 1e-9)).map(shortest), [1, 0, 0] as Vec3, [0, 1, 0] as Vec3, [0, 0, 1] as Vec3]
    .map((t) => ({ t, len: Math.hypot(...cart(t)), p: penalty(t) }))
    .sort((x, y) => (Math.abs(x.len - y.len) > 1e-6 ? x.len - y.len : x.p - y.p))
    .map((c) => c.t);
  const det = (a: Vec3, b: Vec3, c: Vec3) => a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0]) + a[2] * (b[0] * c[1] - b[1] * c[0]);
  const crossNorm = (a: Vec3, b: Vec3) => Math.hypot(a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]);
  // The two shortest non-parallel translations span their plane's lattice (they are a reduced basis
  // of it); the third is the shortest that completes a cell of the right volume.
  const b1 = candidates[0];
  const b2 = candidates.find((t) => crossNorm(b1, t) > 1e-9);
  const b3 = b2 && candidates.find((t) => Math.abs(Math.abs(det(b1, b2, t)) - 1 / cells) < 1e-6);
  const basis: Mat3 | null = b2 && b3 ? (det(b1, b2, b3) > 0 ? [b1, b2, b3] : [b2, b1, b3]) : null;
  if (!basis) return null;
  // New lattice rows: basis (fractional in the old cell) times the old lattice; positions f' = f B⁻¹.
  const lattice = basis.map((b) => cart(b)) as Mat3;
  const Binv = inverse(basis);
  const primFrac: Vec3[] = [];
  const primSpecies: string[] = [];
  const siteOf = new Array<number>(n);
  const same = (p: Vec3, g: Vec3) => {
    const d = [0, 1, 2].map((k) => p[k] - g[k] - Math.round(p[k] - g[k]));
    const v = [0, 1, 2].map((k) => d[0] * lattice[0][k] + d[1] * lattice[1][k] + d[2] * lattice[2][k]);
    return Math.hypot(v[0], v[1], v[2]) < tol;
  };
  frac.forEach((f, i) => {
    const g = wrapFrac([0, 1, 2].map((k) => f[0] * Binv[0][k] + f[1] * Binv[1][k] + f[2] * Binv[2][k]) as Vec3, [true, true, true]);
    let found = primFrac.findIndex((p, q) => primSpecies[q] === s.species[i] && same(p, g));
    if (found < 0) {
      primFrac.push(g);
      primSpecies.push(s.species[i]);
      found = primFrac.length - 1;
    }
    siteOf[i] = found;
  });
  if (primFrac.length * cells !== n) return null;
  return { primitive: new Structure({ lattice, species: primSpecies, frac: primFrac, title: `${s.title} (primitive by translations)` }), siteOf, cells };
}
