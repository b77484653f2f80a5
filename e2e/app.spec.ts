import { expect, test, type Page } from '@playwright/test';
import { waitForServiceWorker } from './service-worker';
import { clickAnAtom } from './click-atom';
import { fileURLToPath } from 'node:url';
import { colourCount, decodePng, inkFraction } from './png';
import { findBonds } from '../src/core/bonds';
import { builtinById } from '../src/core/library/builtins';
import { buildScene } from '../src/core/scene';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** Waits until the app has opened its database and shown the built-in library. */
async function ready(page: Page): Promise<void> {
  await expect(page.getByTestId('structure-list').getByRole('option').first()).toBeVisible({ timeout: 30_000 });
}

async function viewerHasInk(page: Page): Promise<void> {
  // The 3D view is WebGL; its pixels are only reliable through a screenshot.
  await expect
    .poll(async () => {
      const png = decodePng(await page.getByTestId('viewer').screenshot());
      return inkFraction(png) > 0.01 && colourCount(png) > 8;
    })
    .toBe(true);
}

test('the app loads with the built-in library and renders a crystal', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await ready(page);
  await expect(page.getByTestId('dataset-select')).toHaveValue('builtin');
  expect(await page.getByTestId('structure-list').getByRole('option').count()).toBeGreaterThanOrEqual(18);
  await page.getByTestId('search').fill('MoS2');
  await page.getByTestId('structure-list').getByRole('option').first().getByRole('button').first().click();
  await expect(page.getByTestId('formula')).toContainText('MoS2');
  await viewerHasInk(page);
  expect(errors).toEqual([]);
});

test('importing a CIF lists it, renders it, survives reloads and works offline', async ({ page, context }) => {
  await page.goto('/');
  await ready(page);
  // The service worker must control the page before offline can work.
  await waitForServiceWorker(page);

  await page.getByTestId('file-input').setInputFiles(fixture('NaCl.cif'));
  await expect(page.getByTestId('message-info')).toContainText('Imported 1 structure');
  const list = page.getByTestId('structure-list');
  await expect(list.getByRole('option', { name: /NaCl/ })).toBeVisible();
  // Named after its file, with the formula beside it (issue 30).
  await expect(list.getByRole('option', { selected: true }).locator('.name')).toHaveText('NaCl.cif');
  await expect(list.getByRole('option', { selected: true }).locator('.meta')).toContainText('NaCl');
  await expect(page.getByTestId('spacegroup')).toContainText('225');
  await viewerHasInk(page);

  await page.reload();
  await ready(page);
  await expect(page.getByTestId('dataset-select')).not.toHaveValue('builtin');
  await expect(list.getByRole('option', { name: /NaCl/ })).toBeVisible();

  await context.setOffline(true);
  await page.reload();
  await ready(page);
  await expect(list.getByRole('option', { name: /NaCl/ })).toBeVisible();
  await list.getByRole('option', { name: /NaCl/ }).getByRole('button').first().click();
  await viewerHasInk(page);
  await context.setOffline(false);
});

test('a malformed file shows an error naming the file and line, and changes nothing', async ({ page }) => {
  await page.goto('/');
  await ready(page);
  await page.getByTestId('file-input').setInputFiles(fixture('NaCl.cif'));
  await expect(page.getByTestId('message-info')).toContainText('Imported');
  const before = await page.getByTestId('count').textContent();

  // A good file and a broken one together: all or nothing.
  await page.getByTestId('file-input').setInputFiles([fixture('NaCl.cif'), fixture('broken.cif')]);
  const error = page.getByTestId('message-error');
  await expect(error).toContainText('broken.cif');
  await expect(error).toContainText(/line \d+/);
  await expect(error).toContainText('nothing was imported');
  await expect(page.getByTestId('count')).toHaveText(before!);
  await page.reload();
  await ready(page);
  await expect(page.getByTestId('count')).toHaveText(before!);
});

