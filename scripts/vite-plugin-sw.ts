import type { Plugin } from 'vite';

/**
 * Writes `sw.js` into the build with the list of every emitted file, so the
 * service worker can precache the whole app (code, wasm, icons, built-in
 * data) on the first visit and serve it with the network off afterwards.
 * A hand-written worker (src/sw-template.js) keeps the dependency list
 * short; the cache name carries a hash of the file list so each build
 * replaces the previous cache. Of the onnxruntime-web binaries only the
 * pair that crystal generation loads is precached (`ort/…asyncify.{mjs,wasm}`,
 * ~27 MB: the WebGPU bundle uses it for both of its providers), so the
 * Generate view works offline after the first visit; the plain-WASM build in
 * `ort/` and the `ort-wasm*` copies Vite emits for the GPU lab are left out.
 */
const PRECACHED_ORT = ['ort/ort-wasm-simd-threaded.asyncify.mjs', 'ort/ort-wasm-simd-threaded.asyncify.wasm'];

export function precacheServiceWorker(): Plugin {
  return {
    name: 'latticelab-precache-sw',
    apply: 'build',
    async generateBundle(_options, bundle) {
      const { readFile, readdir } = await import('node:fs/promises');
      const { createHash } = await import('node:crypto');
      const publicFiles = (await readdir('public', { recursive: true, withFileTypes: true }))
        .filter((d) => d.isFile())
        .map((d) => `${d.parentPath ?? d.path}/${d.name}`.replace(/^public\/?/, ''));
      const files = ['./', ...Object.keys(bundle), ...publicFiles].filter((f) => f !== 'sw.js' && (PRECACHED_ORT.includes(f) || (!f.startsWith('ort/') && !/ort-wasm/.test(f)))).map((f) => (f === './' ? f : `./${f}`));
      const version = createHash('sha256').update(JSON.stringify(files)).update(JSON.stringify(Object.values(bundle).map((b) => ('code' in b ? b.code.length : 0)))).digest('hex').slice(0, 12);
      const template = await readFile('src/sw-template.js', 'utf8');
      this.emitFile({
        type: 'asset',
        fileName: 'sw.js',
        source: template.replace('__PRECACHE__', JSON.stringify(files)).replace('__VERSION__', version),
      });
    },
  };
}
