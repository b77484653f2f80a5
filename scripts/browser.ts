import { existsSync } from 'node:fs';
import { chromium, type Browser } from '@playwright/test';

/** Chromium for scripts: $CHROMIUM_PATH, the system browser, else Playwright's own. */
export function launchChromium(): Promise<Browser> {
  const executablePath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].find((p) => p && existsSync(p));
  return chromium.launch({
    executablePath,
    args: [
      '--enable-unsafe-webgpu',
      '--enable-features=Vulkan',
      '--use-webgpu-adapter=swiftshader',
      '--enable-unsafe-swiftshader',
      '--use-angle=swiftshader',
      '--ignore-gpu-blocklist',
      '--no-sandbox',
    ],
  });
}
