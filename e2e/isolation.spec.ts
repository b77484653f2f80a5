import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { waitForServiceWorker } from './service-worker';

/**
 * Cross-origin isolation, which onnxruntime-web's WASM threads need
 * (vite.config.ts, src/app/ort-runtime.ts): the preview server sends the
 * headers; a static host that cannot send them gets them from the service
 * worker from the second load on (src/sw-template.js).
 */

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.webmanifest': 'application/manifest+json',
};

/** dist/ served with no headers beyond the content type, as a bare static host would. */
async function bareStaticHost(root: string): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(root, path.endsWith('/') ? `${path}index.html` : path);
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((ok) => server.listen(0, 'localhost', ok));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { url: `http://localhost:${address.port}/`, server };
}

test('the app is cross-origin isolated, so the property model may run its WASM on several threads (every core but one)', async ({ page }) => {
  await page.goto('/');
  expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
  const threads = await page.evaluate(() => Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 1) - 1)));
  await expect(page.getByTestId('props-latency')).toContainText(`WebAssembly on ${threads} thread${threads > 1 ? 's' : ''}`, { timeout: 60_000 });
});

test('on a static host without the headers the service worker supplies them from the second load on', async ({ page }) => {
  const { url, server } = await bareStaticHost(join(fileURLToPath(new URL('..', import.meta.url)), process.env.PW_OUTDIR ?? 'dist'));
  try {
    await page.goto(url);
    expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(false);
    await waitForServiceWorker(page);
    await page.reload();
    expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
    // …and the app still loads everything it needs under require-corp.
    await expect(page.getByTestId('props-eform')).toHaveText(/eV\/atom$/, { timeout: 60_000 });
  } finally {
    server.close();
  }
});
