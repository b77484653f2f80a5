/**
 * The CPU neighbour list (src/core/neighbors/cpu.ts) against matterviz's
 * TypeScript pair search, in one run (`npm run bench:neighbors`).
 *
 * matterviz (0.4.1) has no neighbour-list function of its own: its periodic
 * bonds come from copying the atoms near the cell faces as image sites
 * (expand_structure_for_pbc, get_pbc_image_sites) and then searching the
 * pairs in Cartesian space with a hash grid (structure/bonding.ts:
 * cubic cells one cutoff wide keyed by a packed integer in a Map, the 27
 * cells around each atom gathered into a candidate array, pairs a < b,
 * squared distance, sqrt on hits). `mattervizSearch` below is that search,
 * written out with the same data structures, recording each pair in plain
 * arrays (no bond objects, strengths or render matrices, which its bonding
 * strategies add on top). The image sites are built once per case, outside
 * the timing, with a padding of r_c over the interplanar spacing (so no pair
 * is lost in oblique cells); the ratio is therefore ours (everything, from
 * input to sorted edge list) over matterviz's search alone.
 *
 * Conventions: ours lists directed edges (i, j, image) of the original
 * sites, both directions; the matterviz search lists unordered pairs of
 * expanded sites. Each original–original pair is two of our edges, each
 * original–image pair one (its reverse is another original–image pair),
 * and image–image pairs are duplicates; the script checks that this gives
 * exactly our edge set (same (i, j, image) keys) before timing.
 *
 * Optional, same run:
 *  - NEIGHBORS_BASELINE=/path/to/cpu.ts: also time another neighborListCpu
 *    (e.g. a copy of the code before a change) interleaved with ours;
 *  - MATTERVIZ_DIR=/path/to/node_modules/matterviz: also time the package's
 *    own bonding.solid_angle with its filters off (all pairs below r_c, plus
 *    its bond objects) on the same image sites. matterviz 0.4.1 needs
 *    @spglib/moyo-wasm ^0.12, which the registry here lacks, so it is not a
 *    devDependency; install it in a scratch folder with an override to
 *    the project's @spglib/moyo-wasm if you want this column.
 *
 *   npm run bench:neighbors                 (best of 30 / 30 / 10 after warm-up)
 *   npm run bench:neighbors -- --reps 5     (fewer repetitions)
 */
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { Lattice } from '../src/core/lattice.ts';
import type { Mat3, Vec3 } from '../src/core/math3.ts';
import { neighborListCpu } from '../src/core/neighbors/cpu.ts';
import type { EdgeList, NeighborInput } from '../src/core/neighbors/types.ts';
import { rng } from '../src/tests/neighbor-cases.ts';

type NeighborFn = (input: NeighborInput) => EdgeList;

interface Case {
  name: string;
  input: NeighborInput & { frac: Vec3[] };
  reps: number;
}

/** Conventional fcc cells, n0 x n1 x n2 of them (4 sites each). */
function fcc(a: number, n: [number, number, number]): { lattice: Mat3; frac: Vec3[] } {
  const basis: Vec3[] = [
    [0, 0, 0],
    [0.5, 0.5, 0],
    [0.5, 0, 0.5],
    [0, 0.5, 0.5],
  ];
  const frac: Vec3[] = [];
  for (let i = 0; i < n[0]; i++) {
    for (let j = 0; j < n[1]; j++) {
      for (let k = 0; k < n[2]; k++) {
        for (const b of basis) frac.push([(i + b[0]) / n[0], (j + b[1]) / n[1], (k + b[2]) / n[2]]);
      }
    }
  }
  return {
    lattice: [
      [a * n[0], 0, 0],
      [0, a * n[1], 0],
      [0, 0, a * n[2]],
    ],
    frac,
  };
}

