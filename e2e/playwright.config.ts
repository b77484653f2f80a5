import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumPath } from '../scripts/browser.ts';

/**
 * E2E tests run the production build (vite preview) so the service worker
 * and offline mode are exercised. Chromium: $CHROMIUM_PATH, else the system
 * /usr/bin/chromium, else Playwright's own download (npx playwright install).
 * WebGPU is enabled on SwiftShader so GPU tests run on machines without a GPU.
 */
// PW_PORT / PW_OUTDIR let several test runs on one machine use their own build and server.
const port = Number(process.env.PW_PORT ?? 4173);
const outDir = process.env.PW_OUTDIR ?? 'dist';

export default defineConfig({
  testDir: '.',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  reporter: [['list']],
  use: {
    baseURL: `http://localhost:${port}/`,
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: chromiumPath(),
      args: CHROMIUM_ARGS,
    },
  },
  webServer: {
    command: `npx vite build --outDir ${outDir} && npx vite preview --outDir ${outDir} --port ${port} --strictPort`,
    url: `http://localhost:${port}/`,
    // Playwright runs the server from the config's folder (e2e/) unless told otherwise.
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    reuseExistingServer: !process.env.CI,
    timeout: 180_000,
  },
});
