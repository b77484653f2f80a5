// The CDVAE radial score network's kernels in WebAssembly SIMD (AssemblyScript).
//
// Built by `npm run build:wasm` (scripts/build-wasm.mjs) into
// src/core/generate/wasm-score/kernels.wasm.ts; a Vitest test rebuilds it and
// fails if the committed binary differs. The forward that calls these
// kernels, and the CPU reference they are tested against, are in
// src/core/generate/wasm-score/. Why by hand: onnxruntime-web's WASM kernels
// spend a step in separate passes over E x 64 intermediates (gather, Gemm,
// SiLU, multiply, scatter; bench/RESULTS.md "Where a generation step goes");
// here each edge row is read once per layer and the activation is a short
// polynomial.
//
// Memory: the caller (wasm-score/arena.ts) owns everything above heapBase();
// these functions allocate nothing. Pointers are byte offsets; matrices are
// float32, row-major; index arrays are int32.

export function heapBase(): usize {
  return __heap_base;
}

// ---------------------------------------------------------------------------
// exp and SiLU on four lanes

// exp(x) = 2^n e^r with n = round(x / ln 2) and r = x - n ln 2 (ln 2 in two
// parts, Cody and Waite), e^r by the minimax polynomial of Cephes' expf
// (S. L. Moshier, Cephes Math Library 2.2, expf.c): relative error about
// 1e-7 on the whole range. x is clamped to [-87, 88], where 2^n stays a
// normal float: e^-87 is 1.6e-38 (float's smallest normal is 1.2e-38) and
// e^88 is 1.7e38 (largest 3.4e38).
// Written for V8's x64 code: pmin/pmax are one instruction each where
// min/max (NaN- and sign-exact) are several, and n is rounded by adding
// 1.5 * 2^23, after which its integer value sits in the float's low bits,
// instead of nearest and trunc_sat (several instructions each); together
// the SiLU went from about 3 to 1 ns per element (bench/RESULTS.md).
const ROUND_MAGIC: f32 = 12582912.0; // 1.5 * 2^23
const ROUND_MAGIC_BITS: i32 = 0x4b400000;

// The constants, each splatted to four lanes, in memory: one load each,
// where V8 rebuilds a v128 constant with several instructions at every use.
const K: usize = memory.data<f32>([
  -87.0, -87.0, -87.0, -87.0, // 0: lower clamp
  88.0, 88.0, 88.0, 88.0, // 16: upper clamp
  1.44269504088896341, 1.44269504088896341, 1.44269504088896341, 1.44269504088896341, // 32: 1 / ln 2
  ROUND_MAGIC, ROUND_MAGIC, ROUND_MAGIC, ROUND_MAGIC, // 48
  0.693359375, 0.693359375, 0.693359375, 0.693359375, // 64: ln 2, high part
  -2.12194440e-4, -2.12194440e-4, -2.12194440e-4, -2.12194440e-4, // 80: ln 2, low part
  1.9875691500e-4, 1.9875691500e-4, 1.9875691500e-4, 1.9875691500e-4, // 96: polynomial, highest first
  1.3981999507e-3, 1.3981999507e-3, 1.3981999507e-3, 1.3981999507e-3, // 112
  8.3334519073e-3, 8.3334519073e-3, 8.3334519073e-3, 8.3334519073e-3, // 128
  4.1665795894e-2, 4.1665795894e-2, 4.1665795894e-2, 4.1665795894e-2, // 144
  1.6666665459e-1, 1.6666665459e-1, 1.6666665459e-1, 1.6666665459e-1, // 160
  5.0000001201e-1, 5.0000001201e-1, 5.0000001201e-1, 5.0000001201e-1, // 176
  1.0, 1.0, 1.0, 1.0, // 192
], 16);

@inline
function expv(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, v128.load(K)), v128.load(K, 16));
  const t = f32x4.add(f32x4.mul(x, v128.load(K, 32)), v128.load(K, 48));
  const n = f32x4.sub(t, v128.load(K, 48));
  let r = f32x4.sub(x, f32x4.mul(n, v128.load(K, 64)));
  r = f32x4.sub(r, f32x4.mul(n, v128.load(K, 80)));
  let p = v128.load(K, 96);
  p = f32x4.add(f32x4.mul(p, r), v128.load(K, 112));
  p = f32x4.add(f32x4.mul(p, r), v128.load(K, 128));
  p = f32x4.add(f32x4.mul(p, r), v128.load(K, 144));
  p = f32x4.add(f32x4.mul(p, r), v128.load(K, 160));
  p = f32x4.add(f32x4.mul(p, r), v128.load(K, 176));
  const y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), v128.load(K, 192));
  // multiply by 2^n: n (the low bits of t) added to the exponent field
  const ni = i32x4.sub(t, i32x4.splat(ROUND_MAGIC_BITS));
  return i32x4.add(y, i32x4.shl(ni, 23));
}

