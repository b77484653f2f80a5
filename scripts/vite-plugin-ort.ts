import type { Plugin } from 'vite';

/**
 * Serves the onnxruntime-web runtime files that it imports at run time
 * (the WASM binaries and their .mjs loaders) under `ort/`, in dev and in the
 * build, so `env.wasm.wasmPaths = <base>/ort/` works without a CDN. The
 * WebGPU bundle loads the asyncify build; the plain WASM provider the
 * threaded SIMD build.
 */
const FILES = ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];
const DIST = 'node_modules/onnxruntime-web/dist/';

export function onnxRuntimeFiles(): Plugin {
  return {
    name: 'latticelab-ort-files',
    configureServer(server) {
      server.middlewares.use(async (req, res, next) => {
        const name = req.url?.split('?')[0].match(/\/ort\/([^/]+)$/)?.[1];
        if (!name || !FILES.includes(name)) return next();
        const { readFile } = await import('node:fs/promises');
        res.setHeader('Content-Type', name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        res.end(await readFile(DIST + name));
      });
    },
    async buildStart() {
      if (this.meta.watchMode) return;
      const { readFile } = await import('node:fs/promises');
      for (const name of FILES) this.emitFile({ type: 'asset', fileName: `ort/${name}`, source: await readFile(DIST + name) });
    },
  };
}
