import { expect, test, type Page } from '@playwright/test';
import { waitForServiceWorker } from './service-worker';

/**
 * Predicted crystal properties in the right column, from the full-graph
 * MEGNet running in the property worker.
 */
async function openBuiltin(page: Page, query: string, name: RegExp): Promise<void> {
  await expect(page.getByTestId('structure-list').getByRole('option').first()).toBeVisible({ timeout: 30_000 });
  await page.getByTestId('search').fill(query);
  await page.getByTestId('structure-list').getByRole('option', { name }).getByRole('button').first().click();
}

test('opening Si shows three predicted properties with units and spread, computed off the page thread', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await openBuiltin(page, 'Si', /^Silicon/);
  await expect(page.getByTestId('formula')).toContainText('Si');
  const values = page.getByTestId('props-values');
  await expect(values).toBeVisible({ timeout: 30_000 });
  // The shipped model is an ensemble, so every value comes with its spread.
  await expect(page.getByTestId('props-eform')).toHaveText(/^-?\d+\.\d{3} ± \d+\.\d{3} eV\/atom$/);
  await expect(page.getByTestId('props-gap')).toHaveText(/^\d+\.\d{3} ± \d+\.\d{3} eV$/);
  await expect(page.getByTestId('props-ehull')).toHaveText(/^\d+\.\d{3} ± \d+\.\d{3} eV\/atom$/);
  await expect(page.getByTestId('props-latency')).toContainText(/3 models/);
  await expect(page.getByTestId('props-latency')).toContainText(/ms on the (CPU \(WebAssembly\)|GPU \(WebGPU\))/);
  await expect(page.getByTestId('props-warning')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('the backend choice is measured once and remembered on the next visit (the first prediction does not wait for it)', async ({ page }) => {
  // The first prediction of a visit is the default structure's: on the first visit it includes the measurement.
  await page.goto('/');
  const latency = page.getByTestId('props-latency');
  await expect(latency).toContainText('chosen by a measurement', { timeout: 60_000 });
  await expect(latency).not.toContainText('remembered');
  // The whole wait, worker round trip included (shown when it exceeds the compute time), else the compute time.
  const ms = async () => {
    const text = (await latency.textContent()) ?? '';
    return Number((/\(([\d.]+) ms with the worker round trip\)/.exec(text) ?? /^([\d.]+) ms/.exec(text))![1]);
  };
  const measured = await ms();
  await page.reload();
  await expect(latency).toContainText('remembered', { timeout: 60_000 });
  // Each path ran twice, the GPU compiling its pipelines, on the first visit; not on this one (3.7 → 2.1 s here; the rest is loading onnxruntime).
  expect(await ms()).toBeLessThan(measured);
});

test('predictions work offline: the worker and the model weights are precached', async ({ page, context }) => {
  await page.goto('/');
  await waitForServiceWorker(page);
  await context.setOffline(true);
  await page.reload();
  await openBuiltin(page, 'Cu', /^Copper/);
  await expect(page.getByTestId('props-eform')).toHaveText(/eV\/atom$/, { timeout: 30_000 });
  // The fast CPU path (onnxruntime's WASM build and the ONNX trunk) came from the precache too.
  await expect(page.getByTestId('props-latency')).toContainText(/ms on the (CPU \(WebAssembly\)|GPU \(WebGPU\))/);
  await context.setOffline(false);
});

test('a monolayer is predicted with a warning that the model knows bulk crystals only', async ({ page }) => {
  await page.goto('/');
  await openBuiltin(page, 'MoS2', /monolayer/);
  await expect(page.getByTestId('props-values')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('props-warning')).toContainText(/bulk crystals/);
});

/** A multi-frame extended XYZ of `n` small cubic binaries with varied lattice constants. */
function manyCrystals(n: number): string {
  const pairs = [
    ['Na', 'Cl'],
    ['Mg', 'O'],
    ['Cs', 'Cl'],
    ['Li', 'F'],
    ['K', 'Br'],
    ['Ca', 'S'],
  ];
  let out = '';
  for (let k = 0; k < n; k++) {
    const [a, b] = pairs[k % pairs.length];
    const L = (3.2 + 0.02 * k).toFixed(3);
    out += `2\nLattice="${L} 0 0 0 ${L} 0 0 0 ${L}" Properties=species:S:1:pos:R:3 pbc="T T T" name=c${k}\n${a} 0 0 0\n${b} ${(Number(L) / 2).toFixed(3)} ${(Number(L) / 2).toFixed(3)} ${(Number(L) / 2).toFixed(3)}\n`;
  }
  return out;
}

test('Predict all runs over an imported dataset with progress, survives a reload, is searchable and plotted', async ({ page }) => {
  test.setTimeout(180_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await expect(page.getByTestId('structure-list').getByRole('option').first()).toBeVisible({ timeout: 30_000 });
  await page.getByTestId('file-input').setInputFiles({ name: 'binaries.xyz', mimeType: 'chemical/x-xyz', buffer: Buffer.from(manyCrystals(240)) });
  await expect(page.getByTestId('message-info')).toContainText('Imported 240 structures (binaries.xyz: 240 frames)');
  const list = page.getByTestId('structure-list');

  await page.getByTestId('predict-all').click();
  // Progress is visible while it runs (the worker keeps the page responsive), then every record has its numbers.
  await expect(page.getByTestId('predict-progress')).toBeVisible();
  await expect(page.getByTestId('search')).toBeEditable();
  await expect(page.getByTestId('predict-progress')).toHaveCount(0, { timeout: 120_000 });
  await expect(page.getByTestId('message-info').last()).toContainText(/Predicted 240 structures \((CPU, WebAssembly|WebGPU)/);
  await expect(list.getByTestId('record-prediction')).toHaveCount(240);

  await page.reload();
  await expect(list.getByRole('option').first()).toBeVisible({ timeout: 30_000 });
  await expect(list.getByTestId('record-prediction')).toHaveCount(240);
  await expect(page.getByTestId('predict-all')).toHaveText('Predict all');

  // Search by predicted value: every match satisfies it, and the complement is the rest.
  await page.getByTestId('search').fill('eform<-1.5');
  const below = Number((await page.getByTestId('count').innerText()).split(' / ')[0]);
  await page.getByTestId('search').fill('eform>=-1.5');
  const above = Number((await page.getByTestId('count').innerText()).split(' / ')[0]);
  expect(below + above).toBe(240);
  await page.getByTestId('search').fill('');

  await page.getByTestId('plot-toggle').click();
  const plot = page.getByTestId('property-plot');
  await expect(plot).toHaveAttribute('data-points', /"id"/);
  const points = JSON.parse((await plot.getAttribute('data-points'))!) as { id: string; x: number; y: number }[];
  await plot.click({ position: { x: points[7].x, y: points[7].y } });
  // The record opened is a point under the click (points may overlap), and the view shows it.
  // (Reading the selection at once could catch the record open before the click.)
  const under = new Set(points.filter((q) => Math.hypot(q.x - points[7].x, q.y - points[7].y) < 4).map((q) => q.id));
  const selected = list.getByRole('option', { selected: true });
  await expect.poll(async () => under.has((await selected.getAttribute('data-id')) ?? '')).toBe(true);
  const opened = await selected.locator('.name').innerText();
  await expect(page.getByTestId('structure-title')).toHaveText(opened);
  expect(errors).toEqual([]);
});
