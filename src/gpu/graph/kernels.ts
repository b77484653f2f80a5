/**
 * Encoders for the graph-network primitives. Each function appends
 * dispatches to a GraphRun (nothing is submitted here) and returns its
 * output tensor, allocated from the run unless `out` is given. Shapes are
 * checked on the CPU so a mistake is an exception here rather than a silent
 * out-of-bounds read on the GPU. The CPU reference of each is in
 * src/core/graph; the layout is described in src/core/graph/types.ts.
 */
import type { GaussianBasis } from '../../core/graph/rbf';
import type { SegmentReduce } from '../../core/graph/segment';
import type { Activation } from '../../core/graph/types';
import { softwareDevices } from '../device';
import { pipeline } from '../runtime/pipelines';
import { ELEMENTWISE_WG as WG } from '../runtime/workgroup';
import { type GraphRun, Params } from '../runtime/run';
import type { GpuSegments, GpuTensor } from '../runtime/tensor';

const TILE = 32; // output tile edge of dense.wgsl

const ACT_CODE: Record<Activation, number> = { none: 0, softplus: 1, silu: 2, relu: 3 };

function expectShape(what: string, t: GpuTensor, rows: number, cols: number): void {
  if (t.rows !== rows || t.cols !== cols) throw new RangeError(`${what}: expected [${rows}, ${cols}], got [${t.rows}, ${t.cols}]`);
}

function output(run: GraphRun, out: GpuTensor | undefined, what: string, rows: number, cols: number): GpuTensor {
  if (!out) return run.alloc(rows, cols);
  expectShape(what, out, rows, cols);
  return out;
}

export type DenseVariant = 'tiled' | 'direct' | 'direct4';
const denseVariants = new WeakMap<GPUDevice, DenseVariant>();

/**
 * Which dense.wgsl entry point a device runs: 'tiled' (workgroup-memory
 * tiles, the default, for hardware GPUs), 'direct' (no barriers; faster on
 * software adapters: 2-4x at the MEGNet's shapes on SwiftShader) or
 * 'direct4' (the same with vec4 loads, where the depth and the width are
 * multiples of 4; 'direct' otherwise). Software adapters (device.ts) get
 * 'direct4' unless set. Figures: bench/RESULTS.md.
 */
export function setDenseVariant(device: GPUDevice, v: DenseVariant): void {
  denseVariants.set(device, v);
}

export function denseVariant(device: GPUDevice): DenseVariant {
  return denseVariants.get(device) ?? (softwareDevices.has(device) ? 'direct4' : 'tiled');
}

/** Y = act(X W + b): X [R, K], W [K, N], b [N] or null. */
export function dense(run: GraphRun, x: GpuTensor, w: GpuTensor, b: GpuTensor | null, act: Activation = 'none', out?: GpuTensor): GpuTensor {
  if (x.cols !== w.rows) throw new RangeError(`dense: X is [${x.rows}, ${x.cols}] but W is [${w.rows}, ${w.cols}]`);
  if (b && b.length !== w.cols) throw new RangeError(`dense: bias has ${b.length} values for ${w.cols} outputs`);
  const y = output(run, out, 'dense output', x.rows, w.cols);
  const params = new Params()
    .u32(x.rows)
    .u32(x.cols)
    .u32(w.cols)
    .u32(ACT_CODE[act])
    .u32(b ? 1 : 0);
  const buffers = [x.buffer, w.buffer, (b ?? w).buffer, y.buffer];
  if (x.rows === 0 || w.cols === 0) return y;
  const variant = denseVariant(run.device);
  if (variant !== 'tiled') {
    const entry = variant === 'direct4' && x.cols % 4 === 0 && w.cols % 4 === 0 ? 'direct4' : 'direct';
    const threads = Math.ceil(x.rows / 4) * Math.ceil(w.cols / 4);
    run.dispatch(pipeline(run.device, 'dense', entry), params, buffers, run.grid(Math.ceil(threads / 64)));
    return y;
  }
  const gy = Math.ceil(x.rows / TILE);
  if (gy > run.device.limits.maxComputeWorkgroupsPerDimension) throw new RangeError(`dense: ${x.rows} rows is too many for one dispatch`);
  run.dispatch(pipeline(run.device, 'dense'), params, buffers, [Math.ceil(w.cols / TILE), gy]);
  return y;
}

