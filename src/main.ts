import { mount } from 'svelte';
import wasmUrl from '@spglib/moyo-wasm/moyo_wasm_bg.wasm?url';
import App from './App.svelte';
import './app/theme.css';
import { initSymmetry } from './core/symmetry';

// Symmetry analysis is needed before the built-in library is seeded: start loading it first, but do not
// hold the first paint for it (AppState.start waits for it before seeding).
void initSymmetry(wasmUrl).catch((e: unknown) => console.warn('Symmetry analysis unavailable:', e));

mount(App, { target: document.getElementById('app')! });

// Offline support: the service worker precaches the built app (see scripts/vite-plugin-sw.ts).
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  navigator.serviceWorker.register('./sw.js').catch((e: unknown) => console.warn('Offline support unavailable:', e));
}
