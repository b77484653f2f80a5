/**
 * Cell list shared by the CPU reference and the WebGPU kernels, so both
 * examine exactly the same candidate pairs and differ only in arithmetic.
 *
 * Along periodic axis k the wrapped fractional coordinate w ∈ [0, 1) is cut
 * into n_k = max(1, floor(h_k / r_c)) slabs, h_k being the interplanar
 * spacing (distance between the two cell faces that w_k = 0 and w_k = 1
 * describe). Two points closer than r_c differ in w_k by at most r_c / h_k,
 * i.e. by at most m_k = ceil(r_c · n_k / h_k) bins (1 when n_k ≥ 2). We
 * therefore walk "unwrapped" bins u = b + d, d ∈ [−m_k, m_k], and map each
 * to bin u mod n_k and lattice image floor(u / n_k). Every (j, image) pair
 * corresponds to exactly one unwrapped bin (b_j + image · n_k), so it is met
 * exactly once — also when the cell is thinner than the cutoff (n_k = 1,
 * m_k images each side), where this degenerates into brute force over all j
 * and all reachable images. No separate brute-force path is needed.
 *
 * Along non-periodic axes the bins cover the extent of the coordinates
 * (min..max), there is no wrapping, and bins outside the range are skipped.
 *
 * Binning runs here, on the CPU, in O(N) (a counting sort); the GPU
 * driver uploads the result.
 */
import { Lattice } from '../lattice';
import { reducePeriodicBasis } from './reduce';
import type { Mat3, Vec3 } from '../math3';
import { MAX_EDGES, NeighborListError, type NeighborInput } from './types';

/**
 * At or below this many atoms the grid is a single bin (brute force over
 * all pairs and reachable images): binning costs more than it saves, and a
 * GPU thread per atom has work either way.
 */
export const BRUTE_FORCE_MAX_ATOMS = 32;
/** Most bins a grid may have (memory for cellStart, and empty-bin visits). */
export const MAX_BINS = 1 << 21;
/** Most candidate pairs (distance evaluations) we agree to examine. */
export const MAX_CANDIDATES = 1e10;
/**
 * Relative slack on the cutoff when sizing bins, so that rounding in
 * w · n_k can never put a true neighbour one bin further than m_k.
 */
const SLACK = 1e-6;
/**
 * Largest |fractional coordinate| accepted: the wrap shift must fit an int32
 * also after the change to the reduced basis (which multiplies by T⁻¹).
 */
const MAX_FRAC = 1e6;

export interface CellGrid {
  /** Number of atoms. */
  n: number;
  /** The REDUCED lattice the search runs in (see reduce.ts); coordinates below are in its basis. */
  lattice: Lattice;
  /** Integer T with images in the caller's basis = images in the reduced basis · T. */
  toInput: Mat3;
  cutoff: number;
  periodic: [boolean, boolean, boolean];
  /** Fractional coordinates wrapped into [0, 1) along periodic axes (3n). */
  wrapped: Float64Array;
  /** Integer lattice shift with input frac = wrapped + shift (3n; 0 along non-periodic axes). */
  shift: Int32Array;
  /** Per axis, the coordinate frame of the bins: u = (wrapped − origin) / span ∈ [0, 1]. */
  origin: Vec3;
  span: Vec3;
  /** Bins per axis. */
  bins: [number, number, number];
  /** Bin offsets to visit each side, per axis. */
  reach: [number, number, number];
  /** Flat bin index ((b0 · n1 + b1) · n2 + b2) of every atom. */
  binOf: Int32Array;
  /** Atoms of bin c are order[cellStart[c] .. cellStart[c + 1]), in increasing index. */
  cellStart: Uint32Array;
  order: Uint32Array;
  /** Expected number of edges (density estimate), used to refuse absurd requests. */
  estimatedEdges: number;
}

