/** Renders the README screenshots (public/screenshot.png, screenshot-defects.png, screenshot-generate.png) from the built app: `npx tsx scripts/screenshot.ts`. */
import { launchChromium } from './browser.ts';
import { startPreview } from './preview-server.ts';

const server = await startPreview();
try {
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  await page.goto(server.url);
  await page.getByTestId('search').fill('MoS2 monolayer');
  await page.getByTestId('structure-list').getByRole('option').first().getByRole('button').first().click();
  for (const axis of ['a', 'b']) {
    await page.getByTestId(`repeat-${axis}`).fill('4');
    await page.getByTestId(`repeat-${axis}`).dispatchEvent('change');
  }
  await page.getByTestId('search').fill('');
  await page.waitForTimeout(1000);
  const box = (await page.getByTestId('viewer').boundingBox())!;
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForTimeout(500);
  await page.screenshot({ path: 'public/screenshot.png' });

  // The defect editor: two vacancies and a substitution in MoS2 5x5, with predictions.
  await page.getByTestId('mode-defects').click();
  await page.getByTestId('pred-ef').or(page.getByText('Make a defect')).first().waitFor();
  for (const [tool, site] of [
    ['vacancy', 1],
    ['vacancy', 31],
    ['substitute', 24],
  ] as const) {
    await page.getByTestId(`tool-${tool}`).check();
    await page.getByTestId('defect-site').fill(String(site));
    await page.getByTestId('defect-apply').click();
  }
  await page.getByTestId('pred-ef').waitFor();
  await page.waitForTimeout(1000);
  await page.screenshot({ path: 'public/screenshot-defects.png' });

  // The Generate view: 8 perovskites from the CDVAE, the first selected.
  await page.getByTestId('mode-generate').click();
  await page.getByTestId('gen-n').fill('8');
  await page.getByTestId('gen-seed').fill('3');
  await page.getByTestId('gen-run').click();
  await page.getByTestId('gen-result').nth(7).waitFor({ timeout: 600_000 });
  await page.waitForTimeout(1000);
  await page.screenshot({ path: 'public/screenshot-generate.png', timeout: 120_000 });
  await browser.close();
} finally {
  await server.close();
}
