/**
 * Reads a structure (from any file) in the defect editor's terms: which of
 * the six hosts, which n x n supercell, and which pristine sites are empty
 * (vacancies) or hold another element (substitutions). The result is an
 * EditorState, so a defective supercell written by the editor, by pymatgen or
 * by ASE predicts exactly like the equivalent spec (issue 26).
 *
 * How it matches, host by host:
 *
 * 1. The in-plane cell. The file's a and b, re-expressed in any basis
 *    P·(a, b) with P a 2x2 integer matrix of entries -1..1 and determinant ±1,
 *    must be n·a_host and n·b_host within LENGTH_TOLERANCE, with the angle
 *    between them within ANGLE_TOLERANCE_DEG of the host's. The basis change
 *    lets the same lattice written differently through: a hexagonal cell with
 *    γ = 60° instead of 120°, a and b swapped or reversed, and a mirrored
 *    registry (ase.build.mx2 puts Mo at (0, 0) and S at (2/3, 1/3); the app
 *    puts S at (1/3, 2/3) from Mo, which is the mirror image u <-> v). The
 *    third vector is free: any vacuum, tilted or not, periodic or not, since
 *    the model sees only the layer. Positions are taken as fractions of the
 *    matched in-plane basis (plus the height along the layer normal in Å),
 *    so a file at the model's PBE lattice (MoS2 a = 3.19 Å) maps onto the
 *    app's experimental one (3.16 Å) unstrained.
 *
 * 2. The atoms. A global translation is found by putting one atom of the
 *    file on each site of the host's primitive cell in turn (trying up to
 *    MAX_ANCHORS atoms, in case the first ones are defects), refined to the
 *    mean offset of the atoms that then land near a site, and reduced modulo
 *    the primitive lattice, so an untranslated file keeps its site numbers.
 *    Every atom must then lie within SITE_TOLERANCE of a pristine site
 *    (minimum image in the plane), one atom per site. Empty sites are
 *    vacancies; sites holding another element are substitutions.
 *
 * Among hosts and bases that map every atom, the one with the fewest edits
 * wins (ties: the earlier host in HOSTS, the unchanged basis first).
 *
 * Tolerances (the numbers, and why):
 * - LENGTH_TOLERANCE = 2 % on |a| and |b|: the app's hosts use measured
 *   lattice constants and the model was trained on PBE ones, up to 1.2 %
 *   larger (MoS2 3.19 vs 3.16 Å, WSe2 3.32 vs 3.282 Å: models/defects/hosts.py
 *   and the model manifest's hostLattice); 2 % takes both with room for
 *   rounding. The lattice alone cannot tell every host apart at any
 *   tolerance (GaSe 2x2, 7.510 Å, and hBN 3x3, 7.512 Å), so the atoms decide.
 * - ANGLE_TOLERANCE_DEG = 1°: cell angles are exact in every generator we
 *   know of; the degree covers rounded CIF angles and a slightly sheared cell,
 *   which the fractional mapping absorbs anyway.
 * - SITE_TOLERANCE = 0.3 Å: below half the shortest distance between two
 *   sites of any host (B–N 1.446 Å in hBN, so 0.72 Å), so an atom is within
 *   tolerance of at most one site, even in the first pass of the translation
 *   search, which uses twice the tolerance; well above rounding in files and
 *   the differences between published geometries of one host (the S–S
 *   height of MoS2 is 3.13 Å in the training data and 3.17 Å in the app:
 *   0.02 Å per S). Atoms relaxed further than this from their sites are
 *   refused rather than guessed.
 * - Too many edits: refused when every site of one sublattice (one site of
 *   the primitive cell, repeated) is empty or replaced, or when more than
 *   MAX_EDIT_FRACTION = half of all sites are. Either way the file is another
 *   material, not point defects in the host: WS2 would otherwise read as
 *   MoS2 with every Mo replaced by W, and graphene as hBN with every site
 *   replaced. Fewer edits pass, whatever the model was trained on (1.25–6.25
 *   defects per 100 sites, model manifest): the prediction then says it is
 *   out of domain, as it does for the same configuration typed as a spec.
 *
 * Not accepted (refused with the reason): supercells that are not n x n
 * repeats of the host's primitive cell (e.g. √3 x √3 R30°, rectangular cells
 * of hexagonal hosts, the 4x3 and 5x4 BP cells of the training data),
 * n outside MIN_SIZE..MAX_SIZE, layers rotated within the cell, interstitials
 * and adatoms, two atoms on one site, displacements beyond SITE_TOLERANCE,
 * partial occupancy, several layers, and elements outside the model's
 * vocabulary. The layer may be upside down: every host has a horizontal
 * mirror (MoS2, WSe2, GaSe, InSe: D3h; hBN: planar; BP: a mirror with a
 * half-cell glide), so flipping it is one of the in-plane operations above.
 *
 * In messages, atoms are numbered from 1 in file order (as a viewer shows
 * them) and sites from 0 (as in specs, src/core/defects/spec.ts).
 */
