/**
 * Crystal-generation benchmark (`npm run bench:generate`, after `vite build`):
 * time to generate 16 crystals with the shipped perov_5 CDVAE
 *  - in the browser (the app's Generate view, Chromium), on onnxruntime-web's
 *    WebGPU and WASM execution providers: total wall time as the user sees it
 *    (including drawing the denoising frames) and the time inside the model;
 *  - in Node, the CLI's path (onnxruntime-web WASM, one thread);
 *  - in PyTorch on the CPU (models/cdvae/sample.py, one thread), the reference.
 * Two workloads: 1 Langevin step per noise level (50 steps) everywhere, and
 * the default 10 per level (500 steps) where it finishes in minutes (on a
 * software WebGPU adapter a step costs ~1 s, so WebGPU gets only the first).
 * Prints a Markdown table; copy it into bench/RESULTS.md with the date.
 *
 *   npm run bench:generate               (both workloads)
 *   npm run bench:generate -- --quick    (50 steps only)
 */
import { execFileSync } from 'node:child_process';
import type { Page } from '@playwright/test';
import { sampleFromCli } from '../src/cli/sample.ts';
import { launchChromium } from './browser.ts';
import { startPreview } from './preview-server.ts';

const quick = process.argv.includes('--quick');
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
  await page.getByTestId('gen-result').nth(N - 1).waitFor({ timeout: 3_600_000 });
  const used = (await page.getByTestId('gen-provider-used').textContent()) ?? '';
  if (!used.includes(provider === 'webgpu' ? 'WebGPU' : 'WASM')) {
    const why = (await page.getByTestId('gen-fallback').count()) ? await page.getByTestId('gen-fallback').textContent() : '';
    throw new Error(`asked for ${provider}, ran on: ${used} ${why}`);
  }
  const text = (await page.getByTestId('gen-timing').textContent()) ?? '';
  const m = text.match(/(\d+) steps in ([\d.]+) s \(model ([\d.]+) s/);
  if (!m) throw new Error(`cannot read the timing: ${text}`);
  return { where: `browser, onnxruntime-web ${provider === 'webgpu' ? 'WebGPU' : 'WASM'}`, steps: Number(m[1]), totalS: Number(m[2]), modelS: Number(m[3]) };
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

async function nodeRun(stepsPerLevel: number): Promise<Row> {
  const { result } = await sampleFromCli({ model: 'perov_5', n: N, seed: SEED, stepsPerLevel });
  return { where: 'Node CLI, onnxruntime-web WASM (1 thread)', steps: result.steps, totalS: result.ms / 1000, modelS: result.modelMs / 1000 };
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
  // WebGPU first: onnxruntime-web sets up its WebGPU backend only if the first session asks for it.
  await browserRun(page, 'webgpu', 1); // warm-up (session creation, shader compilation), not counted
  rows.push(await browserRun(page, 'webgpu', 1));
  for (const spl of quick ? [1] : [1, 10]) {
    // Warm-up run (session creation) is not counted.
    await browserRun(page, 'wasm', 1);
    rows.push(await browserRun(page, 'wasm', spl));
    await nodeRun(1);
    rows.push(await nodeRun(spl));
    rows.push(pytorchRun(spl));
  }
} finally {
  await browser.close();
  await server.close();
}

console.log('| where | Langevin steps | total s | in the model s | total / PyTorch (same steps) |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) {
  const ref = rows.find((x) => x.where.startsWith('PyTorch') && x.steps === r.steps);
  console.log(`| ${r.where} | ${r.steps} | ${r.totalS.toFixed(2)} | ${r.modelS === null ? '–' : r.modelS.toFixed(2)} | ${ref ? (r.totalS / ref.totalS).toFixed(2) : '–'} |`);
}
