import type { Plugin } from 'vite';

/**
 * Writes `sw.js` into the build with the list of every emitted file, so the
 * service worker can precache the whole app (code, wasm, icons, built-in
 * data) on the first visit and serve it with the network off afterwards.
 * A hand-written worker (src/sw-template.js) keeps the dependency list
 * short; the cache name carries a hash of the file list so each build
 * replaces the previous cache. The onnxruntime-web binaries (`ort/` and the
 * `ort-wasm*` assets Vite emits for the GPU lab, ~40–70 MB)
 * are left out until the app itself runs ONNX models (crystal generation):
 * today only the GPU lab's parity tests load them.
 */
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
      const files = ['./', ...Object.keys(bundle), ...publicFiles].filter((f) => f !== 'sw.js' && !f.startsWith('ort/') && !/ort-wasm/.test(f)).map((f) => (f === './' ? f : `./${f}`));
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