function validate(input: NeighborInput): { lattice: Lattice; frac: Float64Array } {
  const { cutoff, pbc } = input;
  if (!(cutoff > 0) || !Number.isFinite(cutoff)) throw new NeighborListError(`cutoff must be a positive number of Å, got ${cutoff}`);
  if (!Array.isArray(pbc) || pbc.length !== 3 || !pbc.every((p) => typeof p === 'boolean')) {
    throw new NeighborListError('pbc must be three booleans');
  }
  let lattice: Lattice;
  try {
    lattice = new Lattice(input.lattice);
  } catch (e) {
    throw new NeighborListError(`invalid lattice: ${(e as Error).message}`);
  }
  let frac: Float64Array;
  if (input.frac instanceof Float64Array) {
    if (input.frac.length % 3 !== 0) throw new NeighborListError(`flat fractional coordinates need a length divisible by 3, got ${input.frac.length}`);
    frac = input.frac;
  } else {
    frac = new Float64Array(input.frac.length * 3);
    input.frac.forEach((f, i) => {
      if (f.length !== 3) throw new NeighborListError(`site ${i} does not have 3 fractional coordinates`);
      frac[3 * i] = f[0];
      frac[3 * i + 1] = f[1];
      frac[3 * i + 2] = f[2];
    });
  }
  for (let x = 0; x < frac.length; x++) {
    if (!Number.isFinite(frac[x]) || Math.abs(frac[x]) > MAX_FRAC) {
      throw new NeighborListError(`site ${Math.floor(x / 3)} has a non-finite or absurd fractional coordinate (${frac[x]})`);
    }
  }
  return { lattice, frac };
}

/** Bins per axis: at least r_c wide, at most MAX_BINS (and ~4 per atom) in all. */
function gridShape(n: number, cutoff: number, heights: Vec3, extent: Vec3): [number, number, number] {
  const width = cutoff * (1 + SLACK);
  const bins = [1, 1, 1] as [number, number, number];
  if (n <= BRUTE_FORCE_MAX_ATOMS) return bins;
  for (let k = 0; k < 3; k++) {
    // Cartesian thickness covered by the bins along k.
    const thickness = extent[k] * heights[k];
    bins[k] = Math.max(1, Math.floor(thickness / width));
  }
  // Cap the number of bins: beyond a few per atom, bins are mostly empty
  // and only cost visits (vacuum, sparse molecules); coarser bins stay
  // correct because reach() is recomputed from the final bin width.
  const cap = Math.min(MAX_BINS, Math.max(27, 4 * n));
  while (bins[0] * bins[1] * bins[2] > cap) {
    const k = bins[0] >= bins[1] && bins[0] >= bins[2] ? 0 : bins[1] >= bins[2] ? 1 : 2;
    bins[k] = Math.ceil(bins[k] / 2);
  }
  return bins;
}

function reachOf(bins: readonly number[], cutoff: number, periodic: readonly boolean[], heights: Vec3): [number, number, number] {
  return [0, 1, 2].map((k) => {
    // Bins at least r_c wide: neighbours are in the adjacent bin at most.
    if (bins[k] >= 2) return 1;
    // One bin: all atoms share it; periodic axes need every image a sphere
    // of radius r_c can reach from anywhere in the cell.
    return periodic[k] ? Math.ceil((cutoff * (1 + SLACK)) / heights[k]) : 0;
  }) as [number, number, number];
}

/**
 * Expected edge count from the density: N · ρ · 4/3 π r_c³. Along a
 * non-periodic axis the atoms occupy their extent (at least 4/3 r_c, which
 * makes the estimate right for a monolayer: ρ · 4/3 π r_c³ → σ π r_c²).
 * Capped by the number of (j, image) pairs that exist within reach.
 */
function estimateEdges(n: number, cutoff: number, lattice: Lattice, periodic: readonly boolean[], extent: Vec3): number {
  const h = lattice.heights;
  let volume = lattice.volume;
  let images = 1;
  for (let k = 0; k < 3; k++) {
    if (periodic[k]) images *= 2 * Math.ceil(cutoff / h[k]) + 1;
    else volume *= Math.max(extent[k] * h[k], (4 / 3) * cutoff) / h[k];
  }
  const perAtom = Math.min((n / volume) * (4 / 3) * Math.PI * cutoff ** 3, n * images);
  return n * perAtom;
}

/** A count in words a reader takes in at once: 47,213; 3.1 million; 2.2 × 10^17. */
const fmt = (x: number) =>
  x >= 1e12
    ? `${(x / 10 ** Math.floor(Math.log10(x))).toFixed(1)} × 10^${Math.floor(Math.log10(x))}`
    : x >= 1e6
      ? `${(x / 1e6).toPrecision(3)} million`
      : Math.round(x).toLocaleString('en-US');

