/**
 * Viewer benchmark: how long the 3D view takes to build and how fast it
 * rotates at ~10^4 displayed atoms. Needs the built app served by
 * vite preview, started in-process. Prints a Markdown table row set.
 *
 *   npx tsx scripts/bench-viewer.ts
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePoscar } from '../src/core/formats/poscar.ts';
import { builtinById } from '../src/core/library/builtins.ts';
import { repeat } from '../src/core/structure.ts';
import { launchChromium } from './browser.ts';
import { startPreview } from './preview-server.ts';

const server = await startPreview();
try {
  // A 48-atom cell (bulk 2H-MoS2, 2x2x2) so that 6x6x6 repeats give 10,368 atoms.
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  const file = join(dir, 'MoS2_2x2x2.vasp');
  writeFileSync(file, writePoscar(repeat(builtinById('mos2-bulk')!.build(), [2, 2, 2]).with({ title: 'MoS2 bulk 2x2x2' })));

  const browser = await launchChromium();

  // First render (issue 30): from navigation to the frame after the default
  // crystal's view reports itself, on a cold load (empty cache, no service
  // worker) and on three warm reloads; first contentful paint beside it.
  {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await ctx.addInitScript(`(() => {
      window.__first = null;
      new MutationObserver(() => {
        if (window.__first === null && document.querySelector('[data-testid=render-info]')) requestAnimationFrame(() => { window.__first = performance.now(); });
      }).observe(document, { subtree: true, childList: true });
    })()`);
    const first = await ctx.newPage();
    console.log('| load | first paint (ms) | crystal drawn (ms) |');
    console.log('|---|---|---|');
    for (let k = 0; k < 4; k++) {
      await first.goto(server.url);
      await first.waitForFunction('window.__first !== null', null, { timeout: 60_000 });
      const r = (await first.evaluate(`({ drawn: window.__first, fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN })`)) as {
        drawn: number;
        fcp: number;
      };
      console.log(`| ${k === 0 ? 'cold' : `warm ${k}`} | ${r.fcp.toFixed(0)} | ${r.drawn.toFixed(0)} |`);
    }
    await ctx.close();
    console.log('');
  }

  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(server.url);
  await page.getByTestId('structure-list').getByRole('option').first().waitFor();
  await page.getByTestId('file-input').setInputFiles(file);
  await page.getByTestId('message-info').waitFor();

  console.log(
    '| repeat | atoms drawn | bonds | build + first render (ms) | change to pixels, wall (ms) | ms per rotated frame | ms per move, no redraw (reference) | ratio |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const n of [1, 2, 4, 6]) {
    for (const axis of ['a', 'b', 'c']) {
      await page.getByTestId(`repeat-${axis}`).fill(String(n));
      await page.getByTestId(`repeat-${axis}`).dispatchEvent('change');
    }
    await page.waitForFunction(
      (want) => document.querySelector('[data-testid=render-info]')?.textContent?.startsWith(want),
      `${(48 * n ** 3).toLocaleString('en-US')} atoms`,
    );
    // Reset to one axis change for a clean single rebuild measurement.
    await page.getByTestId('repeat-c').fill(String(n === 1 ? 2 : n - 1));
    await page.getByTestId('repeat-c').dispatchEvent('change');
    await page.waitForTimeout(200);
    // Wall time in the page, from the change to the frame after the view reports it (plain JavaScript in a
    // string: tsx would wrap named functions in a helper the page does not have).
    const wall = (await page.evaluate(`(async () => {
      const input = document.querySelector('[data-testid=repeat-c]');
      const want = ${JSON.stringify((48 * n ** 3).toLocaleString('en-US'))} + ' atoms';
      const t0 = performance.now();
      input.value = '${n}';
      input.dispatchEvent(new Event('input', { bubbles: true }));
      input.dispatchEvent(new Event('change', { bubbles: true }));
      while (!document.querySelector('[data-testid=render-info]')?.textContent?.startsWith(want)) await new Promise((r) => requestAnimationFrame(r));
      await new Promise((r) => requestAnimationFrame(r));
      return performance.now() - t0;
    })()`)) as number;
    const info = ((await page.getByTestId('render-info').textContent()) ?? '').replace(/\s+/g, ' ').trim();
    const [atoms, bonds, ms] = info.split('·').map((x) => x.trim().split(' ')[0]);
    const images = /\(\+([\d,]+) images\)/.exec(info)?.[1] ?? '0';
    // Rotate by dragging: 3Dmol redraws on every mouse move, synchronously,
    // so the wall time per move (until the next painted frame) is the
    // time per rotated frame.
    const box = (await page.getByTestId('viewer').boundingBox())!;
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    const moves = 30;
    const timeMoves = async (x: number, y: number, dx: number, dy: number): Promise<number> => {
      const t0 = performance.now();
      for (let k = 1; k <= moves; k++) await page.mouse.move(x + dx * Math.sin(k / 5), y + dy * Math.cos(k / 5));
      await page.evaluate('new Promise((r) => requestAnimationFrame(() => r(0)))');
      return (performance.now() - t0) / moves;
    };
    const perFrame = await timeMoves(cx, cy, 150, 80);
    await page.mouse.up();
    // Reference in the same run: the same moves over the properties panel,
    // where nothing is redrawn (the cost of driving the browser and painting).
    const panel = (await page.getByRole('complementary').boundingBox())!;
    const baseline = await timeMoves(panel.x + panel.width / 2, panel.y + panel.height / 2, 40, 40);
    console.log(
      `| ${n}x${n}x${n} | ${atoms} (+${images} images) | ${bonds} | ${ms} | ${wall.toFixed(0)} | ${perFrame.toFixed(0)} | ${baseline.toFixed(0)} | ${(perFrame / baseline).toFixed(1)} |`,
    );
  }

  // Defect edits in a 10x10 MoS2 supercell (issue 30): click-to-pixels as the
  // editor shows it (input to the frame that shows the edit, model included),
  // and the model's share, over several vacancies.
  await page.getByTestId('mode-defects').click();
  await page.getByTestId('defect-size').selectOption('10');
  await page.getByRole('region', { name: 'Predictions' }).getByText('Make a defect').waitFor({ timeout: 60_000 });
  await page.waitForTimeout(5000); // the property worker's first prediction of the pristine supercell
  const shown: number[] = [];
  const model: number[] = [];
  for (let k = 0; k < 11; k++) {
    await page.getByTestId('defect-site').fill(String(20 + 9 * k));
    await page.getByTestId('defect-apply').click();
    // The edit must have happened (a refused site once left the loop re-reading the previous edit's figure).
    await page.getByTestId('defect-row').nth(k).waitFor();
    await page.getByTestId('edit-latency').waitFor();
    const text = (await page.getByTestId('pred-latency').textContent()) ?? '';
    shown.push(Number(/On screen (\d+) ms/.exec(text)![1]));
    model.push(Number(/share:\s*([\d.]+) ms/.exec(text)![1]));
    await page.waitForTimeout(1500); // let the property worker's prediction of the edited supercell finish
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

  // 10^5 atoms (issue 30): a 101,376-atom Si supercell imported as POSCAR, from choosing the file to the drawn view.
  {
    await page.getByTestId('mode-library').click();
    const big = join(dir, 'Si_24x24x22.vasp');
    writeFileSync(big, writePoscar(repeat(builtinById('si')!.build(), [24, 24, 22]).with({ title: 'Si 24x24x22' })));
    const t0 = performance.now();
    await page.getByTestId('file-input').setInputFiles(big);
    await page.waitForFunction(() => document.querySelector('[data-testid=render-info]')?.textContent?.startsWith('101,376 atoms'), null, { timeout: 600_000 });
    const wall = performance.now() - t0;
    const info = ((await page.getByTestId('render-info').textContent()) ?? '').replace(/\s+/g, ' ').trim();
    console.log('');
    console.log('| 10^5 atoms (Si 24x24x22, POSCAR) | |');
    console.log('|---|---|');
    console.log(`| render info | ${info} |`);
    console.log(`| file chosen to view drawn, wall (ms) | ${wall.toFixed(0)} |`);
  }
  console.log('');
  console.log('| defect edits, 10x10 MoS2 (300 atoms) | median | min | max |');
  console.log('|---|---|---|---|');
  console.log(`| click to pixels (ms) | ${median(shown)} | ${Math.min(...shown)} | ${Math.max(...shown)} |`);
  console.log(`| the model's share (ms) | ${median(model).toFixed(1)} | ${Math.min(...model).toFixed(1)} | ${Math.max(...model).toFixed(1)} |`);
  await browser.close();
} finally {
  await server.close();
}