/** Opens the built-in silicon and returns the 3D view's box, for clicking atoms. */
async function openSilicon(page: Page) {
  await page.goto('/');
  await ready(page);
  await page.getByTestId('search').fill('Si');
  await page.getByTestId('structure-list').getByRole('option', { name: /^Si/ }).first().getByRole('button').first().click();
  await viewerHasInk(page);
  return (await page.getByTestId('viewer').boundingBox())!;
}

test('picking an atom shows its element, position and neighbours', async ({ page }) => {
  // Click at the view's centre and around it until an atom is hit.
  await openSilicon(page);
  await clickAnAtom(page, page.getByTestId('picked'));
  await expect(page.getByTestId('picked')).toContainText('Si');
  await expect(page.locator('.neighbors')).toContainText('2.35');
});

test('picking an atom and then opening a smaller structure shows the new one, with no error (issue 30)', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const box = await openSilicon(page);
  // Pick an atom whose site number does not exist in iron (2 sites).
  let site = 0;
  for (let k = 0; k < 49 && site < 3; k++) {
    const [fx, fy] = [0.2 + 0.1 * (k % 7), 0.2 + 0.1 * Math.floor(k / 7)];
    await page.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
    const text = (await page.getByTestId('picked').isVisible()) ? await page.getByTestId('picked').innerText() : '';
    site = Number(text.match(/\(site (\d+)/)?.[1] ?? 0);
  }
  expect(site, 'no atom beyond site 2 was hit').toBeGreaterThanOrEqual(3);
  await page.getByTestId('search').fill('Fe');
  await page.getByTestId('structure-list').getByRole('option', { name: /Iron/ }).first().getByRole('button').first().click();
  await expect(page.getByTestId('formula')).toContainText('Fe');
  await expect(page.getByTestId('picked')).toHaveCount(0);
  // Iron's density (7.87 g/cm³), not silicon's (2.33): the panel is wholly the new structure.
  await expect(page.getByRole('complementary', { name: 'Properties' })).toContainText(/7\.8\d\d g\/cm³/);
  await viewerHasInk(page);
  expect(errors).toEqual([]);
});

test("the view draws the chemist's bonds: SrTiO3 without Sr–Ti or Sr–Sr, CsCl without Cs–Cs (issue 30)", async ({ page }) => {
  await page.goto('/');
  await ready(page);
  for (const [name, id] of [
    [/Strontium titanate/, 'srtio3'],
    [/Caesium chloride/, 'cscl'],
  ] as const) {
    await page.getByTestId('search').fill('');
    await page.getByTestId('structure-list').getByRole('option', { name }).first().getByRole('button').first().click();
    const s = builtinById(id)!.build();
    const expected = buildScene(s, findBonds(s), [1, 1, 1], true).bonds.length;
    await expect(page.getByTestId('render-info')).toContainText(` · ${expected} bonds · `);
    // And the rule drops exactly the contacts a chemist would not draw.
    const pairs = new Set(findBonds(s).map((b) => [s.species[b.i], s.species[b.j]].sort().join('-')));
    expect([...pairs].sort()).toEqual(id === 'srtio3' ? ['O-Sr', 'O-Ti'] : ['Cl-Cs']);
  }
});

test('files dropped on the window are imported, and a dataset exports as a CIF zip', async ({ page }) => {
  await page.goto('/');
  await ready(page);
  const cif = (await import('node:fs')).readFileSync(fixture('NaCl.cif'), 'utf8');
  const dataTransfer = await page.evaluateHandle((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'dropped-NaCl.cif', { type: 'chemical/x-cif' }));
    return dt;
  }, cif);
  await page.dispatchEvent('body', 'dragover', { dataTransfer });
  await page.dispatchEvent('body', 'drop', { dataTransfer });
  await expect(page.getByTestId('message-info')).toContainText('Imported 1 structure');
  await expect(page.getByTestId('structure-list').getByRole('option', { name: /NaCl/ }).first()).toBeVisible();

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'CIF zip' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('My_structures.zip');
  const { unzipSync, strFromU8 } = await import('fflate');
  const entries = unzipSync(new Uint8Array((await import('node:fs')).readFileSync((await file.path())!)));
  const names = Object.keys(entries);
  expect(names.length).toBeGreaterThanOrEqual(1);
  expect(strFromU8(entries[names[0]])).toContain('_cell_length_a');
});

