// Dense layer Y = act(X W + b): X [m, k], W [k, n], b [n], Y [m, n], all
// float32 row-major. Tiled matmul: each workgroup computes a 32x32 tile of Y,
// staging 32x32 tiles of X and W in workgroup memory so every global value
// is read once per tile instead of once per output. 8x8 threads each own a
// 4x4 block of outputs: 4 consecutive rows, 4 consecutive columns, held as
// four vec4 accumulators in named variables. Named vectors rather than an
// indexed array matter: a compiler that cannot prove the indices constant
// (SwiftShader's, here) keeps an indexed array in memory, and the kernel
// ran at 2-4 % of the adapter's FMA rate that way (bench/RESULTS.md). Both
// tiles are stored as vec4 quads (X along depth, W along columns), so each
// step over 4 depth values makes 8 workgroup loads for 16 vec4 FMAs.

struct Params {
  m: u32,
  k: u32,
  n: u32,
  act: u32,      // 0 none, 1 softplus, 2 SiLU, 3 ReLU
  has_bias: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

const T: u32 = 32u;  // tile edge (rows, columns and depth)

var<workgroup> xs: array<vec4<f32>, 256>;   // [T rows][T / 4 depth quads]
var<workgroup> ws: array<vec4<f32>, 256>;   // [T depth][T / 4 column quads]

// log(1 + t) for t in [0, 1] without losing t when it is tiny (WGSL has no
// log1p): the ratio log(u) / (u - 1) cancels the rounding of u = 1 + t.
fn log1p_small(t: f32) -> f32 {
  let u = 1.0 + t;
  if (u == 1.0) { return t; }
  return log(u) * t / (u - 1.0);
}

fn sigmoid(v: f32) -> f32 {
  // Only exponentiate non-positive numbers: exp overflow is undefined in WGSL.
  let e = exp(-abs(v));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), v >= 0.0);
}

fn activate(v: f32, act: u32) -> f32 {
  switch act {
    case 1u: { return max(v, 0.0) + log1p_small(exp(-abs(v))); }
    case 2u: { return v * sigmoid(v); }
    case 3u: { return max(v, 0.0); }
    default: { return v; }
  }
}

fn store_row(r: u32, c0: u32, v: vec4<f32>) {
  if (r >= p.m) { return; }
  for (var j = 0u; j < 4u; j++) {
    let c = c0 + j;
    if (c >= p.n) { return; }
    var o = v[j];
    if (p.has_bias != 0u) { o += b[c]; }
    y[r * p.n + c] = activate(o, p.act);
  }
}

@compute @workgroup_size(8, 8)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let row0 = wg.y * T;
  let col0 = wg.x * T;
  let r = lid.y * 4u;  // this thread's first row within the tile
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);

  for (var k0 = 0u; k0 < p.k; k0 += T) {
    // 64 threads load each 256-quad tile, 4 quads each; out-of-range
    // entries are zero so the inner loop needs no bounds checks.
    for (var t = 0u; t < 4u; t++) {
      let q = li + t * 64u;     // quad index in the X tile
      let row = row0 + q / (T / 4u);
      let kc = k0 + (q % (T / 4u)) * 4u;
      var xv = vec4<f32>(0.0);
      if (row < p.m) {
        let base = row * p.k;
        if (kc < p.k) { xv.x = x[base + kc]; }
        if (kc + 1u < p.k) { xv.y = x[base + kc + 1u]; }
        if (kc + 2u < p.k) { xv.z = x[base + kc + 2u]; }
        if (kc + 3u < p.k) { xv.w = x[base + kc + 3u]; }
      }
      xs[q] = xv;
    }
    for (var t = 0u; t < 4u; t++) {
      let q = li + t * 64u;     // quad index in the W tile
      let kr = q / (T / 4u);    // depth row
      let c = col0 + (q % (T / 4u)) * 4u;
      var wv = vec4<f32>(0.0);
      if (k0 + kr < p.k) {
        let base = (k0 + kr) * p.n;
        if (c < p.n) { wv.x = w[base + c]; }
        if (c + 1u < p.n) { wv.y = w[base + c + 1u]; }
        if (c + 2u < p.n) { wv.z = w[base + c + 2u]; }
        if (c + 3u < p.n) { wv.w = w[base + c + 3u]; }
      }
      ws[q] = wv;
    }
    workgroupBarrier();
    for (var kq = 0u; kq < T / 4u; kq++) {
      let w0 = ws[(4u * kq) * (T / 4u) + lid.x];
      let w1 = ws[(4u * kq + 1u) * (T / 4u) + lid.x];
      let w2 = ws[(4u * kq + 2u) * (T / 4u) + lid.x];
      let w3 = ws[(4u * kq + 3u) * (T / 4u) + lid.x];
      let a0 = xs[r * (T / 4u) + kq];
      let a1 = xs[(r + 1u) * (T / 4u) + kq];
      let a2 = xs[(r + 2u) * (T / 4u) + kq];
      let a3 = xs[(r + 3u) * (T / 4u) + kq];
      acc0 = fma(vec4<f32>(a0.x), w0, fma(vec4<f32>(a0.y), w1, fma(vec4<f32>(a0.z), w2, fma(vec4<f32>(a0.w), w3, acc0))));
      acc1 = fma(vec4<f32>(a1.x), w0, fma(vec4<f32>(a1.y), w1, fma(vec4<f32>(a1.z), w2, fma(vec4<f32>(a1.w), w3, acc1))));
      acc2 = fma(vec4<f32>(a2.x), w0, fma(vec4<f32>(a2.y), w1, fma(vec4<f32>(a2.z), w2, fma(vec4<f32>(a2.w), w3, acc2))));
      acc3 = fma(vec4<f32>(a3.x), w0, fma(vec4<f32>(a3.y), w1, fma(vec4<f32>(a3.z), w2, fma(vec4<f32>(a3.w), w3, acc3))));
    }
    workgroupBarrier();
  }

  let c0 = col0 + lid.x * 4u;
  store_row(row0 + r, c0, acc0);
  store_row(row0 + r + 1u, c0, acc1);
  store_row(row0 + r + 2u, c0, acc2);
  store_row(row0 + r + 3u, c0, acc3);
}

