/**
 * GPU-side matrices and their memory. A GpuTensor is a storage buffer plus
 * the logical shape of the row-major matrix in it (the buffer may be larger:
 * pooled buffers come in power-of-two sizes so they can be reused across
 * structures of different sizes).
 *
 * Memory rules that keep reuse safe inside ONE command encoder:
 *  - intermediates come from a pool and are written only by GPU commands;
 *    GPU commands execute in encoding order, so a buffer released by one
 *    layer and reused by the next is never read stale;
 *  - host data is uploaded into fresh buffers (mappedAtCreation), never with
 *    queue.writeBuffer into a pooled buffer: writeBuffer runs at submit time,
 *    before the encoder's commands, and would clobber a buffer that an
 *    earlier command in the same encoder still needs.
 */
import type { Matrix } from '../../core/graph/types';
import { objectId } from './object-id';

export type DType = 'f32' | 'i32';

// GPUBufferUsage.STORAGE | COPY_SRC | COPY_DST, spelled as numbers so this
// module can be imported where WebGPU's globals do not exist (Node).
export const TENSOR_USAGE = 0x80 | 0x04 | 0x08;

export class GpuTensor {
  constructor(
    readonly buffer: GPUBuffer,
    readonly rows: number,
    readonly cols: number,
    readonly dtype: DType = 'f32',
  ) {
    if (rows * cols * 4 > buffer.size) throw new RangeError(`GpuTensor: [${rows}, ${cols}] does not fit in ${buffer.size} bytes`);
  }

  get length(): number {
    return this.rows * this.cols;
  }

  get byteLength(): number {
    return this.rows * this.cols * 4;
  }

  /** The same buffer seen with another shape of equal or smaller size (e.g. [N, 1] as [N]). */
  reshape(rows: number, cols: number): GpuTensor {
    return new GpuTensor(this.buffer, rows, cols, this.dtype);
  }

  destroy(): void {
    this.buffer.destroy();
  }
}

/** Smallest pooled size: also keeps zero-row tensors bindable (a binding must be non-empty). */
const MIN_BYTES = 256;

function bucket(bytes: number): number {
  let size = MIN_BYTES;
  while (size < bytes) size *= 2;
  return size;
}

/**
 * Free buffers of one device by size. Buffers handed back here must not be
 * used by any command encoder that has not been submitted yet (GraphRun
 * keeps its own releases until it submits, which guarantees this).
 */
export class TensorPool {
  /** Free buffers per size, oldest first (see acquire). */
  private readonly free = new Map<number, GPUBuffer[]>();

  constructor(readonly device: GPUDevice) {}

  /**
   * The oldest free buffer of the size, else a new one. Oldest-first makes
   * a repeated sequence of allocations (the same forward run again) get the
   * same buffers each time, so its bind groups are found in run.ts's cache.
   */
  acquire(rows: number, cols: number, dtype: DType = 'f32'): GpuTensor {
    const size = bucket(rows * cols * 4);
    const buffer = this.free.get(size)?.shift() ?? this.device.createBuffer({ size, usage: TENSOR_USAGE, label: `pool ${size}` });
    objectId(buffer); // numbered now, so "oldest" means first acquired
    return new GpuTensor(buffer, rows, cols, dtype);
  }

  /** Returns a tensor's buffer to the pool; a fresh (non-pool-sized) buffer is destroyed instead. */
  release(t: GpuTensor): void {
    const size = t.buffer.size;
    if (size !== bucket(size) || (t.buffer.usage & TENSOR_USAGE) !== TENSOR_USAGE) {
      t.buffer.destroy();
      return;
    }
    const list = this.free.get(size) ?? [];
    if (!list.includes(t.buffer)) {
      list.push(t.buffer);
      list.sort((a, b) => objectId(a) - objectId(b));
    }
    this.free.set(size, list);
  }

  /** Frees every idle buffer (e.g. after a large structure, to give memory back). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
  }

  get idleBytes(): number {
    let n = 0;
    for (const [size, list] of this.free) n += size * list.length;
    return n;
  }
}

const pools = new WeakMap<GPUDevice, TensorPool>();

export function poolFor(device: GPUDevice): TensorPool {
  let pool = pools.get(device);
  if (!pool) {
    pool = new TensorPool(device);
    pools.set(device, pool);
  }
  return pool;
}

/** Uploads host data into a fresh buffer (safe at any time, see the rules above). */
export function upload(device: GPUDevice, data: Float32Array | Int32Array, rows: number, cols: number, label?: string): GpuTensor {
  if (data.length !== rows * cols) throw new RangeError(`upload: ${data.length} values for [${rows}, ${cols}]`);
  const buffer = device.createBuffer({ size: bucket(data.byteLength), usage: TENSOR_USAGE, mappedAtCreation: true, label });
  const range = buffer.getMappedRange(0, data.byteLength);
  if (data instanceof Float32Array) new Float32Array(range).set(data);
  else new Int32Array(range).set(data);
  buffer.unmap();
  return new GpuTensor(buffer, rows, cols, data instanceof Float32Array ? 'f32' : 'i32');
}

export function uploadMatrix(device: GPUDevice, m: Matrix, label?: string): GpuTensor {
  return upload(device, m.data, m.rows, m.cols, label);
}

/**
 * CSR segments on the GPU (see src/core/graph/types.ts): offsets [S + 1]
 * and, for kernels that work per row, the segment id of every row. The
 * length statistics pick the reduction strategy.
 */
export class GpuSegments {
  readonly count: number;
  readonly rows: number;
  readonly maxLength: number;
  readonly offsets: GpuTensor;
  readonly ids: GpuTensor;

  constructor(device: GPUDevice, offsets: Int32Array) {
    if (offsets.length < 1 || offsets[0] !== 0) throw new RangeError('GpuSegments: offsets must start with 0');
    this.count = offsets.length - 1;
    this.rows = offsets[this.count];
    const ids = new Int32Array(this.rows);
    let maxLength = 0;
    for (let s = 0; s < this.count; s++) {
      const a = offsets[s];
      const b = offsets[s + 1];
      if (b < a || b > this.rows) throw new RangeError(`GpuSegments: offsets are not non-decreasing at segment ${s}`);
      ids.fill(s, a, b);
      maxLength = Math.max(maxLength, b - a);
    }
    this.maxLength = maxLength;
    this.offsets = upload(device, offsets, offsets.length, 1, 'segment offsets');
    this.ids = upload(device, ids, this.rows, 1, 'segment ids');
  }

  get meanLength(): number {
    return this.count > 0 ? this.rows / this.count : 0;
  }

  destroy(): void {
    this.offsets.destroy();
    this.ids.destroy();
  }
}