import { elementBySymbol, elementByZ } from '../elements';
import { builtinById } from '../library/builtins';
import { type Vec3, cross, DEG, dot, norm } from '../math3';
import type { Structure } from '../structure';
import { DefectEditor, type EditorState, HOST_BUILTINS, MAX_SIZE, MIN_SIZE } from './editor';
import { HOSTS, type HostName, VOCABULARY } from './representation';

export const LENGTH_TOLERANCE = 0.02;
export const ANGLE_TOLERANCE_DEG = 1;
export const SITE_TOLERANCE = 0.3; // Å
export const MAX_EDIT_FRACTION = 0.5;
/** Atoms tried as the anchor of the translation: enough that a few defects first in the file do not matter. */
const MAX_ANCHORS = 8;

export interface DefectMatch extends EditorState {
  edits: [number, number][];
  /** Largest distance of an atom from its site after the translation, Å. */
  maxDeviation: number;
}

export type MatchResult = { ok: true; match: DefectMatch } | { ok: false; reason: string };

/** A pristine supercell as a lookup table: site = index[basis][cell]. */
interface Reference {
  host: HostName;
  n: number;
  /** In-plane lattice vectors (x, y; the built-ins lie in the xy plane), Å. */
  A: [number, number];
  B: [number, number];
  species: string[];
  Z: number[];
  /** Sites of the primitive cell: fractions of a primitive cell (0 ≤ x, y < 1, to 1e-6), height in Å. */
  basis: { x: number; y: number; h: number }[];
  /** Per basis site, the supercell site in primitive cell (i, j), at i·n + j. */
  index: Int32Array[];
}

const references = new Map<string, Reference>();

function reference(host: HostName, n: number): Reference {
  const key = `${host}:${n}`;
  const cached = references.get(key);
  if (cached) return cached;
  const p = new DefectEditor({ host, size: n, edits: [] }).pristine();
  const [a, b] = p.lattice.matrix;
  if (a[2] !== 0 || b[2] !== 0) throw new Error(`${host}: the built-in's a and b are not in the xy plane`);
  const basis: Reference['basis'] = [];
  const keys = new Map<string, number>();
  const index: Int32Array[] = [];
  const cart = p.cart;
  p.frac.forEach((f, s) => {
    const X = n * f[0];
    const Y = n * f[1];
    // Fraction within the primitive cell; the 1e-6 keeps 0.9999999 and 0 together.
    const x = X - Math.floor(X + 1e-6);
    const y = Y - Math.floor(Y + 1e-6);
    const h = cart[s][2];
    const k = `${Math.round(x * 1e5)},${Math.round(y * 1e5)},${Math.round(h * 1e3)}`;
    let bi = keys.get(k);
    if (bi === undefined) {
      bi = basis.length;
      keys.set(k, bi);
      basis.push({ x, y, h });
      index.push(new Int32Array(n * n).fill(-1));
    }
    const cell = mod(Math.round(X - x), n) * n + mod(Math.round(Y - y), n);
    if (index[bi][cell] !== -1) throw new Error(`${host} ${n}x${n}: two sites in one place`);
    index[bi][cell] = s;
  });
  if (index.some((t) => t.includes(-1))) throw new Error(`${host} ${n}x${n}: not a whole number of primitive cells`);
  const ref: Reference = {
    host,
    n,
    A: [a[0], a[1]],
    B: [b[0], b[1]],
    species: p.species,
    Z: p.species.map((el) => elementBySymbol(el)!.Z),
    basis,
    index,
  };
  references.set(key, ref);
  return ref;
}

