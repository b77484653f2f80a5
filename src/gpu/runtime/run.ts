/**
 * GraphRun: one command encoder that a whole model forward is encoded into,
 * submitted ONCE. On software WebGPU (SwiftShader) each submission costs
 * milliseconds, so kernels never submit on their own; they append dispatches
 * to a run, and the caller submits after the last layer and reads back only
 * what it needs.
 *
 * Dispatches share one compute pass (dispatches in a pass are ordered and
 * see each other's writes); the pass is closed only for copies and clears.
 * Kernel parameters go into 256-byte slots of uniform "arena" buffers that
 * are filled on the CPU during encoding and written with one writeBuffer
 * per arena just before the submit, so the writes land before the commands
 * that read them.
 *
 * Bind groups are cached per device, keyed by the pipeline and the exact
 * buffers (and uniform slot) bound: a forward of a fixed topology run again
 * (the same GpuMegnetGraph, pooled intermediates, arenas reused in the same
 * order) finds every bind group already built. The cache is bounded (least
 * recently used first out), so groups of destroyed buffers age out.
 */
import { objectId } from './object-id';
import { GpuTensor, type DType, type TensorPool, poolFor } from './tensor';

const SLOT = 256; // >= minUniformBufferOffsetAlignment on every adapter (the spec caps it at 256)
const ARENA = 64 * 1024;

interface Arena {
  buffer: GPUBuffer;
  bytes: Uint8Array<ArrayBuffer>;
  used: number;
}

/** Idle arenas per device: an arena may be reused as soon as the run that filled it has submitted. */
const idleArenas = new WeakMap<GPUDevice, GPUBuffer[]>();

const MAX_BIND_GROUPS = 4096;
interface BindGroupCache {
  groups: Map<string, GPUBindGroup>;
  /** Built and found in the cache (for tests and benchmarks). */
  built: number;
  reused: number;
}
const bindGroupCaches = new WeakMap<GPUDevice, BindGroupCache>();

function bindGroupCache(device: GPUDevice): BindGroupCache {
  let c = bindGroupCaches.get(device);
  if (!c) {
    c = { groups: new Map(), built: 0, reused: 0 };
    bindGroupCaches.set(device, c);
  }
  return c;
}

/** Bind groups built and found in the cache so far on this device. */
export function bindGroupStats(device: GPUDevice): { built: number; reused: number } {
  const { built, reused } = bindGroupCache(device);
  return { built, reused };
}

/** Little builder for a kernel's uniform struct (all members 4-byte scalars). */
export class Params {
  private readonly view = new DataView(new ArrayBuffer(SLOT));
  private at = 0;

  u32(v: number): this {
    this.view.setUint32(this.at, v, true);
    this.at += 4;
    return this;
  }

  i32(v: number): this {
    this.view.setInt32(this.at, v, true);
    this.at += 4;
    return this;
  }

  /** Skips to the next multiple of `bytes` (WGSL aligns vec4 members to 16). */
  align(bytes: number): this {
    this.at = Math.ceil(this.at / bytes) * bytes;
    return this;
  }

  f32(v: number): this {
    this.view.setFloat32(this.at, v, true);
    this.at += 4;
    return this;
  }

  get bytes(): Uint8Array<ArrayBuffer> {
    // Uniform bindings are sized in 16-byte units to be safe with every backend.
    return new Uint8Array(this.view.buffer, 0, Math.max(16, Math.ceil(this.at / 16) * 16));
  }
}

interface PendingRead {
  staging: GPUBuffer;
  dtype: DType;
  length: number;
  resolve: (v: Float32Array | Int32Array) => void;
  reject: (e: unknown) => void;
}

export class GraphRun {
  readonly encoder: GPUCommandEncoder;
  readonly pool: TensorPool;
  /** Dispatches encoded so far (for tests and benchmarks). */
  dispatches = 0;
  private pass: GPUComputePassEncoder | null = null;
  private readonly arenas: Arena[] = [];
  private readonly reads: PendingRead[] = [];
  private readonly released: GpuTensor[] = [];
  private submitted = false;
  private readonly timer: PassTimer | null;
  /**
   * GPU time of this run's compute passes in ms, from timestamp queries,
   * once submit() has resolved; null where the device has no
   * 'timestamp-query' feature (SwiftShader here) or timing was not asked for.
   */
  gpuMs: number | null = null;

