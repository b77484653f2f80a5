/**
 * Kernel efficiency (`npm run bench:kernels`, after `vite build`): the dense
 * kernel (shaders/dense.wgsl) at the matrix shapes of the property MEGNet's
 * edge MLP (E = 4096 edges: the factored first layer 32 → 64, the unfactored
 * 128 → 64, the second layer 64 → 32) and of a large square product, as a
 * share of the adapter's own multiply-add rate measured in the same page by
 * shaders/fma_peak.wgsl (src/gpu-lab/kernels-lab.ts says how). Prints a
 * Markdown table for bench/RESULTS.md.
 *
 *   npm run bench:kernels               (10 dispatches per run, best of 3)
 *   npm run bench:kernels -- --quick    (5 dispatches, best of 1)
 */
import { openGpuLab } from './gpu-lab-page.ts';

const quick = process.argv.includes('--quick');
const port = Number(process.env.BENCH_PORT ?? 4275);
const shapes: [number, number, number][] = [
  [4096, 32, 64],
  [4096, 128, 64],
  [4096, 64, 32],
  [256, 256, 256],
];
const { page, browser, close } = await openGpuLab(port);
try {
  const r = await page.evaluate((a) => window.gpuLab.kernelsBench(a), { shapes, reps: quick ? 5 : 10, repeat: quick ? 1 : 3, fmaTargetMs: quick ? 50 : 200 });
  if ('error' in r) throw new Error(r.error);
  const peak = r.figures[0].gflops;
  console.log(
    `Date: ${new Date().toISOString().slice(0, 10)}; adapter: ${r.adapter}; Chromium ${browser.version()}; timestamp queries: ${r.timestampQuery ? 'yes' : 'no'}\n`,
  );
  console.log(
    '| kernel | GFLOP per dispatch | ms per run of reps (reps) | GPU ms of that run (timestamps) | ms for a run of one | GFLOP/s | share of the FMA rate |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const f of r.figures) {
    const gpuMs = f.gpuMsRun === null ? '–' : f.gpuMsRun.toFixed(1);
    console.log(
      `| ${f.kernel} | ${(f.flops / 1e9).toFixed(3)} | ${f.msRun.toFixed(1)} (${f.reps}) | ${gpuMs} | ${f.msOne.toFixed(1)} | ${f.gflops.toFixed(2)} | ${((100 * f.gflops) / peak).toFixed(0)} % |`,
    );
  }
} finally {
  await close();
}
