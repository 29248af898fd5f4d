// First-party page statistics (privacy policy 1.2–1.3): which pages are viewed and for how long
// they are read. No cookie or storage of its own, no third-party request: it only sends
// beacons to this site's /a/e; the server decides whether a visit may be identified.
(() => {
  "use strict";
  const script = document.currentScript;
  const endpoint = (script && script.dataset.endpoint) || "/a/e";
  const MAX_EVENTS = 50;
  const MAX_ENGAGED_MS = 30 * 60 * 1000;
  if (!navigator.sendBeacon) return;

  let view = null; // {id, path, engaged (ms), since (performance.now() or null)}
  const pending = [];

  const counting = () => document.visibilityState === "visible" && document.hasFocus();
  const here = () => location.pathname + location.search;
  const newId = () => {
    if (crypto.randomUUID) return crypto.randomUUID(); // secure contexts only
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return [0, 8, 12, 16, 20].map((at, i, all) => hex.slice(at, all[i + 1])).join("-");
  };

  // Engaged time runs only while the tab is visible and focused.
  function pause() {
    if (view && view.since !== null) {
      view.engaged += performance.now() - view.since;
      view.since = null;
    }
  }
  function resume() {
    if (view && view.since === null && counting()) view.since = performance.now();
  }

  function startView(referrer) {
    view = { id: newId(), path: here(), engaged: 0, since: null };
    pending.push({
      kind: "view",
      view: view.id,
      path: view.path,
      referrer: referrer,
      width: window.innerWidth,
      language: navigator.language || "",
    });
    resume();
  }

  function closeEngagement() {
    if (!view) return;
    pause();
    const engaged = Math.min(Math.round(view.engaged), MAX_ENGAGED_MS);
    view.engaged = 0;
    if (engaged > 0) {
      pending.push({ kind: "engage", view: view.id, path: view.path, engaged_ms: engaged });
    }
  }

  function send() {
    while (pending.length) {
      const body = JSON.stringify({ events: pending.splice(0, MAX_EVENTS) });
      navigator.sendBeacon(endpoint, new Blob([body], { type: "text/plain" }));
    }
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") {
      closeEngagement();
      send();
    } else {
      resume();
    }
  });
  window.addEventListener("focus", resume);
  window.addEventListener("blur", pause);
  window.addEventListener("pagehide", () => {
    closeEngagement();
    send();
  });
  // htmx navigations (hx-boost) are page views too.
  const navigated = () => {
    if (view && view.path === here()) return;
    closeEngagement();
    startView("");
    send();
  };
  document.addEventListener("htmx:pushedIntoHistory", navigated);
  document.addEventListener("htmx:historyRestore", navigated);
  window.addEventListener("popstate", navigated);

  startView(document.referrer);
  send();
})();
