// Attention scores against a per-segment query:
//   out[r] = sum_f x[r, f] * q[seg[r] * q_stride + q_offset + f]
// seg[r] is the segment (graph) of row r; q is read with a stride so the
// query can be the first half of Set2Set's q* = [q, r] in place. One
// thread per row: F is small (32-128) and rows are many.

// Threads per workgroup: set for every kernel in one place (src/gpu/runtime/workgroup.ts).
override WG: u32 = 256u;

struct Params {
  rows: u32,
  cols: u32,
  q_stride: u32,
  q_offset: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> seg: array<i32>;
@group(0) @binding(3) var<storage, read> q: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let q0 = u32(seg[r]) * p.q_stride + p.q_offset;
  var acc = 0.0;
  for (var f = 0u; f < p.cols; f++) { acc = fma(x[r * p.cols + f], q[q0 + f], acc); }
  out[r] = acc;
}
