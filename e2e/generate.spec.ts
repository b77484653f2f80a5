/**
 * The Generate view: a visitor presses Generate and crystals condense out of
 * noise; each result has a formula, a space group, validity checks and a
 * predicted property; the provider in use is shown; results can be saved
 * into a dataset and exported as CIF.
 */
import { expect, test, type Page } from '@playwright/test';
import { waitForServiceWorker } from './service-worker';

async function openGenerate(page: Page, navigate = true): Promise<void> {
  if (navigate) await page.goto('/');
  await expect(page.getByTestId('structure-list').getByRole('option').first()).toBeVisible({ timeout: 30_000 });
  await page.getByTestId('mode-generate').click();
  await expect(page.getByRole('region', { name: 'Generate crystals' })).toBeVisible();
}

async function generate(page: Page, n: number, steps: number, seed = 1): Promise<void> {
  await page.getByTestId('gen-n').fill(String(n));
  await page.getByTestId('gen-steps').fill(String(steps));
  await page.getByTestId('gen-seed').fill(String(seed));
  await page.getByTestId('gen-run').click();
}

test('Generate on the default provider: progress, denoising frames, results with checks, save and export', async ({ page }) => {
  test.setTimeout(180_000);
  await openGenerate(page);
  // A short run can finish between two of Playwright's polls, so the page
  // itself records whether the progress bar and a frame label were ever shown.
  await page.evaluate(() => {
    const seen = { progress: false, frame: '' };
    (window as unknown as { seenWhileRunning: typeof seen }).seenWhileRunning = seen;
    new MutationObserver(() => {
      if (document.querySelector('[data-testid="gen-progress"]')) seen.progress = true;
      const frame = document.querySelector('[data-testid="gen-frame"]')?.textContent ?? '';
      if (frame.includes('step')) seen.frame = frame;
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  // Nothing is drawn before the first generation, so no render figures of the previous view remain.
  await expect(page.getByTestId('render-info')).toHaveCount(0);
  await generate(page, 3, 2);
  await expect(page.getByTestId('gen-result')).toHaveCount(3, { timeout: 150_000 });
  // The 3D view followed the denoising: a progress bar and frame labels were shown while it ran.
  const seen = await page.evaluate(() => (window as unknown as { seenWhileRunning: { progress: boolean; frame: string } }).seenWhileRunning);
  expect(seen.progress).toBe(true);
  expect(seen.frame).toContain('step');
  // 'auto' on SwiftShader picks WASM and says why; on a hardware GPU it would be WebGPU.
  await expect(page.getByTestId('gen-provider-used')).toContainText(/onnxruntime-web, (WebGPU|WASM) execution provider/);
  await expect(page.getByTestId('gen-fallback')).toContainText('software renderer');
  await expect(page.getByTestId('gen-timing')).toContainText('3 crystals, 100 steps');
  await expect(page.getByTestId('gen-formula')).toHaveText(/^[A-Z][a-z]?\d*/);
  await expect(page.getByTestId('gen-sg')).not.toBeEmpty();
  // The properties panel analyses the same crystal: same space-group number as the details box.
  // (The details box names none for a structurally invalid crystal; the panel still analyses it.)
  const sgNumber = /(\d+)\)$/.exec((await page.getByTestId('gen-sg').textContent())!)?.[1];
  await expect(page.getByTestId('spacegroup')).toHaveText(sgNumber ? new RegExp(`\\(${sgNumber}\\)$`) : /\(\d+\)$/);
  await expect(page.getByTestId('gen-property')).toContainText('eV/atom');
  await expect(page.getByRole('img', { name: /3D view of/ })).toBeVisible();

  // Keyboard: arrow keys move through the results.
  await page.getByTestId('gen-result').first().click();
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId('gen-result').nth(1)).toHaveClass(/selected/);

  // Export the selected crystal as CIF.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('gen-export').click()]);
  const cif = await (await dl.createReadStream()).toArray();
  expect(Buffer.concat(cif).toString()).toContain('_cell_length_a');

  // Replay: the bar follows the frame shown (not the finished run's 100 %), and Cancel stops it.
  await page.evaluate(() => {
    const labels: string[] = [];
    (window as unknown as { replayLabels: string[] }).replayLabels = labels;
    new MutationObserver(() => {
      const t = document.querySelector('[data-testid="gen-progress"] span')?.textContent;
      if (t) labels.push(t);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await page.getByTestId('gen-replay').click();
  await expect(page.getByTestId('gen-progress')).toBeVisible();
  await page.waitForTimeout(400);
  await page.getByTestId('gen-cancel').click();
  await expect(page.getByTestId('gen-progress')).toHaveCount(0, { timeout: 2_000 });
  const labels = await page.evaluate(() => (window as unknown as { replayLabels: string[] }).replayLabels);
  const steps = labels.map((l) => /^(\d+)% · step (\d+) \/ (\d+)/.exec(l)).filter((m) => m !== null);
  expect(steps.length).toBeGreaterThan(0);
  for (const m of steps) expect(Number(m[1]), m[0]).toBe(Math.round((100 * Number(m[2])) / Number(m[3])));

  // Save all into the "Generated crystals" dataset.
  await page.getByTestId('gen-save-all').click();
  await expect(page.getByText('Saved 3 crystals into “Generated crystals”.')).toBeVisible();
});

test('generation runs in a worker: the page answers, the animation moves, progress shows at once, Cancel stops it (issue 30)', async ({ page }) => {
  test.setTimeout(180_000);
  await openGenerate(page);
  await page.getByTestId('gen-provider').selectOption('wasm');
  // Open the model first, so the run below measures sampling, not loading.
  await generate(page, 1, 1);
  await expect(page.getByTestId('gen-result')).toHaveCount(1, { timeout: 120_000 });

  // A long run of the default 8 crystals: 50 levels x 40 steps.
  await page.getByTestId('gen-n').fill('8');
  await page.getByTestId('gen-steps').fill('40');
  const started = await page.evaluate(async () => {
    const t0 = performance.now();
    (document.querySelector('[data-testid="gen-run"]') as HTMLButtonElement).click();
    // Progress from the first step: the bar appears with a step count, not after a third of the run.
    for (;;) {
      const t = document.querySelector('[data-testid="gen-progress"] progress') as HTMLProgressElement | null;
      if (t && t.value > 0) return { ms: performance.now() - t0, fraction: t.value / t.max };
      await new Promise((r) => setTimeout(r, 5));
    }
  });
  expect(started.fraction).toBeLessThan(0.05);

  // For 3 s: how late the page's timers run (a frozen page answers nothing), and how many frames the view shows.
  const during = await page.evaluate(async () => {
    const frames = new Set<string>();
    const observer = new MutationObserver(() => frames.add(document.querySelector('[data-testid="gen-frame"]')?.textContent ?? ''));
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
    let worst = 0;
    const bar = () => (document.querySelector('[data-testid="gen-progress"] progress') as HTMLProgressElement | null)?.value ?? 0;
    const step0 = bar();
    const end = performance.now() + 3000;
    while (performance.now() < end) {
      const t = performance.now();
      await new Promise((r) => setTimeout(r, 20));
      worst = Math.max(worst, performance.now() - t - 20);
    }
    observer.disconnect();
    const stillRunning = Boolean(document.querySelector('[data-testid="gen-cancel"]'));
    return { worstLagMs: worst, frames: frames.size, stillRunning, steps: bar() - step0 };
  });
  // Functional bounds, generous for a loaded CI machine (on the main thread a run froze the page
  // for up to 9 s and showed 9 frames in 22 s); `npm run bench:generate` measures the figures.
  expect(during.stillRunning).toBe(true);
  expect(during.worstLagMs).toBeLessThan(1000);
  // About 12 frames a second on a hardware renderer; 4 where WebGL rasterises on the CPU, as here on SwiftShader,
  // because there every repaint takes CPU from the sampler (generate/protocol.ts SOFTWARE_PACE).
  const software = await page.evaluate(() => {
    const gl = document.createElement('canvas').getContext('webgl');
    const info = gl?.getExtension('WEBGL_debug_renderer_info');
    return /swiftshader|llvmpipe|softpipe|software|basic render/i.test(String(gl?.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER)));
  });
  expect(during.frames).toBeGreaterThanOrEqual(software ? 6 : 10);

  // Cancel: the run stops and says so at once (the goal is 200 ms; measured by the benchmark).
  const cancelMs = await page.evaluate(async () => {
    const t0 = performance.now();
    (document.querySelector('[data-testid="gen-cancel"]') as HTMLButtonElement).click();
    for (;;) {
      if (document.querySelector('[data-testid="gen-error"]')?.textContent?.includes('cancelled')) return performance.now() - t0;
      await new Promise((r) => setTimeout(r, 2));
    }
  });
  expect(cancelMs).toBeLessThan(1000);
  await expect(page.getByTestId('gen-run')).toBeEnabled();
});

test('WebGPU can be chosen explicitly and runs the score network', async ({ page }) => {
  test.setTimeout(240_000);
  await openGenerate(page);
  await page.getByTestId('gen-provider').selectOption('webgpu');
  await generate(page, 2, 1);
  await expect(page.getByTestId('gen-result')).toHaveCount(2, { timeout: 220_000 });
  await expect(page.getByTestId('gen-provider-used')).toContainText('WebGPU execution provider');
  await expect(page.getByTestId('gen-fallback')).toHaveCount(0);
});

test('the WASM provider can be chosen, seeds are reproducible, bad input is refused', async ({ page }) => {
  test.setTimeout(180_000);
  await openGenerate(page);
  await page.getByTestId('gen-provider').selectOption('wasm');
  await generate(page, 2, 1, 42);
  await expect(page.getByTestId('gen-result')).toHaveCount(2, { timeout: 120_000 });
  await expect(page.getByTestId('gen-provider-used')).toContainText('WASM execution provider');
  // perov_5 ships its score weights: the score network runs on the project's WASM SIMD kernels
  await expect(page.getByTestId('gen-provider-used')).toContainText('hand-written WASM SIMD kernels for the score network');
  await expect(page.getByTestId('gen-fallback')).toHaveCount(0);
  const first = await page.getByTestId('gen-results').textContent();
  await generate(page, 2, 1, 42);
  await expect(page.getByTestId('gen-timing')).toBeVisible();
  await expect(page.getByTestId('gen-result')).toHaveCount(2, { timeout: 120_000 });
  expect(await page.getByTestId('gen-results').textContent()).toBe(first);

  await page.getByTestId('gen-n').fill('100000');
  await page.getByTestId('gen-run').click();
  await expect(page.getByTestId('gen-error')).toContainText('Number of samples must be a whole number from 1 to 256');
});

test('generation works offline after the first visit (model and runtime are precached)', async ({ page, context }) => {
  test.setTimeout(180_000);
  await page.goto('/');
  // The first visit's precache alone must be enough: wait until the worker controls the page.
  await waitForServiceWorker(page, 60_000);
  // The service worker finishes installing (27 MB of runtime) before it controls the page.
  await context.setOffline(true);
  await page.reload();
  await openGenerate(page, false);
  await page.getByTestId('gen-provider').selectOption('wasm');
  await generate(page, 2, 1);
  await expect(page.getByTestId('gen-result')).toHaveCount(2, { timeout: 120_000 });
  // every shipped model is precached, the target mode's property head included
  await page.getByTestId('gen-model').selectOption('carbon_24');
  await page.getByTestId('gen-target').selectOption('max');
  await page.getByTestId('gen-target-steps').fill('100');
  await generate(page, 1, 1);
  await expect(page.getByTestId('gen-target-summary')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('gen-result')).toHaveCount(1);
  await expect(page.getByTestId('gen-error')).toHaveCount(0);
  await page.getByTestId('gen-model').selectOption('mp20_biternary_pilot');
  await page.getByTestId('gen-target').selectOption('none');
  await generate(page, 1, 1, 2);
  // The carbon result is replaced by the new one. (Waiting for the old row to
  // detach raced: on the kernels this run takes 0.2 s, and the locator then
  // resolved to the new row, which never detaches.)
  await expect(page.getByRole('heading', { level: 2, name: /mp20_biternary_pilot CDVAE, seed 2, #1/ })).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('gen-result')).toHaveCount(1);
  await expect(page.getByTestId('gen-novelty')).toHaveCount(1);
  await expect(page.getByTestId('gen-error')).toHaveCount(0);
  await context.setOffline(false);
});

test('carbon_24: the model says what it was trained on and generates carbon only', async ({ page }) => {
  test.setTimeout(180_000);
  await openGenerate(page);
  await page.getByTestId('gen-model').selectOption('carbon_24');
  await expect(page.getByTestId('gen-model-about')).toContainText('Carbon structures of 6–24 atoms');
  // The details describe the selected model before any run (they named the
  // perov_5 model opened on entering the view until session 31).
  const details = page.getByRole('region', { name: 'Generated crystal' });
  await expect(details).toContainText('trained on carbon_24', { timeout: 60_000 });
  await expect(details).toContainText('Its score network is PaiNN');
  await expect(details).not.toContainText('perov_5');
  await page.getByTestId('gen-provider').selectOption('wasm');
  await generate(page, 2, 1, 5);
  await expect(page.getByTestId('gen-result')).toHaveCount(2, { timeout: 150_000 });
  for (const f of await page.getByTestId('gen-result').locator('.formula').allTextContents()) expect(f).toMatch(/^C\d*$/);
  // each row carries its validity check (the rates are measured in models/RESULTS.md; one Langevin step per level is too few to expect validity)
  await expect(page.getByTestId('gen-result').locator('.ok, .bad')).toHaveCount(2);
  // each row says whether a training crystal matches it
  await expect(page.getByTestId('gen-novelty')).toHaveCount(2);
  await expect(page.getByTestId('gen-novelty-summary')).toContainText(/\d new \(no training crystal matches\), \d unique in this batch/);
  await expect(page.getByTestId('gen-new')).toContainText(/^(yes|no)/);
  await expect(page.getByTestId('gen-property')).toContainText('eV/atom');
});

test('mp20_biternary_pilot: the model says what it was trained on, generates compounds of its elements and aims at a formation energy', async ({ page }) => {
  test.setTimeout(180_000);
  await openGenerate(page);
  await page.getByTestId('gen-model').selectOption('mp20_biternary_pilot');
  await expect(page.getByTestId('gen-model-about')).toContainText('Materials Project crystals of 1–20 atoms');
  await page.getByTestId('gen-provider').selectOption('wasm');
  await page.getByTestId('gen-target').selectOption('max');
  await page.getByTestId('gen-target-steps').fill('500');
  await generate(page, 2, 1, 4);
  await expect(page.getByTestId('gen-result')).toHaveCount(2, { timeout: 150_000 });
  await expect(page.getByTestId('gen-error')).toHaveCount(0);
  // formulas of element symbols only (no "?" for an index outside the vocabulary)
  for (const f of await page.getByTestId('gen-result').locator('.formula').allTextContents()) expect(f).toMatch(/^([A-Z][a-z]?\d*)+$/);
  await expect(page.getByTestId('gen-result').locator('.ok, .bad')).toHaveCount(2);
  await expect(page.getByTestId('gen-novelty')).toHaveCount(2);
  await expect(page.getByTestId('gen-property')).toContainText('eV/atom');
  await expect(page.getByText('Predicted formation energy')).toBeVisible();
  // "highest" raised the head for both crystals
  for (const text of await page.getByTestId('gen-result-property').allTextContents()) {
    const [before, after] = text.split('→').map(Number);
    expect(after).toBeGreaterThan(before);
  }
});

test('target mode: "lowest" moves the property head down for every crystal, with its progress', async ({ page }) => {
  test.setTimeout(180_000);
  await openGenerate(page);
  await page.getByTestId('gen-provider').selectOption('wasm');
  await page.getByTestId('gen-target').selectOption('min');
  await page.getByTestId('gen-target-steps').fill('3000');
  await page.evaluate(() => {
    const w = window as unknown as { phases: Set<string> };
    w.phases = new Set();
    new MutationObserver(() => {
      const t = document.querySelector('[data-testid="gen-phase"]')?.textContent ?? '';
      if (t) w.phases.add(t.includes('gradient steps') ? 'optimise' : 'sample');
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await generate(page, 3, 1, 11);
  await expect(page.getByTestId('gen-result')).toHaveCount(3, { timeout: 150_000 });
  await expect(page.getByTestId('gen-target-summary')).toContainText('Aimed for lowest: 3000 gradient steps');
  for (const text of await page.getByTestId('gen-result-property').allTextContents()) {
    const [before, after] = text.split('→').map(Number);
    expect(after).toBeLessThan(before);
  }
  expect((await page.evaluate(() => [...(window as unknown as { phases: Set<string> }).phases])).sort()).toEqual(['optimise', 'sample']);

  // "highest" from the same seed starts from the same vectors and goes the other way.
  await page.getByTestId('gen-target').selectOption('max');
  await page.getByTestId('gen-run').click();
  await expect(page.getByTestId('gen-target-summary')).toContainText('Aimed for highest', { timeout: 150_000 });
  for (const text of await page.getByTestId('gen-result-property').allTextContents()) {
    const [before, after] = text.split('→').map(Number);
    expect(after).toBeGreaterThan(before);
  }
});
