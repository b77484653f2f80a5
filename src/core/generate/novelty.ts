/**
 * Novelty and uniqueness of generated crystals: the browser's copy of
 * models/cdvae/novelty.py (its docstring has the calibration), DOM-free.
 *
 * Two crystals match when they have the same reduced formula, the same
 * number of atoms in their primitive cell, and descriptors within the
 * threshold. The descriptor is, for every element (in order of Z), the
 * per-atom average of a Gaussian-smeared radial distribution of all
 * periodic neighbours of that element's atoms, distances in units of
 * s = (V/N)^(1/3): independent of the cell (primitive or supercell),
 * origin, atom order and a uniform scaling. Distance: 1-D Wasserstein per
 * element channel, summed, over the descriptors' mean mass.
 *
 * A crystal is new when no training crystal (a `latticelab-known/1` file,
 * models/cdvae/export/<dataset>/known.json) matches it, unique when no
 * earlier crystal of its batch matches it.
 */
import { elementByZ } from '../elements';
import { gcd } from '../formula';
import { det, type Mat3, type Vec3 } from '../math3';
import { neighborListCpu } from '../neighbors/cpu';

export const KNOWN_FORMAT = 'latticelab-known/1';

/** Descriptor parameters; known.json must have been written with the same. */
export const NOVELTY_PARAMS = { r_max: 3, bin: 0.2, sigma: 0.2, reach: 4, prim_tol: 0.25, bins: 15 } as const;

/** carbon_24's calibrated threshold (the stricter of the two); known.json carries its own. */
export const DEFAULT_NOVELTY_THRESHOLD = 0.0016;

export interface NoveltyCrystal {
  /** Lattice vectors as rows, Å. */
  lattice: Mat3;
  frac: Vec3[];
  /** Atomic numbers. */
  numbers: number[];
}

export interface NoveltyDescriptor {
  formula: string;
  /** Atoms in the primitive cell: N / the number of pure translations. */
  nprim: number;
  /** elements × NOVELTY_PARAMS.bins, elements in order of Z. */
  hist: Float64Array;
}

export interface KnownSet {
  dataset: string;
  count: number;
  threshold: number;
  quantum: number;
  /** Reduced formula → the training crystals' descriptors (dequantised). */
  entries: Map<string, NoveltyDescriptor[]>;
}

const { r_max: R_MAX, bin: BIN, sigma: SIGMA, reach: REACH, prim_tol: PRIM_TOL, bins: BINS } = NOVELTY_PARAMS;

/** Elements in increasing Z, counts divided by their gcd, count 1 omitted: 'O3TiSr' (as novelty.py). */
export function noveltyFormula(numbers: readonly number[]): string {
  if (numbers.length === 0) throw new Error('a crystal needs at least one atom');
  const counts = new Map<number, number>();
  for (const z of numbers) counts.set(z, (counts.get(z) ?? 0) + 1);
  const g = [...counts.values()].reduce(gcd);
  return [...counts.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([z, n]) => {
      const el = elementByZ(z);
      if (!el) throw new Error(`unknown atomic number ${z}`);
      return el.symbol + (n / g === 1 ? '' : String(n / g));
    })
    .join('');
}

function check(c: NoveltyCrystal): number {
  const n = c.numbers.length;
  if (n === 0 || c.frac.length !== n) throw new Error(`${c.frac.length} positions for ${n} atomic numbers`);
  const v = Math.abs(det(c.lattice));
  if (!(v > 1e-8) || !Number.isFinite(v)) throw new Error('the cell has no volume');
  return v;
}

const wrap = (x: number) => x - Math.floor(x);

/**
 * N / the number of translations f_j − f_0 (j and 0 atoms of the rarest
 * element, 0 its first) that move every atom to within `tol` Å of an atom of
 * its own element (novelty.py's primitive_size).
 */
