// Working with one bar of signal or none (spec section 14, "In the field").
// - Registers the service worker (sw.js), which keeps the pages an officer opened.
// - On the day's list, opens each case page once in the background, so that it is kept too.
// - Forms marked data-offline are sent by script: photos are scaled down first (a phone photo
//   of several MB becomes a few hundred KB, its capture time sent as taken_at); with no
//   network the form waits in IndexedDB with an Idempotency-Key and is sent, in order, when
//   the network returns. The server applies a key once, so a form sent twice counts once.
//   A form the server refuses (the case moved: 409; a rule failed: 422) is kept, with the
//   server's reason, until the officer has read it; nothing is dropped silently.
(() => {
  const DB_NAME = "casework-outbox";
  const STORE = "actions";
  const MAX_SIDE = 1600;
  const QUALITY = 0.82;

  function openOutbox() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function withStore(mode, work) {
    const db = await openOutbox();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const result = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(result && "result" in result ? result.result : result);
      tx.onerror = () => reject(tx.error);
    });
  }

  const outbox = {
    all: () => withStore("readonly", (store) => store.getAll()),
    add: (action) => withStore("readwrite", (store) => store.add(action)),
    put: (action) => withStore("readwrite", (store) => store.put(action)),
    remove: (id) => withStore("readwrite", (store) => store.delete(id)),
  };
  window.caseworkOutbox = outbox;

  function newKey() {
    if (window.crypto && crypto.randomUUID) {
      return crypto.randomUUID();
    }
    return `${Date.now()}-${Math.random().toString(16).slice(2)}`;
  }

  async function scaled(file) {
    if (!file.type.startsWith("image/") || file.type === "image/heic" || !window.createImageBitmap) {
      return file;
    }
    try {
      const bitmap = await createImageBitmap(file);
      const ratio = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      if (ratio === 1 && file.size < 1024 * 1024) {
        return file;
      }
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * ratio);
      canvas.height = Math.round(bitmap.height * ratio);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", QUALITY));
      if (!blob) {
        return file;
      }
      const name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
      return new File([blob], name, { type: "image/jpeg", lastModified: file.lastModified });
    } catch (error) {
      return file;
    }
  }

  // The form's fields as a list that IndexedDB can keep (files as Blobs).
  async function fieldsOf(form) {
    const fields = [];
    const data = new FormData(form);
    for (const [name, value] of data.entries()) {
      if (value instanceof File) {
        if (!value.name && value.size === 0) {
          continue; // an empty file input
        }
        const photo = await scaled(value);
        fields.push({ name, blob: photo, filename: photo.name });
        if (!data.has("taken_at") && value.type.startsWith("image/")) {
          fields.push({ name: "taken_at", value: new Date(value.lastModified).toISOString() });
        }
      } else {
        fields.push({ name, value });
      }
    }
    return fields;
  }

  function bodyOf(fields) {
    const body = new FormData();
    for (const field of fields) {
      if (field.blob) {
        body.append(field.name, field.blob, field.filename);
      } else {
        body.append(field.name, field.value);
      }
    }
    return body;
  }

  // What the server said, in words: the messages beside fields and above the form.
  function reasonIn(html) {
    const page = new DOMParser().parseFromString(html, "text/html");
    const parts = [...page.querySelectorAll(".invalid-feedback, .alert-danger, main h1 + p")]
      .map((element) => element.textContent.trim()).filter(Boolean);
    return [...new Set(parts)].join(" ") || (page.title || "").trim();
  }

  // Sends one action; "sent", "refused" (with a reason), "signin" or "offline".
  async function send(action) {
    let response;
    try {
      response = await fetch(action.url, {
        method: "POST", body: bodyOf(action.fields), credentials: "same-origin",
        headers: { "Idempotency-Key": action.key },
      });
    } catch (error) {
      return { outcome: "offline" };
    }
    if (response.redirected && new URL(response.url).pathname === "/login") {
      return { outcome: "signin" };
    }
    if (response.ok) {
      return { outcome: "sent", url: response.url, response };
    }
    const html = await response.text();
    return { outcome: "refused", status: response.status, reason: reasonIn(html), html };
  }

  // One flush at a time; a second caller waits for the one under way.
  let flushing = null;
  function flush() {
    if (flushing) {
      return flushing;
    }
    if (!navigator.onLine) {
      return Promise.resolve();
    }
    flushing = sendWaiting().finally(() => { flushing = null; });
    return flushing;
  }

  async function sendWaiting() {
    try {
      const waiting = (await outbox.all()).filter((a) => a.state === "waiting").sort((a, b) => a.id - b.id);
      for (const action of waiting) {
        const result = await send(action);
        if (result.outcome === "offline" || result.outcome === "signin") {
          action.note = result.outcome;
          await outbox.put(action);
          break;
        }
        if (result.outcome === "sent") {
          await outbox.remove(action.id);
        } else {
          action.state = "refused";
          action.status = result.status;
          action.reason = result.reason;
          await outbox.put(action);
        }
      }
    } finally {
      await showCount();
    }
  }
  window.caseworkFlush = flush;

  async function showCount() {
    // Whatever shows the outbox (the /outbox page) redraws itself.
    document.dispatchEvent(new CustomEvent("casework:outbox"));
    const badge = document.getElementById("outbox-count");
    if (!badge) {
      return;
    }
    const actions = await outbox.all();
    const waiting = actions.filter((a) => a.state === "waiting").length;
    const refused = actions.filter((a) => a.state === "refused").length;
    badge.hidden = waiting + refused === 0;
    badge.querySelector("[data-waiting]").textContent = String(waiting);
    const refusedPart = badge.querySelector("[data-refused-part]");
    refusedPart.hidden = refused === 0;
    badge.querySelector("[data-refused]").textContent = String(refused);
  }

  async function submitted(event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-offline")) {
      return;
    }
    event.preventDefault();
    const action = {
      url: form.action, key: newKey(), state: "waiting", created: new Date().toISOString(),
      label: form.getAttribute("data-offline") || document.title, page: window.location.pathname,
      fields: await fieldsOf(form),
    };
    const result = navigator.onLine ? await send(action) : { outcome: "offline" };
    if (result.outcome === "sent") {
      window.location.assign(result.url);
      return;
    }
    if (result.outcome === "signin") {
      window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
      return;
    }
    if (result.outcome === "refused") {
      // Online and answered: the page shows the server's answer as a normal submit would.
      document.open();
      document.write(result.html);
      document.close();
      return;
    }
    await outbox.add(action);
    await showCount();
    const notice = document.getElementById("offline-notice");
    if (notice) {
      notice.hidden = false;
    }
    form.querySelectorAll("button[type=submit]").forEach((button) => { button.disabled = false; });
    form.reset();
  }

  // One page at a time, the ones not kept yet, at most a day's worth: the phone's bandwidth
  // and the server are shared with the officer's own clicks.
  const PREFETCH_LIMIT = 60;

  async function prefetchCasePages() {
    if (!document.body.hasAttribute("data-prefetch-cases") || !navigator.onLine
        || !window.caches || !navigator.serviceWorker || !navigator.serviceWorker.controller) {
      return;
    }
    const paths = [...new Set([...document.querySelectorAll("a[href^='/cases/']")]
      .map((link) => new URL(link.href).pathname)
      .filter((path) => /^\/cases\/\d+$/.test(path)))].slice(0, PREFETCH_LIMIT);
    for (const path of paths) {
      if (!navigator.onLine) {
        return;
      }
      if (await caches.match(new URL(path, window.location.href).href)) {
        continue;
      }
      try {
        await fetch(path, { credentials: "same-origin",
                            headers: { "X-Casework-Prefetch": "1", Accept: "text/html" } });
      } catch (error) {
        return;
      }
    }
  }

  // Where the structure stands: the phone's position when the form is opened (photos taken
  // in a browser carry no GPS), into the form's hidden lat, lon and accuracy_m.
  function geolocate() {
    const form = document.querySelector("form[data-geolocate]");
    if (!form || !navigator.geolocation) {
      return;
    }
    const status = form.querySelector("[data-position-status]");
    navigator.geolocation.getCurrentPosition((position) => {
      const { latitude, longitude, accuracy } = position.coords;
      form.elements.lat.value = latitude.toFixed(6);
      form.elements.lon.value = longitude.toFixed(6);
      form.elements.accuracy_m.value = Math.round(accuracy * 10) / 10;
      if (status) {
        status.textContent = status.dataset.found.replace("%s", String(Math.round(accuracy)));
      }
    }, () => {
      if (status) {
        status.textContent = status.dataset.missing;
      }
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  document.addEventListener("submit", submitted);
  window.addEventListener("online", flush);
  document.addEventListener("DOMContentLoaded", async () => {
    if ("serviceWorker" in navigator) {
      try {
        await navigator.serviceWorker.register("/sw.js", { scope: "/" });
        await navigator.serviceWorker.ready;
      } catch (error) {
        // Pages still work online without it.
      }
    }
    document.querySelectorAll("form[data-forget-pages]").forEach((form) => {
      form.addEventListener("submit", () => {
        if (navigator.serviceWorker && navigator.serviceWorker.controller) {
          navigator.serviceWorker.controller.postMessage("forget-pages");
        }
      });
    });
    geolocate();
    await showCount();
    await flush();
    prefetchCasePages();
  });
})();
