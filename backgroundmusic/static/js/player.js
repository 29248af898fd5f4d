// The persistent mini-player, and the small glue that makes htmx page swaps behave like
// ordinary navigations (hx-boost on <body>; base.html).
//
// The player (<div id="player" hx-preserve>) sits outside <main>; htmx keeps the same element,
// and so the same <audio>, across every boosted navigation, so a preview keeps playing while
// the visitor moves around the site. "Play preview" buttons anywhere on a page carry the signed
// URL of the preview in data-src (catalog/_play_button.html); clicks are delegated, so buttons
// that arrive with a swapped page work without re-binding. No inline scripts (CSP).

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

function play(button) {
  const { title } = controls();
  if (player.dataset.track !== button.dataset.href) {
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
    audio.play().catch(() => {});
  } else {
    audio.pause();
  }
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
      audio.pause();
    } else {
      play(button);
    }
  });
  controls().toggle.addEventListener("click", toggle);

  audio.addEventListener("play", markButtons);
  audio.addEventListener("pause", markButtons);
  audio.addEventListener("ended", markButtons);
  audio.addEventListener("error", () => {
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
