/**
 * Periodic neighbour list on WebGPU (shaders/neighbors.wgsl + scan.wgsl),
 * and `neighborList`, which picks WebGPU or the CPU reference per workload.
 *
 * The cell grid is built on the CPU (src/core/neighbors/cells.ts, O(N)), so
 * both backends walk identical candidate pairs. On the GPU:
 *   submission 1: count neighbours per atom -> exclusive prefix sum -> read
 *                 the offsets (their last entry is the number of edges);
 *   submission 2: every atom writes and sorts its own edges at its offset.
 * The output size is therefore known exactly before anything is allocated.
 */
import { buildCellGrid, type CellGrid } from '../core/neighbors/cells';
import { neighborListCpu } from '../core/neighbors/cpu';
import { NeighborListError, type EdgeList, type NeighborInput } from '../core/neighbors/types';
import { getGpu, GpuUnavailable, type GpuContext } from './device';
import { pipeline } from './runtime/pipelines';
import { NEIGHBORS_WG, SCAN_BLOCK } from './runtime/workgroup';
import { GraphRun, Params } from './runtime/run';
import { GpuTensor, TENSOR_USAGE, upload } from './runtime/tensor';

/** The request is valid but too large for this GPU (buffer limits, memory); the CPU may still manage. */
export class GpuLimitError extends NeighborListError {
  constructor(message: string) {
    super(message);
    this.name = 'GpuLimitError';
  }
}

/** Appends an in-place exclusive prefix sum of the first n values of `data` to the run. */
function encodeScan(run: GraphRun, data: GpuTensor, n: number): void {
  const blocks = Math.ceil(n / SCAN_BLOCK);
  if (blocks === 0) return;
  const sums = run.alloc(blocks, 1, 'i32');
  const params = new Params().u32(n).u32(blocks);
  run.dispatch(pipeline(run.device, 'scan', 'scan_blocks'), params, [data.buffer, sums.buffer], run.grid(blocks));
  if (blocks > 1) {
    encodeScan(run, sums, blocks);
    run.dispatch(pipeline(run.device, 'scan', 'add_blocks'), params, [data.buffer, sums.buffer], run.grid(blocks));
  }
  run.release(sums);
}

/** The grid's atoms as the kernel reads them: wrapped positions and (shift, bin). */
function uploadGrid(device: GPUDevice, grid: CellGrid): GpuTensor[] {
  const { n } = grid;
  const pos = new Float32Array(4 * n);
  const info = new Int32Array(4 * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      pos[4 * i + k] = grid.wrapped[3 * i + k];
      info[4 * i + k] = grid.shift[3 * i + k];
    }
    info[4 * i + 3] = grid.binOf[i];
  }
  const cellStart = new Int32Array(grid.cellStart.buffer, grid.cellStart.byteOffset, grid.cellStart.length);
  const order = new Int32Array(grid.order.buffer, grid.order.byteOffset, grid.order.length);
  return [
    upload(device, pos, n, 4, 'nl positions'),
    upload(device, info, n, 4, 'nl atom info'),
    upload(device, cellStart, cellStart.length, 1, 'nl cell start'),
    upload(device, order, order.length, 1, 'nl order'),
  ];
}

function gridParams(grid: CellGrid): Params {
  const p = new Params();
  for (const row of grid.lattice.matrix) p.f32(row[0]).f32(row[1]).f32(row[2]).f32(0);
  p.u32(grid.n).u32(grid.bins[0]).u32(grid.bins[1]).u32(grid.bins[2]);
  p.u32(grid.reach[0]).u32(grid.reach[1]).u32(grid.reach[2]);
  p.u32(grid.periodic.reduce((m, on, k) => m | (on ? 1 << k : 0), 0));
  p.f32(grid.cutoff * grid.cutoff).align(16);
  for (const row of grid.toInput) p.i32(row[0]).i32(row[1]).i32(row[2]).i32(0);
  return p;
}

/** Runs fn, turning WebGPU validation and out-of-memory errors into exceptions. */
async function checked<T>(device: GPUDevice, fn: () => Promise<T>): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T;
  try {
    result = await fn();
  } finally {
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    if (oom) throw new GpuLimitError(`the GPU ran out of memory building the neighbour list (${oom.message})`);
    if (validation) throw new Error(`WebGPU validation error in the neighbour list: ${validation.message}`);
  }
  return result;
}

/** Timings of one GPU neighbour list, for the benchmark (ms). */
export interface GpuNeighborTimings {
  grid: number;
  count: number;
  fill: number;
}

