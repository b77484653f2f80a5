/**
 * Presentation mode for a conference screen (issue 30): entering and
 * leaving, dark and large, the crystal turning, the attract loop touring the
 * library and the defect editor on its own and stopping when touched; the
 * keyboard shortcuts listed on '?'.
 */
import { expect, test } from '@playwright/test';

test('presentation mode: dark, large, turning, touring on its own until touched; Esc leaves', async ({ page }) => {
  test.setTimeout(180_000);
  await page.goto('/');
  await expect(page.getByTestId('structure-list').getByRole('option').first()).toBeVisible({ timeout: 30_000 });
  const app = page.locator('.app');
  const fontBefore = await app.evaluate((el) => parseFloat(getComputedStyle(el).fontSize));

  await page.getByTestId('present').click();
  await expect(app).toHaveClass(/presenting/);
  expect(await app.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(15, 17, 21)');
  expect(await app.evaluate((el) => parseFloat(getComputedStyle(el).fontSize))).toBeGreaterThan(fontBefore * 1.2);
  await expect(page.getByTestId('presentation-caption')).toContainText('built-in library');

  // The crystal turns by itself.
  const first = await page.getByTestId('viewer').screenshot();
  await expect.poll(async () => Buffer.compare(await page.getByTestId('viewer').screenshot(), first) !== 0, { timeout: 20_000 }).toBe(true);

  // The tour reaches the defect editor and places a defect with nobody touching anything.
  await expect(page.getByTestId('mode-defects')).toHaveAttribute('aria-pressed', 'true', { timeout: 45_000 });
  await expect(page.getByTestId('presentation-caption')).toContainText('Point defects');
  await expect(page.getByTestId('defect-row')).toHaveCount(1, { timeout: 45_000 });
  // The charts follow the dark theme: the level diagram's axis text is drawn light grey (--muted), not Chart.js's #666.
  await expect(app).toHaveAttribute('data-chart-text', '#a9adb6');
  const lightGrey = () =>
    page.getByTestId('level-plot').evaluate((c: HTMLCanvasElement) => {
      const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let k = 0; k < px.length; k += 4) {
        const [r, g, b, a] = [px[k], px[k + 1], px[k + 2], px[k + 3]];
        if (a > 200 && r > 150 && g > 150 && b > 150 && Math.max(r, g, b) - Math.min(r, g, b) < 30) n++;
      }
      return n;
    });
  await expect.poll(lightGrey, { timeout: 20_000 }).toBeGreaterThan(50);

  // A touch hands the screen over: the tour stops where it is.
  // (On the page's title: a click on a field would leave the keyboard in it, and P below would type.)
  await page.getByRole('heading', { name: 'Lattice Lab' }).click();
  await expect(page.getByTestId('presentation-caption')).toContainText('Your turn');
  const defectsNow = await page.getByTestId('defect-row').count();
  await page.waitForTimeout(5000);
  await expect(page.getByTestId('defect-row')).toHaveCount(defectsNow);
  await expect(page.getByTestId('mode-defects')).toHaveAttribute('aria-pressed', 'true');

  // Esc leaves presentation mode.
  await page.keyboard.press('Escape');
  await expect(app).not.toHaveClass(/presenting/);
  await expect(app).toHaveAttribute('data-chart-text', '#666');
  await expect(page.getByTestId('presentation-caption')).toHaveCount(0);

  // P enters it from the keyboard too.
  await page.keyboard.press('p');
  await expect(app).toHaveClass(/presenting/);
  await page.keyboard.press('p'); // the tour runs: P leaves
  await expect(app).not.toHaveClass(/presenting/);
});

test("'?' lists the keyboard shortcuts, and they work", async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('structure-list').getByRole('option').first()).toBeVisible({ timeout: 30_000 });
  await page.keyboard.press('?');
  await expect(page.getByTestId('shortcuts')).toContainText('presentation mode');
  await expect(page.getByTestId('shortcuts')).toContainText('view along the a, b or c axis');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('shortcuts')).toHaveCount(0);
  await page.keyboard.press('2');
  await expect(page.getByTestId('mode-defects')).toHaveAttribute('aria-pressed', 'true');
  await page.keyboard.press('1');
  await expect(page.getByTestId('mode-library')).toHaveAttribute('aria-pressed', 'true');
  // Typing in a field is never taken for a shortcut.
  await page.getByTestId('search').fill('2');
  await expect(page.getByTestId('mode-library')).toHaveAttribute('aria-pressed', 'true');
});
