// The persistent mini-player, and the small glue that makes htmx page swaps behave like
// ordinary navigations (hx-boost on <body>; base.html).
//
// The player (<div id="player" hx-preserve>) sits outside <main>; htmx keeps the same element,
// and so the same <audio>, across every boosted navigation, so a preview keeps playing while
// the visitor moves around the site. "Play preview" buttons anywhere on a page carry the signed
// URL of the preview in data-src (catalog/_play_button.html); clicks are delegated, so buttons
// that arrive with a swapped page work without re-binding. No inline scripts (CSP).
//
// Stream URLs expire (behind nginx within minutes: decision 0041). When the server refuses the
// current one (403 or 410), the player asks the app for a fresh URL (data-renew: media's
// stream_url, which decides entitlement again) and carries on at the same position.

const player = document.getElementById("player");
const audio = document.getElementById("player-audio");

function formatTime(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "0:00";
  const whole = Math.floor(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

function controls() {
  return {
    toggle: player.querySelector(".player-toggle"),
    title: player.querySelector(".player-title"),
    seek: player.querySelector(".player-seek"),
    time: player.querySelector(".player-time"),
  };
}

// Every "play preview" button of the current track shows whether it is playing.
function markButtons() {
  const current = player.dataset.track || "";
  const playing = !audio.paused;
  for (const button of document.querySelectorAll("button.play-preview")) {
    const mine = current !== "" && button.dataset.href === current;
    button.setAttribute("aria-pressed", mine && playing ? "true" : "false");
    button.textContent = mine && playing ? "❚❚" : "▶";
  }
  const { toggle } = controls();
  toggle.textContent = playing ? "❚❚" : "▶";
  toggle.setAttribute("aria-label", playing ? player.dataset.labelPause : player.dataset.labelPlay);
}

// Whether the listener wants sound: a renewed URL resumes playing only then.
let wanted = false;
// The URL being renewed: a second failure of the same stream is shown, not retried.
let renewing = "";

function play(button) {
  const { title } = controls();
  wanted = true;
  if (player.dataset.track !== button.dataset.href) {
    renewing = "";
    audio.src = button.dataset.src;
    player.dataset.track = button.dataset.href;
    title.textContent = button.dataset.title;
    title.title = button.dataset.title;
    title.href = button.dataset.href;
    player.classList.remove("player-error");
  }
  player.hidden = false;
  audio.play().catch(() => {
    // Autoplay refused or the file could not be loaded: the error handler below explains.
  });
}

function toggle() {
  if (!audio.currentSrc) return;
  if (audio.paused) {
    wanted = true;
    audio.play().catch(() => {});
  } else {
    wanted = false;
    audio.pause();
  }
}

// A fresh URL for the current stream, or null when it was not refused for its age or the app
// will not give one (the listener may no longer play it).
async function freshUrl(src) {
  const check = await fetch(src, { method: "HEAD", credentials: "same-origin" });
  if (check.status !== 403 && check.status !== 410) return null;
  const ask = `${player.dataset.renew}?src=${encodeURIComponent(src)}`;
  const answer = await fetch(ask, { credentials: "same-origin" });
  if (!answer.ok) return null;
  return (await answer.json()).url || null;
}

async function renew() {
  const src = audio.currentSrc;
  if (!src || renewing === src || !player.dataset.renew) return false;
  renewing = src;
  const position = audio.currentTime;
  let url = null;
  try {
    url = await freshUrl(src);
  } catch {
    return false;
  }
  if (!url) return false;
  const old = new URL(src).pathname + new URL(src).search;
  for (const button of document.querySelectorAll("button.play-preview")) {
    if (button.dataset.src === old) button.dataset.src = url;
  }
  audio.src = url;
  renewing = audio.src;
  audio.addEventListener(
    "loadedmetadata",
    () => {
      audio.currentTime = position;
      if (wanted) audio.play().catch(() => {});
    },
    { once: true },
  );
  audio.load();
  return true;
}

if (player && audio && !player.dataset.ready) {
  player.dataset.ready = "1";
  const { seek, time, title } = controls();

  // "Play all" (library/ pages): the playable buttons of its list, one after another.
  let queue = [];
  const playNext = () => {
    const next = queue.shift();
    if (next) play(next);
  };
  document.addEventListener("click", (event) => {
    const all = event.target.closest("button.play-all");
    if (!all) return;
    const list = document.getElementById(all.dataset.list);
    queue = list ? [...list.querySelectorAll("button.play-preview[data-src]")] : [];
    playNext();
  });
  audio.addEventListener("ended", playNext);

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.play-preview");
    if (!button || !button.dataset.src) return;
    event.preventDefault();
    queue = [];
    if (player.dataset.track === button.dataset.href && !audio.paused) {
      wanted = false;
      audio.pause();
    } else {
      play(button);
    }
  });
  controls().toggle.addEventListener("click", toggle);

  audio.addEventListener("play", markButtons);
  audio.addEventListener("pause", markButtons);
  audio.addEventListener("ended", markButtons);
  audio.addEventListener("playing", () => {
    renewing = "";
  });
  audio.addEventListener("error", async () => {
    if (await renew()) return;
    player.classList.add("player-error");
    title.textContent = player.dataset.labelError;
    markButtons();
  });
  audio.addEventListener("timeupdate", () => {
    const duration = audio.duration;
    if (Number.isFinite(duration) && duration > 0 && !seek.matches(":active")) {
      seek.value = String(Math.round((audio.currentTime / duration) * 1000));
    }
    time.textContent = `${formatTime(audio.currentTime)} / ${formatTime(duration)}`;
  });
  // The range input is the progress bar and the seek control (arrow keys move it by 0.1 %).
  seek.addEventListener("input", () => {
    const duration = audio.duration;
    if (Number.isFinite(duration) && duration > 0) {
      audio.currentTime = (Number(seek.value) / 1000) * duration;
    }
  });

  // --- htmx page swaps -------------------------------------------------------------------

  // A swapped-in page shows which of its buttons is playing.
  document.body.addEventListener("htmx:afterSettle", markButtons);

  // While a boosted navigation is under way the page says so (aria-busy on <body>, which htmx
  // keeps: it swaps the body's content). Assistive technology, and tests, can wait for the new
  // page even when its URL does not change (a form posted back to itself).
  document.addEventListener("htmx:beforeRequest", () => {
    document.body.setAttribute("aria-busy", "true");
  });
  for (const name of ["htmx:afterSwap", "htmx:afterRequest", "htmx:sendError", "htmx:timeout"]) {
    document.addEventListener(name, () => document.body.removeAttribute("aria-busy"));
  }

  document.addEventListener("htmx:beforeSwap", (event) => {
    const detail = event.detail;
    const type = detail.xhr.getResponseHeader("Content-Type") || "";
    if (!type.startsWith("text/html")) {
      // A download or other non-page answer to a boosted link: let the browser handle it.
      detail.shouldSwap = false;
      if ((detail.requestConfig?.verb || "get") === "get") {
        window.location.assign(detail.xhr.responseURL || detail.pathInfo.requestPath);
      }
      return;
    }
    // Error pages (403, 404, a form answered with 400 …) are pages too: show them.
    detail.shouldSwap = detail.xhr.status !== 204;
    detail.isError = false;
    syncHead(detail.serverResponse);
  });
}

// htmx swaps <body> only; bring the new page's stylesheets and language along.
function syncHead(html) {
  const next = new DOMParser().parseFromString(html, "text/html");
  const lang = next.documentElement.getAttribute("lang");
  if (lang) document.documentElement.setAttribute("lang", lang);
  const wanted = new Set(
    [...next.head.querySelectorAll('link[rel="stylesheet"]')].map((link) => link.href),
  );
  const present = new Set();
  for (const link of document.head.querySelectorAll('link[rel="stylesheet"]')) {
    if (wanted.has(link.href)) {
      present.add(link.href);
    } else {
      link.remove();
    }
  }
  for (const href of wanted) {
    if (present.has(href)) continue;
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    document.head.appendChild(link);
  }
}
