/**
 * Crystal-generation benchmark (`npm run bench:generate`, after `vite build`):
 * time to generate 16 crystals with the shipped perov_5 CDVAE
 *  - in the browser (the app's Generate view, Chromium), on onnxruntime-web's
 *    WebGPU execution provider and on the app's WASM path (the score network
 *    on the project's WASM SIMD kernels, the heads on onnxruntime-web WASM):
 *    total wall time as the user sees it (including drawing the denoising
 *    frames) and the time inside the model;
 *  - in Node, the CLI's path, one thread: the score network on the project's
 *    WASM SIMD kernels (the default) and on onnxruntime-web WASM;
 *  - in PyTorch on the CPU (models/cdvae/sample.py, one thread), the reference.
 * Two workloads: 1 Langevin step per noise level (50 steps) everywhere, and
 * the default 10 per level (500 steps) where it finishes in minutes (on a
 * software WebGPU adapter a step costs ~1 s, so WebGPU gets only the first).
 * Prints a Markdown table; copy it into bench/RESULTS.md with the date.
 *
 *   npm run bench:generate               (both workloads)
 *   npm run bench:generate -- --quick    (50 steps only)
 *   npm run bench:generate -- --ui       (only the responsiveness section below)
 *   npm run bench:generate -- --no-webgpu (skip the browser's WebGPU rows)
 *   npm run bench:generate -- --steps-per-level 5 (add a workload, e.g. the "fast" preset)
 *
 * Responsiveness (issue 30): during a default run (8 crystals, WASM), how
 * many denoising frames the view shows per second, how many steps the
 * sampler makes per second, the worst lateness of a 20 ms page timer (a
 * frozen page answers nothing), when the progress bar first moves, and how
 * long Cancel takes to stop the run. Medians of 3 runs. With
 * `--reference DIR` (another build, e.g. of the commit before generation
 * moved into a worker) the same figures for it, measured in the same run.
 */
import { execFileSync } from 'node:child_process';
import type { Page } from '@playwright/test';
import { sampleFromCli } from '../src/cli/sample.ts';
import { launchChromium } from './browser.ts';
import { startPreview } from './preview-server.ts';

const quick = process.argv.includes('--quick');
const uiOnly = process.argv.includes('--ui');
const noWebGpu = process.argv.includes('--no-webgpu');
const extraAt = process.argv.indexOf('--steps-per-level');
const extra = extraAt > 0 ? Number(process.argv[extraAt + 1]) : null;
if (extra !== null && !(Number.isInteger(extra) && extra >= 1 && extra <= 200)) throw new Error('--steps-per-level must be a whole number from 1 to 200');
const N = 16;
const SEED = 1;

interface Row {
  where: string;
  steps: number;
  totalS: number;
  modelS: number | null;
}

