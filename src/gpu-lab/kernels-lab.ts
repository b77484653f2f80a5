/**
 * Kernel efficiency, for `npm run bench:kernels` (scripts/bench-kernels.ts):
 * the dense kernel (shaders/dense.wgsl) at the shapes the property MEGNet
 * runs, with softplus and without an activation (the epilogue's share), against the adapter's own multiply-add rate measured in the same
 * page by a trivial FMA kernel (shaders/fma_peak.wgsl).
 *
 * Each figure times one GraphRun holding `reps` identical dispatches,
 * from submit to completion, best of `repeat`; with enough repetitions the
 * fixed cost of a submission (tens of ms on SwiftShader) is spread thin.
 * The same run with one dispatch is timed too, so the fixed cost is
 * visible. A figure is 2·M·K·N·reps / seconds (the useful FLOPs: zero
 * padding of partial tiles is not counted). Where the adapter offers
 * timestamp queries, the GPU's own time of the run is reported beside it.
 */
import { seededRandom } from '../core/graph/megnet';
import { type Matrix, matrix } from '../core/graph/types';
import { labGpu } from './lab-gpu';
import { dense, type DenseVariant, denseVariant, setDenseVariant } from '../gpu/graph/kernels';
import { pipeline } from '../gpu/runtime/pipelines';
import { GraphRun, Params } from '../gpu/runtime/run';
import { upload, uploadMatrix } from '../gpu/runtime/tensor';

export interface KernelBenchArgs {
  /** [M, K, N] of each dense layer to time. */
  shapes: [number, number, number][];
  reps: number;
  repeat: number;
  /** Target ms per timed FMA run: the iteration count doubles until a run takes this long. */
  fmaTargetMs: number;
}

export interface KernelFigure {
  kernel: string;
  /** FLOPs per dispatch. */
  flops: number;
  /** Best ms of a run of `reps` dispatches, and of a run of one. */
  msRun: number;
  msOne: number;
  /** GPU time of the best run of `reps` from timestamp queries; null where the adapter has none. */
  gpuMsRun: number | null;
  reps: number;
  gflops: number;
}

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const rand = seededRandom(seed);
  return matrix(
    rows,
    cols,
    Array.from({ length: rows * cols }, () => 2 * rand() - 1),
  );
}

/** Best wall ms from submit to completion (and the GPU's own ms where timestamp queries exist) of `repeat` runs after a warm-up. */
async function timeRun(device: GPUDevice, encode: (run: GraphRun) => void, repeat: number, gpu?: { ms: number | null }): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < repeat + 1; r++) {
    const run = new GraphRun(device, 'kernel bench', { timestamps: true });
    encode(run);
    const t0 = performance.now();
    await run.submit();
    const ms = performance.now() - t0;
    if (r > 0 && ms < best) {
      // the first run compiles and warms up
      best = ms;
      if (gpu) gpu.ms = run.gpuMs;
    }
  }
  return best;
}

export const kernelsLab = {
  async kernelsBench(a: KernelBenchArgs): Promise<{ adapter: string; timestampQuery: boolean; figures: KernelFigure[] } | { error: string }> {
    const gpu = await labGpu();
    if ('error' in gpu) return gpu;
    const { device } = gpu;
    const figures: KernelFigure[] = [];
    device.pushErrorScope('validation');

    // The FMA ceiling: 1024 workgroups of 256 threads.
    const threads = 1024 * 256;
    const out = upload(device, new Float32Array(threads), threads, 1, 'fma out');
    const fma = pipeline(device, 'fmaPeak');
    const encodeFma = (iter: number, reps: number) => (run: GraphRun) => {
      for (let r = 0; r < reps; r++) run.dispatch(fma, new Params().u32(iter).f32(r), [out.buffer], [1024, 1]);
    };
    let iter = 16;
    let ms = await timeRun(device, encodeFma(iter, 1), 1);
    while (ms < a.fmaTargetMs && iter < 1 << 20) {
      iter *= 2;
      ms = await timeRun(device, encodeFma(iter, 1), 1);
    }
    const fmaFlops = threads * iter * 8 * 2;
    const fmaGpu = { ms: null as number | null };
    const fmaRun = await timeRun(device, encodeFma(iter, a.reps), a.repeat, fmaGpu);
    const fmaOne = await timeRun(device, encodeFma(iter, 1), a.repeat);
    figures.push({
      kernel: `fma_peak (${threads} threads x ${iter} x 8 FMA)`,
      flops: fmaFlops,
      msRun: fmaRun,
      msOne: fmaOne,
      gpuMsRun: fmaGpu.ms,
      reps: a.reps,
      gflops: (fmaFlops * a.reps) / fmaRun / 1e6,
    });
    out.destroy();

    const variants: DenseVariant[] = ['tiled', 'direct', 'direct4'];
    const chosen = denseVariant(device);
    for (const [m, k, n, act, variant] of a.shapes.flatMap(([m, k, n]) =>
      variants.flatMap((v) => [[m, k, n, 'softplus', v] as const, [m, k, n, 'none', v] as const]),
    )) {
      setDenseVariant(device, variant);
      const x = uploadMatrix(device, randomMatrix(m, k, 1));
      const w = uploadMatrix(device, randomMatrix(k, n, 2));
      const b = upload(device, new Float32Array(n).fill(0.1), n, 1);
      const y = upload(device, new Float32Array(m * n), m, n);
      const encode = (reps: number) => (run: GraphRun) => {
        for (let r = 0; r < reps; r++) dense(run, x, w, b, act, y);
      };
      const flops = 2 * m * k * n;
      const g = { ms: null as number | null };
      const msRun = await timeRun(device, encode(a.reps), a.repeat, g);
      const msOne = await timeRun(device, encode(1), a.repeat);
      figures.push({
        kernel: `dense (${variant}) ${m}x${k} · ${k}x${n}${act === 'none' ? ' (no activation)' : ' + softplus'}`,
        flops,
        msRun,
        msOne,
        gpuMsRun: g.ms,
        reps: a.reps,
        gflops: (flops * a.reps) / msRun / 1e6,
      });
      [x, w, b, y].forEach((t) => t.destroy());
    }
    setDenseVariant(device, chosen);
    const error = await device.popErrorScope();
    if (error) return { error: `WebGPU validation error: ${error.message}` };
    return { adapter: gpu.adapterName, timestampQuery: device.features.has('timestamp-query'), figures };
  },
};
