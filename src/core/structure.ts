import { elementBySymbol } from './elements';
import { Lattice } from './lattice';
import { type Mat3, type Vec3, det, matmul, norm, sub } from './math3';

/** Avogadro constant, mol⁻¹ (exact since the 2019 SI redefinition; CODATA 2018). */
const AVOGADRO = 6.02214076e23;

/** Periodicity along a, b, c. A 2D slab is [true, true, false]; a molecule all false. */
export type Pbc = [boolean, boolean, boolean];

export interface StructureInit {
  lattice: Lattice | Mat3;
  species: string[];
  frac: Vec3[];
  pbc?: Pbc;
  title?: string;
  /** Site occupancies in (0, 1]; omitted means fully occupied. */
  occupancy?: number[];
  /** Site labels as read from a file (e.g. CIF `_atom_site_label`). */
  labels?: string[];
  /** Free-form metadata: source file, reference, energies, ... */
  properties?: Record<string, unknown>;
  /** Non-fatal problems noticed while reading (partial occupancy, ...). */
  warnings?: string[];
}

/**
 * A periodic (or partly periodic) arrangement of atoms: a lattice, one
 * species and one fractional position per site. Fractional coordinates are
 * the primary storage because every file format and every periodic
 * operation (wrapping, images, supercells) is simplest in them.
 */
export class Structure {
  readonly lattice: Lattice;
  readonly species: string[];
  readonly frac: Vec3[];
  readonly pbc: Pbc;
  readonly title: string;
  readonly occupancy: number[] | undefined;
  readonly labels: string[] | undefined;
  readonly properties: Record<string, unknown>;
  readonly warnings: string[];

  constructor(init: StructureInit) {
    this.lattice = init.lattice instanceof Lattice ? init.lattice : new Lattice(init.lattice);
    if (init.species.length !== init.frac.length) {
      throw new Error(`${init.species.length} species but ${init.frac.length} positions`);
    }
    init.frac.forEach((f, i) => {
      if (f.length !== 3 || !f.every(Number.isFinite)) throw new Error(`site ${i + 1} has a non-finite position`);
    });
    if (init.occupancy && init.occupancy.length !== init.species.length) {
      throw new Error('occupancy list does not match the number of sites');
    }
    if (init.labels && init.labels.length !== init.species.length) {
      throw new Error('label list does not match the number of sites');
    }
    this.species = [...init.species];
    this.frac = init.frac.map((f) => [f[0], f[1], f[2]] as Vec3);
    this.pbc = init.pbc ? [...init.pbc] : [true, true, true];
    this.title = init.title ?? '';
    this.occupancy = init.occupancy && init.occupancy.some((o) => o !== 1) ? [...init.occupancy] : undefined;
    this.labels = init.labels ? [...init.labels] : undefined;
    this.properties = { ...(init.properties ?? {}) };
    this.warnings = [...(init.warnings ?? [])];
  }

  /** Builds from Cartesian positions in Å. */
  static fromCartesian(init: Omit<StructureInit, 'frac'> & { cart: Vec3[] }): Structure {
    const lattice = init.lattice instanceof Lattice ? init.lattice : new Lattice(init.lattice);
    return new Structure({ ...init, lattice, frac: init.cart.map((r) => lattice.cartToFrac(r)) });
  }

  get numSites(): number {
    return this.species.length;
  }

  get cart(): Vec3[] {
    return this.frac.map((f) => this.lattice.fracToCart(f));
  }

  /**
   * Mass density in g/cm³ (occupancy-weighted), or null unless periodic
   * along all three axes (a slab's cell volume includes its vacuum).
   */
  get density(): number | null {
    if (!this.pbc.every(Boolean)) return null;
    const mass = this.species.reduce((m, el, i) => m + (elementBySymbol(el)?.mass ?? 0) * (this.occupancy?.[i] ?? 1), 0);
    return mass / AVOGADRO / (this.lattice.volume * 1e-24);
  }

  get hasPartialOccupancy(): boolean {
    return this.occupancy !== undefined;
  }

  /** Returns a copy with some fields replaced. */
  with(changes: Partial<StructureInit>): Structure {
    return new Structure({
      lattice: this.lattice,
      species: this.species,
      frac: this.frac,
      pbc: this.pbc,
      title: this.title,
      occupancy: this.occupancy,
      labels: this.labels,
      properties: this.properties,
      warnings: this.warnings,
      ...changes,
    });
  }

  /** Fractional coordinates wrapped into [0, 1) along periodic axes only. */
  wrapped(): Structure {
    return this.with({ frac: this.frac.map((f) => wrapFrac(f, this.pbc)) });
  }

  /**
   * Minimum-image vector from site i to site j (Å), honouring pbc, and the
   * integer image that realises it. Exact for any cell shape: after the
   * naive wrap the true minimum can only sit in images within |d| / height
   * of it, so those are searched.
   */
  minimumImage(i: number, j: number): { vector: Vec3; image: Vec3; distance: number } {
    return minimumImageFrac(this.lattice, this.pbc, this.frac[i], this.frac[j]);
  }

  distance(i: number, j: number): number {
    return this.minimumImage(i, j).distance;
  }
}

