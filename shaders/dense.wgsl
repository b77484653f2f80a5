// Dense layer Y = act(X W + b): X [m, k], W [k, n], b [n], Y [m, n], all
// float32 row-major. Tiled matmul: each workgroup computes a 32x32 tile of Y,
// staging 32x32 tiles of X and W in workgroup memory so every global value
// is read once per tile instead of once per output. 8x8 threads each own a
// 4x4 block of outputs (rows ty + 8i, columns tx + 8j: the strided layout
// makes neighbouring threads touch neighbouring addresses when loading and
// storing). More outputs per thread means fewer barriers per flop, which is
// what costs most on software WebGPU.

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

var<workgroup> xs: array<f32, 1024>;  // [T rows][T depth]
var<workgroup> ws: array<f32, 1024>;  // [T depth][T cols]

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

@compute @workgroup_size(8, 8)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let row0 = wg.y * T;
  let col0 = wg.x * T;
  var acc: array<f32, 16>;
  for (var i = 0u; i < 16u; i++) { acc[i] = 0.0; }

  for (var k0 = 0u; k0 < p.k; k0 += T) {
    // 64 threads load 1024 values of each tile, 16 each; out-of-range
    // entries are zero so the inner loop needs no bounds checks.
    for (var t = 0u; t < 16u; t++) {
      let e = li + t * 64u;
      let r = e / T;
      let c = e % T;
      var xv = 0.0;
      if (row0 + r < p.m && k0 + c < p.k) { xv = x[(row0 + r) * p.k + k0 + c]; }
      xs[e] = xv;
      var wv = 0.0;
      if (k0 + r < p.k && col0 + c < p.n) { wv = w[(k0 + r) * p.n + col0 + c]; }
      ws[e] = wv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < T; kk++) {
      var a: array<f32, 4>;
      var bw: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) {
        a[i] = xs[(lid.y + 8u * i) * T + kk];
        bw[i] = ws[kk * T + lid.x + 8u * i];
      }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i * 4u + j] = fma(a[i], bw[j], acc[i * 4u + j]); }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let r = row0 + lid.y + 8u * i;
    if (r >= p.m) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + lid.x + 8u * j;
      if (c >= p.n) { continue; }
      var v = acc[i * 4u + j];
      if (p.has_bias != 0u) { v += b[c]; }
      y[r * p.n + c] = activate(v, p.act);
    }
  }
}
