// Marks the catalogue rows' stars (catalog/_track_rows.html) of the viewer's favourites. The
// rows come from a listing kept without the viewer (catalog/page_cache.py); the slugs of their
// favourites come with the page around it, on #favourite-form (library/_favourite_form.html).
// Without JavaScript the stars still toggle, through that form.

function markFavourites() {
  const form = document.getElementById("favourite-form");
  const slugs = new Set((form?.dataset.favourites || "").split(" ").filter(Boolean));
  for (const star of document.querySelectorAll("button.favourite-row")) {
    const marked = slugs.has(star.dataset.slug);
    star.setAttribute("aria-pressed", marked ? "true" : "false");
    star.textContent = marked ? "★" : "☆";
  }
}

markFavourites();
document.addEventListener("htmx:afterSettle", markFavourites);
