/**
 * CPU reference neighbour list: the cell list of ./cells.ts walked in
 * float64 (output vectors and distances rounded to float32). The WebGPU
 * kernels visit the same candidates in the same way, so this is both the
 * fallback backend and the oracle the GPU is tested against.
 */
import { buildCellGrid, type CellGrid } from './cells';
import { MAX_EDGES, NeighborListError, type EdgeList, type NeighborInput } from './types';

/** Growable output columns (typed arrays doubled on demand). */
class EdgeBuffer {
  count = 0;
  src: Int32Array;
  dst: Int32Array;
  image: Int32Array;
  vec: Float32Array;
  dist: Float32Array;

  constructor(capacity: number) {
    const c = Math.max(16, Math.ceil(capacity));
    this.src = new Int32Array(c);
    this.dst = new Int32Array(c);
    this.image = new Int32Array(3 * c);
    this.vec = new Float32Array(3 * c);
    this.dist = new Float32Array(c);
  }

  reserve(extra: number): void {
    const need = this.count + extra;
    if (need <= this.src.length) return;
    if (need > MAX_EDGES) {
      throw new NeighborListError(`the neighbour list has more than ${MAX_EDGES.toLocaleString('en-US')} edges; use a smaller cutoff or fewer atoms`);
    }
    const c = Math.min(MAX_EDGES, Math.max(need, 2 * this.src.length));
    const grow = <T extends Int32Array | Float32Array>(a: T, n: number, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.src = grow(this.src, c, (n) => new Int32Array(n));
    this.dst = grow(this.dst, c, (n) => new Int32Array(n));
    this.image = grow(this.image, 3 * c, (n) => new Int32Array(n));
    this.vec = grow(this.vec, 3 * c, (n) => new Float32Array(n));
    this.dist = grow(this.dist, c, (n) => new Float32Array(n));
  }

  finish(): EdgeList {
    const n = this.count;
    return {
      count: n,
      src: this.src.slice(0, n),
      dst: this.dst.slice(0, n),
      image: this.image.slice(0, 3 * n),
      vec: this.vec.slice(0, 3 * n),
      dist: this.dist.slice(0, n),
    };
  }
}

/** Scratch space for one atom's neighbours before they are sorted. */
class Segment {
  n = 0;
  j = new Int32Array(64);
  img = new Int32Array(192);
  v = new Float64Array(192);
  d = new Float64Array(64);
  idx: number[] = [];

  push(j: number, i0: number, i1: number, i2: number, x: number, y: number, z: number, d: number): void {
    if (this.n === this.j.length) {
      const grow = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
        const b = make(2 * a.length);
        b.set(a);
        return b;
      };
      this.j = grow(this.j, (n) => new Int32Array(n));
      this.img = grow(this.img, (n) => new Int32Array(n));
      this.v = grow(this.v, (n) => new Float64Array(n));
      this.d = grow(this.d, (n) => new Float64Array(n));
    }
    const k = this.n++;
    this.j[k] = j;
    this.img[3 * k] = i0;
    this.img[3 * k + 1] = i1;
    this.img[3 * k + 2] = i2;
    this.v[3 * k] = x;
    this.v[3 * k + 1] = y;
    this.v[3 * k + 2] = z;
    this.d[k] = d;
  }

  /** Appends the segment to `out` as edges of `src`, sorted by (dst, image). */
  flush(src: number, out: EdgeBuffer): void {
    const { j, img } = this;
    const idx = this.idx;
    idx.length = this.n;
    for (let k = 0; k < this.n; k++) idx[k] = k;
    idx.sort((a, b) => j[a] - j[b] || img[3 * a] - img[3 * b] || img[3 * a + 1] - img[3 * b + 1] || img[3 * a + 2] - img[3 * b + 2]);
    out.reserve(this.n);
    let e = out.count;
    for (const k of idx) {
      out.src[e] = src;
      out.dst[e] = j[k];
      for (let c = 0; c < 3; c++) {
        out.image[3 * e + c] = img[3 * k + c];
        out.vec[3 * e + c] = this.v[3 * k + c];
      }
      out.dist[e] = this.d[k];
      e++;
    }
    out.count = e;
    this.n = 0;
  }
}

