"""The catalogue listing kept rendered in Django's cache
(docs/decisions/0025-catalogue-page-cache.md).

What is kept is the listing of /catalog/ (the filters and the results: everything inside the
page's <main>), never the whole response: it is rendered without the request, so no context
processor runs and nothing of the viewer (CSRF token, signed-in links, messages) can be in it.
The layout around it is rendered for every request.

The token also names the search index each process holds (catalog/search_index.py): a process
whose index is of another token makes it again.

A listing is kept under the catalogue's version token, the language, the viewer's audience
(`media.streaming.playable_audience` for previews: the listing shows the tracks whose preview
the viewer may play, with their preview URLs) and the canonical query (`listing_query`). A
search with text is never kept: its key space is whatever people type.

The version token is a random value in the cache, replaced by `listing_changed`, which every
write that changes what the listing shows calls (catalog/services.py; media/services.py when a
master becomes ready). Every process reads the same token (the file cache or Redis; the
processes' memory would not do). A token lost from the cache (culled, or the cache emptied) is
replaced by a new one, so a listing from before can never be read again.
"""

import hashlib
import secrets

from django.core.cache import cache
from django.db import transaction
from django.http import QueryDict
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from backgroundmusic.media.streaming import Actor, playable_audience

VERSION_KEY = "catalog:listing:version"
# Preview URLs in a kept listing expire DEFAULT_TTL (2 h) after it was rendered, or with secure
# links MEDIA_SECURE_LINK_SECONDS (10 min; decision 0041): five minutes leave them good for at
# least five more, and the player renews an expired one. It also bounds how long a listing
# rendered before a change no service made (a deploy's new templates, a migration) is shown.
LISTING_SECONDS = 300
# The fields of the search form (catalog/forms.py), and those that take several values.
FIELDS = (
    "q",
    "genre",
    "mood",
    "instrument",
    "bpm_min",
    "bpm_max",
    "energy_min",
    "energy_max",
    "duration_min",
    "duration_max",
    "sort",
    "page",
)
MULTIPLE = frozenset({"genre", "mood", "instrument"})


def listing_query(params: QueryDict) -> QueryDict:
    """The query the listing is rendered from and kept under: the form's fields in a fixed
    order, nothing else; of a field with one value the last given (as the form reads it), of a
    facet every value once, sorted; empty values left out. Two URLs with the same canonical
    query show the same page."""
    query = QueryDict(mutable=True)
    for name in FIELDS:
        values = params.getlist(name)
        if name in MULTIPLE:
            values = sorted({value for value in values if value})
        else:
            values = [value for value in values[-1:] if value]
        if values:
            query.setlist(name, values)
    return query


def listing_key(*, query: QueryDict, user: Actor) -> str | None:
    """The cache key of the listing of `query` for `user`; None for a search with text, which is
    not kept."""
    if "q" in query:
        return None
    version = _version()
    if version is None:
        return None
    audience = playable_audience(user=user, kind="preview")
    digest = hashlib.sha256(query.urlencode().encode()).hexdigest()
    return f"catalog:listing:{version}:{get_language()}:{audience}:{digest}"


def listing_get(key: str | None) -> SafeString | None:
    """The listing kept under `key`, or None."""
    if key is None:
        return None
    html = cache.get(key)
    return mark_safe(html) if isinstance(html, str) else None  # noqa: S308 (rendered by us)


def listing_store(key: str | None, html: str) -> None:
    """Keeps a listing rendered with status 200 under `key` (nothing when None)."""
    if key is not None:
        cache.set(key, str(html), LISTING_SECONDS)


def listing_changed() -> None:
    """Call in the transaction of a write that changes what the listing shows (a track, a facet,
    a master becoming ready). The token is replaced at once, so the rest of this transaction (and
    a test, whose transaction never commits) reads no listing from before; and again once the
    transaction commits, because another process may meanwhile have rendered a listing from the
    rows as they were before the commit and kept it under the first new token."""
    _version_replace()
    transaction.on_commit(_version_replace)


def _version_replace() -> None:
    cache.set(VERSION_KEY, secrets.token_hex(8), None)


def catalogue_version() -> str:
    """The catalogue's version token now; without a working cache a new one each time, so that
    nothing made under a token is used again."""
    return _version() or secrets.token_hex(8)


def _version() -> str | None:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, secrets.token_hex(8), None)
        version = cache.get(VERSION_KEY)
    return version if isinstance(version, str) else None