// x sigmoid(x) = x / (1 + e^-x); both ends are exact in float: e^-x clamps
// to 1.7e38 for x < -88 (x / 1.7e38 underflows to about 0) and to 1.6e-38
// for x > 87 (x / 1 = x).
@inline
function siluv(x: v128): v128 {
  return f32x4.div(x, f32x4.add(v128.load(K, 192), expv(f32x4.neg(x))));
}

// SiLU over n floats. The forward fuses SiLU into `linear` and `edgeFirst`;
// this is the tests' way to check siluv over its whole range.
export function silu(x: usize, n: i32, out: usize): void {
  let i = 0;
  // four vectors per iteration: V8 then builds each constant once for four
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const a = siluv(v128.load(x + o));
    const b = siluv(v128.load(x + o, 16));
    const c = siluv(v128.load(x + o, 32));
    const d = siluv(v128.load(x + o, 48));
    v128.store(out + o, a);
    v128.store(out + o, b, 16);
    v128.store(out + o, c, 32);
    v128.store(out + o, d, 48);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(out + o, v / (1.0 + <f32>Math.exp(-v)));
  }
}

// ---------------------------------------------------------------------------
// Dense layers

const MODE_PLAIN = 0; // out = x W + b
const MODE_SILU = 1; // out = silu(x W + b)
const MODE_ADD = 2; // out += x W + b (a residual)

@inline
function finish(mode: i32, ptr: usize, v: v128): void {
  if (mode == MODE_SILU) v = siluv(v);
  else if (mode == MODE_ADD) v = f32x4.add(v, v128.load(ptr));
  v128.store(ptr, v);
}

// out (rows x m) = x (rows x k, row stride xs floats) W (k x m) + b (m),
// then the mode. m must be a multiple of 8 (the caller pads). Four rows by
// eight columns at a time: eight accumulators, two rows of W and four
// broadcast inputs live in registers, so each W load serves four rows.
export function linear(x: usize, rows: i32, k: i32, xs: i32, w: usize, b: usize, m: i32, out: usize, mode: i32): void {
  const xStride = <usize>xs << 2;
  const wStride = <usize>m << 2;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const x0 = x + <usize>r * xStride;
    const x1 = x0 + xStride;
    const x2 = x1 + xStride;
    const x3 = x2 + xStride;
    const o0 = out + <usize>r * wStride;
    for (let j = 0; j < m; j += 8) {
      const jb = <usize>j << 2;
      const b0 = v128.load(b + jb);
      const b1 = v128.load(b + jb, 16);
      let a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
      let wp = w + jb;
      for (let kk = 0; kk < k; kk++) {
        const w0 = v128.load(wp);
        const w1 = v128.load(wp, 16);
        const ko = <usize>kk << 2;
        const s0 = v128.load32_splat(x0 + ko);
        const s1 = v128.load32_splat(x1 + ko);
        const s2 = v128.load32_splat(x2 + ko);
        const s3 = v128.load32_splat(x3 + ko);
        a00 = f32x4.add(a00, f32x4.mul(s0, w0));
        a01 = f32x4.add(a01, f32x4.mul(s0, w1));
        a10 = f32x4.add(a10, f32x4.mul(s1, w0));
        a11 = f32x4.add(a11, f32x4.mul(s1, w1));
        a20 = f32x4.add(a20, f32x4.mul(s2, w0));
        a21 = f32x4.add(a21, f32x4.mul(s2, w1));
        a30 = f32x4.add(a30, f32x4.mul(s3, w0));
        a31 = f32x4.add(a31, f32x4.mul(s3, w1));
        wp += wStride;
      }
      const p0 = o0 + jb;
      finish(mode, p0, a00);
      finish(mode, p0 + 16, a01);
      finish(mode, p0 + wStride, a10);
      finish(mode, p0 + wStride + 16, a11);
      finish(mode, p0 + 2 * wStride, a20);
      finish(mode, p0 + 2 * wStride + 16, a21);
      finish(mode, p0 + 3 * wStride, a30);
      finish(mode, p0 + 3 * wStride + 16, a31);
    }
  }
  for (; r < rows; r++) {
    const x0 = x + <usize>r * xStride;
    const o0 = out + <usize>r * wStride;
    for (let j = 0; j < m; j += 8) {
      const jb = <usize>j << 2;
      let a0 = v128.load(b + jb);
      let a1 = v128.load(b + jb, 16);
      let wp = w + jb;
      for (let kk = 0; kk < k; kk++) {
        const s = v128.load32_splat(x0 + (<usize>kk << 2));
        a0 = f32x4.add(a0, f32x4.mul(s, v128.load(wp)));
        a1 = f32x4.add(a1, f32x4.mul(s, v128.load(wp, 16)));
        wp += wStride;
      }
      finish(mode, o0 + jb, a0);
      finish(mode, o0 + jb + 16, a1);
    }
  }
}

