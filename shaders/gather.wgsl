// Copies a [rows, cols] block into a column window of a wider matrix,
// optionally gathering rows by index:
//   dst[r * dst_stride + dst_offset + f] = src[idx[r] (or r), f]
// This one kernel is gather (X[idx]) and concatenation (one dispatch per
// block, each into its own column window), and the fused form of both that
// MEGNet's edge update needs: [v[src], v[dst], e, u[edgeGraph]].
// An index outside [0, src_rows) gives 0 rather than reading out of bounds.

// Threads per workgroup: set for every kernel in one place (src/gpu/runtime/workgroup.ts).
override WG: u32 = 256u;

struct Params {
  rows: u32,
  cols: u32,
  src_rows: u32,
  dst_stride: u32,
  dst_offset: u32,
  use_index: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.rows * p.cols) { return; }
  let r = i / p.cols;
  let f = i % p.cols;
  var s = r;
  if (p.use_index != 0u) { s = u32(idx[r]); }  // a negative index wraps to a huge one and fails the test below
  var v = 0.0;
  if (s < p.src_rows) { v = src[s * p.cols + f]; }
  dst[r * p.dst_stride + p.dst_offset + f] = v;
}
