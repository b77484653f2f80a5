// The adapter's multiply-add rate, for judging the other kernels: each
// thread runs ITER rounds of 8 independent fused multiply-adds (independent
// so the chain latency is hidden, as a well-scheduled matmul hides it) on
// values kept in registers, then stores one sum so the work cannot be
// optimised away. No memory traffic in the loop: this is the ceiling a
// matrix product can approach, not a bandwidth test.
// FLOPs per dispatch = threads * ITER * 8 * 2.

struct Params {
  iter: u32,
  seed: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  // Multipliers near 1 keep the values finite over any number of rounds.
  let m = 0.999999 + p.seed * 1e-9;
  let c = 1e-7 * f32(i & 7u);
  var a0 = f32(i) * 1e-6;
  var a1 = a0 + 0.1;
  var a2 = a0 + 0.2;
  var a3 = a0 + 0.3;
  var a4 = a0 + 0.4;
  var a5 = a0 + 0.5;
  var a6 = a0 + 0.6;
  var a7 = a0 + 0.7;
  for (var k = 0u; k < p.iter; k++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
    a4 = fma(a4, m, c);
    a5 = fma(a5, m, c);
    a6 = fma(a6, m, c);
    a7 = fma(a7, m, c);
  }
  out[i] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}