export function primitiveSize(c: NoveltyCrystal, tol: number = PRIM_TOL): number {
  check(c);
  const n = c.numbers.length;
  const f = c.frac.map((p) => [wrap(p[0]), wrap(p[1]), wrap(p[2])]);
  const counts = new Map<number, number>();
  for (const z of c.numbers) counts.set(z, (counts.get(z) ?? 0) + 1);
  const elements = [...counts.keys()].sort((a, b) => a - b);
  let rare = elements[0];
  for (const z of elements) if (counts.get(z)! < counts.get(rare)!) rare = z;
  const cand = c.numbers.flatMap((z, i) => (z === rare ? [i] : []));
  const groups = elements.map((e) => c.numbers.flatMap((z, i) => (z === e ? [i] : [])));
  const L = c.lattice;
  const tol2 = tol * tol;
  let found = 0;
  for (const j of cand) {
    const t = [f[j][0] - f[cand[0]][0], f[j][1] - f[cand[0]][1], f[j][2] - f[cand[0]][2]];
    let ok = true;
    for (const g of groups) {
      for (const i of g) {
        let best = Infinity;
        for (const k of g) {
          const d0 = f[k][0] - (f[i][0] + t[0]);
          const d1 = f[k][1] - (f[i][1] + t[1]);
          const d2 = f[k][2] - (f[i][2] + t[2]);
          const r0 = d0 - Math.round(d0);
          const r1 = d1 - Math.round(d1);
          const r2 = d2 - Math.round(d2);
          for (let a = -1; a <= 1; a++)
            for (let b = -1; b <= 1; b++)
              for (let e = -1; e <= 1; e++) {
                const u = r0 + a;
                const v = r1 + b;
                const w = r2 + e;
                const x = u * L[0][0] + v * L[1][0] + w * L[2][0];
                const y = u * L[0][1] + v * L[1][1] + w * L[2][1];
                const z = u * L[0][2] + v * L[1][2] + w * L[2][2];
                const q = x * x + y * y + z * z;
                if (q < best) best = q;
              }
        }
        if (best > tol2) {
          ok = false;
          break;
        }
      }
      if (!ok) break;
    }
    if (ok) found++;
  }
  return n / Math.max(found, 1);
}

/** The per-element radial histogram alone (elements × bins). */
export function noveltyHistogram(c: NoveltyCrystal): Float64Array {
  const volume = check(c);
  const n = c.numbers.length;
  const s = Math.cbrt(volume / n);
  const elements = [...new Set(c.numbers)].sort((a, b) => a - b);
  const channel = c.numbers.map((z) => elements.indexOf(z));
  const edges = neighborListCpu({ lattice: c.lattice, pbc: [true, true, true], frac: c.frac, cutoff: (R_MAX + REACH * SIGMA) * s });
  const hist = new Float64Array(elements.length * BINS);
  const k = 1 / (2 * SIGMA * SIGMA);
  for (let e = 0; e < edges.count; e++) {
    const x = edges.dist[e] / s;
    const o = channel[edges.src[e]] * BINS;
    for (let b = 0; b < BINS; b++) {
      const t = (b + 0.5) * BIN - x;
      hist[o + b] += Math.exp(-t * t * k);
    }
  }
  for (let i = 0; i < hist.length; i++) hist[i] /= n;
  return hist;
}

export function descriptor(c: NoveltyCrystal): NoveltyDescriptor {
  return { formula: noveltyFormula(c.numbers), nprim: primitiveSize(c), hist: noveltyHistogram(c) };
}

/** Wasserstein-1 per element channel, summed, over the mean mass (reduced units). */
export function descriptorDistance(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length || a.length % BINS !== 0) throw new Error(`descriptors of lengths ${a.length} and ${b.length} cannot be compared`);
  let sa = 0;
  let sb = 0;
  let w = 0;
  for (let o = 0; o < a.length; o += BINS) {
    let cum = 0;
    for (let i = o; i < o + BINS; i++) {
      sa += a[i];
      sb += b[i];
      cum += a[i] - b[i];
      w += Math.abs(cum);
    }
  }
  const mass = 0.5 * (sa + sb);
  return mass > 0 ? (w * BIN) / mass : 0;
}

const isDescriptor = (x: NoveltyCrystal | NoveltyDescriptor): x is NoveltyDescriptor => 'hist' in x;
const asDescriptor = (x: NoveltyCrystal | NoveltyDescriptor): NoveltyDescriptor => (isDescriptor(x) ? x : descriptor(x));

function matches(a: NoveltyDescriptor, b: NoveltyDescriptor, threshold: number): boolean {
  return a.formula === b.formula && Math.abs(a.nprim - b.nprim) < 1e-6 && descriptorDistance(a.hist, b.hist) <= threshold;
}

/** Same reduced formula, same primitive size, descriptor distance ≤ threshold. */
export function match(a: NoveltyCrystal | NoveltyDescriptor, b: NoveltyCrystal | NoveltyDescriptor, threshold: number = DEFAULT_NOVELTY_THRESHOLD): boolean {
  return matches(asDescriptor(a), asDescriptor(b), threshold);
}

