/**
 * Graph-network primitives for the GPU lab page: each function takes plain
 * JSON (number arrays), runs the kernel on WebGPU in ONE submission and
 * returns plain arrays plus `ms`, the wall time from upload to readback
 * (the best of `repeat` runs; the first run includes pipeline compilation).
 * The Playwright tests compare the results with the CPU reference in Node.
 */
import type { GaussianBasis } from '../core/graph/rbf';
import type { SegmentReduce } from '../core/graph/segment';
import type { Activation } from '../core/graph/types';
import { getGpu } from '../gpu/device';
import {
  concat,
  type ConcatBlock,
  dense,
  type DenseVariant,
  denseVariant,
  setDenseVariant,
  gather,
  gaussianExpand,
  type SegmentStrategy,
  segmentReduce,
  segmentSoftmax,
} from '../gpu/graph/kernels';
import { GraphRun } from '../gpu/runtime/run';
import { GpuSet2Set } from '../gpu/graph/set2set';
import { GpuSegments, type GpuTensor, upload } from '../gpu/runtime/tensor';

interface Timed {
  ms: number;
  /** Queue submissions made by one run (the design target is 1). */
  submissions: number;
  /** Dispatches encoded by one run. */
  dispatches: number;
}

/** Host data for one run; destroyed afterwards. */
class Inputs {
  private readonly owned: { destroy(): void }[] = [];
  constructor(readonly device: GPUDevice) {}

  f32(data: number[], rows: number, cols: number): GpuTensor {
    const t = upload(this.device, Float32Array.from(data), rows, cols);
    this.owned.push(t);
    return t;
  }

  i32(data: number[]): GpuTensor {
    const t = upload(this.device, Int32Array.from(data), data.length, 1);
    this.owned.push(t);
    return t;
  }

  segments(offsets: number[]): GpuSegments {
    const s = new GpuSegments(this.device, Int32Array.from(offsets));
    this.owned.push(s);
    return s;
  }

  keep<T extends { destroy(): void }>(x: T): T {
    this.owned.push(x);
    return x;
  }

  destroy(): void {
    for (const o of this.owned) o.destroy();
  }
}

/**
 * Runs `body` `repeat` times, each as one GraphRun, counting submissions and
 * turning WebGPU validation errors into exceptions (they are otherwise only
 * logged, and the test would see zeros).
 */
async function timed(repeat: number, body: (run: GraphRun, inputs: Inputs) => GpuTensor): Promise<{ y: number[] } & Timed> {
  const { device } = await getGpu();
  const queue = device.queue;
  const submit = queue.submit.bind(queue);
  let submissions = 0;
  queue.submit = (buffers: Iterable<GPUCommandBuffer>) => {
    submissions++;
    submit(buffers);
  };
  let best = Infinity;
  let y: Float32Array | Int32Array = new Float32Array(0);
  let dispatches = 0;
  try {
    for (let i = 0; i < Math.max(1, repeat); i++) {
      device.pushErrorScope('validation');
      const inputs = new Inputs(device);
      try {
        submissions = 0;
        const t0 = performance.now();
        const run = new GraphRun(device, 'lab');
        const out = body(run, inputs);
        const read = run.read(out);
        run.release(out);
        await run.submit();
        y = await read;
        best = Math.min(best, performance.now() - t0);
        dispatches = run.dispatches;
      } finally {
        inputs.destroy();
        const error = await device.popErrorScope();
        if (error) throw new Error(`WebGPU validation error: ${error.message}`);
      }
    }
  } finally {
    Reflect.deleteProperty(queue, 'submit');
  }
  return { y: Array.from(y), ms: best, submissions, dispatches };
}