async function browserRun(page: Page, provider: 'webgpu' | 'wasm', stepsPerLevel: number): Promise<Row> {
  await page.getByTestId('gen-provider').selectOption(provider);
  await page.getByTestId('gen-n').fill(String(N));
  await page.getByTestId('gen-seed').fill(String(SEED));
  await page.getByTestId('gen-steps').fill(String(stepsPerLevel));
  await page.getByTestId('gen-run').click();
  // The previous run's results stay until the new run starts (after the model is reopened).
  await page.getByTestId('gen-result').first().waitFor({ state: 'detached', timeout: 600_000 });
  await page
    .getByTestId('gen-result')
    .nth(N - 1)
    .waitFor({ timeout: 3_600_000 });
  const used = (await page.getByTestId('gen-provider-used').textContent()) ?? '';
  if (!used.includes(provider === 'webgpu' ? 'WebGPU' : 'WASM')) {
    const why = (await page.getByTestId('gen-fallback').count()) ? await page.getByTestId('gen-fallback').textContent() : '';
    throw new Error(`asked for ${provider}, ran on: ${used} ${why}`);
  }
  const text = (await page.getByTestId('gen-timing').textContent()) ?? '';
  const m = text.match(/(\d+) steps in ([\d.]+) s \(model ([\d.]+) s/);
  if (!m) throw new Error(`cannot read the timing: ${text}`);
  const threads = used.match(/(\d+) threads?/)?.[0];
  return {
    where: `browser, ${provider === 'webgpu' ? 'onnxruntime-web WebGPU' : used.includes('WASM SIMD kernels') ? 'WASM SIMD kernels' : 'onnxruntime-web WASM'}${threads ? ` (${threads})` : ''}`,
    steps: Number(m[1]),
    totalS: Number(m[2]),
    modelS: Number(m[3]),
  };
}

function pytorchRun(stepsPerLevel: number): Row {
  // cdvae is a package run from models/ (models/cdvae/README.md).
  const out = execFileSync('/usr/bin/python3', ['-m', 'cdvae.sample', '--n', String(N), '--seed', String(SEED), '--steps-per-level', String(stepsPerLevel)], {
    cwd: 'models',
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 64 << 20,
  });
  const j = JSON.parse(out) as { seconds: number };
  return { where: 'PyTorch 1.13 CPU (1 thread)', steps: 50 * stepsPerLevel, totalS: j.seconds, modelS: null };
}

/** The CLI's path: the score network on the WASM SIMD kernels (the default) or on onnxruntime-web, the heads on onnxruntime-web. */
async function nodeRun(stepsPerLevel: number, score: 'wasm-simd' | 'onnx'): Promise<Row> {
  const { result } = await sampleFromCli({ model: 'perov_5', n: N, seed: SEED, stepsPerLevel, score });
  const where = score === 'onnx' ? 'Node CLI, onnxruntime-web WASM (1 thread)' : 'Node CLI, WASM SIMD kernels (1 thread)';
  return { where, steps: result.steps, totalS: result.ms / 1000, modelS: result.modelMs / 1000 };
}

interface UiRow {
  framesPerS: number;
  stepsPerS: number;
  worstLagMs: number;
  firstProgressMs: number;
  cancelMs: number;
}

async function uiRun(page: Page): Promise<UiRow> {
  await page.getByTestId('gen-provider').selectOption('wasm');
  await page.getByTestId('gen-n').fill('8');
  await page.getByTestId('gen-steps').fill('40');
  // Plain JavaScript in a string: tsx would wrap named functions in a helper the page does not have.
  return page.evaluate(`(async () => {
    const bar = () => document.querySelector('[data-testid="gen-progress"] progress')?.value ?? 0;
    const t0 = performance.now();
    document.querySelector('[data-testid="gen-run"]').click();
    while (bar() === 0) await new Promise((r) => setTimeout(r, 2));
    const firstProgressMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 1000)); // past the first steps
    const frames = new Set();
    const observer = new MutationObserver(() => frames.add(document.querySelector('[data-testid="gen-frame"]')?.textContent ?? ''));
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
    let worstLagMs = 0;
    const step0 = bar();
    const start = performance.now();
    while (performance.now() < start + 5000) {
      const t = performance.now();
      await new Promise((r) => setTimeout(r, 20));
      worstLagMs = Math.max(worstLagMs, performance.now() - t - 20);
    }
    const seconds = (performance.now() - start) / 1000;
    observer.disconnect();
    const steps = bar() - step0;
    const tc = performance.now();
    document.querySelector('[data-testid="gen-cancel"]').click();
    while (!document.querySelector('[data-testid="gen-error"]')?.textContent?.includes('cancelled')) await new Promise((r) => setTimeout(r, 2));
    return { framesPerS: frames.size / seconds, stepsPerS: steps / seconds, worstLagMs, firstProgressMs, cancelMs: performance.now() - tc };
  })()`) as Promise<UiRow>;
}

const port = Number(process.env.BENCH_PORT ?? 4274);
const server = await startPreview(port);
const browser = await launchChromium();
const rows: Row[] = [];
try {
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.getByTestId('mode-generate').click();
  console.log(`Date: ${new Date().toISOString().slice(0, 10)}; Chromium ${browser.version()}; ${N} crystals, seed ${SEED}\n`);
  if (uiOnly) {
    const medians = async (p: Page): Promise<UiRow> => {
      await browserRun(p, 'wasm', 1); // opens the model
      const runs: UiRow[] = [];
      for (let k = 0; k < 3; k++) runs.push(await uiRun(p));
      const med = (f: (r: UiRow) => number) => runs.map(f).sort((a, b) => a - b)[1];
      return {
        framesPerS: med((r) => r.framesPerS),
        stepsPerS: med((r) => r.stepsPerS),
        worstLagMs: med((r) => r.worstLagMs),
        firstProgressMs: med((r) => r.firstProgressMs),
        cancelMs: med((r) => r.cancelMs),
      };
    };
    const ours = await medians(page);
    const refDir = process.argv[process.argv.indexOf('--reference') + 1];
    let ref: UiRow | null = null;
    if (process.argv.includes('--reference') && refDir) {
      const refServer = await startPreview(port + 1, refDir);
      try {
        const refPage = await browser.newPage();
        await refPage.goto(refServer.url);
        await refPage.getByTestId('mode-generate').click();
        ref = await medians(refPage);
        await refPage.close();
      } finally {
        await refServer.close();
      }
    }
    const row = (label: string, f: (r: UiRow) => number, digits: number) =>
      console.log(`| ${label} | ${f(ours).toFixed(digits)} |${ref ? ` ${f(ref).toFixed(digits)} |` : ''}`);
    console.log(`| during a run (8 crystals, WASM), median of 3 | this build |${ref ? ` reference (${refDir}) |` : ''}`);
    console.log(`|---|---:|${ref ? '---:|' : ''}`);
    row('denoising frames shown per s', (r) => r.framesPerS, 1);
    row('sampler steps per s', (r) => r.stepsPerS, 1);
    row('worst lateness of a 20 ms page timer (ms)', (r) => r.worstLagMs, 0);
    row('click to first progress (ms)', (r) => r.firstProgressMs, 0);
    row('Cancel click to stopped (ms)', (r) => r.cancelMs, 0);
  }
  if (!uiOnly && !noWebGpu) {
    await browserRun(page, 'webgpu', 1); // warm-up (session creation, shader compilation), not counted
    rows.push(await browserRun(page, 'webgpu', 1));
  }
  for (const spl of uiOnly ? [] : [...(quick ? [1] : [1, 10]), ...(extra ? [extra] : [])]) {
    // Warm-up run (session creation) is not counted.
    await browserRun(page, 'wasm', 1);
    rows.push(await browserRun(page, 'wasm', spl));
    await nodeRun(1, 'wasm-simd');
    rows.push(await nodeRun(spl, 'wasm-simd'));
    await nodeRun(1, 'onnx');
    rows.push(await nodeRun(spl, 'onnx'));
    rows.push(pytorchRun(spl));
  }
} finally {
  await browser.close();
  await server.close();
}

if (rows.length) console.log('| where | Langevin steps | total s | in the model s | total / PyTorch (same steps) |');
if (rows.length) console.log('|---|---:|---:|---:|---:|');
for (const r of rows) {
  const ref = rows.find((x) => x.where.startsWith('PyTorch') && x.steps === r.steps);
  console.log(
    `| ${r.where} | ${r.steps} | ${r.totalS.toFixed(2)} | ${r.modelS === null ? '–' : r.modelS.toFixed(2)} | ${ref ? (r.totalS / ref.totalS).toFixed(2) : '–'} |`,
  );
}
