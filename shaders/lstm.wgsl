// LSTM cell, elementwise part (the gate pre-activations come from a dense
// layer): gates [rows, 4H] in PyTorch order i, f, g, o; c [rows, H] is
// updated in place; h is written to h_out[r * h_stride + h_offset + j] so it
// can land straight in the first half of Set2Set's q* = [q, r].
//   c' = sig(f) c + sig(i) tanh(g),  h = sig(o) tanh(c')

// Threads per workgroup: set for every kernel in one place (src/gpu/runtime/workgroup.ts).
override WG: u32 = 256u;

struct Params {
  rows: u32,
  hidden: u32,
  h_stride: u32,
  h_offset: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gates: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<storage, read_write> h_out: array<f32>;

fn sigmoid(v: f32) -> f32 {
  let e = exp(-abs(v));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), v >= 0.0);
}

// tanh saturates to +-1 in float32 beyond |v| ~ 9; clamping keeps
// implementations that build tanh from exp away from overflow.
fn tanh_safe(v: f32) -> f32 { return tanh(clamp(v, -15.0, 15.0)); }

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.rows * p.hidden) { return; }
  let r = i / p.hidden;
  let j = i % p.hidden;
  let g0 = r * 4u * p.hidden + j;
  let zi = gates[g0];
  let zf = gates[g0 + p.hidden];
  let zg = gates[g0 + 2u * p.hidden];
  let zo = gates[g0 + 3u * p.hidden];
  let cn = sigmoid(zf) * c[i] + sigmoid(zi) * tanh_safe(zg);
  c[i] = cn;
  h_out[r * p.h_stride + p.h_offset + j] = sigmoid(zo) * tanh_safe(cn);
}