// The same product without workgroup memory or barriers: each thread reads
// its 4 rows of X and 4 columns of W straight from the buffers (the caches
// do the sharing) into the same 4x4 register block. Slower on a hardware
// GPU, where the tiles above save memory traffic; faster on a software
// adapter, where every barrier costs a switch between the invocations'
// coroutines (bench/RESULTS.md). kernels.ts picks per adapter.
@compute @workgroup_size(64)
fn direct(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  let quads = (p.n + 3u) / 4u;
  let r = (i / quads) * 4u;
  let c0 = (i % quads) * 4u;
  if (r >= p.m) { return; }
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  // Rows and columns past the edge are clamped for reading and never stored.
  let r1 = min(r + 1u, p.m - 1u);
  let r2 = min(r + 2u, p.m - 1u);
  let r3 = min(r + 3u, p.m - 1u);
  let c1 = min(c0 + 1u, p.n - 1u);
  let c2 = min(c0 + 2u, p.n - 1u);
  let c3 = min(c0 + 3u, p.n - 1u);
  for (var kk = 0u; kk < p.k; kk++) {
    let wrow = kk * p.n;
    let wq = vec4<f32>(w[wrow + c0], w[wrow + c1], w[wrow + c2], w[wrow + c3]);
    acc0 = fma(vec4<f32>(x[r * p.k + kk]), wq, acc0);
    acc1 = fma(vec4<f32>(x[r1 * p.k + kk]), wq, acc1);
    acc2 = fma(vec4<f32>(x[r2 * p.k + kk]), wq, acc2);
    acc3 = fma(vec4<f32>(x[r3 * p.k + kk]), wq, acc3);
  }
  store_row(r, c0, acc0);
  store_row(r + 1u, c0, acc1);
  store_row(r + 2u, c0, acc2);
  store_row(r + 3u, c0, acc3);
}

// The same 4x4 register block as `direct`, reading whole vec4s: X along
// depth, W along columns, through vec4 views of the same buffers (used only
// by this entry point, so they may share bindings 1 and 2). Per 4 depth
// steps: 8 vec4 loads for 16 vec4 FMAs, where `direct` makes 32 scalar
// loads; a software adapter gathers every scalar load lane by lane.
// Only for k and n multiples of 4 (kernels.ts checks), so no edge clamping
// along depth or columns.
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w4: array<vec4<f32>>;

@compute @workgroup_size(64)
fn direct4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  let nq = p.n / 4u;
  let kq4 = p.k / 4u;
  let r = (i / nq) * 4u;
  let cq = i % nq;
  if (r >= p.m) { return; }
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  // Rows past the edge are clamped for reading and never stored.
  let x0 = r * kq4;
  let x1 = min(r + 1u, p.m - 1u) * kq4;
  let x2 = min(r + 2u, p.m - 1u) * kq4;
  let x3 = min(r + 3u, p.m - 1u) * kq4;
  for (var kq = 0u; kq < kq4; kq++) {
    let wb = 4u * kq * nq + cq;
    let w0 = w4[wb];
    let w1 = w4[wb + nq];
    let w2 = w4[wb + 2u * nq];
    let w3 = w4[wb + 3u * nq];
    let a0 = x4[x0 + kq];
    let a1 = x4[x1 + kq];
    let a2 = x4[x2 + kq];
    let a3 = x4[x3 + kq];
    acc0 = fma(vec4<f32>(a0.x), w0, fma(vec4<f32>(a0.y), w1, fma(vec4<f32>(a0.z), w2, fma(vec4<f32>(a0.w), w3, acc0))));
    acc1 = fma(vec4<f32>(a1.x), w0, fma(vec4<f32>(a1.y), w1, fma(vec4<f32>(a1.z), w2, fma(vec4<f32>(a1.w), w3, acc1))));
    acc2 = fma(vec4<f32>(a2.x), w0, fma(vec4<f32>(a2.y), w1, fma(vec4<f32>(a2.z), w2, fma(vec4<f32>(a2.w), w3, acc2))));
    acc3 = fma(vec4<f32>(a3.x), w0, fma(vec4<f32>(a3.y), w1, fma(vec4<f32>(a3.z), w2, fma(vec4<f32>(a3.w), w3, acc3))));
  }
  let c0 = cq * 4u;
  store_row(r, c0, acc0);
  store_row(r + 1u, c0, acc1);
  store_row(r + 2u, c0, acc2);
  store_row(r + 3u, c0, acc3);
}