  constructor(
    readonly device: GPUDevice,
    label = 'graph run',
    opts: { timestamps?: boolean } = {},
  ) {
    this.pool = poolFor(device);
    this.encoder = device.createCommandEncoder({ label });
    this.timer = opts.timestamps && device.features.has('timestamp-query') ? new PassTimer(device) : null;
  }

  /** A scratch or output tensor. Contents are undefined until a kernel writes them. */
  alloc(rows: number, cols: number, dtype: DType = 'f32'): GpuTensor {
    this.assertOpen();
    // Prefer buffers this run released: they are certainly free in encoding order.
    const size = rows * cols * 4;
    const i = this.released.findIndex((t) => t.buffer.size >= size && t.buffer.size <= Math.max(256, 2 * size));
    if (i >= 0) {
      const [t] = this.released.splice(i, 1);
      return new GpuTensor(t.buffer, rows, cols, dtype);
    }
    return this.pool.acquire(rows, cols, dtype);
  }

  /**
   * Gives an intermediate back once the commands encoded so far are done with
   * it; later kernels in this run may reuse it, other runs only after submit.
   */
  release(...tensors: GpuTensor[]): void {
    for (const t of tensors) if (!this.released.some((r) => r.buffer === t.buffer)) this.released.push(t);
  }

  /** Zero-fills a tensor (between dispatches, in encoding order). */
  clear(t: GpuTensor): void {
    this.assertOpen();
    if (t.byteLength === 0) return;
    this.endPass();
    this.encoder.clearBuffer(t.buffer, 0, t.byteLength);
  }

  /** Copies src into dst (same byte length), e.g. to keep a result past a release. */
  copy(src: GpuTensor, dst: GpuTensor): void {
    this.assertOpen();
    if (src.byteLength !== dst.byteLength) throw new RangeError('GraphRun.copy: sizes differ');
    if (src.byteLength === 0) return;
    this.endPass();
    this.encoder.copyBufferToBuffer(src.buffer, 0, dst.buffer, 0, src.byteLength);
  }

  /**
   * Encodes one dispatch. `groups` is [x, y] in workgroups; kernels that
   * need more than the per-dimension limit use `grid` to fold a count into 2-D.
   */
  dispatch(pipeline: GPUComputePipeline, params: Params, buffers: readonly GPUBuffer[], groups: readonly [number, number]): void {
    this.assertOpen();
    if (groups[0] === 0 || groups[1] === 0) return;
    const uniform = this.slot(params.bytes);
    const bindGroup = this.bindGroup(pipeline, uniform, buffers);
    this.pass ??= this.encoder.beginComputePass(this.timer?.nextPass() ?? {});
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(groups[0], groups[1]);
    this.dispatches++;
  }

  /** Folds `count` workgroups into a 2-D grid within the device's per-dimension limit. */
  grid(count: number): [number, number] {
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (count <= max) return [count, count > 0 ? 1 : 0];
    const y = Math.ceil(count / max);
    if (y > max) throw new RangeError(`GraphRun: ${count} workgroups is more than one dispatch can hold`);
    return [Math.ceil(count / y), y];
  }

  /** Schedules a copy of the tensor for reading; the promise settles after submit(). */
  read(t: GpuTensor): Promise<Float32Array | Int32Array> {
    this.assertOpen();
    return new Promise((resolve, reject) => {
      if (t.byteLength === 0) {
        resolve(t.dtype === 'f32' ? new Float32Array(0) : new Int32Array(0));
        return;
      }
      this.endPass();
      const staging = this.device.createBuffer({ size: t.byteLength, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'readback' });
      this.encoder.copyBufferToBuffer(t.buffer, 0, staging, 0, t.byteLength);
      this.reads.push({ staging, dtype: t.dtype, length: t.length, resolve, reject });
    });
  }

  async readF32(t: GpuTensor): Promise<Float32Array> {
    const v = await this.read(t);
    if (!(v instanceof Float32Array)) throw new TypeError('readF32: tensor is not float32');
    return v;
  }

