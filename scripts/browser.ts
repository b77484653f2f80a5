import { existsSync } from 'node:fs';
import { chromium, type Browser } from '@playwright/test';

/** $CHROMIUM_PATH, else the system Chromium; undefined: Playwright's own download (npx playwright install). */
export function chromiumPath(): string | undefined {
  return [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
}

/** WebGPU and WebGL on SwiftShader, so the GPU paths run on machines without a GPU (the e2e tests and the benchmarks alike). */
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-webgpu-adapter=swiftshader',
  '--enable-unsafe-swiftshader',
  '--use-angle=swiftshader',
  '--ignore-gpu-blocklist',
  '--no-sandbox',
];

/** Chromium for scripts, launched as the e2e tests launch it (e2e/playwright.config.ts). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
}
