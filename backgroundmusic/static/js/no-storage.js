// The site keeps nothing in the browser's storage (tests/browser/test_reject_all_journey.py).
// htmx 2 writes the current path to sessionStorage on every page and navigation; with
// historyCacheSize 0 it caches no page, and without the key it reads the path from the location,
// so the key is removed as soon as htmx writes it.
(function () {
  var KEY = "htmx-current-path-for-history";
  function forget() {
    try {
      window.sessionStorage.removeItem(KEY);
    } catch (error) {
      // Storage switched off: nothing to remove.
    }
  }
  forget();
  ["htmx:load", "htmx:pushedIntoHistory", "htmx:replacedInHistory", "htmx:historyRestore"].forEach(
    function (name) {
      document.addEventListener(name, forget);
    }
  );
})();