/** Gaussian expansion of distances d [E, 1] (or [1, E]) into [E, K]; see src/core/graph/rbf.ts. */
export function gaussianExpand(run: GraphRun, d: GpuTensor, basis: GaussianBasis, out?: GpuTensor): GpuTensor {
  const { count, rMin, rMax, width } = basis;
  if (!(width > 0) || !Number.isInteger(count) || count < 1) throw new RangeError('gaussianExpand: bad basis');
  const e = d.length;
  const y = output(run, out, 'rbf output', e, count);
  const step = count > 1 ? (rMax - rMin) / (count - 1) : 0;
  const params = new Params()
    .u32(e)
    .u32(count)
    .f32(rMin)
    .f32(step)
    .f32(1 / width);
  run.dispatch(pipeline(run.device, 'rbf'), params, [d.buffer, y.buffer], run.grid(Math.ceil((e * count) / WG)));
  return y;
}

/**
 * dst[:, offset : offset + src.cols] = src (or src[index] when an index is
 * given). The building block of gather and concat.
 */
export function copyColumns(run: GraphRun, src: GpuTensor, dst: GpuTensor, offset: number, index: GpuTensor | null = null): void {
  const rows = index ? index.length : src.rows;
  if (index && index.dtype !== 'i32') throw new TypeError('copyColumns: index must be int32');
  if (dst.rows !== rows || offset < 0 || offset + src.cols > dst.cols) {
    throw new RangeError(`copyColumns: [${rows}, ${src.cols}] does not fit at column ${offset} of [${dst.rows}, ${dst.cols}]`);
  }
  const params = new Params()
    .u32(rows)
    .u32(src.cols)
    .u32(src.rows)
    .u32(dst.cols)
    .u32(offset)
    .u32(index ? 1 : 0);
  // Without an index the shader never reads binding 2; any read-only buffer fills the slot.
  const idx = index ? index.buffer : src.buffer;
  run.dispatch(pipeline(run.device, 'gather'), params, [src.buffer, idx, dst.buffer], run.grid(Math.ceil((rows * src.cols) / WG)));
}

/** out[r] = x[index[r]]; an index outside [0, x.rows) gives a zero row. */
export function gather(run: GraphRun, x: GpuTensor, index: GpuTensor, out?: GpuTensor): GpuTensor {
  const y = output(run, out, 'gather output', index.length, x.cols);
  copyColumns(run, x, y, 0, index);
  return y;
}

/** A block of a concatenation: a tensor, or a tensor gathered by a row index (e.g. v[src], u[edgeGraph]). */
export type ConcatBlock = GpuTensor | { tensor: GpuTensor; index: GpuTensor };

/** [R, F_1] ++ [R, F_2] ++ ... along features, gathers fused in: one dispatch per block. */
export function concat(run: GraphRun, blocks: readonly ConcatBlock[], out?: GpuTensor): GpuTensor {
  if (blocks.length === 0) throw new RangeError('concat: no blocks');
  const parts = blocks.map((b) => ('index' in b ? b : { tensor: b, index: null }));
  const rows = parts[0].index ? parts[0].index.length : parts[0].tensor.rows;
  const cols = parts.reduce((n, p) => n + p.tensor.cols, 0);
  const y = output(run, out, 'concat output', rows, cols);
  let offset = 0;
  for (const p of parts) {
    copyColumns(run, p.tensor, y, offset, p.index);
    offset += p.tensor.cols;
  }
  return y;
}

export type SegmentStrategy = 'auto' | 'row' | 'group';

/**
 * Thread-per-(segment, feature) loops win when segments are short and
 * numerous; a workgroup per segment wins when a few segments hold most rows.
 */
function useGroups(segs: GpuSegments, strategy: SegmentStrategy): boolean {
  if (strategy !== 'auto') return strategy === 'group';
  return segs.meanLength > 32;
}

/** Features per workgroup of the per_group kernels: enough to cover narrow inputs, leaving >= 16 lanes per feature. */
function featuresPerGroup(cols: number): number {
  let fx = 1;
  while (fx < cols && fx < 16) fx *= 2;
  return fx;
}

export interface SegmentReduceOptions {
  /** Per-row weights [R] (sum and mean): reduces w[r] * x[r, f]. */
  weights?: GpuTensor | null;
  /** Write into this tensor at column `outOffset` (e.g. a half of a concatenation). */
  out?: GpuTensor;
  outOffset?: number;
  strategy?: SegmentStrategy;
}

