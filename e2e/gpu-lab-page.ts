import type { Browser, Page } from '@playwright/test';

/** Opens the GPU lab page (window.gpuLab), forwarding the page's errors and warnings to the test log. */
export async function openGpuLab(browser: Browser): Promise<Page> {
  const page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.log(`[page ${m.type()}] ${m.text()}`);
  });
  await page.goto('/src/gpu-lab/index.html');
  await page.waitForFunction(() => document.body.dataset.ready === 'true', undefined, { timeout: 60_000 });
  return page;
}
