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
      if (hit) return hit;
      const response = await fetch(request);
      if (response.ok && response.type === 'basic') cache.put(request, response.clone());
      return response;
    })(),
  );
});