export const primitivesLab = {
  /** Y = act(X W + b). */
  /** `variant`: which dense.wgsl entry point (default: the one the adapter gets). */
  async dense(a: {
    x: number[];
    rows: number;
    inF: number;
    w: number[];
    outF: number;
    b: number[] | null;
    act: Activation;
    repeat?: number;
    variant?: DenseVariant;
  }) {
    const { device } = await getGpu();
    const before = denseVariant(device);
    if (a.variant) setDenseVariant(device, a.variant);
    try {
      return {
        ...(await timed(a.repeat ?? 1, (run, inp) =>
          dense(run, inp.f32(a.x, a.rows, a.inF), inp.f32(a.w, a.inF, a.outF), a.b ? inp.f32(a.b, 1, a.outF) : null, a.act),
        )),
        variant: denseVariant(device),
      };
    } finally {
      setDenseVariant(device, before);
    }
  },

  /** Gaussian expansion of distances d -> [E, K]. */
  rbf(a: { d: number[]; basis: GaussianBasis; repeat?: number }) {
    return timed(a.repeat ?? 1, (run, inp) => gaussianExpand(run, inp.f32(a.d, a.d.length, 1), a.basis));
  },

  /** X[index]. */
  gather(a: { x: number[]; rows: number; cols: number; index: number[]; repeat?: number }) {
    return timed(a.repeat ?? 1, (run, inp) => gather(run, inp.f32(a.x, a.rows, a.cols), inp.i32(a.index)));
  },

  /** Concatenation along features; a block with `index` is gathered first (fused). */
  concat(a: { blocks: { x: number[]; rows: number; cols: number; index?: number[] }[]; repeat?: number }) {
    return timed(a.repeat ?? 1, (run, inp) => {
      const blocks: ConcatBlock[] = a.blocks.map((b) => {
        const tensor = inp.f32(b.x, b.rows, b.cols);
        return b.index ? { tensor, index: inp.i32(b.index) } : tensor;
      });
      return concat(run, blocks);
    });
  },

  /** Segmented sum / mean / max (optionally weighted) over CSR offsets. */
  segmentReduce(a: {
    x: number[];
    rows: number;
    cols: number;
    offsets: number[];
    mode: SegmentReduce;
    weights?: number[];
    strategy?: SegmentStrategy;
    repeat?: number;
  }) {
    return timed(a.repeat ?? 1, (run, inp) =>
      segmentReduce(run, inp.f32(a.x, a.rows, a.cols), inp.segments(a.offsets), a.mode, {
        weights: a.weights ? inp.f32(a.weights, a.rows, 1) : null,
        strategy: a.strategy,
      }),
    );
  },

  /** Per-segment, per-column softmax. */
  segmentSoftmax(a: { x: number[]; rows: number; cols: number; offsets: number[]; strategy?: SegmentStrategy; repeat?: number }) {
    return timed(a.repeat ?? 1, (run, inp) => segmentSoftmax(run, inp.f32(a.x, a.rows, a.cols), inp.segments(a.offsets), { strategy: a.strategy }));
  },

  /** Batched Set2Set readout: x [N, F], offsets = nodes per graph, LSTM weights in W [in, out] form. */
  set2set(a: {
    x: number[];
    rows: number;
    cols: number;
    offsets: number[];
    wIh: number[];
    wHh: number[];
    b: number[];
    steps: number;
    strategy?: SegmentStrategy;
    repeat?: number;
  }) {
    const F = a.cols;
    return timed(a.repeat ?? 1, (run, inp) => {
      const s2s = inp.keep(
        new GpuSet2Set(run.device, {
          wIh: { data: Float32Array.from(a.wIh), rows: 2 * F, cols: 4 * F },
          wHh: { data: Float32Array.from(a.wHh), rows: F, cols: 4 * F },
          b: Float32Array.from(a.b),
        }),
      );
      return s2s.encode(run, inp.f32(a.x, a.rows, F), inp.segments(a.offsets), a.steps, a.strategy);
    });
  },

  /**
   * A MEGNet-style edge-to-node step, to show composition in one submission:
   * m = softplus([v[src], v[dst], rbf(d)] W + b), v' = mean of m over the
   * edges arriving at each node (edges sorted by dst, offsets per node).
   */
  edgeToNode(a: {
    v: number[];
    nodes: number;
    cols: number;
    src: number[];
    dst: number[];
    offsets: number[];
    d: number[];
    basis: GaussianBasis;
    w: number[];
    b: number[];
    outF: number;
    repeat?: number;
  }) {
    return timed(a.repeat ?? 1, (run, inp) => {
      const v = inp.f32(a.v, a.nodes, a.cols);
      const e = gaussianExpand(run, inp.f32(a.d, a.d.length, 1), a.basis);
      const cat = concat(run, [{ tensor: v, index: inp.i32(a.src) }, { tensor: v, index: inp.i32(a.dst) }, e]);
      run.release(e);
      const inF = 2 * a.cols + a.basis.count;
      const m = dense(run, cat, inp.f32(a.w, inF, a.outF), inp.f32(a.b, 1, a.outF), 'softplus');
      run.release(cat);
      const out = segmentReduce(run, m, inp.segments(a.offsets), 'mean');
      run.release(m);
      return out;
    });
  },
};
