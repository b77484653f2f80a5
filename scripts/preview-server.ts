import { preview, type PreviewServer } from 'vite';

/** Serves the production build (dist/) in this process, for scripts that drive the app in Chromium. */
export async function startPreview(port = 4173): Promise<{ url: string; close: () => Promise<void> }> {
  const server: PreviewServer = await preview({ preview: { port, strictPort: true }, logLevel: 'silent' });
  return { url: `http://localhost:${port}/`, close: () => server.close() };
}
