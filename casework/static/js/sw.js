// Casework's service worker: the officer's pages keep opening with no signal.
// Pages are fetched from the network first and kept; with no network the kept copy is shown.
// Files of this site (scripts, styles) are kept once and served from the cache.
// Writes (POST) are never answered from here: offline.js queues them and sends them later.
const VERSION = "casework-2";
const PAGES = `${VERSION}-pages`;
const FILES = `${VERSION}-files`;
const OFFLINE_PAGE = "/offline";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(PAGES).then((cache) => cache.add(OFFLINE_PAGE)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => !n.startsWith(VERSION)).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

function isPage(request, url) {
  return request.mode === "navigate" || request.headers.get("X-Casework-Prefetch") === "1"
    || (request.headers.get("Accept") || "").includes("text/html");
}

async function pageFromNetworkFirst(request) {
  const cache = await caches.open(PAGES);
  try {
    const response = await fetch(request);
    // A page that needs a sign-in answers with the sign-in page: that is not kept for later.
    if (response.ok && !response.redirected) {
      await cache.put(request.url, response.clone());
    }
    return response;
  } catch (error) {
    const kept = await cache.match(request.url);
    return kept || (await cache.match(OFFLINE_PAGE)) || Response.error();
  }
}

async function fileFromCacheFirst(request) {
  const cache = await caches.open(FILES);
  const kept = await cache.match(request);
  if (kept) {
    return kept;
  }
  const response = await fetch(request);
  if (response.ok) {
    await cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) {
    return;
  }
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(fileFromCacheFirst(request));
  } else if (!url.pathname.startsWith("/api/") && isPage(request, url)) {
    event.respondWith(pageFromNetworkFirst(request));
  }
});

// A page tells the worker to forget every kept page (signing out).
self.addEventListener("message", (event) => {
  if (event.data === "forget-pages") {
    event.waitUntil(caches.delete(PAGES));
  }
});
