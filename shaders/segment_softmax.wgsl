// Softmax within sorted segments (CSR offsets), independently per column:
//   out[r, f] = exp(x[r, f] - m) / sum_{r' in seg} exp(x[r', f] - m)
// with m the segment maximum, so exp never sees a positive argument.
// Same two strategies as segment_reduce.wgsl (per_row: a thread per
// (segment, column) making three passes; per_group: a workgroup per
// (segment, FX columns) with fixed-shape tree reductions). Deterministic,
// no atomics. Rows outside every segment are not written (the offsets must
// cover all rows).

// Threads per workgroup: set for every kernel in one place (src/gpu/runtime/workgroup.ts).
override WG: u32 = 256u;

struct Params {
  segments: u32,
  cols: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> offsets: array<i32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const LOWEST: f32 = -0x1.fffffep+127f;  // lowest finite f32

@compute @workgroup_size(WG)
fn per_row(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.segments * p.cols) { return; }
  let s = i / p.cols;
  let f = i % p.cols;
  let a = u32(offsets[s]);
  let b = u32(offsets[s + 1u]);
  var m = LOWEST;
  for (var r = a; r < b; r++) { m = max(m, x[r * p.cols + f]); }
  var sum = 0.0;
  for (var r = a; r < b; r++) { sum += exp(x[r * p.cols + f] - m); }
  let inv = 1.0 / sum;
  for (var r = a; r < b; r++) { out[r * p.cols + f] = exp(x[r * p.cols + f] - m) * inv; }
}

override FX: u32 = 1u;
override LANES: u32 = WG / FX;

var<workgroup> partial: array<f32, WG>;  // [LANES][FX]

@compute @workgroup_size(FX, LANES)
fn per_group(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
             @builtin(local_invocation_id) lid: vec3u) {
  let chunks = (p.cols + FX - 1u) / FX;
  let wid = wg.x + wg.y * nwg.x;
  let s = wid / chunks;
  if (s >= p.segments) { return; }
  let f = (wid % chunks) * FX + lid.x;
  let ok = f < p.cols;
  let lane = lid.y;
  let slot = lane * FX + lid.x;
  let a = u32(offsets[s]);
  let b = u32(offsets[s + 1u]);

  var m = LOWEST;
  if (ok) { for (var r = a + lane; r < b; r += LANES) { m = max(m, x[r * p.cols + f]); } }
  partial[slot] = m;
  for (var stride = LANES / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lane < stride) { partial[slot] = max(partial[slot], partial[slot + stride * FX]); }
  }
  workgroupBarrier();
  m = partial[lid.x];
  workgroupBarrier();  // everyone has read the max before the slots are reused

  var sum = 0.0;
  if (ok) { for (var r = a + lane; r < b; r += LANES) { sum += exp(x[r * p.cols + f] - m); } }
  partial[slot] = sum;
  for (var stride = LANES / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lane < stride) { partial[slot] += partial[slot + stride * FX]; }
  }
  workgroupBarrier();
  let inv = 1.0 / partial[lid.x];

  if (ok) { for (var r = a + lane; r < b; r += LANES) { out[r * p.cols + f] = exp(x[r * p.cols + f] - m) * inv; } }
}
