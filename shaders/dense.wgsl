// Dense layer Y = act(X W + b): X [m, k], W [k, n], b [n], Y [m, n], all
// float32 row-major. Tiled matmul: each workgroup computes a 32x32 tile of Y,
// staging 32x32 tiles of X and W in workgroup memory so every global value
// is read once per tile instead of once per output. 8x8 threads each own a
// 4x4 block of outputs: 4 consecutive rows, 4 consecutive columns, held as
// four vec4 accumulators in named variables. Named vectors rather than an
// indexed array matter: a compiler that cannot prove the indices constant
// (SwiftShader's, here) keeps an indexed array in memory, and the kernel
// ran at 2-4 % of the adapter's FMA rate that way (bench/RESULTS.md). The W
// tile is stored as vec4 column quads, so one load feeds four FMAs per row.

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

var<workgroup> xs: array<f32, 1024>;        // [T rows][T depth]
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
    // 64 threads load each 1024-value tile, 16 values each; out-of-range
    // entries are zero so the inner loop needs no bounds checks.
    for (var t = 0u; t < 16u; t++) {
      let e = li + t * 64u;
      let er = e / T;
      let ec = e % T;
      var xv = 0.0;
      if (row0 + er < p.m && k0 + ec < p.k) { xv = x[(row0 + er) * p.k + k0 + ec]; }
      xs[e] = xv;
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
    for (var kk = 0u; kk < T; kk++) {
      let bq = ws[kk * (T / 4u) + lid.x];
      acc0 = fma(vec4<f32>(xs[r * T + kk]), bq, acc0);
      acc1 = fma(vec4<f32>(xs[(r + 1u) * T + kk]), bq, acc1);
      acc2 = fma(vec4<f32>(xs[(r + 2u) * T + kk]), bq, acc2);
      acc3 = fma(vec4<f32>(xs[(r + 3u) * T + kk]), bq, acc3);
    }
    workgroupBarrier();
  }

  let c0 = col0 + lid.x * 4u;
  store_row(row0 + r, c0, acc0);
  store_row(row0 + r + 1u, c0, acc1);
  store_row(row0 + r + 2u, c0, acc2);
  store_row(row0 + r + 3u, c0, acc3);
}