const mod = (i: number, n: number) => ((i % n) + n) % n;

interface Nearest {
  site: number;
  d: number;
  /** atom − site: in supercell fractions along a, b, and Å along the normal. */
  du: number;
  dv: number;
  dh: number;
}

/** The pristine site nearest to a point (u, v: supercell fractions; h: Å), minimum image in the plane. */
function nearest(ref: Reference, u: number, v: number, h: number): Nearest {
  const { n, A, B } = ref;
  let best: Nearest = { site: -1, d: Infinity, du: 0, dv: 0, dh: 0 };
  ref.basis.forEach((bs, bi) => {
    const X = n * u - bs.x;
    const Y = n * v - bs.y;
    const i0 = Math.round(X);
    const j0 = Math.round(Y);
    const dh = h - bs.h;
    // Rounding finds the nearest cell; its 8 neighbours make it exact for the
    // reduced 2-D bases of the hosts (γ = 90° or 120°).
    for (let i = i0 - 1; i <= i0 + 1; i++) {
      for (let j = j0 - 1; j <= j0 + 1; j++) {
        const du = (X - i) / n;
        const dv = (Y - j) / n;
        const x = du * A[0] + dv * B[0];
        const y = du * A[1] + dv * B[1];
        const d = Math.sqrt(x * x + y * y + dh * dh);
        if (d < best.d) best = { site: ref.index[bi][mod(i, n) * n + mod(j, n)], d, du, dv, dh };
      }
    }
  });
  return best;
}

/** The file's atoms in one candidate basis of one host's supercell. */
interface Frame {
  ref: Reference;
  /** u, v (fractions of the basis), h (Å along the normal) per atom. */
  coords: Float64Array;
}

type Basis = readonly [number, number, number, number];

/**
 * Integer bases P·(a, b) with entries -1..1 and determinant ±1, nearest the
 * unchanged basis first, so that a file keeps its own site numbering when
 * more than one basis maps it (a γ = 60° cell is read through b − a before
 * any rotated basis).
 */
const BASES: readonly Basis[] = (() => {
  const out: Basis[] = [];
  const r = [-1, 0, 1];
  for (const p of r) for (const q of r) for (const s of r) for (const t of r) if (Math.abs(p * t - q * s) === 1) out.push([p, q, s, t]);
  const change = ([p, q, s, t]: Basis) => Math.abs(p - 1) + Math.abs(q) + Math.abs(s) + Math.abs(t - 1);
  return out.sort((x, y) => change(x) - change(y));
})();

const combine = (x: number, a: Vec3, y: number, b: Vec3): Vec3 => [x * a[0] + y * b[0], x * a[1] + y * b[1], x * a[2] + y * b[2]];
const angle = (a: Vec3, b: Vec3) => Math.acos(Math.max(-1, Math.min(1, dot(a, b) / (norm(a) * norm(b))))) / DEG;

const primitives = new Map<HostName, { a: number; b: number; gamma: number }>();

/** The host's primitive in-plane cell: |a|, |b| (Å) and γ (degrees). */
function primitive(host: HostName): { a: number; b: number; gamma: number } {
  let p = primitives.get(host);
  if (!p) {
    const l = builtinById(HOST_BUILTINS[host])!.build().lattice;
    p = { a: l.abc[0], b: l.abc[1], gamma: l.angles[2] };
    primitives.set(host, p);
  }
  return p;
}

/**
 * Cartesian positions with the layer in one piece: along a periodic c, the
 * cut is moved into the largest gap between atoms (the vacuum), so a layer
 * that a writer wrapped across the cell's top and bottom is whole again.
 */
