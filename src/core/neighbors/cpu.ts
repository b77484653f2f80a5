/**
 * CPU reference neighbour list: the cell list of ./cells.ts walked in
 * float64 (output vectors and distances rounded to float32). The WebGPU
 * kernels walk every atom's full stencil of the same grid; this walk gives
 * exactly the output of that full walk in float64 (same edges, same order,
 * same bits), so it is both the fallback backend and the oracle the GPU is
 * tested against.
 *
 * For speed it examines each unordered pair once and writes both directions:
 *  - Atom a looks, in the bins of its stencil, only at atoms b ≥ a (b = a in
 *    other images than its own): each bin lists its atoms in increasing
 *    index, so that is a suffix of the bin. The stencil is symmetric, so the
 *    pair (a, b, n) is in a's stencil exactly when (b, a, −n) is in b's.
 *  - The reverse edge b → a gets −image and the same distance, and its
 *    vector is computed as the full walk from b computes it,
 *    ((w_a − w_b) − n) · L: that is −vec bit for bit except where a
 *    component is zero (IEEE rounding is symmetric under negation, but
 *    exact cancellation gives +0 both ways, which negating would turn
 *    into −0), and its squared distance is the same number.
 *  - Order: the edges of atom s with dst < s are the reverse edges written
 *    while walking a = dst < s, which happens in increasing a, so a stable
 *    scatter by src puts them in dst order; its edges with dst ≥ s come from
 *    its own walk and are sorted there (insertion sort, as there are few);
 *    several images of one pair (cells thinner than 2 r_c) are put in image
 *    order afterwards.
 * Coordinates are copied into bin order so each bin is read contiguously,
 * and the bins and lattice images to visit are tabulated per axis once.
 */
import { buildCellGrid, type CellGrid } from './cells';
import { MAX_EDGES, NeighborListError, type EdgeList, type NeighborInput } from './types';

/** Neighbour lists at most this long are insertion-sorted; longer ones use Array.prototype.sort. */
export const INSERTION_SORT_MAX = 48;

const tooMany = () => new NeighborListError(`the neighbour list has more than ${MAX_EDGES.toLocaleString('en-US')} edges; use a smaller cutoff or fewer atoms`);

/**
 * The pairs found by the walk, in the order found (by increasing a): for
 * each, b, the image of b seen from a (caller's basis), the vectors a → b
 * and b → a and the distance, already in float32.
 */
class PairBuffer {
  count = 0;
  b: Int32Array;
  image: Int32Array;
  vec: Float32Array;
  back: Float32Array;
  dist: Float32Array;

  constructor(capacity: number) {
    const c = Math.max(64, Math.min(MAX_EDGES, Math.ceil(capacity)));
    this.b = new Int32Array(c);
    this.image = new Int32Array(3 * c);
    this.vec = new Float32Array(3 * c);
    this.back = new Float32Array(3 * c);
    this.dist = new Float32Array(c);
  }

  grow(): void {
    // Each pair is at least one edge.
    if (this.count >= MAX_EDGES) throw tooMany();
    const c = Math.min(MAX_EDGES, 2 * this.b.length);
    const grow = <T extends Int32Array | Float32Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.b = grow(this.b, new Int32Array(c));
    this.image = grow(this.image, new Int32Array(3 * c));
    this.vec = grow(this.vec, new Float32Array(3 * c));
    this.back = grow(this.back, new Float32Array(3 * c));
    this.dist = grow(this.dist, new Float32Array(c));
  }
}

/**
 * Per axis, the bins to visit from each bin: for bin p and offset d ∈ [−m, m]
 * (entry p · (2m + 1) + d + m), the bin u mod n of the unwrapped bin
 * u = p + d (−1 when u is outside a non-periodic axis) and the lattice
 * image floor(u / n) (0 along non-periodic axes).
 */
function axisTable(bins: number, reach: number, periodic: boolean): { bin: Int32Array; image: Int32Array } {
  const width = 2 * reach + 1;
  const bin = new Int32Array(bins * width);
  const image = new Int32Array(bins * width);
  for (let p = 0; p < bins; p++) {
    for (let d = -reach; d <= reach; d++) {
      const u = p + d;
      const e = p * width + d + reach;
      if (periodic) {
        const i = Math.floor(u / bins);
        bin[e] = u - i * bins;
        image[e] = i;
      } else {
        bin[e] = u < 0 || u >= bins ? -1 : u;
        image[e] = 0;
      }
    }
  }
  return { bin, image };
}

