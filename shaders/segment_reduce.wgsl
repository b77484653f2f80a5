// Segmented sum / mean / max over sorted segments (CSR offsets, see
// src/core/graph/types.ts): out[s, f] = reduce_{r in segment s} x[r, f]
// (times w[r] when weighted: the attention readout sum_i a_i x_i).
// Written to out[s * out_stride + out_offset + f] so a result can land
// directly in a column window of a concatenated matrix.
//
// Deterministic and atomic-free: every output is produced by one thread or
// one workgroup that walks its segment in a fixed order. Empty segments give 0.
// Two entry points, chosen by the driver from the segment lengths:
//  - per_row:   one thread per (segment, feature) loops over the segment.
//               Best for many short segments (edges -> nodes).
//  - per_group: one workgroup per (segment, FX features); LANES threads
//               stride the segment, then a fixed-shape tree in workgroup
//               memory combines the partials. Best for few long segments
//               (nodes -> graphs, one big structure).

// Threads per workgroup: set for every kernel in one place (src/gpu/runtime/workgroup.ts).
override WG: u32 = 256u;

struct Params {
  segments: u32,
  cols: u32,
  mode: u32,      // 0 sum, 1 mean, 2 max
  weighted: u32,  // multiply x[r, f] by w[r] (sum and mean)
  out_stride: u32,
  out_offset: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> offsets: array<i32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

const LOWEST: f32 = -0x1.fffffep+127f;  // lowest finite f32

fn initial() -> f32 { return select(0.0, LOWEST, p.mode == 2u); }

fn combine(acc: f32, v: f32) -> f32 { return select(acc + v, max(acc, v), p.mode == 2u); }

fn value(r: u32, f: u32) -> f32 {
  var v = x[r * p.cols + f];
  if (p.weighted != 0u) { v *= w[r]; }
  return v;
}

fn finish(acc: f32, n: u32) -> f32 {
  if (n == 0u) { return 0.0; }
  if (p.mode == 1u) { return acc / f32(n); }
  return acc;
}

@compute @workgroup_size(WG)
fn per_row(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.segments * p.cols) { return; }
  let s = i / p.cols;
  let f = i % p.cols;
  let a = u32(offsets[s]);
  let b = u32(offsets[s + 1u]);
  var acc = initial();
  for (var r = a; r < b; r++) { acc = combine(acc, value(r, f)); }
  out[s * p.out_stride + p.out_offset + f] = finish(acc, b - a);
}

// Features per workgroup (a power of two <= WG); LANES threads share each feature.
override FX: u32 = 8u;
override LANES: u32 = WG / FX;

var<workgroup> partial: array<f32, WG>;  // [LANES][FX]

@compute @workgroup_size(FX, LANES)
fn per_group(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
             @builtin(local_invocation_id) lid: vec3u) {
  let chunks = (p.cols + FX - 1u) / FX;
  let wid = wg.x + wg.y * nwg.x;
  let s = wid / chunks;
  if (s >= p.segments) { return; }  // whole workgroup leaves together
  let f = (wid % chunks) * FX + lid.x;
  let lane = lid.y;
  let a = u32(offsets[s]);
  let b = u32(offsets[s + 1u]);
  var acc = initial();
  if (f < p.cols) {
    for (var r = a + lane; r < b; r += LANES) { acc = combine(acc, value(r, f)); }
  }
  partial[lane * FX + lid.x] = acc;
  for (var stride = LANES / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lane < stride) {
      partial[lane * FX + lid.x] = combine(partial[lane * FX + lid.x], partial[(lane + stride) * FX + lid.x]);
    }
  }
  if (lane == 0u && f < p.cols) {
    out[s * p.out_stride + p.out_offset + f] = finish(partial[lid.x], b - a);
  }
}
