/**
 * Crystal-property MEGNet throughput (`npm run bench:properties`, after
 * `vite build`): structures per second of the shipped ensemble
 * (models/properties/export/, every member, as the app runs it) on the same
 * test-split crystals, at batch 1, 16 and 256, in one run:
 *  - PyTorch on the CPU with 1 and 2 threads (models/properties/bench.py,
 *    which also picks the seeded sample and writes its structures);
 *  - the TypeScript reference (PropertyModel.forwardMembers) in Chromium;
 *  - the fast CPU path the app uses (OrtPropertyPath: the trunk on
 *    onnxruntime-web's WASM provider, one thread) in Chromium;
 *  - WGSL (forwardEnsemble, as GpuPropertyModel runs it) on the adapter at
 *    hand: on SwiftShader (software WebGPU) expect it to be slow.
 * Graph building (neighbour list, one-hot, batching) is excluded on both
 * sides; the page's graph-build time is printed on its own. Each figure is
 * the sample size over the best of up to 3 passes over it after a warm-up
 * on its first two batches; a figure stops repeating once its passes add
 * up to 60 s (the slow paths on a software adapter get one pass, cut at
 * the budget: then the figure is the crystals done over their time).
 * Prints one Markdown table (with ratios to PyTorch 1 thread) and a check
 * that all paths predict the same values; copy it into bench/RESULTS.md
 * with the date and adapter. Progress goes to stderr.
 *
 *   npm run bench:properties               (256 crystals, batch 1, 16, 256)
 *   npm run bench:properties -- --quick    (32 crystals, batch 1 and 16, 1 pass)
 *   npm run bench:properties -- --n 512    (another sample size, a multiple of 256)
 *   npm run bench:properties -- --budget 120 (seconds of timed passes per figure)
 *   npm run bench:properties -- --batches 1,64 (other batch sizes)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { JsonCrystal, PropertiesBenchRun } from '../src/gpu-lab/properties-lab.ts';
import { openGpuLab } from './gpu-lab-page.ts';

interface PyBench {
  date: string;
  model: { path: string; created: string; members: number };
  torch: string;
  cpu: string;
  cores: number;
  repeat: number;
  budget: number;
  sample: { n: number; seed: number; cutoff: number; meanAtoms: number; meanEdges: number; maxAtoms: number; ids: string[] };
  results: { threads: number; batch: number; seconds: number; passes: number; structuresPerSecond: number }[];
  predictions: number[][];
}

const quick = process.argv.includes('--quick');
const nAt = process.argv.indexOf('--n');
const n = nAt >= 0 ? Number(process.argv[nAt + 1]) : quick ? 32 : 256;
const budgetAt = process.argv.indexOf('--budget');
const budget = budgetAt >= 0 ? Number(process.argv[budgetAt + 1]) : 60;
const batchesAt = process.argv.indexOf('--batches');
const batches = batchesAt >= 0 ? process.argv[batchesAt + 1].split(',').map(Number) : quick ? [1, 16] : [1, 16, 256];
const repeat = quick ? 1 : 3;
if (!batches.every((b) => Number.isInteger(b) && b > 0)) throw new Error('--batches takes batch sizes, e.g. 1,16,256');
if (!Number.isInteger(n) || n < 1 || batches.some((b) => n % b)) throw new Error(`--n ${n}: take a multiple of every batch size (${batches.join(', ')})`);
if (!(budget > 0)) throw new Error('--budget takes seconds');
const port = Number(process.env.BENCH_PORT ?? 4274);
const log = (s: string) => process.stderr.write(`${s}\n`);

const dir = mkdtempSync(join(tmpdir(), 'bench-properties-'));
try {
  // 1. PyTorch, and the sample.
  const pyOut = join(dir, 'pytorch.json');
  const structuresOut = join(dir, 'structures.json');
  log('PyTorch (models/properties/bench.py) …');
  const args = [
    '-m',
    'properties.bench',
    '--out',
    pyOut,
    '--structures',
    structuresOut,
    '--n',
    String(n),
    '--repeat',
    String(repeat),
    '--budget',
    String(budget),
    '--batches',
    batches.join(','),
  ];
  if (quick) args.push('--quick');
  const py = spawnSync('/usr/bin/python3', args, { cwd: resolve('models'), stdio: ['ignore', 2, 2] });
  if (py.status !== 0) throw new Error(`properties.bench failed (${py.error?.message ?? `exit ${py.status}`})`);
  const torch = JSON.parse(readFileSync(pyOut, 'utf8')) as PyBench;
  const { crystals } = JSON.parse(readFileSync(structuresOut, 'utf8')) as { crystals: JsonCrystal[] };

  // 2. The same crystals in Chromium: TypeScript CPU, then WGSL.
  const { page, browser, close } = await openGpuLab(port);
  try {
    const info = await page.evaluate(() => window.gpuLab.info());
    const adapter = 'error' in info ? `none (${info.error})` : `${info.adapter}${info.software ? ' (software)' : ''}`;
    log('TypeScript reference and WASM in Chromium …');
    const cpu = await page.evaluate((a) => window.gpuLab.propertiesBench(a), {
      crystals,
      batches,
      repeat,
      budgetMs: 1000 * budget,
      backends: ['cpu' as const, 'wasm' as const],
    });
    if ('error' in cpu) throw new Error(cpu.error);
    let gpu: typeof cpu | null = null;
    if (!('error' in info)) {
      log(`WGSL on ${adapter} …`);
      const g = await page.evaluate((a) => window.gpuLab.propertiesBench(a), {
        crystals,
        batches,
        repeat,
        budgetMs: 1000 * budget,
        backends: ['webgpu' as const],
      });
      if ('error' in g) throw new Error(g.error);
      gpu = g;
    }

    // 3. The report.
    const s = torch.sample;
    console.log(
      `Date: ${new Date().toISOString().slice(0, 10)}; adapter: ${adapter}; Chromium ${browser.version()}; CPU: ${torch.cpu}, ${torch.cores} cores; PyTorch ${torch.torch}\n`,
    );
    console.log(
      `Model: ${torch.model.path} (created ${torch.model.created}, ${torch.model.members} member${torch.model.members > 1 ? 's' : ''}, all run per batch). Sample: ${s.n} test-split crystals (seeded permutation, seed ${s.seed}), ` +
        `mean ${s.meanAtoms.toFixed(1)} atoms (max ${s.maxAtoms}) and ${s.meanEdges.toFixed(1)} directed edges within ${s.cutoff} Å ` +
        `(${cpu.meanEdges.toFixed(1)} in the TypeScript graphs). Graph building not timed: in the page it took ${cpu.msGraphs.toFixed(0)} ms for the ${s.n} crystals ` +
        `(${(cpu.msGraphs / s.n).toFixed(2)} ms each, ${((1000 * s.n) / cpu.msGraphs).toFixed(0)} structures/s). ` +
        `Each figure: the sample size over the best of up to ${repeat} pass${repeat > 1 ? 'es' : ''} over the sample (fewer once they add up to ${budget} s), after a warm-up on its first two batches.\n`,
    );
    type Cell = { structuresPerSecond: number; passes: number; structures?: number } | undefined;
    const browserRow = (label: string, runs: PropertiesBenchRun[] | undefined, backend: PropertiesBenchRun['backend']) => ({
      label,
      cell: (b: number): Cell => runs?.find((r) => r.batch === b && r.backend === backend),
    });
    const rows = [
      ...[1, 2].map((t) => ({
        label: `PyTorch CPU, ${t} thread${t > 1 ? 's' : ''}`,
        cell: (b: number): Cell => torch.results.find((r) => r.threads === t && r.batch === b),
      })),
      browserRow('TypeScript reference (Chromium)', cpu.runs, 'cpu'),
      browserRow('WASM: ONNX trunk on onnxruntime-web, 1 thread (Chromium; the app’s CPU path)', cpu.runs, 'wasm'),
      browserRow(`WGSL (${gpu ? gpu.adapter : 'no WebGPU'})`, gpu?.runs, 'webgpu'),
    ].map((r) => ({ ...r, rate: (b: number) => r.cell(b)?.structuresPerSecond }));
    const base = rows[0];
    const fmt = (x: number | undefined) => (x === undefined ? '–' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
    const ratio = (x: number | undefined, b: number) => {
      const r0 = base.rate(b);
      if (x === undefined || r0 === undefined) return '–';
      const r = x / r0;
      return `${r >= 10 ? r.toFixed(0) : r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}×`;
    };
    console.log(`### Crystal-property MEGNet ensemble throughput (structures/s), ${s.n} test crystals\n`);
    console.log(`| path | ${batches.map((b) => `batch ${b}`).join(' | ')} | ${batches.map((b) => `vs PyTorch 1 thread, batch ${b}`).join(' | ')} |`);
    console.log(`|---|${batches.map(() => '---:|').join('')}${batches.map(() => '---:|').join('')}`);
    for (const r of rows)
      console.log(`| ${r.label} | ${batches.map((b) => fmt(r.rate(b))).join(' | ')} | ${batches.map((b) => ratio(r.rate(b), b)).join(' | ')} |`);

    // Same crystals, same weights: the ensemble means should agree to float32 rounding.
    // (Over the crystals each path finished: a pass cut at the budget covers fewer.)
    const maxDiff = (p: number[][] | undefined) => (p ? Math.max(...p.flatMap((row, i) => row.map((y, t) => Math.abs(y - torch.predictions[i][t])))) : NaN);
    const diffs = [`TypeScript reference ${maxDiff(cpu.predictions.cpu).toExponential(1)}`, `WASM ${maxDiff(cpu.predictions.wasm).toExponential(1)}`];
    if (gpu) diffs.push(`WGSL ${maxDiff(gpu.predictions.webgpu).toExponential(1)} (${gpu.predictions.webgpu?.length ?? 0} crystals)`);
    const short = rows.flatMap((r) => batches.flatMap((b) => ((r.cell(b)?.passes ?? repeat) < repeat ? [`${r.label} batch ${b}: ${r.cell(b)!.passes}`] : [])));
    if (short.length) console.log(`\nFewer passes (the ${budget} s budget): ${short.join('; ')}.`);
    const cut = rows.flatMap((r) =>
      batches.flatMap((b) => {
        const c = r.cell(b);
        return c?.structures !== undefined && c.structures < s.n ? [`${r.label} batch ${b}: ${c.structures} of ${s.n}`] : [];
      }),
    );
    if (cut.length) console.log(`\nOne pass cut at the budget (figure = crystals done / their time): ${cut.join('; ')}.`);
    console.log(`\nLargest |ensemble mean − PyTorch| over the sample and the three targets: ${diffs.join(', ')}.`);
  } finally {
    await close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