/** The neighbour list on WebGPU; same output contract (and order) as neighborListCpu. */
export async function neighborListGpu(input: NeighborInput, gpu: GpuContext, timings?: GpuNeighborTimings): Promise<EdgeList> {
  const { device } = gpu;
  let t = performance.now();
  const grid = buildCellGrid(input);
  const n = grid.n;
  const tick = (key: keyof GpuNeighborTimings) => {
    const now = performance.now();
    if (timings) timings[key] = now - t;
    t = now;
  };
  tick('grid');
  const empty: EdgeList = {
    count: 0,
    src: new Int32Array(0),
    dst: new Int32Array(0),
    image: new Int32Array(0),
    vec: new Float32Array(0),
    dist: new Float32Array(0),
  };
  if (n === 0) return empty;
  const groups = (run: GraphRun) => run.grid(Math.ceil(n / NEIGHBORS_WG));

  return checked(device, async () => {
    const inputs = uploadGrid(device, grid);
    const params = gridParams(grid);
    try {
      // Pass 1: counts -> offsets.
      const count = new GraphRun(device, 'neighbour count');
      const offsets = count.alloc(n + 1, 1, 'i32');
      // The count pass never touches the edge bindings, but they must be bound (and must not alias).
      const dummyInt = count.alloc(1, 4, 'i32');
      const dummyF = count.alloc(1, 4, 'f32');
      count.clear(offsets);
      count.dispatch(
        pipeline(device, 'neighbors', 'main', { FILL: 0 }),
        params,
        [...inputs.map((x) => x.buffer), offsets.buffer, dummyInt.buffer, dummyF.buffer],
        groups(count),
      );
      encodeScan(count, offsets, n + 1);
      const offsetsRead = count.read(offsets);
      await count.submit();
      const start = (await offsetsRead) as Int32Array;
      tick('count');
      const total = start[n];
      if (total === 0) {
        for (const t of [offsets, dummyInt, dummyF]) count.pool.release(t);
        return empty;
      }

      // Pass 2: fill and sort, into buffers of exactly the right size.
      const bytes = total * 16;
      const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
      if (bytes > limit) {
        throw new GpuLimitError(
          `the neighbour list has ${total.toLocaleString('en-US')} edges, more than this GPU can hold in one buffer (${Math.floor(limit / 2 ** 20)} MiB); use a smaller cutoff or the CPU backend`,
        );
      }
      const make = (label: string) => device.createBuffer({ size: bytes, usage: TENSOR_USAGE, label });
      const edgeInt = new GpuTensor(make('nl edges int'), total, 4, 'i32');
      const edgeF = new GpuTensor(make('nl edges f32'), total, 4, 'f32');
      try {
        const fill = new GraphRun(device, 'neighbour fill');
        fill.dispatch(
          pipeline(device, 'neighbors', 'main', { FILL: 1 }),
          params,
          [...inputs.map((x) => x.buffer), offsets.buffer, edgeInt.buffer, edgeF.buffer],
          groups(fill),
        );
        const ints = fill.read(edgeInt);
        const floats = fill.read(edgeF);
        fill.release(offsets, dummyInt, dummyF);
        await fill.submit();
        const result = unpack(start, (await ints) as Int32Array, (await floats) as Float32Array, n, total);
        tick('fill');
        return result;
      } finally {
        edgeInt.destroy();
        edgeF.destroy();
      }
    } finally {
      for (const x of inputs) x.destroy();
    }
  });
}

/** From the kernel's (dst, image) and (vector, distance) rows to the EdgeList columns. */
function unpack(offsets: Int32Array, ints: Int32Array, floats: Float32Array, n: number, total: number): EdgeList {
  const src = new Int32Array(total);
  for (let i = 0; i < n; i++) src.fill(i, offsets[i], offsets[i + 1]);
  const dst = new Int32Array(total);
  const image = new Int32Array(3 * total);
  const vec = new Float32Array(3 * total);
  const dist = new Float32Array(total);
  for (let e = 0; e < total; e++) {
    dst[e] = ints[4 * e];
    for (let k = 0; k < 3; k++) {
      image[3 * e + k] = ints[4 * e + 1 + k];
      vec[3 * e + k] = floats[4 * e + k];
    }
    dist[e] = floats[4 * e + 3];
  }
  return { count: total, src, dst, image, vec, dist };
}

export type NeighborBackend = 'auto' | 'cpu' | 'webgpu';

export interface NeighborResult {
  edges: EdgeList;
  backend: 'cpu' | 'webgpu';
  /** Why the backend differs from the one asked for (or why auto chose the CPU). */
  reason?: string;
}

/**
 * `auto` on a hardware adapter uses the GPU from this many atoms up. An
 * estimate, not a measurement: no hardware GPU was available to measure the
 * crossover (bench/RESULTS.md). On a software adapter (SwiftShader) `auto`
 * always uses the CPU, which was 4–8x faster there at every size from 10^2
 * to 10^5 atoms.
 */
export const HARDWARE_GPU_MIN_ATOMS = 2000;

/**
 * The neighbour list on the requested backend. `webgpu` fails with
 * GpuUnavailable when there is no WebGPU; `auto` falls back to the CPU and
 * says why. Invalid input (NeighborListError) is never retried elsewhere.
 */
export async function neighborList(input: NeighborInput, opts: { backend?: NeighborBackend } = {}): Promise<NeighborResult> {
  const backend = opts.backend ?? 'auto';
  if (backend === 'cpu') return { edges: neighborListCpu(input), backend: 'cpu' };
  let gpu: GpuContext;
  try {
    gpu = await getGpu();
  } catch (e) {
    if (backend === 'webgpu' || !(e instanceof GpuUnavailable)) throw e;
    return { edges: neighborListCpu(input), backend: 'cpu', reason: `${e.message} Computed on the CPU instead.` };
  }
  const atoms = input.frac.length / (input.frac instanceof Float64Array ? 3 : 1);
  if (backend === 'auto' && gpu.software) {
    return {
      edges: neighborListCpu(input),
      backend: 'cpu',
      reason: `The GPU is a software renderer (${gpu.adapterName}); the CPU is faster at every size there.`,
    };
  }
  if (backend === 'auto' && atoms < HARDWARE_GPU_MIN_ATOMS)
    return { edges: neighborListCpu(input), backend: 'cpu', reason: `${atoms} atoms: small enough that the CPU beats a GPU round trip.` };
  try {
    return { edges: await neighborListGpu(input, gpu), backend: 'webgpu' };
  } catch (e) {
    if (backend === 'webgpu' || (e instanceof NeighborListError && !(e instanceof GpuLimitError))) throw e;
    return { edges: neighborListCpu(input), backend: 'cpu', reason: `WebGPU failed (${(e as Error).message}); computed on the CPU instead.` };
  }
}