// ---------------------------------------------------------------------------
// Edges

// Per edge: d = |vec|, the cosine envelope env = (cos(pi min(d / cutoff, 1))
// + 1) / 2, the unit vector vec / max(d, 1e-6), and the Gaussian basis
// rbf_k = exp(-((d - c_k) / width)^2), c_k = k cutoff / (nr - 1)
// (torch.linspace(0, cutoff, nr)): model.py RadialBasis, ScoreNet.forward.
//
// The basis is stored as a window: kw values g[e, :] for the centres k0[e]
// ... k0[e] + kw - 1, every other centre being 0. A centre further than
// 4.5 widths from d gives exp(-20.25) = 1.6e-9 or less and is set to 0
// (onnxruntime keeps it; the difference is far below float rounding of the
// sums it enters). Why: the far Gaussians are tiny floats, and their
// products with the weights are subnormal, which x86 multiplies about a
// hundred times slower (WebAssembly cannot flush them to zero); and the
// window does a third of the multiply-adds. kw (the caller's) must hold
// every centre within 4.5 widths of any d, with k0 clamped to [0, nr - kw].
export function radial(vec: usize, e: i32, nr: i32, kw: i32, cutoff: f32, width: f32, g: usize, k0s: usize, env: usize, unit: usize): void {
  const step = cutoff / <f32>(nr - 1);
  const reach: f32 = 4.5 * width;
  for (let i = 0; i < e; i++) {
    const v = vec + <usize>i * 12;
    const x = load<f32>(v);
    const y = load<f32>(v, 4);
    const z = load<f32>(v, 8);
    const d = Mathf.sqrt(x * x + y * y + z * z);
    const t = Mathf.min(d / cutoff, 1.0);
    const io = <usize>i << 2;
    store<f32>(env + io, <f32>(0.5 * (Math.cos(Math.PI * <f64>t) + 1.0)));
    const s: f32 = 1.0 / Mathf.max(d, 1e-6);
    const u = unit + <usize>i * 12;
    store<f32>(u, x * s);
    store<f32>(u, y * s, 4);
    store<f32>(u, z * s, 8);
    const k0 = min(max(<i32>Mathf.ceil((d - reach) / step), 0), nr - kw);
    store<i32>(k0s + io, k0);
    const gp = g + <usize>i * (<usize>kw << 2);
    for (let kk = 0; kk < kw; kk++) {
      const q = (d - <f32>(k0 + kk) * step) / width;
      store<f32>(gp + (<usize>kk << 2), Mathf.abs(q) <= 4.5 ? Mathf.exp(-q * q) : 0.0);
    }
  }
}

// out[e, :] = silu(a[src[e], :] + c[dst[e], :] + sum_k g[e, k] wr[k0[e] + k, :])
// for m columns: the first layer of an edge MLP split by input block
// (export.py edge_mlp), with the bias already in a, and the rbf part from
// radial's window (wr is nr x m). m must be a multiple of 16.
export function edgeFirst(a: usize, c: usize, g: usize, k0s: usize, kw: i32, wr: usize, src: usize, dst: usize, e: i32, m: i32, out: usize): void {
  const rowBytes = <usize>m << 2;
  for (let i = 0; i < e; i++) {
    const io = <usize>i << 2;
    const ap = a + <usize>load<i32>(src + io) * rowBytes;
    const cp = c + <usize>load<i32>(dst + io) * rowBytes;
    const gp = g + <usize>i * (<usize>kw << 2);
    const wp0 = wr + <usize>load<i32>(k0s + io) * rowBytes;
    const op = out + <usize>i * rowBytes;
    for (let j: usize = 0; j < rowBytes; j += 64) {
      let s0 = f32x4.add(v128.load(ap + j), v128.load(cp + j));
      let s1 = f32x4.add(v128.load(ap + j, 16), v128.load(cp + j, 16));
      let s2 = f32x4.add(v128.load(ap + j, 32), v128.load(cp + j, 32));
      let s3 = f32x4.add(v128.load(ap + j, 48), v128.load(cp + j, 48));
      let wp = wp0 + j;
      for (let kk = 0; kk < kw; kk++) {
        const q = v128.load32_splat(gp + (<usize>kk << 2));
        s0 = f32x4.add(s0, f32x4.mul(q, v128.load(wp)));
        s1 = f32x4.add(s1, f32x4.mul(q, v128.load(wp, 16)));
        s2 = f32x4.add(s2, f32x4.mul(q, v128.load(wp, 32)));
        s3 = f32x4.add(s3, f32x4.mul(q, v128.load(wp, 48)));
        wp += rowBytes;
      }
      v128.store(op + j, siluv(s0));
      v128.store(op + j, siluv(s1), 16);
      v128.store(op + j, siluv(s2), 32);
      v128.store(op + j, siluv(s3), 48);
    }
  }
}