/** out[s, f] = sum / mean / max over the rows of segment s; empty segments give 0. */
export function segmentReduce(run: GraphRun, x: GpuTensor, segs: GpuSegments, mode: SegmentReduce, opts: SegmentReduceOptions = {}): GpuTensor {
  if (segs.rows !== x.rows) throw new RangeError(`segmentReduce: segments cover ${segs.rows} rows, x has ${x.rows}`);
  const weights = opts.weights ?? null;
  if (weights && weights.length !== x.rows) throw new RangeError(`segmentReduce: ${weights.length} weights for ${x.rows} rows`);
  if (weights && mode === 'max') throw new RangeError('segmentReduce: weights are for sum and mean only');
  const offset = opts.outOffset ?? 0;
  const y = opts.out ?? run.alloc(segs.count, x.cols);
  if (y.rows !== segs.count || offset + x.cols > y.cols)
    throw new RangeError(`segmentReduce: output [${y.rows}, ${y.cols}] cannot hold [${segs.count}, ${x.cols}] at column ${offset}`);
  const modeCode = mode === 'sum' ? 0 : mode === 'mean' ? 1 : 2;
  const params = new Params()
    .u32(segs.count)
    .u32(x.cols)
    .u32(modeCode)
    .u32(weights ? 1 : 0)
    .u32(y.cols)
    .u32(offset);
  const buffers = [segs.offsets.buffer, x.buffer, (weights ?? x).buffer, y.buffer];
  if (useGroups(segs, opts.strategy ?? 'auto')) {
    const fx = featuresPerGroup(x.cols);
    const p = pipeline(run.device, 'segmentReduce', 'per_group', { FX: fx });
    run.dispatch(p, params, buffers, run.grid(segs.count * Math.ceil(x.cols / fx)));
  } else {
    run.dispatch(pipeline(run.device, 'segmentReduce', 'per_row'), params, buffers, run.grid(Math.ceil((segs.count * x.cols) / WG)));
  }
  return y;
}

/** Softmax within each segment, per column: x [R, C] -> [R, C]. */
export function segmentSoftmax(run: GraphRun, x: GpuTensor, segs: GpuSegments, opts: { out?: GpuTensor; strategy?: SegmentStrategy } = {}): GpuTensor {
  if (segs.rows !== x.rows) throw new RangeError(`segmentSoftmax: segments cover ${segs.rows} rows, x has ${x.rows}`);
  const y = output(run, opts.out, 'softmax output', x.rows, x.cols);
  const params = new Params().u32(segs.count).u32(x.cols);
  const buffers = [segs.offsets.buffer, x.buffer, y.buffer];
  if (useGroups(segs, opts.strategy ?? 'auto')) {
    const fx = featuresPerGroup(x.cols);
    const p = pipeline(run.device, 'segmentSoftmax', 'per_group', { FX: fx });
    run.dispatch(p, params, buffers, run.grid(segs.count * Math.ceil(x.cols / fx)));
  } else {
    run.dispatch(pipeline(run.device, 'segmentSoftmax', 'per_row'), params, buffers, run.grid(Math.ceil((segs.count * x.cols) / WG)));
  }
  return y;
}

/**
 * Elementwise LSTM cell: gates [B, 4H] (i, f, g, o) and c [B, H] (updated in
 * place) -> h written to hOut[:, hOffset : hOffset + H].
 */
export function lstmCell(run: GraphRun, gates: GpuTensor, c: GpuTensor, hOut: GpuTensor, hOffset = 0): void {
  const H = c.cols;
  expectShape('lstm gates', gates, c.rows, 4 * H);
  if (hOut.rows !== c.rows || hOffset + H > hOut.cols) throw new RangeError('lstmCell: h output does not fit');
  const params = new Params().u32(c.rows).u32(H).u32(hOut.cols).u32(hOffset);
  run.dispatch(pipeline(run.device, 'lstm'), params, [gates.buffer, c.buffer, hOut.buffer], run.grid(Math.ceil((c.rows * H) / WG)));
}

/** out[r] = <x[r], q[seg(r), qOffset : qOffset + F]>: attention scores [R, 1]. */
export function rowDot(run: GraphRun, x: GpuTensor, segs: GpuSegments, q: GpuTensor, qOffset = 0, out?: GpuTensor): GpuTensor {
  if (segs.rows !== x.rows) throw new RangeError(`rowDot: segments cover ${segs.rows} rows, x has ${x.rows}`);
  if (q.rows !== segs.count || qOffset + x.cols > q.cols) throw new RangeError('rowDot: query does not match the segments');
  const y = output(run, out, 'rowDot output', x.rows, 1);
  const params = new Params().u32(x.rows).u32(x.cols).u32(q.cols).u32(qOffset);
  run.dispatch(pipeline(run.device, 'rowdot'), params, [x.buffer, segs.ids.buffer, q.buffer, y.buffer], run.grid(Math.ceil(x.rows / WG)));
  return y;
}

/** a += b elementwise (same shape): the residual connections of a MEGNet block. */
export function addInPlace(run: GraphRun, a: GpuTensor, b: GpuTensor): void {
  expectShape('addInPlace', b, a.rows, a.cols);
  const params = new Params().u32(a.length);
  run.dispatch(pipeline(run.device, 'add'), params, [a.buffer, b.buffer], run.grid(Math.ceil(a.length / WG)));
}
