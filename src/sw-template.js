// Lattice Lab service worker (generated at build time from src/sw-template.js).
// Precache everything on install; answer from the cache first so the app
// starts with the network off; fall back to the network for anything new.
const VERSION = '__VERSION__';
const PRECACHE = __PRECACHE__;
const CACHE = `latticelab-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('latticelab-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// Cross-origin isolation (threads for onnxruntime-web's WASM; see
// vite.config.ts): added to every response this worker answers with, so the
// page is isolated even on a static host that cannot set headers.
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

function isolated(response) {
  if (response.type !== 'basic' && response.type !== 'default') return response;
  if (ISOLATION['Cross-Origin-Embedder-Policy'] === response.headers.get('Cross-Origin-Embedder-Policy')) return response;
  const headers = new Headers(response.headers);
  for (const [k, v] of Object.entries(ISOLATION)) headers.set(k, v);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      // Navigations (any path of the single-page app) get the cached index.
      const key = request.mode === 'navigate' ? './' : request;
      // ignoreVary: the precache was filled by plain requests, but module
      // scripts are fetched in CORS mode with an Origin header; a server that
      // answers `Vary: Origin` would otherwise make every precached script miss.
      const hit = await cache.match(key, { ignoreSearch: request.mode === 'navigate', ignoreVary: true });
      if (hit) return isolated(hit);
      const response = await fetch(request);
      if (response.ok && response.type === 'basic') cache.put(request, response.clone());
      return isolated(response);
    })(),
  );
});