test('the neighbour-list panel runs on WebGPU or the CPU and says which', async ({ page }) => {
  await page.goto('/');
  await ready(page);
  await page.getByTestId('search').fill('Si');
  await page.getByTestId('structure-list').getByRole('option', { name: /^Si/ }).first().getByRole('button').first().click();
  await viewerHasInk(page);
  const panel = page.getByRole('region', { name: 'Neighbour list' });
  await panel.getByLabel('Cutoff in Å').fill('2.5');
  // Diamond-cubic Si, 2 atoms per primitive cell (8 in the conventional): 4 neighbours each at 2.35 Å.
  for (const [backend, label] of [
    ['webgpu', 'WebGPU'],
    ['cpu', 'CPU'],
  ]) {
    await panel.getByLabel('Backend').selectOption(backend);
    await panel.getByTestId('neighbors-run').click();
    await expect(panel.getByTestId('neighbors-result')).toContainText(`(4.0 per atom) on ${label}`);
  }
  // auto on a software adapter picks the CPU for a few atoms, and says why.
  await panel.getByLabel('Backend').selectOption('auto');
  await panel.getByTestId('neighbors-run').click();
  await expect(panel.getByTestId('neighbors-result')).toContainText('on CPU');
  await expect(panel).toContainText('software renderer');
});

test('without WebGPU the neighbour panel says so and falls back to the CPU', async ({ page }) => {
  await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
  await page.goto('/');
  await ready(page);
  const panel = page.getByRole('region', { name: 'Neighbour list' });
  await panel.getByLabel('Backend').selectOption('webgpu');
  await panel.getByTestId('neighbors-run').click();
  await expect(panel.getByRole('alert')).toContainText('WebGPU is not available in this browser');
  await panel.getByLabel('Backend').selectOption('auto');
  await panel.getByTestId('neighbors-run').click();
  await expect(panel.getByTestId('neighbors-result')).toContainText('on CPU');
  await expect(panel).toContainText('Computed on the CPU instead');
});

/** Share of the view's rows that hold any atom pixels (camera and legend overlays hidden). */
async function inkRows(page: Page): Promise<number> {
  const png = decodePng(await page.getByTestId('viewer').screenshot());
  let rows = 0;
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const k = 4 * (y * png.width + x);
      if (png.rgba[k] + png.rgba[k + 1] + png.rgba[k + 2] < 600) {
        rows++;
        break;
      }
    }
  }
  return rows / png.height;
}

