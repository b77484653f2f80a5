/**
 * The layout at a laptop's 1024x768, a projector's 1920x1080 and a phone
 * (issue 30): nothing wider than the screen, the 3D view large enough to
 * use, the main controls on screen. The screenshots in e2e/layouts/ were
 * looked at by eye on 2026-12-06 and are kept for comparison by eye.
 */
import { expect, test } from '@playwright/test';

for (const [width, height, name] of [
  [1024, 768, 'laptop'],
  [1920, 1080, 'projector'],
  [390, 844, 'phone'],
] as const) {
  test(`layout on a ${name} (${width}x${height})`, async ({ page }) => {
    await page.setViewportSize({ width, height });
    await page.goto('/#s=mos2-monolayer&r=3x3x1');
    await expect(page.getByTestId('render-info')).toContainText('27 atoms', { timeout: 30_000 });
    // No sideways scrolling.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    // The view is a usable size: on a phone the panels stack, so it takes most of the width.
    const view = (await page.getByTestId('viewer').boundingBox())!;
    expect(view.width).toBeGreaterThanOrEqual(name === 'phone' ? width * 0.9 : 400);
    expect(view.height).toBeGreaterThanOrEqual(300);
    // The modes, the camera and the structure's name are on screen (a phone scrolls down to the panels).
    for (const id of ['mode-library', 'mode-defects', 'mode-generate', 'present', 'camera-reset', 'view-uvw']) {
      const box = (await page.getByTestId(id).boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(width);
    }
    await expect(page.getByTestId('structure-title')).toHaveText('MoS₂ monolayer (2H)');
    // The camera controls do not cover the structure's middle.
    const cam = (await page.locator('.camera').boundingBox())!;
    expect(cam.y + cam.height).toBeLessThan(view.y + view.height / 3);
  });
}
