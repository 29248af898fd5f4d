"""What the track page's include (library/_track_actions.html) and the catalogue's favourite
form (library/_favourite_form.html) need of the viewer's library: the catalogue app knows
nothing of libraries, so its templates ask here."""

import hashlib
from typing import Any

from django import template

from backgroundmusic.library import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def track_library(context: template.Context, track: Any) -> dict[str, Any]:
    """Whether the track is a favourite of the signed-in viewer, and their playlists (two
    queries; none for an anonymous visitor)."""
    user = context["request"].user
    if not user.is_authenticated:
        return {"is_favourite": False, "playlists": []}
    return {
        "is_favourite": selectors.is_favourite(person=user, track=track),
        "playlists": list(selectors.playlists_of(person=user).only("pk", "name")),
    }


@register.simple_tag(takes_context=True)
def favourite_slugs(context: template.Context) -> str:
    """The viewer's favourites as space-separated slugs (one query; none when anonymous)."""
    return " ".join(selectors.favourite_slugs(person=context["request"].user))


@register.filter
def favourites_version(slugs: str) -> str:
    """A digest of the favourites' slugs (`favourite_slugs`) for the stylesheet's URL: another
    set of favourites, another URL, so a browser never keeps a stale one."""
    return hashlib.sha256(slugs.encode()).hexdigest()[:16]