test('camera: view along a, b, c and [uvw], reset, orthographic; slabs are fitted to their atoms; an element legend (issue 30)', async ({ page }) => {
  await page.goto('/');
  await ready(page);
  await page
    .getByTestId('structure-list')
    .getByRole('option', { name: /MoS₂ monolayer/ })
    .first()
    .getByRole('button')
    .first()
    .click();
  await expect(page.getByTestId('element-legend')).toHaveText(/Mo\s*S/);
  // Cell outline and axes off: only atoms and bonds count below.
  await page.getByRole('checkbox', { name: 'Cell' }).uncheck();
  await page.getByRole('checkbox', { name: 'Axes' }).uncheck();
  await page.addStyleTag({ content: '.camera, .legend { opacity: 0 !important; }' });
  // A 4x4 patch of the layer, so that edge on and face on look different.
  for (const axis of ['a', 'b']) {
    await page.getByTestId(`repeat-${axis}`).fill('4');
    await page.getByTestId(`repeat-${axis}`).dispatchEvent('change');
  }
  await expect(page.getByTestId('render-info')).toContainText('48 atoms');

  // Along a, c is up: the layer is a thin horizontal band. Along c it is seen face on and fills the view.
  await page.getByTestId('view-a').click();
  await expect.poll(() => inkRows(page)).toBeLessThan(0.45);
  const edgeOn = await inkRows(page);
  await page.getByTestId('view-c').click();
  await expect.poll(() => inkRows(page)).toBeGreaterThan(Math.min(0.8, edgeOn + 0.3));

  // Fitted to the atoms, not the 20 Å of vacuum: seen along a, the layer still spans most of the width.
  await page.getByTestId('view-a').click();
  await expect.poll(() => inkRows(page)).toBeLessThan(0.45);
  const png = decodePng(await page.getByTestId('viewer').screenshot());
  let left = png.width;
  let right = 0;
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const k = 4 * (y * png.width + x);
      if (png.rgba[k] + png.rgba[k + 1] + png.rgba[k + 2] < 600) {
        left = Math.min(left, x);
        right = Math.max(right, x);
      }
    }
  }
  expect((right - left) / png.width).toBeGreaterThan(0.5);

  // A typed direction; a bad one is refused with a reason.
  await page.getByTestId('view-uvw').fill('[1-10]');
  await page.getByTestId('view-uvw-go').click();
  await expect(page.getByRole('alert')).toHaveCount(0);
  await page.getByTestId('view-uvw').fill('1 1');
  await page.getByTestId('view-uvw-go').click();
  await expect(page.getByText('Three whole numbers')).toBeVisible();

  // Orthographic changes the picture; Reset returns to the default orientation (Cartesian z toward the viewer: the layer face on).
  const before = await page.getByTestId('viewer').screenshot();
  await page.getByTestId('camera-ortho').check();
  await expect.poll(async () => Buffer.compare(await page.getByTestId('viewer').screenshot(), before) !== 0).toBe(true);
  await page.getByTestId('camera-ortho').uncheck();
  await page.getByTestId('view-a').click();
  await expect.poll(() => inkRows(page)).toBeLessThan(0.45);
  await page.getByTestId('camera-reset').click();
  await expect.poll(() => inkRows(page)).toBeGreaterThan(0.6);
});

test('orthographic keeps the crystal its size on screen, switched or fitted (issue 30)', async ({ page }) => {
  await openSilicon(page);
  await page.getByTestId('camera-reset').click();
  await expect.poll(() => inkRows(page)).toBeGreaterThan(0.3);
  const perspective = await inkRows(page);
  // 3Dmol's orthographic frustum is 1.4–2x wider than its perspective one at the same distance; the switch compensates.
  await page.getByTestId('camera-ortho').check();
  await expect.poll(async () => Math.abs((await inkRows(page)) / perspective - 1)).toBeLessThan(0.2);
  // A fit in orthographic fills the view as one in perspective does.
  await page.getByTestId('view-a').click();
  await page.getByTestId('camera-reset').click();
  await expect.poll(async () => Math.abs((await inkRows(page)) / perspective - 1)).toBeLessThan(0.2);
  await page.getByTestId('camera-ortho').uncheck();
  await expect.poll(async () => Math.abs((await inkRows(page)) / perspective - 1)).toBeLessThan(0.2);
});