const floorDiv = (a: number, b: number) => Math.floor(a / b);

/** Neighbour list on the CPU; see EdgeList for the output contract. */
export function neighborListCpu(input: NeighborInput): EdgeList {
  const grid = buildCellGrid(input);
  return walkGrid(grid);
}

/** Visits every atom's candidate bins (see cells.ts for why this finds each (j, image) once). */
export function walkGrid(grid: CellGrid): EdgeList {
  const { n, wrapped: w, shift, bins, reach, periodic, binOf, cellStart, order } = grid;
  const [[a0, a1, a2], [b0, b1, b2], [c0, c1, c2]] = grid.lattice.matrix;
  const rc2 = grid.cutoff * grid.cutoff;
  const [[t00, t01, t02], [t10, t11, t12], [t20, t21, t22]] = grid.toInput;
  const [n0, n1, n2] = bins;
  const out = new EdgeBuffer(grid.estimatedEdges * 1.1);
  const seg = new Segment();

  for (let i = 0; i < n; i++) {
    const flat = binOf[i];
    const p2 = flat % n2;
    const p1 = Math.floor(flat / n2) % n1;
    const p0 = Math.floor(flat / (n1 * n2));
    const wi0 = w[3 * i], wi1 = w[3 * i + 1], wi2 = w[3 * i + 2];
    const si0 = shift[3 * i], si1 = shift[3 * i + 1], si2 = shift[3 * i + 2];
    for (let d0 = -reach[0]; d0 <= reach[0]; d0++) {
      const u0 = p0 + d0;
      let k0 = u0;
      let i0 = 0;
      if (periodic[0]) {
        i0 = floorDiv(u0, n0);
        k0 = u0 - i0 * n0;
      } else if (u0 < 0 || u0 >= n0) continue;
      for (let d1 = -reach[1]; d1 <= reach[1]; d1++) {
        const u1 = p1 + d1;
        let k1 = u1;
        let i1 = 0;
        if (periodic[1]) {
          i1 = floorDiv(u1, n1);
          k1 = u1 - i1 * n1;
        } else if (u1 < 0 || u1 >= n1) continue;
        for (let d2 = -reach[2]; d2 <= reach[2]; d2++) {
          const u2 = p2 + d2;
          let k2 = u2;
          let i2 = 0;
          if (periodic[2]) {
            i2 = floorDiv(u2, n2);
            k2 = u2 - i2 * n2;
          } else if (u2 < 0 || u2 >= n2) continue;
          const cell = (k0 * n1 + k1) * n2 + k2;
          const self = i0 === 0 && i1 === 0 && i2 === 0;
          for (let s = cellStart[cell], end = cellStart[cell + 1]; s < end; s++) {
            const j = order[s];
            if (self && j === i) continue;
            // Fractional difference in the wrapped frame, then to Å.
            const f0 = w[3 * j] - wi0 + i0;
            const f1 = w[3 * j + 1] - wi1 + i1;
            const f2 = w[3 * j + 2] - wi2 + i2;
            const x = f0 * a0 + f1 * b0 + f2 * c0;
            const y = f0 * a1 + f1 * b1 + f2 * c1;
            const z = f0 * a2 + f1 * b2 + f2 * c2;
            const d2sq = x * x + y * y + z * z;
            if (d2sq < rc2 && d2sq > 0) {
              // Report the image against the original (unwrapped) positions, in the caller's basis.
              const m0 = i0 + si0 - shift[3 * j];
              const m1 = i1 + si1 - shift[3 * j + 1];
              const m2 = i2 + si2 - shift[3 * j + 2];
              seg.push(j, m0 * t00 + m1 * t10 + m2 * t20, m0 * t01 + m1 * t11 + m2 * t21, m0 * t02 + m1 * t12 + m2 * t22, x, y, z, Math.sqrt(d2sq));
            }
          }
        }
      }
    }
    seg.flush(i, out);
  }
  return out.finish();
}