function cases(scale: number): Case[] {
  const out: Case[] = [];
  const cu = fcc(3.615, [8, 8, 7]);
  out.push({ name: 'fcc Cu 8x8x7, r_c 3.2 Å', input: { ...cu, pbc: [true, true, true], cutoff: 3.2 }, reps: 30 * scale });
  // 10^4 random atoms at ~0.074 atoms/Å³ in a triclinic cell (the 10^4 case of neighbors-cpu.test.ts).
  const r = rng(2026);
  const lattice = Lattice.fromParameters(52, 50, 54, 84, 97, 103).matrix;
  const frac = Array.from({ length: 10_000 }, () => [r(), r(), r()] as Vec3);
  out.push({ name: '10^4 random, triclinic, r_c 5 Å', input: { lattice, pbc: [true, true, true], frac, cutoff: 5 }, reps: 10 * scale });
  // A 2D slab: 1,200 random atoms 10 Å thick (0.07 atoms/Å³) in a 45 Å hexagonal cell under 20 Å of vacuum, periodic in-plane only.
  const s = rng(7);
  const slab = Lattice.fromParameters(45, 45, 30, 90, 90, 120).matrix;
  const slabFrac = Array.from({ length: 1_200 }, () => [s(), s(), (10 * s()) / 30] as Vec3);
  out.push({
    name: 'slab 1,200 atoms, pbc in-plane, r_c 5 Å',
    input: { lattice: slab, pbc: [true, true, false], frac: slabFrac, cutoff: 5 },
    reps: 30 * scale,
  });
  return out;
}

/** A matterviz-style site: Cartesian position, and which original site and lattice shift it is. */
interface Site {
  xyz: Vec3;
  orig: number;
  shift: Vec3;
}

/** The original sites, then a copy for every shift in {-1, 0, 1}³ that lands within r_c of the cell. */
function imageSites(input: Case['input']): Site[] {
  const { lattice: m, frac, pbc, cutoff } = input;
  const h = new Lattice(m).heights;
  const pad = [0, 1, 2].map((k) => cutoff / h[k]);
  const cart = (f: readonly number[]): Vec3 => [0, 1, 2].map((c) => f[0] * m[0][c] + f[1] * m[1][c] + f[2] * m[2][c]) as Vec3;
  if (pad.some((p, k) => pbc[k] && p > 1)) throw new Error('the cell is thinner than the cutoff: one shell of images is not enough');
  const sites: Site[] = frac.map((f, i) => ({ xyz: cart(f), orig: i, shift: [0, 0, 0] }));
  frac.forEach((f, i) => {
    for (let a = -1; a <= 1; a++) {
      for (let b = -1; b <= 1; b++) {
        for (let c = -1; c <= 1; c++) {
          const s: Vec3 = [a, b, c];
          if (!a && !b && !c) continue;
          // The copy f + s is within r_c of the cell only if f is within r_c of the face it crosses.
          const near = s.every((sk, k) => sk === 0 || (pbc[k] && (sk === 1 ? f[k] < pad[k] : f[k] > 1 - pad[k])));
          if (near) sites.push({ xyz: cart([f[0] + a, f[1] + b, f[2] + c]), orig: i, shift: s });
        }
      }
    }
  });
  return sites;
}

// ---- matterviz 0.4.1, structure/bonding.ts: spatial hash grid and candidate search ----
const CELL_OFFSET = 512;
const packCellKey = (x: number, y: number, z: number) => (x + CELL_OFFSET) * 1048576 + (y + CELL_OFFSET) * 1024 + (z + CELL_OFFSET);

function buildSpatialGrid(sites: Site[], cellSize: number): Map<number, number[]> {
  const grid = new Map<number, number[]>();
  for (let idx = 0; idx < sites.length; idx++) {
    const key = packCellKey(Math.floor(sites[idx].xyz[0] / cellSize), Math.floor(sites[idx].xyz[1] / cellSize), Math.floor(sites[idx].xyz[2] / cellSize));
    const cell = grid.get(key);
    if (cell) cell.push(idx);
    else grid.set(key, [idx]);
  }
  return grid;
}

function neighborsFromGrid(pos: Vec3, grid: Map<number, number[]>, cellSize: number): number[] {
  const [cx, cy, cz] = [Math.floor(pos[0] / cellSize), Math.floor(pos[1] / cellSize), Math.floor(pos[2] / cellSize)];
  const neighbors: number[] = [];
  for (let dx = -1; dx <= 1; dx++) {
    for (let dy = -1; dy <= 1; dy++) {
      for (let dz = -1; dz <= 1; dz++) {
        const cell = grid.get(packCellKey(cx + dx, cy + dy, cz + dz));
        if (cell) for (const idx of cell) neighbors.push(idx);
      }
    }
  }
  return neighbors;
}

interface Pairs {
  a: number[];
  b: number[];
  dist: number[];
}