// out[src[e], col + :m] += scale env[e] x[e, :]: the envelope-weighted sum of
// messages into their source atoms (Interaction.forward), written straight
// into the message half of the update layer's input (out's rows are os
// floats apart). m must be a multiple of 4.
export function scatterRows(x: usize, env: usize, src: usize, e: i32, m: i32, scale: f32, out: usize, os: i32, col: i32): void {
  const rowBytes = <usize>m << 2;
  const oStride = <usize>os << 2;
  const base = out + (<usize>col << 2);
  for (let i = 0; i < e; i++) {
    const io = <usize>i << 2;
    const w = f32x4.splat(scale * load<f32>(env + io));
    const op = base + <usize>load<i32>(src + io) * oStride;
    const xp = x + <usize>i * rowBytes;
    for (let j: usize = 0; j < rowBytes; j += 16) {
      v128.store(op + j, f32x4.add(v128.load(op + j), f32x4.mul(w, v128.load(xp + j))));
    }
  }
}

// The coordinate score: s_e = env[e] (y[e, :] . w + b) per edge, and
// score[src[e]] += s_e unit[e] (ScoreNet.forward's edge_out and segment_sum).
// m must be a multiple of 4.
export function edgeScore(y: usize, e: i32, m: i32, w: usize, b: f32, env: usize, unit: usize, src: usize, score: usize): void {
  const rowBytes = <usize>m << 2;
  for (let i = 0; i < e; i++) {
    const yp = y + <usize>i * rowBytes;
    let acc = f32x4.splat(0.0);
    for (let j: usize = 0; j < rowBytes; j += 16) {
      acc = f32x4.add(acc, f32x4.mul(v128.load(yp + j), v128.load(w + j)));
    }
    const dot =
      f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
    const io = <usize>i << 2;
    const s = (dot + b) * load<f32>(env + io);
    const u = unit + <usize>i * 12;
    const o = score + <usize>load<i32>(src + io) * 12;
    store<f32>(o, load<f32>(o) + s * load<f32>(u));
    store<f32>(o, load<f32>(o, 4) + s * load<f32>(u, 4), 4);
    store<f32>(o, load<f32>(o, 8) + s * load<f32>(u, 8), 8);
  }
}

// ---------------------------------------------------------------------------
// Atoms

// out[r, :m] = (x[r] - mean) / sqrt(var + eps) g + b over m columns
// (nn.LayerNorm: biased variance), into rows os floats apart.
export function layerNorm(x: usize, rows: i32, m: i32, g: usize, b: usize, eps: f32, out: usize, os: i32): void {
  const rowBytes = <usize>m << 2;
  for (let r = 0; r < rows; r++) {
    const xp = x + <usize>r * rowBytes;
    let mean: f32 = 0;
    for (let j = 0; j < m; j++) mean += load<f32>(xp + (<usize>j << 2));
    mean /= <f32>m;
    let v: f32 = 0;
    for (let j = 0; j < m; j++) {
      const d = load<f32>(xp + (<usize>j << 2)) - mean;
      v += d * d;
    }
    const s: f32 = 1.0 / Mathf.sqrt(v / <f32>m + eps);
    const op = out + <usize>r * (<usize>os << 2);
    for (let j = 0; j < m; j++) {
      const o = <usize>j << 2;
      store<f32>(op + o, (load<f32>(xp + o) - mean) * s * load<f32>(g + o) + load<f32>(b + o));
    }
  }
}
