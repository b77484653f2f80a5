import type { Locator, Page } from '@playwright/test';

/** Where to click in the 3D view (fractions of its box) to hit an atom: the centre first, then around it. */
const SPOTS = [
  [0.5, 0.5],
  [0.45, 0.5],
  [0.55, 0.5],
  [0.5, 0.45],
  [0.5, 0.55],
  [0.4, 0.4],
  [0.6, 0.6],
  [0.4, 0.6],
  [0.6, 0.4],
] as const;

/** Clicks the view until `hit` is visible (an atom was picked or edited); the caller asserts what follows. */
export async function clickAnAtom(page: Page, hit: Locator): Promise<void> {
  const box = (await page.getByTestId('viewer').boundingBox())!;
  for (const [fx, fy] of SPOTS) {
    await page.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
    if (await hit.isVisible()) break;
  }
}