test('the URL carries the scene: a link reopens the structure, supercell, camera and defects (issue 30)', async ({ page, browser }) => {
  await page.goto('/');
  await ready(page);
  await page
    .getByTestId('structure-list')
    .getByRole('option', { name: /Silicon/ })
    .first()
    .getByRole('button')
    .first()
    .click();
  await expect(page.getByTestId('formula')).toContainText('Si');
  await page.getByTestId('repeat-a').fill('2');
  await page.getByTestId('repeat-a').dispatchEvent('change');
  await page.getByRole('checkbox', { name: 'Axes' }).uncheck();
  await page.getByTestId('view-b').click();
  // Viewed along b with c up (cubic Si): a rotation of -90° about x.
  await expect(page).toHaveURL(/#s=si&r=2x1x1&show=-axes&v=[-\d.,]+,-0\.7071,0,0,0\.7071$/);
  const link = page.url();
  await page.addStyleTag({ content: '.camera, .legend { opacity: 0 !important; }' });
  const shot = await page.getByTestId('viewer').screenshot();

  // A fresh tab (same browser storage) opening the link sees the same scene.
  const other = await page.context().newPage();
  await other.setViewportSize(page.viewportSize()!);
  await other.goto(link);
  await expect(other.getByTestId('structure-title')).toHaveText('Silicon');
  await expect(other.getByTestId('repeat-a')).toHaveValue('2');
  await expect(other.getByTestId('render-info')).toContainText('16 atoms');
  await expect(other.getByRole('checkbox', { name: 'Axes' })).not.toBeChecked();
  await other.addStyleTag({ content: '.camera, .legend { opacity: 0 !important; }' });
  // Same camera: the two pictures barely differ (the default view of the same scene differs a lot).
  await expect.poll(async () => changedShare(await other.getByTestId('viewer').screenshot(), shot)).toBeLessThan(0.01);
  await other.getByTestId('camera-reset').click();
  await expect.poll(async () => changedShare(await other.getByTestId('viewer').screenshot(), shot)).toBeGreaterThan(0.02);
  await other.close();

  // The defect editor: the configuration is in the link and comes back on reload.
  await page.getByTestId('mode-defects').click();
  await expect(page.getByRole('region', { name: 'Predictions' })).toContainText('Make a defect', { timeout: 30_000 });
  await page.getByTestId('tool-vacancy').check();
  await page.getByTestId('defect-site').fill('4');
  await page.getByTestId('defect-apply').click();
  await expect(page).toHaveURL(/#m=defects&d=MoS2:5x5:V@4/);
  await page.reload();
  await expect(page.locator('[data-defect$="@4"]')).toBeVisible({ timeout: 30_000 });

  // A broken link opens what it can and says what it ignored.
  const broken = await browser.newPage();
  await broken.goto(link.replace(/#.*/, '#s=unobtainium&r=2x2x2'));
  await expect(broken.getByTestId('message-warning')).toContainText("no built-in structure 'unobtainium'");
  await expect(broken.getByTestId('repeat-a')).toHaveValue('2');
  await broken.close();
});

/** Share of pixels that differ between two screenshots of the same size. */
function changedShare(a: Buffer, b: Buffer): number {
  const x = decodePng(a).rgba;
  const y = decodePng(b).rgba;
  if (x.length !== y.length) return 1;
  let n = 0;
  for (let k = 0; k < x.length; k += 4) if (Math.abs(x[k] - y[k]) + Math.abs(x[k + 1] - y[k + 1]) + Math.abs(x[k + 2] - y[k + 2]) > 30) n++;
  return n / (x.length / 4);
}

test('Measure: click atoms for their distance and the angle between them (issue 30)', async ({ page }) => {
  await page.goto('/#s=si');
  await expect(page.getByTestId('structure-title')).toHaveText('Silicon', { timeout: 30_000 });
  await page.getByTestId('measure-toggle').check();
  await expect(page.getByTestId('measure-panel')).toContainText('Click two atoms');
  const box = (await page.getByTestId('viewer').boundingBox())!;
  // Click over a grid of points until three atoms have been picked.
  const spots: [number, number][] = [];
  for (let y = 0.3; y <= 0.75; y += 0.075) for (let x = 0.3; x <= 0.75; x += 0.075) spots.push([x, y]);
  let picked = 0;
  for (const [fx, fy] of spots) {
    await page.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
    picked = await page.locator('[data-testid^="measure-atom-"]').count();
    if (picked === 3) break;
  }
  expect(picked).toBe(3);
  // The distance shown is the one between the positions shown.
  const pos = async (k: number) =>
    (await page.getByTestId(`measure-atom-${k}`).textContent())!
      .match(/\(([-\d.]+), ([-\d.]+), ([-\d.]+) Å\)/)!
      .slice(1)
      .map(Number);
  const [a, b, c] = [await pos(1), await pos(2), await pos(3)];
  const d = Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
  const shown = Number(/= ([\d.]+) Å/.exec((await page.getByTestId('measure-distance-1').textContent())!)![1]);
  expect(shown).toBeCloseTo(d, 2);
  const u = a.map((x, k) => x - b[k]);
  const v = c.map((x, k) => x - b[k]);
  const cos = (u[0] * v[0] + u[1] * v[1] + u[2] * v[2]) / (Math.hypot(...u) * Math.hypot(...v));
  const angle = Number(/= ([\d.]+)°/.exec((await page.getByTestId('measure-angle').textContent())!)?.[1] ?? NaN);
  if (Number.isFinite(cos)) expect(angle).toBeCloseTo((Math.acos(cos) * 180) / Math.PI, 1);
  await page.getByTestId('measure-clear').click();
  await expect(page.getByTestId('measure-panel')).toContainText('Click two atoms');
  // Not offered in the defect editor, where a click edits.
  await page.getByTestId('mode-defects').click();
  await expect(page.getByTestId('measure-toggle')).toHaveCount(0);
});

test('polyhedra: the TiO6 octahedra of SrTiO3 are drawn on request and kept in the link (issue 30)', async ({ page }) => {
  await page.goto('/#s=srtio3');
  await expect(page.getByTestId('structure-title')).toHaveText(/Strontium titanate/, { timeout: 30_000 });
  await page.addStyleTag({ content: '.camera, .legend { opacity: 0 !important; }' });
  await expect(page.getByTestId('render-info')).toBeVisible();
  const plain = await page.getByTestId('viewer').screenshot();
  await page.getByTestId('polyhedra-toggle').check();
  // The octahedron fills much of the cell: a large part of the picture changes.
  await expect.poll(async () => changedShare(await page.getByTestId('viewer').screenshot(), plain)).toBeGreaterThan(0.02);
  await expect(page).toHaveURL(/show=polyhedra/);
  await page.reload();
  await expect(page.getByTestId('polyhedra-toggle')).toBeChecked({ timeout: 30_000 });
});

test('primitive and conventional cells of the open crystal (issue 30)', async ({ page }) => {
  await page.goto('/#s=si');
  await expect(page.getByTestId('structure-title')).toHaveText('Silicon', { timeout: 30_000 });
  await page.getByTestId('cell-primitive').click();
  await expect(page.getByTestId('structure-title')).toContainText('primitive cell');
  await expect(page.getByTestId('render-info')).toContainText(/^2 atoms/);
  await expect(page.getByTestId('spacegroup')).toHaveText('F d -3 m (227)');
  await page.getByTestId('cell-conventional').click();
  await expect(page.getByTestId('render-info')).toContainText(/^8 atoms/);
  await expect(page.getByTestId('structure-title')).toContainText('conventional cell');
});

test('PNG export: 2x or 4x, transparent background, cropped to the crystal (issue 30)', async ({ page }) => {
  await page.goto('/#s=si');
  await expect(page.getByTestId('structure-title')).toHaveText('Silicon', { timeout: 30_000 });
  await expect(page.getByTestId('render-info')).toBeVisible();
  const view = (await page.getByTestId('viewer').boundingBox())!;
  const save = async () => {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('png-save').click()]);
    expect(dl.suggestedFilename()).toBe('Silicon.png');
    return decodePng(Buffer.concat(await (await dl.createReadStream()).toArray()));
  };
  // As on screen, uncropped: the canvas itself.
  await page.getByTestId('png-button').click();
  await page.getByTestId('png-scale').selectOption('1');
  await page.getByTestId('png-crop').uncheck();
  const plain = await save();
  expect(Math.abs(plain.width - view.width)).toBeLessThanOrEqual(2);
  // 2x, transparent, cropped: twice the pixels of the crystal, nothing else, see-through around it.
  await page.getByTestId('png-button').click();
  await page.getByTestId('png-scale').selectOption('2');
  await page.getByTestId('png-transparent').check();
  await page.getByTestId('png-crop').check();
  const big = await save();
  expect(big.width).toBeLessThan(2 * view.width);
  expect(big.width).toBeGreaterThan(0.6 * view.width);
  expect(big.rgba[3]).toBe(0); // top-left corner: transparent
  let opaque = 0;
  for (let k = 3; k < big.rgba.length; k += 4) if (big.rgba[k] > 200) opaque++;
  expect(opaque / (big.width * big.height)).toBeGreaterThan(0.1);
  // The view on screen is back as it was.
  await expect(page.getByTestId('render-info')).toBeVisible();
  const after = (await page.getByTestId('viewer').boundingBox())!;
  expect(after.width).toBeCloseTo(view.width, 0);
});

test('bond rules per element pair: Mo–Mo added, Mo–S removed, kept across a reload, back to automatic (issue 30)', async ({ page }) => {
  await page.goto('/#s=mos2-monolayer');
  await expect(page.getByTestId('structure-title')).toHaveText('MoS₂ monolayer (2H)', { timeout: 30_000 });
  const auto = buildScene(builtinById('mos2-monolayer')!.build(), findBonds(builtinById('mos2-monolayer')!.build()), [1, 1, 1], true).bonds.length;
  await expect(page.getByTestId('render-info')).toContainText(` · ${auto} bonds · `);
  await page.getByTestId('bond-rules').locator('summary').click();
  await page.getByTestId('bond-rule-Mo-S').selectOption('never');
  await expect(page.getByTestId('render-info')).toContainText(' · 0 bonds · ');
  await page.getByTestId('bond-rule-Mo-S').selectOption('auto');
  await page.getByTestId('bond-rule-Mo-Mo').selectOption('max');
  await page.getByTestId('bond-max-Mo-Mo').fill('3.3');
  await page.getByTestId('bond-max-Mo-Mo').dispatchEvent('change');
  const s = builtinById('mos2-monolayer')!.build();
  const withMoMo = buildScene(s, findBonds(s, { 'Mo-Mo': 3.3 }), [1, 1, 1], true).bonds.length;
  expect(withMoMo).toBeGreaterThan(auto);
  await expect(page.getByTestId('render-info')).toContainText(` · ${withMoMo} bonds · `);
  await page.reload();
  await expect(page.getByTestId('render-info')).toContainText(` · ${withMoMo} bonds · `, { timeout: 30_000 });
  await page.getByTestId('bond-rules').locator('summary').click();
  await page.getByTestId('bond-rules-reset').click();
  await expect(page.getByTestId('render-info')).toContainText(` · ${auto} bonds · `);
});

test('the structure on screen downloads as CIF, POSCAR or XYZ, and reads back the same (issue 30)', async ({ page }) => {
  await page.goto('/#s=tio2-rutile');
  await expect(page.getByTestId('structure-title')).toHaveText(/Rutile/i, { timeout: 30_000 });
  const { readStructures } = await import('../src/core/formats/index');
  for (const [format, ext] of [
    ['cif', 'cif'],
    ['poscar', 'vasp'],
    ['xyz', 'xyz'],
  ] as const) {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`download-${format}`).click()]);
    expect(dl.suggestedFilename()).toMatch(new RegExp(`\\.${ext}$`));
    const text = Buffer.concat(await (await dl.createReadStream()).toArray()).toString();
    const [back] = readStructures(dl.suggestedFilename(), text);
    expect(back.numSites).toBe(6);
    expect([...back.species].sort()).toEqual(['O', 'O', 'O', 'O', 'Ti', 'Ti']);
  }
});
