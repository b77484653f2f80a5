import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defaultClientConditions } from 'vite';
import { defineConfig } from 'vitest/config';
import { onnxRuntimeFiles } from './scripts/vite-plugin-ort.ts';
import { precacheServiceWorker } from './scripts/vite-plugin-sw.ts';

/**
 * Cross-origin isolation, so that onnxruntime-web may run its WASM on
 * several threads (SharedArrayBuffer). The app loads nothing from other
 * origins, so `require-corp` costs nothing. Static hosts that cannot set
 * headers get them from the service worker from the second load on
 * (src/sw-template.js).
 */
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  plugins: [svelte(), onnxRuntimeFiles(), precacheServiceWorker()],
  resolve: {
    // onnxruntime-web's builds that load their .mjs/.wasm from env.wasm.wasmPaths (served under ort/ by
    // scripts/vite-plugin-ort.ts) instead of bundles that make Vite emit a second copy of each 14–27 MB binary.
    conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions],
  },
  build: {
    target: 'es2022',
    // 3Dmol.js alone is ~2 MB; it is cached by the service worker, so the size warning is noise.
    chunkSizeWarningLimit: 4000,
    rollupOptions: {
      // The GPU lab page (kernel tests and benchmarks) is built beside the app.
      input: { app: 'index.html', gpuLab: 'src/gpu-lab/index.html' },
      // 3Dmol.js evaluates user callbacks given as strings; we never pass any.
      onwarn(warning, warn) {
        if (warning.code === 'EVAL' && warning.id?.includes('3dmol')) return;
        warn(warning);
      },
    },
  },
  server: { port: 5173, headers: isolation },
  // Unit tests cover the DOM-free core, storage and CLI in Node ('core') and the app's state classes with Svelte's
  // client runtime ('state'); the browser is tested by Playwright (e2e/).
  test: {
    environment: 'node',
    projects: [
      { extends: true, test: { name: 'core', include: ['src/tests/**/*.test.ts'], exclude: ['src/tests/**/*.svelte.test.ts'] } },
      // The app's state classes with Svelte's client runtime, so $effect runs (inside $effect.root), as matterviz tests its sessions.
      {
        extends: true,
        resolve: { conditions: ['browser'] },
        test: { name: 'state', include: ['src/tests/**/*.svelte.test.ts'], environment: './src/tests/env/node-client.ts' },
      },
    ],
  },
  preview: { port: 4173, headers: isolation },
});
