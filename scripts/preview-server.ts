import { preview, type PreviewServer } from 'vite';

/**
 * Serves the production build (dist/, or `outDir`: e.g. an older commit's
 * build, for a reference measured in the same run) in this process, for
 * scripts that drive the app in Chromium.
 */
export async function startPreview(port = 4173, outDir?: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server: PreviewServer = await preview({ preview: { port, strictPort: true }, logLevel: 'silent', ...(outDir ? { build: { outDir } } : {}) });
  return { url: `http://localhost:${port}/`, close: () => server.close() };
}