  /** Submits everything encoded (one queue submission) and waits for the reads. */
  async submit(): Promise<void> {
    this.assertOpen();
    this.endPass();
    this.submitted = true;
    const timing = this.timer?.resolve(this.encoder);
    const queue = this.device.queue;
    for (const a of this.arenas) queue.writeBuffer(a.buffer, 0, a.bytes, 0, a.used);
    queue.submit([this.encoder.finish()]);
    // Everything this run used is now ordered before any later submission.
    const idle = idleArenas.get(this.device) ?? [];
    // Reversed, so the next run pops them in this run's order: the same
    // dispatches then land in the same uniform slots and find their bind groups.
    idle.push(...this.arenas.map((a) => a.buffer).reverse());
    idleArenas.set(this.device, idle);
    for (const t of this.released) this.pool.release(t);
    this.released.length = 0;
    const reads = this.reads.splice(0);
    await Promise.all(
      reads.map(async (r) => {
        try {
          await r.staging.mapAsync(GPUMapMode.READ);
          const bytes = r.staging.getMappedRange().slice(0);
          r.staging.destroy();
          r.resolve(r.dtype === 'f32' ? new Float32Array(bytes, 0, r.length) : new Int32Array(bytes, 0, r.length));
        } catch (e) {
          r.staging.destroy();
          r.reject(e);
        }
      }),
    );
    if (reads.length === 0) await queue.onSubmittedWorkDone();
    if (timing) this.gpuMs = await timing();
  }

  private bindGroup(pipeline: GPUComputePipeline, uniform: GPUBufferBinding, buffers: readonly GPUBuffer[]): GPUBindGroup {
    const cache = bindGroupCache(this.device);
    const key = `${objectId(pipeline)}|${objectId(uniform.buffer)}@${uniform.offset}:${uniform.size}|${buffers.map(objectId).join(',')}`;
    const hit = cache.groups.get(key);
    if (hit) {
      // Re-insert: Map order is the recency order the eviction below relies on.
      cache.groups.delete(key);
      cache.groups.set(key, hit);
      cache.reused++;
      return hit;
    }
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: uniform }];
    buffers.forEach((buffer, i) => entries.push({ binding: i + 1, resource: { buffer } }));
    const group = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    cache.groups.set(key, group);
    if (cache.groups.size > MAX_BIND_GROUPS) cache.groups.delete(cache.groups.keys().next().value!);
    cache.built++;
    return group;
  }

  private slot(bytes: Uint8Array): GPUBufferBinding {
    let arena = this.arenas.at(-1);
    if (!arena || arena.used + SLOT > ARENA) {
      const buffer =
        idleArenas.get(this.device)?.pop() ??
        this.device.createBuffer({ size: ARENA, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'kernel params' });
      arena = { buffer, bytes: new Uint8Array(ARENA), used: 0 };
      this.arenas.push(arena);
    }
    arena.bytes.set(bytes, arena.used);
    const binding = { buffer: arena.buffer, offset: arena.used, size: bytes.length };
    arena.used += SLOT;
    return binding;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  private assertOpen(): void {
    if (this.submitted) throw new Error('GraphRun: already submitted; start a new run');
  }
}

/**
 * Timestamp queries around each compute pass of a run (up to 64 passes;
 * later ones go untimed, which the total then under-counts). Resolved into
 * a buffer at submit and summed as end − begin per pass.
 */
class PassTimer {
  private static readonly MAX_PASSES = 64;
  private readonly querySet: GPUQuerySet;
  private passes = 0;

  constructor(private readonly device: GPUDevice) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * PassTimer.MAX_PASSES });
  }

  nextPass(): GPUComputePassDescriptor {
    if (this.passes >= PassTimer.MAX_PASSES) return {};
    const k = this.passes++;
    return { timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * k, endOfPassWriteIndex: 2 * k + 1 } };
  }

  /**
   * Encodes the resolve and readback; call the returned function after the
   * submit (mapping before it would make the submit invalid) for the ms.
   */
  resolve(encoder: GPUCommandEncoder): (() => Promise<number>) | null {
    if (this.passes === 0) {
      this.querySet.destroy();
      return null;
    }
    const bytes = 16 * this.passes;
    const resolved = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const staging = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.resolveQuerySet(this.querySet, 0, 2 * this.passes, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, staging, 0, bytes);
    return async () => {
      try {
        await staging.mapAsync(GPUMapMode.READ);
        const t = new BigUint64Array(staging.getMappedRange().slice(0));
        let ns = 0;
        for (let k = 0; k < this.passes; k++) if (t[2 * k + 1] > t[2 * k]) ns += Number(t[2 * k + 1] - t[2 * k]);
        return ns / 1e6;
      } finally {
        staging.destroy();
        resolved.destroy();
        this.querySet.destroy();
      }
    };
  }
}
