// Gaussian radial basis expansion: out[e, j] = exp(-((d[e] - mu_j) / sigma)^2)
// with mu_j = mu0 + j * step. One thread per output element; the centres are
// computed rather than read so the kernel needs no parameter buffer.

// Threads per workgroup: set for every kernel in one place (src/gpu/runtime/workgroup.ts).
override WG: u32 = 256u;

struct Params {
  count: u32,    // number of distances E
  k: u32,        // number of centres K
  mu0: f32,
  step: f32,
  inv_width: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> d: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  // 2-D grid so more than 65535 * WG elements can be covered.
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.count * p.k) { return; }
  let e = i / p.k;
  let j = i % p.k;
  let z = (d[e] - (p.mu0 + f32(j) * p.step)) * p.inv_width;
  // Clamped so exp's argument stays representable (exp(-87) is still a normal float).
  out[i] = exp(-min(z * z, 87.0));
}
