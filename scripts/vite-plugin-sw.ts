import type { Plugin } from 'vite';

/**
 * Writes `sw.js` into the build with the list of every emitted file, so the
 * service worker can precache the whole app (code, wasm, icons, built-in
 * data) on the first visit and serve it with the network off afterwards.
 * A hand-written worker (src/sw-template.js) keeps the dependency list
 * short; the cache name carries a hash of the file list so each build
 * replaces the previous cache. Of the onnxruntime-web binaries only the
 * plain WASM build is precached (`ort/ort-wasm-simd-threaded.{mjs,wasm}`,
 * 14 MB: the property model's CPU path and generation's WASM provider load
 * it, src/app/ort-runtime.ts), so predictions and generation work offline
 * after the first visit. The asyncify build (27 MB) serves only the WebGPU
 * execution provider: it is cached when first used, and offline without it
 * generation falls back to WASM and says so. The `ort-wasm*` copies Vite
 * emits for the GPU lab are left out.
 *
 * Only what the app can load is precached: the files reachable from
 * index.html and the web manifest, following every file name that appears
 * in a file already taken (script imports, worker URLs, model URLs, CSS,
 * icons). The GPU lab's page, its ONNX model and the README's screenshots
 * are served but not precached (they were 4.6 MB of the 40 MB).
 */
const PRECACHED_ORT = ['ort/ort-wasm-simd-threaded.mjs', 'ort/ort-wasm-simd-threaded.wasm'];

export function precacheServiceWorker(): Plugin {
  return {
    name: 'latticelab-precache-sw',
    // After Vite's HTML plugin, so index.html is in the bundle to start from.
    enforce: 'post',
    apply: 'build',
    async generateBundle(_options, bundle) {
      const { readFile, readdir } = await import('node:fs/promises');
      const { createHash } = await import('node:crypto');
      const publicFiles = (await readdir('public', { recursive: true, withFileTypes: true }))
        .filter((d) => d.isFile())
        .map((d) => `${d.parentPath ?? d.path}/${d.name}`.replace(/^public\/?/, ''));
      const candidates = [...Object.keys(bundle), ...publicFiles].filter(
        (f) => f !== 'sw.js' && (PRECACHED_ORT.includes(f) || (!f.startsWith('ort/') && !/ort-wasm/.test(f))),
      );
      const text = async (f: string): Promise<string> => {
        const item = bundle[f];
        if (item && item.type === 'chunk') return item.code;
        if (item && item.type === 'asset')
          return typeof item.source === 'string'
            ? item.source
            : /\.(html|css|js|mjs|json|webmanifest|svg)$/.test(f)
              ? new TextDecoder().decode(item.source)
              : '';
        return /\.(html|css|js|mjs|json|webmanifest|svg)$/.test(f) ? readFile(`public/${f}`, 'utf8').catch(() => '') : '';
      };
      const base = (f: string) => f.slice(f.lastIndexOf('/') + 1);
      const taken = new Set(['index.html', 'manifest.webmanifest'].filter((f) => candidates.includes(f)));
      const queue = [...taken];
      while (queue.length) {
        const body = await text(queue.pop()!);
        if (!body) continue;
        for (const f of candidates) {
          if (!taken.has(f) && body.includes(base(f))) {
            taken.add(f);
            queue.push(f);
          }
        }
      }
      // onnxruntime builds its file names at run time: its pair goes with its bundle.
      if ([...taken].some((f) => /ort\.webgpu\.bundle/.test(f))) for (const f of PRECACHED_ORT) if (candidates.includes(f)) taken.add(f);
      if (!taken.has('index.html')) throw new Error('precache: index.html is not in the bundle; the service worker would cache nothing useful');
      const files = ['./', ...candidates.filter((f) => taken.has(f))].map((f) => (f === './' ? f : `./${f}`));
      const version = createHash('sha256')
        .update(JSON.stringify(files))
        .update(JSON.stringify(Object.values(bundle).map((b) => ('code' in b ? b.code.length : 0))))
        .digest('hex')
        .slice(0, 12);
      const template = await readFile('src/sw-template.js', 'utf8');
      this.emitFile({
        type: 'asset',
        fileName: 'sw.js',
        source: template.replace('__PRECACHE__', JSON.stringify(files)).replace('__VERSION__', version),
      });
    },
  };
}
