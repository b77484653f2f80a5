import type { Page } from '@playwright/test';

/**
 * Waits until the service worker controls the page (it has precached the app),
 * which offline tests need before they cut the network. A worker that became
 * active without claiming this page gets one reload.
 */
export async function waitForServiceWorker(page: Page, timeout = 30_000): Promise<void> {
  await page
    .waitForFunction(async () => (await navigator.serviceWorker.ready) && navigator.serviceWorker.controller !== null, undefined, { timeout })
    .catch(async () => {
      await page.reload();
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout });
    });
}