function unwrappedCart(s: Structure): Vec3[] {
  if (!s.pbc[2] || s.numSites < 2) return s.cart;
  const w = s.frac.map((f) => f[2] - Math.floor(f[2]));
  const order = [...w.keys()].sort((i, j) => w[i] - w[j]);
  let gap = w[order[0]] + 1 - w[order[order.length - 1]];
  let cut = Infinity; // atoms at or above the cut move down one cell
  for (let k = 0; k + 1 < order.length; k++) {
    const g = w[order[k + 1]] - w[order[k]];
    if (g > gap) {
      gap = g;
      cut = w[order[k + 1]];
    }
  }
  return s.frac.map((f, i) => s.lattice.fracToCart([f[0], f[1], w[i] >= cut ? w[i] - 1 : w[i]]));
}

interface Trial {
  frame: Frame;
  t: Vec3;
}

interface Evaluation {
  siteOf: Int32Array;
  near: Nearest[];
  /** Atoms with no site within tolerance. */
  off: number[];
  /** [atom, atom already on that site]. */
  doubles: [number, number][];
  edits: [number, number][];
}

function evaluate(frame: Frame, t: Vec3, zOf: number[]): Evaluation {
  const { ref, coords } = frame;
  const atoms = coords.length / 3;
  const siteOf = new Int32Array(atoms).fill(-1);
  const owner = new Int32Array(ref.species.length).fill(-1);
  const near: Nearest[] = [];
  const off: number[] = [];
  const doubles: [number, number][] = [];
  for (let k = 0; k < atoms; k++) {
    const q = nearest(ref, coords[3 * k] - t[0], coords[3 * k + 1] - t[1], coords[3 * k + 2] - t[2]);
    near.push(q);
    if (q.d > SITE_TOLERANCE) off.push(k);
    else if (owner[q.site] >= 0) doubles.push([k, owner[q.site]]);
    else {
      owner[q.site] = k;
      siteOf[k] = q.site;
    }
  }
  const edits: [number, number][] = [];
  owner.forEach((k, site) => {
    if (k < 0) edits.push([site, 0]);
    else if (zOf[k] !== ref.Z[site]) edits.push([site, zOf[k]]);
  });
  return { siteOf, near, off, doubles, edits };
}

/**
 * The translation that puts atom `anchor` on basis site `bi`, refined to the
 * atoms' mean offset from the sites they then land near (within twice the
 * tolerance) and reduced modulo the primitive lattice. Null when fewer than
 * half the atoms land anywhere near a site: not this host, basis or anchor.
 */
function translation(frame: Frame, anchor: number, bi: number): Vec3 | null {
  const { ref, coords } = frame;
  const b = ref.basis[bi];
  const t: Vec3 = [coords[3 * anchor] - b.x / ref.n, coords[3 * anchor + 1] - b.y / ref.n, coords[3 * anchor + 2] - b.h];
  const atoms = coords.length / 3;
  let count = 0;
  const sum = [0, 0, 0];
  for (let k = 0; k < atoms; k++) {
    const q = nearest(ref, coords[3 * k] - t[0], coords[3 * k + 1] - t[1], coords[3 * k + 2] - t[2]);
    if (q.d <= 2 * SITE_TOLERANCE) {
      count++;
      sum[0] += q.du;
      sum[1] += q.dv;
      sum[2] += q.dh;
    }
  }
  if (count < atoms / 2) return null;
  const reduce = (x: number) => x - Math.round(x * ref.n) / ref.n;
  return [reduce(t[0] + sum[0] / count), reduce(t[1] + sum[1] / count), t[2] + sum[2] / count];
}

const fmt = (x: number, digits = 2) => x.toFixed(digits);
const symbol = (z: number) => elementByZ(z)!.symbol;