/** Wraps into [0, 1) along periodic axes; -1e-12 rounds to 0 rather than 1. */
export function wrapFrac(f: Vec3, pbc: Pbc = [true, true, true]): Vec3 {
  return f.map((x, k) => {
    if (!pbc[k]) return x;
    let w = x - Math.floor(x);
    if (w >= 1 - 1e-12) w = 0;
    return w;
  }) as Vec3;
}

export function minimumImageFrac(lattice: Lattice, pbc: Pbc, fi: Vec3, fj: Vec3): { vector: Vec3; image: Vec3; distance: number } {
  const d = sub(fj, fi);
  const base = d.map((x, k) => (pbc[k] ? -Math.round(x) : 0)) as Vec3;
  const start = lattice.fracToCart([d[0] + base[0], d[1] + base[1], d[2] + base[2]]);
  const r0 = norm(start);
  const h = lattice.heights;
  const range = h.map((hk, k) => (pbc[k] ? Math.ceil(r0 / hk) : 0));
  let best = { vector: start, image: base, distance: r0 };
  for (let a = -range[0]; a <= range[0]; a++) {
    for (let b = -range[1]; b <= range[1]; b++) {
      for (let c = -range[2]; c <= range[2]; c++) {
        if (a === 0 && b === 0 && c === 0) continue;
        const image: Vec3 = [base[0] + a, base[1] + b, base[2] + c];
        const v = lattice.fracToCart([d[0] + image[0], d[1] + image[1], d[2] + image[2]]);
        const dist = norm(v);
        if (dist < best.distance - 1e-12) best = { vector: v, image, distance: dist };
      }
    }
  }
  return best;
}

/**
 * Supercell spanned by the rows of an integer matrix M: new lattice M · L,
 * |det M| copies of every site. Sites are ordered copy-major within each
 * original site (all images of site 0, then of site 1, ...), which keeps
 * species grouped the way POSCAR writers like.
 */
export function makeSupercell(s: Structure, m: Mat3): Structure {
  if (!m.every((row) => row.every((x) => Number.isInteger(x)))) throw new Error('supercell matrix must be integer');
  const n = Math.round(det(m));
  if (n === 0) throw new Error('supercell matrix is singular');
  const count = Math.abs(n);
  if (count * s.numSites > 5_000_000) throw new Error(`supercell would have ${count * s.numSites} sites; the limit is 5,000,000`);
  for (let k = 0; k < 3; k++) {
    if (!s.pbc[k] && (m[k].some((x, j) => j !== k && x !== 0) || m[k][k] !== 1 || m.some((row, j) => j !== k && row[k] !== 0))) {
      throw new Error(`cannot repeat along non-periodic axis ${'abc'[k]}`);
    }
  }
  const lattice = new Lattice(matmul(m, s.lattice.matrix));
  // Lattice points of the old lattice inside the new cell: old fractional
  // translations t with t · M^-1 in [0,1)^3. Search the bounding box of the
  // new cell's corners in old fractional coordinates.
  const corners: Vec3[] = [];
  for (const i of [0, 1])
    for (const j of [0, 1])
      for (const k of [0, 1]) {
        corners.push([0, 1, 2].map((c) => i * m[0][c] + j * m[1][c] + k * m[2][c]) as Vec3);
      }
  const lo = [0, 1, 2].map((c) => Math.min(...corners.map((p) => p[c])));
  const hi = [0, 1, 2].map((c) => Math.max(...corners.map((p) => p[c])));
  const toNew = (f: Vec3): Vec3 => lattice.cartToFrac(s.lattice.fracToCart(f));
  const translations: Vec3[] = [];
  const eps = 1e-8;
  for (let a = lo[0]; a <= hi[0]; a++) {
    for (let b = lo[1]; b <= hi[1]; b++) {
      for (let c = lo[2]; c <= hi[2]; c++) {
        const g = toNew([a, b, c]);
        if (g.every((x) => x > -eps && x < 1 - eps)) translations.push([a, b, c]);
      }
    }
  }
  if (translations.length !== count) throw new Error(`supercell found ${translations.length} lattice points, expected ${count}`);
  const species: string[] = [];
  const frac: Vec3[] = [];
  const occupancy: number[] = [];
  const labels: string[] = [];
  s.frac.forEach((f, i) => {
    for (const t of translations) {
      species.push(s.species[i]);
      frac.push(wrapFrac(toNew([f[0] + t[0], f[1] + t[1], f[2] + t[2]]), s.pbc));
      occupancy.push(s.occupancy?.[i] ?? 1);
      if (s.labels) labels.push(s.labels[i]);
    }
  });
  return new Structure({
    lattice,
    species,
    frac,
    pbc: s.pbc,
    title: s.title,
    occupancy,
    labels: s.labels ? labels : undefined,
    properties: { ...s.properties },
    warnings: s.warnings,
  });
}

/** Diagonal supercell n1 x n2 x n3. */
export function repeat(s: Structure, n: [number, number, number]): Structure {
  return makeSupercell(s, [
    [n[0], 0, 0],
    [0, n[1], 0],
    [0, 0, n[2]],
  ]);
}
