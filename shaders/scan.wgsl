// Exclusive prefix sum of u32 values, in place, in blocks of 4 * WG values
// (WG threads x 4 values; 1024 at WG = 256). `scan_blocks` scans each block and writes its total
// to sums[block]; the driver scans `sums` the same way (recursively, so any
// length works) and `add_blocks` adds each block's scanned total back.
// Used to turn per-atom neighbour counts into output offsets.

struct Params {
  n: u32,       // values
  blocks: u32,  // blocks of 4 * WG (the dispatch grid may hold a few more)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> data: array<u32>;
@group(0) @binding(2) var<storage, read_write> sums: array<u32>;

// Threads per workgroup (src/gpu/runtime/workgroup.ts); a block is 4 * WG values.
override WG: u32 = 256u;
const PER: u32 = 4u;
var<workgroup> partial: array<u32, WG>;

fn block_index(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.x + wid.y * nwg.x;
}

@compute @workgroup_size(WG)
fn scan_blocks(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let block = block_index(wid, nwg);
  if (block >= p.blocks) { return; }  // workgroup-uniform, so the barriers below stay in uniform control flow
  let first = (block * WG + lid.x) * PER;
  // Each thread scans its 4 values serially...
  var v: array<u32, 4>;
  var total = 0u;
  for (var q = 0u; q < PER; q++) {
    let at = first + q;
    var x = 0u;
    if (at < p.n) { x = data[at]; }
    v[q] = total;
    total += x;
  }
  // ... then the WG thread totals are scanned (Hillis-Steele, inclusive).
  partial[lid.x] = total;
  workgroupBarrier();
  for (var step = 1u; step < WG; step *= 2u) {
    var add = 0u;
    if (lid.x >= step) { add = partial[lid.x - step]; }
    workgroupBarrier();
    partial[lid.x] += add;
    workgroupBarrier();
  }
  let before = partial[lid.x] - total;
  for (var q = 0u; q < PER; q++) {
    let at = first + q;
    if (at < p.n) { data[at] = v[q] + before; }
  }
  if (lid.x == WG - 1u) { sums[block] = partial[WG - 1u]; }
}

@compute @workgroup_size(WG)
fn add_blocks(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let block = block_index(wid, nwg);
  if (block >= p.blocks) { return; }
  let add = sums[block];
  for (var q = 0u; q < PER; q++) {
    let at = (block * WG + lid.x) * PER + q;
    if (at < p.n) { data[at] += add; }
  }
}