/** Neighbour list on the CPU; see EdgeList for the output contract. */
export function neighborListCpu(input: NeighborInput): EdgeList {
  const grid = buildCellGrid(input);
  return walkGrid(grid);
}

/**
 * Finds every pair (a, b ≥ a, image) within the cutoff once (see the header
 * and cells.ts for why the stencil meets each (b, image) once), then writes
 * both directions in (src, dst, image) order.
 */
export function walkGrid(grid: CellGrid): EdgeList {
  const { n, wrapped: w, shift, bins, reach, periodic, binOf, cellStart, order } = grid;
  const [[a0, a1, a2], [b0, b1, b2], [c0, c1, c2]] = grid.lattice.matrix;
  const rc2 = grid.cutoff * grid.cutoff;
  const [[t00, t01, t02], [t10, t11, t12], [t20, t21, t22]] = grid.toInput;
  const identity = t00 === 1 && t11 === 1 && t22 === 1 && t01 === 0 && t02 === 0 && t10 === 0 && t12 === 0 && t20 === 0 && t21 === 0;
  const [n0, n1, n2] = bins;

  // Coordinates and shifts in bin order: bin c holds slots cellStart[c] .. cellStart[c + 1].
  const ws = new Float64Array(3 * n);
  const ss = new Int32Array(3 * n);
  for (let s = 0; s < n; s++) {
    const j = order[s];
    ws[3 * s] = w[3 * j];
    ws[3 * s + 1] = w[3 * j + 1];
    ws[3 * s + 2] = w[3 * j + 2];
    ss[3 * s] = shift[3 * j];
    ss[3 * s + 1] = shift[3 * j + 1];
    ss[3 * s + 2] = shift[3 * j + 2];
  }
  const w0 = 2 * reach[0] + 1,
    w1 = 2 * reach[1] + 1,
    w2 = 2 * reach[2] + 1;
  const { bin: bin0, image: img0 } = axisTable(n0, reach[0], periodic[0]);
  const { bin: bin1, image: img1 } = axisTable(n1, reach[1], periodic[1]);
  const { bin: bin2, image: img2 } = axisTable(n2, reach[2], periodic[2]);

  // 1. The walk: pairs of atom a are pairs[pairStart[a] .. pairStart[a + 1]).
  const pairs = new PairBuffer(grid.estimatedEdges * 0.55 + 16);
  const pairStart = new Int32Array(n + 1);
  /** Edges b → a with a < b, per b. */
  const lower = new Int32Array(n);
  let edges = 0;
  for (let a = 0; a < n; a++) {
    pairStart[a] = pairs.count;
    const flat = binOf[a];
    const p2 = flat % n2;
    const p1 = Math.floor(flat / n2) % n1;
    const p0 = Math.floor(flat / (n1 * n2));
    const wa0 = w[3 * a],
      wa1 = w[3 * a + 1],
      wa2 = w[3 * a + 2];
    const sa0 = shift[3 * a],
      sa1 = shift[3 * a + 1],
      sa2 = shift[3 * a + 2];
    for (let e0 = p0 * w0, end0 = e0 + w0; e0 < end0; e0++) {
      const k0 = bin0[e0];
      if (k0 < 0) continue;
      const i0 = img0[e0];
      for (let e1 = p1 * w1, end1 = e1 + w1; e1 < end1; e1++) {
        const k1 = bin1[e1];
        if (k1 < 0) continue;
        const i1 = img1[e1];
        const row = (k0 * n1 + k1) * n2;
        for (let e2 = p2 * w2, end2 = e2 + w2; e2 < end2; e2++) {
          const k2 = bin2[e2];
          if (k2 < 0) continue;
          const i2 = img2[e2];
          const cell = row + k2;
          const end = cellStart[cell + 1];
          let s = cellStart[cell];
          if (s === end || order[end - 1] < a) continue;
          // First slot with an atom ≥ a (bins list their atoms in increasing index).
          if (order[s] < a) {
            let hi = end - 1;
            while (hi - s > 1) {
              const mid = (s + hi) >>> 1;
              if (order[mid] < a) s = mid;
              else hi = mid;
            }
            s = hi;
          }
          // The atom itself only in other images than its own.
          if (order[s] === a && i0 === 0 && i1 === 0 && i2 === 0) s++;
          for (; s < end; s++) {
            // Fractional difference in the wrapped frame, then to Å (as the full walk and the GPU do).
            const f0 = ws[3 * s] - wa0 + i0;
            const f1 = ws[3 * s + 1] - wa1 + i1;
            const f2 = ws[3 * s + 2] - wa2 + i2;
            const x = f0 * a0 + f1 * b0 + f2 * c0;
            const y = f0 * a1 + f1 * b1 + f2 * c1;
            const z = f0 * a2 + f1 * b2 + f2 * c2;
            const d2 = x * x + y * y + z * z;
            if (d2 < rc2 && d2 > 0) {
              if (pairs.count === pairs.b.length) pairs.grow();
              const k = pairs.count++;
              const b = order[s];
              pairs.b[k] = b;
              if (b !== a) {
                lower[b]++;
                edges += 2;
              } else edges++;
              if (edges > MAX_EDGES) throw tooMany();
              // The image against the original (unwrapped) positions, in the caller's basis.
              const m0 = i0 + sa0 - ss[3 * s];
              const m1 = i1 + sa1 - ss[3 * s + 1];
              const m2 = i2 + sa2 - ss[3 * s + 2];
              const img = pairs.image;
              if (identity) {
                img[3 * k] = m0;
                img[3 * k + 1] = m1;
                img[3 * k + 2] = m2;
              } else {
                img[3 * k] = m0 * t00 + m1 * t10 + m2 * t20;
                img[3 * k + 1] = m0 * t01 + m1 * t11 + m2 * t21;
                img[3 * k + 2] = m0 * t02 + m1 * t12 + m2 * t22;
              }
              const v = pairs.vec;
              v[3 * k] = x;
              v[3 * k + 1] = y;
              v[3 * k + 2] = z;
              // b → a as the walk from b would compute it (its image of a is −i; the same bits as −x, −y, −z except signed zeros).
              const g0 = wa0 - ws[3 * s] - i0;
              const g1 = wa1 - ws[3 * s + 1] - i1;
              const g2 = wa2 - ws[3 * s + 2] - i2;
              const r = pairs.back;
              r[3 * k] = g0 * a0 + g1 * b0 + g2 * c0;
              r[3 * k + 1] = g0 * a1 + g1 * b1 + g2 * c1;
              r[3 * k + 2] = g0 * a2 + g1 * b2 + g2 * c2;
              pairs.dist[k] = Math.sqrt(d2);
            }
          }
        }
      }
    }
  }
  pairStart[n] = pairs.count;

  // 2. Where each atom's edges go: first those to lower indices, then its own pairs.
  const src = new Int32Array(edges);
  const dst = new Int32Array(edges);
  const image = new Int32Array(3 * edges);
  const vec = new Float32Array(3 * edges);
  const dist = new Float32Array(edges);
  const next = new Int32Array(n);
  for (let s = 0, e = 0; s < n; s++) {
    next[s] = e;
    e += lower[s] + pairStart[s + 1] - pairStart[s];
  }
  const { b: pb, image: pi, vec: pv, back: pr, dist: pd } = pairs;

  // 3. Reverse edges b → a, in increasing a within each b.
  for (let a = 0; a < n; a++) {
    for (let k = pairStart[a], end = pairStart[a + 1]; k < end; k++) {
      const b = pb[k];
      if (b === a) continue;
      const e = next[b]++;
      src[e] = b;
      dst[e] = a;
      image[3 * e] = -pi[3 * k];
      image[3 * e + 1] = -pi[3 * k + 1];
      image[3 * e + 2] = -pi[3 * k + 2];
      vec[3 * e] = pr[3 * k];
      vec[3 * e + 1] = pr[3 * k + 1];
      vec[3 * e + 2] = pr[3 * k + 2];
      dist[e] = pd[k];
    }
  }

  // 4. Each atom's own pairs a → b ≥ a, sorted by (b, image). Keys are unique: each (b, image) is met once.
  let perm = new Int32Array(64);
  const idx: number[] = [];
  const before = (q: number, k: number) => {
    if (pb[q] !== pb[k]) return pb[q] < pb[k];
    if (pi[3 * q] !== pi[3 * k]) return pi[3 * q] < pi[3 * k];
    if (pi[3 * q + 1] !== pi[3 * k + 1]) return pi[3 * q + 1] < pi[3 * k + 1];
    return pi[3 * q + 2] < pi[3 * k + 2];
  };
  for (let a = 0; a < n; a++) {
    const first = pairStart[a];
    const count = pairStart[a + 1] - first;
    if (count === 0) continue;
    if (count > perm.length) perm = new Int32Array(2 * count);
    if (count <= INSERTION_SORT_MAX) {
      for (let k = first; k < first + count; k++) {
        let p = k - first;
        while (p > 0 && !before(perm[p - 1], k)) {
          perm[p] = perm[p - 1];
          p--;
        }
        perm[p] = k;
      }
    } else {
      idx.length = count;
      for (let p = 0; p < count; p++) idx[p] = first + p;
      idx.sort((q, k) => pb[q] - pb[k] || pi[3 * q] - pi[3 * k] || pi[3 * q + 1] - pi[3 * k + 1] || pi[3 * q + 2] - pi[3 * k + 2]);
      for (let p = 0; p < count; p++) perm[p] = idx[p];
    }
    let e = next[a];
    for (let p = 0; p < count; p++, e++) {
      const k = perm[p];
      src[e] = a;
      dst[e] = pb[k];
      image[3 * e] = pi[3 * k];
      image[3 * e + 1] = pi[3 * k + 1];
      image[3 * e + 2] = pi[3 * k + 2];
      vec[3 * e] = pv[3 * k];
      vec[3 * e + 1] = pv[3 * k + 1];
      vec[3 * e + 2] = pv[3 * k + 2];
      dist[e] = pd[k];
    }
  }

  // 5. Several images of one pair among the reverse edges (cells thinner than 2 r_c): they
  // are adjacent (all written while walking their dst); put them in image order.
  const multiImage = [0, 1, 2].some((k) => periodic[k] && 2 * reach[k] + 1 > bins[k]);
  if (multiImage) sortImageRuns(src, dst, image, vec, dist);

  return { count: edges, src, dst, image, vec, dist };
}