/** matterviz's pair loop (setup_spatial_grid: the grid above 50 sites, else all pairs), without the bond-strength work. */
function mattervizSearch(sites: Site[], cutoff: number): Pairs {
  const out: Pairs = { a: [], b: [], dist: [] };
  const maxDistSq = cutoff * cutoff;
  const grid = sites.length > 50 ? buildSpatialGrid(sites, cutoff) : null;
  for (let idxA = 0; idxA < sites.length - 1; idxA++) {
    const [x1, y1, z1] = sites[idxA].xyz;
    const candidates = grid ? neighborsFromGrid(sites[idxA].xyz, grid, cutoff) : Array.from({ length: sites.length }, (_, idx) => idx);
    for (const idxB of candidates) {
      if (idxB <= idxA) continue;
      const [x2, y2, z2] = sites[idxB].xyz;
      const dx = x2 - x1;
      const dy = y2 - y1;
      const dz = z2 - z1;
      const distSq = dx * dx + dy * dy + dz * dz;
      if (distSq >= maxDistSq || distSq === 0) continue;
      out.a.push(idxA);
      out.b.push(idxB);
      out.dist.push(Math.sqrt(distSq));
    }
  }
  return out;
}
// ---- end of the matterviz search ----

/** Our directed edges from matterviz's pairs (see the header); throws unless they are exactly ours. */
function checkSameEdges(ours: EdgeList, sites: Site[], pairs: Pairs, cutoff: number): { pairs: number; imagePairs: number } {
  const key = (i: number, j: number, s: ArrayLike<number>) => `${i},${j},${s[0]},${s[1]},${s[2]}`;
  const theirs = new Map<string, number>();
  let imagePairs = 0;
  for (let p = 0; p < pairs.a.length; p++) {
    const sa = sites[pairs.a[p]];
    const sb = sites[pairs.b[p]];
    const aOrig = sa.shift.every((x) => x === 0);
    const bOrig = sb.shift.every((x) => x === 0);
    if (aOrig) theirs.set(key(sa.orig, sb.orig, sb.shift), pairs.dist[p]);
    if (bOrig) theirs.set(key(sb.orig, sa.orig, sa.shift), pairs.dist[p]);
    if (!aOrig && !bOrig) imagePairs++;
  }
  const mismatch: string[] = [];
  for (let e = 0; e < ours.count; e++) {
    const k = key(ours.src[e], ours.dst[e], ours.image.subarray(3 * e, 3 * e + 3));
    const d = theirs.get(k);
    if (d === undefined) {
      // A pair within float rounding of the cutoff may fall on either side.
      if (Math.abs(ours.dist[e] - cutoff) > 1e-5) mismatch.push(`only ours: ${k}`);
    } else {
      if (Math.abs(d - ours.dist[e]) > 1e-5) mismatch.push(`distance of ${k}: ${ours.dist[e]} vs ${d}`);
      theirs.delete(k);
    }
  }
  for (const [k, d] of theirs) if (Math.abs(d - cutoff) > 1e-5) mismatch.push(`only matterviz: ${k}`);
  if (mismatch.length) throw new Error(`edge sets differ (${mismatch.length}): ${mismatch.slice(0, 5).join('; ')}`);
  return { pairs: pairs.a.length, imagePairs };
}

/** Same edges, same order, same images, vectors and distances (bit for bit). */
function sameOutput(a: EdgeList, b: EdgeList): boolean {
  const eq = (x: ArrayLike<number>, y: ArrayLike<number>) =>
    x.length === y.length && Array.prototype.every.call(x, (v: number, k: number) => Object.is(v, y[k]));
  return a.count === b.count && eq(a.src, b.src) && eq(a.dst, b.dst) && eq(a.image, b.image) && eq(a.vec, b.vec) && eq(a.dist, b.dist);
}

function time(f: () => unknown): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

