import type { Browser, Page } from '@playwright/test';
import { launchChromium } from './browser.ts';
import { startPreview } from './preview-server.ts';

/**
 * The GPU lab page (src/gpu-lab/index.html) of the production build, served
 * in this process and opened in headless Chromium, ready for
 * `page.evaluate(() => window.gpuLab…)`: what every benchmark script starts
 * with. `close()` shuts the browser and the server.
 */
export async function openGpuLab(port: number): Promise<{ page: Page; browser: Browser; close: () => Promise<void> }> {
  const server = await startPreview(port);
  const browser = await launchChromium();
  const close = async () => {
    await browser.close();
    await server.close();
  };
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}src/gpu-lab/index.html`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true', undefined, { timeout: 60_000 });
    return { page, browser, close };
  } catch (e) {
    await close();
    throw e;
  }
}