/** Wraps, bins and sorts the atoms; throws NeighborListError for invalid or absurd requests. */
export function buildCellGrid(input: NeighborInput): CellGrid {
  const valid = validate(input);
  const n = valid.frac.length / 3;
  const cutoff = input.cutoff;
  const periodic = [...input.pbc] as [boolean, boolean, boolean];
  // Search in the reduced basis: f' = f · T⁻¹ (non-periodic axes unchanged).
  const reduced = reducePeriodicBasis(valid.lattice.matrix, periodic);
  const lattice = new Lattice(reduced.matrix);
  const frac = new Float64Array(3 * n);
  const ti = reduced.tInv;
  for (let i = 0; i < n; i++) {
    const f0 = valid.frac[3 * i],
      f1 = valid.frac[3 * i + 1],
      f2 = valid.frac[3 * i + 2];
    for (let c = 0; c < 3; c++) frac[3 * i + c] = f0 * ti[0][c] + f1 * ti[1][c] + f2 * ti[2][c];
  }
  const heights = lattice.heights;

  // Wrap periodic axes into [0, 1) and remember the integer shift, so that
  // edges can be reported against the original positions:
  // r_j + n·L − r_i = w_j + n_w − w_i with n = n_w + s_i − s_j (in lattice units).
  const wrapped = new Float64Array(3 * n);
  const shift = new Int32Array(3 * n);
  const lo: Vec3 = [Infinity, Infinity, Infinity];
  const hi: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      const f = frac[3 * i + k];
      let w = f;
      let s = 0;
      if (periodic[k]) {
        s = Math.floor(f);
        if (Math.abs(s) > 2 ** 31 - 2) throw new NeighborListError(`site ${i} lies too many cells away from the origin for this (very skewed) cell`);
        w = f - s;
        // f = −1e-17 gives w = 1 after rounding: wrap it to 0 of the next cell.
        if (w >= 1) {
          w = 0;
          s += 1;
        }
      }
      wrapped[3 * i + k] = w;
      shift[3 * i + k] = s;
      if (w < lo[k]) lo[k] = w;
      if (w > hi[k]) hi[k] = w;
    }
  }
  // Frame of the bins: [0, 1) along periodic axes, the coordinate extent
  // along the others. `extent` is 0 for atoms all in one plane (one bin).
  const origin: Vec3 = [0, 0, 0];
  const extent: Vec3 = [1, 1, 1];
  for (let k = 0; k < 3; k++) {
    if (periodic[k] || n === 0) continue;
    origin[k] = lo[k];
    extent[k] = hi[k] - lo[k];
  }
  const span = extent.map((e) => (e > 0 ? e : 1)) as Vec3;

  const estimatedEdges = estimateEdges(n, cutoff, lattice, periodic, extent);
  if (estimatedEdges > MAX_EDGES) {
    throw new NeighborListError(
      `this neighbour list would have about ${fmt(estimatedEdges)} edges (${n} atoms, cutoff ${cutoff} Å); the limit is ${fmt(MAX_EDGES)}. Use a smaller cutoff or fewer atoms.`,
    );
  }
  const bins = gridShape(n, cutoff, heights, extent);
  const reach = reachOf(bins, cutoff, periodic, heights);
  const totalBins = bins[0] * bins[1] * bins[2];
  let visited = 1;
  for (let k = 0; k < 3; k++) visited *= periodic[k] ? 2 * reach[k] + 1 : Math.min(2 * reach[k] + 1, bins[k]);
  const candidates = n * (n / totalBins) * visited;
  if (candidates > MAX_CANDIDATES) {
    throw new NeighborListError(
      `this neighbour list would examine about ${candidates.toPrecision(3)} candidate pairs (${n} atoms, cutoff ${cutoff} Å, a very thin or very skewed cell); the limit is ${MAX_CANDIDATES.toPrecision(1)}. Use a smaller cutoff or a less skewed cell.`,
    );
  }

  // Counting sort of the atoms by bin; stable, so each bin lists its atoms
  // in increasing index (part of what makes the output deterministic).
  const binOf = new Int32Array(n);
  const cellStart = new Uint32Array(totalBins + 1);
  for (let i = 0; i < n; i++) {
    let flat = 0;
    for (let k = 0; k < 3; k++) {
      const u = (wrapped[3 * i + k] - origin[k]) / span[k];
      const b = Math.min(bins[k] - 1, Math.max(0, Math.floor(u * bins[k])));
      flat = flat * bins[k] + b;
    }
    binOf[i] = flat;
    cellStart[flat + 1]++;
  }
  for (let c = 0; c < totalBins; c++) cellStart[c + 1] += cellStart[c];
  const order = new Uint32Array(n);
  const fill = cellStart.slice(0, totalBins);
  for (let i = 0; i < n; i++) order[fill[binOf[i]]++] = i;

  return { n, lattice, toInput: reduced.t, cutoff, periodic, wrapped, shift, origin, span, bins, reach, binOf, cellStart, order, estimatedEdges };
}