function cpuModel(): string {
  const fromOs = cpus()[0]?.model?.trim();
  if (fromOs && fromOs !== 'unknown') return fromOs;
  try {
    return /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Lets Node import matterviz's dist modules that re-export Svelte components (never rendered here). */
function stubSvelteImports(): void {
  const hooks = `export async function load(url, context, next) {
    if (url.endsWith('.svelte')) return { format: 'module', source: 'export default {};', shortCircuit: true };
    return next(url, context);
  }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const repsArg = args.indexOf('--reps');
  const fixedReps = repsArg >= 0 ? Number(args[repsArg + 1]) : null;
  let baseline: NeighborFn | null = null;
  if (process.env.NEIGHBORS_BASELINE) {
    baseline = ((await import(process.env.NEIGHBORS_BASELINE)) as { neighborListCpu: NeighborFn }).neighborListCpu;
  }
  type SolidAngle = (structure: unknown, opts: Record<string, number>) => unknown[];
  let solidAngle: SolidAngle | null = null;
  if (process.env.MATTERVIZ_DIR) {
    stubSvelteImports();
    solidAngle = ((await import(`${process.env.MATTERVIZ_DIR}/dist/structure/bonding.js`)) as { solid_angle: SolidAngle }).solid_angle;
  }

  const rows: string[] = [];
  for (const c of cases(1)) {
    const reps = fixedReps ?? c.reps;
    const sites = imageSites(c.input);
    const ours = neighborListCpu(c.input);
    const pairs = mattervizSearch(sites, c.input.cutoff);
    const { imagePairs } = checkSameEdges(ours, sites, pairs, c.input.cutoff);
    if (baseline && !sameOutput(ours, baseline(c.input))) throw new Error(`${c.name}: the baseline's output differs from ours`);
    const mvStructure = {
      lattice: { matrix: c.input.lattice, pbc: c.input.pbc },
      sites: sites.map((s) => ({ species: [{ element: 'Cu', occu: 1 }], abc: [0, 0, 0], xyz: s.xyz, properties: {} })),
    };
    const mvOpts = { max_distance: c.input.cutoff, min_solid_angle: 0, min_face_area: 0, min_bond_dist: 0, strength_threshold: -Infinity };
    if (solidAngle) {
      const n = solidAngle(mvStructure, mvOpts).length;
      if (n !== pairs.a.length) throw new Error(`${c.name}: matterviz solid_angle found ${n} pairs, the search above ${pairs.a.length}`);
    }
    // Warm-up (JIT), then best of `reps`, the contenders interleaved.
    const best = { ours: Infinity, base: Infinity, mv: Infinity, mvExpand: Infinity, solid: Infinity };
    for (let w = 0; w < 3; w++) {
      neighborListCpu(c.input);
      baseline?.(c.input);
      mattervizSearch(sites, c.input.cutoff);
    }
    for (let r = 0; r < reps; r++) {
      best.ours = Math.min(
        best.ours,
        time(() => neighborListCpu(c.input)),
      );
      if (baseline)
        best.base = Math.min(
          best.base,
          time(() => baseline(c.input)),
        );
      best.mv = Math.min(
        best.mv,
        time(() => mattervizSearch(sites, c.input.cutoff)),
      );
      if (r < Math.max(3, reps / 3))
        best.mvExpand = Math.min(
          best.mvExpand,
          time(() => mattervizSearch(imageSites(c.input), c.input.cutoff)),
        );
      if (solidAngle && r < 3)
        best.solid = Math.min(
          best.solid,
          time(() => solidAngle(mvStructure, mvOpts)),
        );
    }
    const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
    const cells = [
      c.name,
      c.input.frac.length.toLocaleString('en-US'),
      `${sites.length.toLocaleString('en-US')} (${imagePairs.toLocaleString('en-US')} image–image)`,
      ours.count.toLocaleString('en-US'),
      ...(baseline ? [ms(best.base)] : []),
      ms(best.ours),
      ms(best.mv),
      ms(best.mvExpand),
      ...(solidAngle ? [ms(best.solid)] : []),
      ...(baseline ? [(best.base / best.mv).toFixed(2)] : []),
      (best.ours / best.mv).toFixed(2),
    ];
    rows.push(`| ${cells.join(' | ')} |`);
    process.stderr.write(`${c.name}: done (${reps} reps)\n`);
  }
  const head = [
    'case',
    'atoms',
    'matterviz sites (pairs among images)',
    'edges',
    ...(baseline ? ['before ms'] : []),
    'ours ms',
    'matterviz search ms',
    'matterviz images + search ms',
    ...(solidAngle ? ['matterviz solid_angle ms'] : []),
    ...(baseline ? ['before / matterviz'] : []),
    'ours / matterviz',
  ];
  const [l1, l5] = loadavg();
  console.log(
    `${new Date().toISOString().slice(0, 10)}; Node ${process.version}; ${cpuModel()}, ${cpus().length} cores; load average ${l1.toFixed(1)} (1 min), ${l5.toFixed(1)} (5 min)`,
  );
  console.log('');
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map((h, k) => (k === 0 ? '---' : '---:')).join('|')}|`);
  for (const row of rows) console.log(row);
  console.log('');
  console.log(
    'ms: best of the repetitions after 3 warm-up runs, interleaved. Edge sets checked equal before timing. Ratio: ours / matterviz search (images excluded).',
  );
}

await main();
