// Periodic neighbour list on a cell list (the grid is built on the CPU by
// src/core/neighbors/cells.ts, which explains why the walk below meets every
// (j, image) pair exactly once, also in cells thinner than the cutoff).
//
// Two passes over the same walk, selected by the override constant FILL:
//   FILL = false: counts[i] = number of neighbours of atom i;
//   (an exclusive prefix sum of counts, scan.wgsl, gives offsets)
//   FILL = true:  atom i writes its edges to [offsets[i], offsets[i + 1])
//                 and sorts them by (dst, image), so the output order is
//                 the same as the CPU reference's and does not depend on
//                 the binning.
// One thread per atom; no atomics, so the result is deterministic.
//
// Precision: positions are wrapped fractional coordinates in [0, 1); the
// fractional difference w_j - w_i + image is formed first and only then
// turned into Å, so large coordinates never cancel. Distances within float32
// rounding of the cutoff may be classified differently from the float64 CPU
// reference.

override FILL: bool = false;
// Atoms (threads) per workgroup (src/gpu/runtime/workgroup.ts).
override WG: u32 = 64u;

struct Params {
  a: vec4f,          // lattice rows (Å); w unused
  b: vec4f,
  c: vec4f,
  n: u32,            // atoms
  n0: u32,           // bins per axis
  n1: u32,
  n2: u32,
  r0: i32,           // bins visited each side, per axis
  r1: i32,
  r2: i32,
  periodic: u32,     // bit k set when axis k is periodic
  rc2: f32,          // cutoff squared (Å²)
  // Rows of T: the search runs in a reduced basis (src/core/neighbors/reduce.ts);
  // images in the caller's basis are image · T.
  t0: vec4i,
  t1: vec4i,
  t2: vec4i,
}

@group(0) @binding(0) var<uniform> p: Params;
// xyz: wrapped fractional coordinates
@group(0) @binding(1) var<storage, read> pos: array<vec4f>;
// xyz: integer shift (input = wrapped + shift), w: flat bin index
@group(0) @binding(2) var<storage, read> info: array<vec4i>;
// atoms of bin c: order[cell_start[c] .. cell_start[c + 1])
@group(0) @binding(3) var<storage, read> cell_start: array<u32>;
@group(0) @binding(4) var<storage, read> order: array<u32>;
// count pass: counts (n + 1 entries, the last left 0); fill pass: offsets
@group(0) @binding(5) var<storage, read_write> offsets: array<u32>;
// per edge: (dst, image.x, image.y, image.z) and (vector.xyz, distance)
@group(0) @binding(6) var<storage, read_write> edge_int: array<vec4i>;
@group(0) @binding(7) var<storage, read_write> edge_f: array<vec4f>;

// Lexicographic (dst, image) order.
fn before(x: vec4i, y: vec4i) -> bool {
  if (x.x != y.x) { return x.x < y.x; }
  if (x.y != y.y) { return x.y < y.y; }
  if (x.z != y.z) { return x.z < y.z; }
  return x.w < y.w;
}

// Unwrapped bin u along an axis of nb bins -> (bin, image), or bin -1 when
// a non-periodic axis has no such bin.
fn unwrap(u: i32, nb: i32, periodic: bool) -> vec2i {
  if (periodic) {
    let image = select(u / nb, (u + 1) / nb - 1, u < 0);  // floor division
    return vec2i(u - image * nb, image);
  }
  if (u < 0 || u >= nb) { return vec2i(-1, 0); }
  return vec2i(u, 0);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let n0 = i32(p.n0);
  let n1 = i32(p.n1);
  let n2 = i32(p.n2);
  let me = info[i];
  let flat = me.w;
  let b2 = flat % n2;
  let b1 = (flat / n2) % n1;
  let b0 = flat / (n1 * n2);
  let wi = pos[i].xyz;
  var base = 0u;
  if (FILL) { base = offsets[i]; }
  var k = 0u;
  for (var d0 = -p.r0; d0 <= p.r0; d0++) {
    let x0 = unwrap(b0 + d0, n0, (p.periodic & 1u) != 0u);
    if (x0.x < 0) { continue; }
    for (var d1 = -p.r1; d1 <= p.r1; d1++) {
      let x1 = unwrap(b1 + d1, n1, (p.periodic & 2u) != 0u);
      if (x1.x < 0) { continue; }
      for (var d2 = -p.r2; d2 <= p.r2; d2++) {
        let x2 = unwrap(b2 + d2, n2, (p.periodic & 4u) != 0u);
        if (x2.x < 0) { continue; }
        let cell = u32((x0.x * n1 + x1.x) * n2 + x2.x);
        let image = vec3i(x0.y, x1.y, x2.y);
        let home = all(image == vec3i(0));
        let fimage = vec3f(image);
        for (var s = cell_start[cell]; s < cell_start[cell + 1u]; s++) {
          let j = order[s];
          if (home && j == i) { continue; }
          let f = pos[j].xyz - wi + fimage;
          let v = f.x * p.a.xyz + f.y * p.b.xyz + f.z * p.c.xyz;
          let d2sq = dot(v, v);
          if (d2sq < p.rc2 && d2sq > 0.0) {
            if (FILL) {
              // Image against the original (unwrapped) input positions, in the caller's basis.
              let m = image + me.xyz - info[j].xyz;
              let img = m.x * p.t0.xyz + m.y * p.t1.xyz + m.z * p.t2.xyz;
              edge_int[base + k] = vec4i(i32(j), img);
              edge_f[base + k] = vec4f(v, sqrt(d2sq));
            }
            k++;
          }
        }
      }
    }
  }
  if (!FILL) {
    offsets[i] = k;
    return;
  }
  // Insertion sort of this atom's segment: segments are short (tens of
  // edges) and each thread owns its own, so this needs no synchronisation.
  let end = base + k;
  for (var x = base + 1u; x < end; x++) {
    let key = edge_int[x];
    let val = edge_f[x];
    var y = x;
    while (y > base && before(key, edge_int[y - 1u])) {
      edge_int[y] = edge_int[y - 1u];
      edge_f[y] = edge_f[y - 1u];
      y--;
    }
    edge_int[y] = key;
    edge_f[y] = val;
  }
}