/** True when no crystal of the known set matches. */
export function isNew(crystal: NoveltyCrystal | NoveltyDescriptor, known: KnownSet): boolean {
  const d = asDescriptor(crystal);
  for (const k of known.entries.get(d.formula) ?? []) if (matches(d, k, known.threshold)) return false;
  return true;
}

/** For each crystal, whether no earlier crystal of the list matches it (true for the first of each group). */
export function uniqueFlags(crystals: readonly (NoveltyCrystal | NoveltyDescriptor)[], threshold: number = DEFAULT_NOVELTY_THRESHOLD): boolean[] {
  const ds = crystals.map(asDescriptor);
  return ds.map((d, i) => {
    for (let j = 0; j < i; j++) if (matches(d, ds[j], threshold)) return false;
    return true;
  });
}

/**
 * Both flags for a batch with the known set's threshold, each crystal's
 * descriptor computed once. Without a known set (an old export) `isNew` is
 * null and the batch uses the default threshold.
 */
export function markNovelty(crystals: readonly NoveltyCrystal[], known: KnownSet | null): { isNew: (boolean | null)[]; unique: boolean[] } {
  const ds = crystals.map((c) => descriptor(c));
  return {
    isNew: ds.map((d) => (known ? isNew(d, known) : null)),
    unique: uniqueFlags(ds, known?.threshold ?? DEFAULT_NOVELTY_THRESHOLD),
  };
}

const FORMULA = /^(?:[A-Z][a-z]?\d*)+$/;

/** Reads a `latticelab-known/1` document (parsed JSON or its text); throws a readable error on anything else. */
export function parseKnown(json: unknown): KnownSet {
  const fail = (why: string): never => {
    throw new Error(`not a usable ${KNOWN_FORMAT} file: ${why}`);
  };
  let doc = json;
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(doc);
    } catch {
      fail('the text is not JSON');
    }
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail('expected a JSON object');
  const o = doc as Record<string, unknown>;
  if (o.format !== KNOWN_FORMAT) fail(`format is ${JSON.stringify(o.format)}, expected "${KNOWN_FORMAT}"`);
  const p = o.descriptor as Record<string, unknown> | undefined;
  if (typeof p !== 'object' || p === null) return fail('no "descriptor" parameters');
  for (const [key, want] of Object.entries(NOVELTY_PARAMS)) {
    if (p[key] !== want) fail(`descriptor parameter ${key} is ${JSON.stringify(p[key])}, this build computes ${want}`);
  }
  const quantum = p.quantum;
  if (typeof quantum !== 'number' || !(quantum > 0) || !Number.isFinite(quantum)) return fail('descriptor.quantum must be a positive number');
  const threshold = o.threshold;
  if (typeof threshold !== 'number' || !(threshold > 0) || !Number.isFinite(threshold)) return fail('threshold must be a positive number');
  const known = o.known;
  if (typeof known !== 'object' || known === null || Array.isArray(known)) return fail('"known" must be an object of formula → descriptors');
  const entries = new Map<string, NoveltyDescriptor[]>();
  let count = 0;
  for (const [formula, list] of Object.entries(known as Record<string, unknown>)) {
    if (!FORMULA.test(formula)) fail(`"${formula}" is not a reduced formula`);
    const elements = formula.match(/[A-Z][a-z]?/g)!.length;
    if (!Array.isArray(list)) return fail(`entries of ${formula} must be an array`);
    const out: NoveltyDescriptor[] = [];
    for (const e of list as unknown[]) {
      if (!Array.isArray(e) || e.length !== 1 + elements * BINS) fail(`an entry of ${formula} must be [primitive size, ${elements * BINS} integers]`);
      const row = e as unknown[];
      if (!row.every((x) => typeof x === 'number' && Number.isFinite(x))) fail(`an entry of ${formula} holds something other than numbers`);
      const nprim = row[0] as number;
      if (!(nprim > 0)) fail(`an entry of ${formula} has primitive size ${nprim}`);
      const hist = new Float64Array(elements * BINS);
      for (let i = 0; i < hist.length; i++) hist[i] = (row[i + 1] as number) * quantum;
      out.push({ formula, nprim, hist });
    }
    count += out.length;
    entries.set(formula, out);
  }
  const dataset = typeof o.dataset === 'string' ? o.dataset : '';
  if (typeof o.count === 'number' && o.count !== count) fail(`count says ${o.count} crystals, the file holds ${count}`);
  return { dataset, count, threshold, quantum, entries };
}