/** Sorts each run of edges with equal (src, dst) by image, in place (runs are usually short). */
function sortImageRuns(src: Int32Array, dst: Int32Array, image: Int32Array, vec: Float32Array, dist: Float32Array): void {
  const less = (p: number, q: number) =>
    image[3 * p] !== image[3 * q]
      ? image[3 * p] < image[3 * q]
      : image[3 * p + 1] !== image[3 * q + 1]
        ? image[3 * p + 1] < image[3 * q + 1]
        : image[3 * p + 2] < image[3 * q + 2];
  const swap = (p: number, q: number) => {
    for (let c = 0; c < 3; c++) {
      const i = image[3 * p + c];
      image[3 * p + c] = image[3 * q + c];
      image[3 * q + c] = i;
      const v = vec[3 * p + c];
      vec[3 * p + c] = vec[3 * q + c];
      vec[3 * q + c] = v;
    }
    const d = dist[p];
    dist[p] = dist[q];
    dist[q] = d;
  };
  const n = src.length;
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && src[end] === src[start] && dst[end] === dst[start]) end++;
    if (end - start <= INSERTION_SORT_MAX) {
      for (let k = start + 1; k < end; k++) for (let p = k; p > start && less(p, p - 1); p--) swap(p, p - 1);
    } else {
      sortLongRun(start, end, image, vec, dist);
    }
    start = end;
  }
}

/**
 * A long run (a tiny cell and a large cutoff: 180,000 images of one pair in
 * a 3-atom cell at 200 Å) sorted through an index permutation; insertion
 * sort there took minutes. Images within a run are distinct, so the order is total.
 */
function sortLongRun(start: number, end: number, image: Int32Array, vec: Float32Array, dist: Float32Array): void {
  const len = end - start;
  const order = Array.from({ length: len }, (_, k) => start + k);
  order.sort((p, q) => image[3 * p] - image[3 * q] || image[3 * p + 1] - image[3 * q + 1] || image[3 * p + 2] - image[3 * q + 2]);
  const im = image.slice(3 * start, 3 * end);
  const ve = vec.slice(3 * start, 3 * end);
  const di = dist.slice(start, end);
  for (let k = 0; k < len; k++) {
    const from = order[k] - start;
    const to = start + k;
    for (let c = 0; c < 3; c++) {
      image[3 * to + c] = im[3 * from + c];
      vec[3 * to + c] = ve[3 * from + c];
    }
    dist[to] = di[from];
  }
}