/** Maps a structure onto host + n x n supercell + edits, or says in one line why it cannot. */
export function matchDefectStructure(s: Structure): MatchResult {
  const fail = (reason: string): MatchResult => ({ ok: false, reason });
  if (s.numSites === 0) return fail('the structure has no atoms');
  if (!s.pbc[0] || !s.pbc[1]) return fail('the structure is not periodic along a and b; a defective supercell of a 2-D host is');
  if (s.occupancy) {
    const k = s.occupancy.findIndex((o) => o !== 1);
    return fail(`atom ${k + 1} (${s.species[k]}) has occupancy ${s.occupancy[k]}; a defect configuration has whole atoms or none`);
  }
  const zOf: number[] = [];
  for (const [k, el] of s.species.entries()) {
    const e = elementBySymbol(el);
    if (!e) return fail(`atom ${k + 1}: '${el}' is not an element`);
    zOf.push(e.Z);
  }

  // 1. Which hosts and sizes the in-plane cell can be, in which bases.
  const [a, b] = s.lattice.matrix;
  const normal = cross(a, b);
  const nHat = normal.map((x) => x / norm(normal)) as Vec3;
  const cart = unwrappedCart(s);
  const frames: Frame[] = [];
  let shapeHint: string | null = null;
  for (const host of HOSTS) {
    const prim = primitive(host);
    for (const [p, q, r, t] of BASES) {
      const a2 = combine(p, a, q, b);
      const b2 = combine(r, a, t, b);
      const la = norm(a2);
      const lb = norm(b2);
      const na = Math.round(la / prim.a);
      const nb = Math.round(lb / prim.b);
      if (na < 1 || nb < 1 || Math.abs(la - na * prim.a) > LENGTH_TOLERANCE * na * prim.a || Math.abs(lb - nb * prim.b) > LENGTH_TOLERANCE * nb * prim.b)
        continue;
      if (Math.abs(angle(a2, b2) - prim.gamma) > ANGLE_TOLERANCE_DEG) continue;
      if (na !== nb) {
        shapeHint ??= `the cell is a ${na}x${nb} supercell of ${host}; the editor and the model take square n x n supercells only`;
        continue;
      }
      if (na < MIN_SIZE || na > MAX_SIZE) {
        shapeHint ??= `the cell is the ${na}x${na} ${na === 1 ? 'cell' : 'supercell'} of ${host}; the editor takes ${MIN_SIZE}x${MIN_SIZE} to ${MAX_SIZE}x${MAX_SIZE} supercells`;
        continue;
      }
      // Fractions of (a2, b2) from the Gram system; the height along the normal.
      const g11 = dot(a2, a2);
      const g12 = dot(a2, b2);
      const g22 = dot(b2, b2);
      const det = g11 * g22 - g12 * g12;
      const coords = new Float64Array(3 * s.numSites);
      cart.forEach((x, k) => {
        const ra = dot(x, a2);
        const rb = dot(x, b2);
        coords[3 * k] = (g22 * ra - g12 * rb) / det;
        coords[3 * k + 1] = (g11 * rb - g12 * ra) / det;
        coords[3 * k + 2] = dot(x, nHat);
      });
      frames.push({ ref: reference(host, na), coords });
    }
  }
  if (!frames.length) {
    if (shapeHint) return fail(shapeHint);
    const [la, lb] = s.lattice.abc;
    const hosts = HOSTS.map((h) => {
      const p = primitive(h);
      return `${h} (${fmt(p.a, 3)}${Math.abs(p.b - p.a) > 1e-6 ? ` x ${fmt(p.b, 3)}` : ''} Å)`;
    });
    return fail(
      `the cell (a = ${fmt(la, 3)} Å, b = ${fmt(lb, 3)} Å, γ = ${fmt(s.lattice.angles[2], 1)}°) is not an n x n supercell ` +
        `(n = ${MIN_SIZE}..${MAX_SIZE}) of ${hosts.slice(0, -1).join(', ')} or ${hosts[hosts.length - 1]} ` +
        `within ${LENGTH_TOLERANCE * 100} % and ${ANGLE_TOLERANCE_DEG}°; rotated supercells (such as √3 x √3 R30°) and other shapes are not recognised`,
    );
  }

  // 2. The atoms, per frame: anchors in file order until one maps every atom.
  let best: { trial: Trial; ev: Evaluation } | null = null;
  let bestFailure: { trial: Trial; bad: number } | null = null;
  const anchors = Math.min(MAX_ANCHORS, s.numSites);
  for (const frame of frames) {
    let mappedWithAnchor = false;
    for (let anchor = 0; anchor < anchors && !mappedWithAnchor; anchor++) {
      for (let bi = 0; bi < frame.ref.basis.length; bi++) {
        const t = translation(frame, anchor, bi);
        if (!t) continue;
        const ev = evaluate(frame, t, zOf);
        const bad = ev.off.length + ev.doubles.length;
        if (bad === 0) {
          mappedWithAnchor = true;
          if (!best || ev.edits.length < best.ev.edits.length) best = { trial: { frame, t }, ev };
        } else if (!bestFailure || bad < bestFailure.bad) bestFailure = { trial: { frame, t }, bad };
      }
    }
  }

  if (!best) {
    if (!bestFailure) {
      const ref = frames[0].ref;
      return fail(`the cell is that of ${ref.host} ${ref.n}x${ref.n}, but no translation puts even half of the atoms within ${SITE_TOLERANCE} Å of its sites`);
    }
    const { frame, t } = bestFailure.trial;
    const { ref } = frame;
    const ev = evaluate(frame, t, zOf);
    const where = `${ref.host} ${ref.n}x${ref.n}`;
    const atom = (k: number) => `atom ${k + 1} (${s.species[k]} at ${s.cart[k].map((x) => fmt(x)).join(', ')} Å)`;
    if (ev.off.length) {
      const k = ev.off[0];
      const q = ev.near[k];
      const more = ev.off.length - 1;
      return fail(
        `${atom(k)} is ${fmt(q.d)} Å from the nearest ${where} site (site ${q.site}, ${ref.species[q.site]}); ` +
          `interstitials, adatoms and displacements beyond ${SITE_TOLERANCE} Å are not supported` +
          (more ? ` (${more} more atom${more === 1 ? '' : 's'} off-site)` : ''),
      );
    }
    const [k, other] = ev.doubles[0];
    const site = ev.near[k].site;
    return fail(
      `atoms ${other + 1} and ${k + 1} (${s.species[other]}, ${s.species[k]}) both sit on ${where} site ${site} (${ref.species[site]}); a site holds one atom`,
    );
  }

  const { frame } = best.trial;
  const { ref } = frame;
  const { ev } = best;
  const where = `${ref.host} ${ref.n}x${ref.n}`;
  const sites = ref.species.length;
  const vocabulary = new Set(VOCABULARY);
  for (const [site, z] of ev.edits) {
    if (z === 0 || vocabulary.has(z)) continue;
    const k = ev.siteOf.indexOf(site);
    return fail(
      `atom ${k + 1} (${symbol(z)} at ${s.cart[k].map((x) => fmt(x)).join(', ')} Å) replaces ${ref.species[site]} on ${where} site ${site}, ` +
        `but ${symbol(z)} is not in the model's vocabulary (${VOCABULARY.filter((x) => x > 0)
          .map(symbol)
          .join(', ')})`,
    );
  }
  const edited = new Set(ev.edits.map(([site]) => site));
  for (const cells of ref.index) {
    if (!cells.every((site) => edited.has(site))) continue;
    return fail(
      `all ${cells.length} ${ref.species[cells[0]]} sites of one sublattice of ${where} are empty or replaced: ` +
        `another material, not point defects in ${ref.host}`,
    );
  }
  if (ev.edits.length > MAX_EDIT_FRACTION * sites) {
    return fail(
      `${ev.edits.length} of the ${sites} sites of ${where} differ from the pristine layer (more than ${MAX_EDIT_FRACTION * 100} %): ` +
        `another material, not point defects in ${ref.host}`,
    );
  }
  const maxDeviation = ev.near.reduce((m, q) => Math.max(m, q.d), 0);
  return { ok: true, match: { host: ref.host, size: ref.n, edits: ev.edits, maxDeviation } };
}
