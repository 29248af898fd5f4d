"""Who may hear what, and the signed, expiring URLs through which audio is reached (DESIGN.md §5).

`playable_tracks(user=, kind=)` is THE definition of "playable" (DESIGN.md rule 7): the tracks
whose rendition `kind` a person may hear, or download, now. Catalogue search, track and
collection pages, the API, `may_play`, `playable_url(s)` and the serving views (`views.py`: the
stream and the download) all ask it, and nothing else decides; licensing lets licensees in
there, through `licensing.entitlements`. It is also the one module through which the catalogue
reaches the media app (docs/architecture.md).

A URL from `signed_url` names one rendition, its kind, an expiry and, for full renditions, the
user it was issued to; the serving view checks the signature, the expiry, that user, and
`playable_tracks` again, so a URL copied to someone else or kept after the right to play it ended
is worth nothing. The kinds in DOWNLOAD_KINDS are reached only through `/download/<token>`
(media/downloads.py, where each download is recorded), the others only through `/stream/<token>`.

Expiry is written inside the signed payload and read against `core.clock` (not the timestamp of
`signing.TimestampSigner`, which uses `time.time()`), so tests can freeze it.

Behind nginx with MEDIA_SECURE_LINK_SECRET set (media/secure_links.py, decision 0041), the
streamed kinds get secure links instead, which nginx checks itself: entitlement is then decided
here when the URL is issued, and the URL lives MEDIA_SECURE_LINK_SECONDS. Downloads keep their
`/download/<token>` (each one is recorded by the app). A player whose URL has expired asks
`renewed_url` for a fresh one, decided by `playable_tracks` again.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import unquote, urlsplit

from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from backgroundmusic.accounts.models import User
from backgroundmusic.catalog.models import Track
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.licensing.entitlements import agreements_in_force, licensed_track_filter
from backgroundmusic.media import secure_links
from backgroundmusic.media.models import Master, Rendition
from backgroundmusic.staffroles.selectors import staff_may_manage_catalogue

Actor = User | AnonymousUser

SALT = "backgroundmusic.media.stream"
# Long enough for a visitor to open a track page and listen to the whole rendition (the browser
# fetches byte ranges as it plays, all with the same URL); short enough that a copied URL dies
# the same day. Pages issue a fresh URL on every render.
DEFAULT_TTL = timedelta(hours=2)

FULL_KINDS = frozenset(
    {Rendition.Kind.OPUS, Rendition.Kind.AAC, Rendition.Kind.MP3_320, Rendition.Kind.FLAC}
)
# Served as files to keep, through media:download, which records each download; never streamed.
DOWNLOAD_KINDS = frozenset({Rendition.Kind.MP3_320, Rendition.Kind.FLAC})
STREAM_KINDS = frozenset(Rendition.Kind.values) - DOWNLOAD_KINDS


def playable_tracks(*, user: Actor, kind: str) -> QuerySet[Track]:
    """The tracks whose rendition `kind` `user` may hear (for mp3_320 and flac: download) now.

    - Nobody plays a track whose master is not ready (uploaded, processing, failed, or none).
    - Content managers and administrators (the manage-catalogue permission, with two-factor
      sign-in) may play every rendition of every such track, published or not: they check the
      masters they upload, and see drafts in the catalogue as they will appear.
    - A licensee hears every published track their agreements in force cover, in full, and
      downloads it when their licence comes with downloads (licensing/entitlements.py: the one
      place licensing adds to this rule).
    - Everyone else, anonymous visitors included, gets the preview of a published track, and
      nothing more.

    Asking the permission costs no query for anonymous visitors.
    """
    ready = Track.objects.filter(master__status=Master.Status.READY)
    if kind not in Rendition.Kind.values:
        return ready.none()
    if staff_may_manage_catalogue(actor=user):
        return ready
    if kind == Rendition.Kind.PREVIEW:
        return ready.filter(is_published=True)
    if not user.is_authenticated:
        return ready.none()
    return ready.filter(
        licensed_track_filter(user_id=user.pk, now=clock.now(), download=kind in DOWNLOAD_KINDS),
        is_published=True,
    )


def playable_audience(*, user: Actor, kind: str) -> str:
    """A key naming `playable_tracks(user=user, kind=kind)` now, for caches of what a page shows
    (catalog/page_cache.py): two people given the same key for a kind may play the same tracks
    of it. It follows the branches of `playable_tracks`:

    - "nobody": an unknown kind, or a full kind for anyone without an agreement in force;
    - "catalogue-staff": every ready track (the manage-catalogue permission);
    - "public": previews, for everyone else, licensees included (a licence adds full tracks);
    - "licensee:<ids>": a full kind, by the ids of the person's agreements in force. An
      agreement's scope, track and uses are frozen when it is concluded, so its id says what it
      covers; one lapsing, or a new one, gives another key.

    One query for a signed-in person asking for a full kind, none otherwise beyond the
    permission (none for anonymous visitors).
    """
    if kind not in Rendition.Kind.values:
        return "nobody"
    if staff_may_manage_catalogue(actor=user):
        return "catalogue-staff"
    if kind == Rendition.Kind.PREVIEW:
        return "public"
    if not user.is_authenticated:
        return "nobody"
    ids = agreements_in_force(user_id=user.pk, now=clock.now()).order_by("pk")
    in_force = [str(pk) for pk in ids.values_list("pk", flat=True)]
    return f"licensee:{','.join(in_force)}" if in_force else "nobody"


def may_play(*, user: Actor, track: Track, kind: str) -> bool:
    """Is `track` among `playable_tracks(user=user, kind=kind)`? One query at most."""
    return playable_tracks(user=user, kind=kind).filter(pk=track.pk).exists()


def signed_url(*, user: Actor, rendition: Rendition, ttl: timedelta = DEFAULT_TTL) -> str:
    """A path (no host) reaching `rendition` until now + ttl: `/download/<token>` for the kinds
    in DOWNLOAD_KINDS, `/stream/<token>` for the others.

    It does not ask `playable_tracks` (callers use `playable_url`, which does); the serving view
    does, for the user who opens it. Full renditions carry the id of `user` and open only for them.
    """
    # The kind first: pages that list downloads do not load the key (one query less each).
    if rendition.kind in STREAM_KINDS and _secure_link_serves(
        rendition.kind, rendition.storage_key
    ):
        return secure_links.secure_link_url(storage_key=rendition.storage_key)
    signer = signing.Signer(salt=SALT)
    return _url_prefix(rendition.kind) + _token(signer, user, rendition.pk, rendition.kind, ttl)


def _secure_link_serves(kind: str, storage_key: str) -> bool:
    return kind in STREAM_KINDS and secure_links.enabled() and secure_links.covers(storage_key)


def _url_prefix(kind: str) -> str:
    """The URL of a rendition of `kind` up to its token: reverse() once for a page of URLs (a
    token needs no quoting: URL-safe base64 and a colon)."""
    name = "media:download" if kind in DOWNLOAD_KINDS else "media:stream"
    return reverse(name, kwargs={"token": "-"}).removesuffix("-")


def _token(
    signer: signing.Signer, user: Actor, rendition_id: int, kind: str, ttl: timedelta
) -> str:
    expires = int((clock.now() + ttl).timestamp())
    payload: dict[str, object] = {"r": rendition_id, "k": kind, "e": expires}
    if kind in FULL_KINDS:
        if not user.is_authenticated:
            raise ValueError("A full rendition's URL names the user it is issued to.")
        payload["u"] = user.pk
    return signer.sign_object(payload, compress=False)


def playable_url(*, user: Actor, track: Track, kind: str) -> str | None:
    """The signed URL of `kind` of `track` for `user`; None when they may not play it or the
    rendition is not there (e.g. ingest made no such rendition)."""
    return playable_urls(user=user, tracks=[track], kind=kind)[track.pk]


def playable_urls(*, user: Actor, tracks: Sequence[Track], kind: str) -> dict[int, str | None]:
    """`playable_url` of every track, by track id: one query for all their renditions of `kind`
    that `user` may play (none when they may play none), however many tracks a page lists."""
    urls: dict[int, str | None] = {track.pk: None for track in tracks}
    if not urls:
        return urls
    allowed = playable_tracks(user=user, kind=kind).filter(pk__in=list(urls))
    renditions = Rendition.objects.filter(kind=kind, master__track__in=allowed).values_list(
        "pk", "master__track", "storage_key"
    )
    signer = signing.Signer(salt=SALT)
    prefix = _url_prefix(kind)
    for rendition_id, track_id, storage_key in renditions:
        if _secure_link_serves(kind, storage_key):
            urls[track_id] = secure_links.secure_link_url(storage_key=storage_key)
        else:
            urls[track_id] = prefix + _token(signer, user, rendition_id, kind, DEFAULT_TTL)
    return urls


def renewed_url(*, user: Actor, src: str) -> str:
    """A fresh URL for the stream `src` names (a `/stream/<token>` or a secure link, expired or
    not), for `user` now: what `playable_url` gives them for its track and kind. The old URL only
    says which rendition is meant; `playable_tracks` decides again. Raises StreamDenied (not a
    streamed rendition's URL, or not playable by `user`) or StreamNotFound."""
    path = unquote(urlsplit(src).path)
    renditions = Rendition.objects.select_related("master__track").filter(kind__in=STREAM_KINDS)
    storage_key = secure_links.storage_key_of(path)
    stream_prefix = _url_prefix(Rendition.Kind.PREVIEW)
    if storage_key is not None:
        rendition = renditions.filter(storage_key=storage_key).first()
    elif path.startswith(stream_prefix):
        try:
            payload = signing.Signer(salt=SALT).unsign_object(path.removeprefix(stream_prefix))
            rendition = renditions.filter(pk=int(payload["r"])).first()
        except (signing.BadSignature, ValueError, TypeError, KeyError, AttributeError):
            raise StreamDenied(_("This link is not valid.")) from None
    else:
        raise StreamDenied(_("This link is not valid."))
    if rendition is None or rendition.master.track is None:
        raise StreamNotFound(_("This recording is no longer available."))
    url = playable_url(user=user, track=rendition.master.track, kind=rendition.kind)
    if url is None:
        raise StreamDenied(_("You may not play this recording."))
    return url


class StreamDenied(DomainError):
    """The URL is not (or no longer) good for this caller: 403, and not a byte of the file."""

    code = "stream_denied"


class StreamNotFound(DomainError):
    """The URL is genuine but names a rendition that is gone: 404."""

    code = "stream_not_found"


@dataclass(frozen=True)
class StreamGrant:
    rendition: Rendition
    expires_at: int  # Unix seconds

    def seconds_left(self) -> int:
        return max(0, self.expires_at - int(clock.now().timestamp()))


def stream_open(*, user: Actor, token: str) -> StreamGrant:
    """The stream view's check of a token (`grant_open`); a download kind is not streamed."""
    return grant_open(user=user, token=token, kinds=STREAM_KINDS)


def grant_open(*, user: Actor, token: str, kinds: frozenset[str]) -> StreamGrant:
    """Checks a token from a signed URL for `user`: signature, expiry, a kind the serving view
    serves (`kinds`), rendition, the user it was issued to (full renditions) and
    `playable_tracks` now, in one query. Raises StreamDenied or StreamNotFound."""
    try:
        payload = signing.Signer(salt=SALT).unsign_object(token)
        rendition_id = int(payload["r"])
        kind = str(payload["k"])
        expires_at = int(payload["e"])
        issued_to = payload.get("u")
    except (signing.BadSignature, ValueError, TypeError, KeyError, AttributeError):
        raise StreamDenied(_("This link is not valid.")) from None
    if kind not in kinds:
        raise StreamDenied(_("This link is not valid."))
    if expires_at <= int(clock.now().timestamp()):
        raise StreamDenied(_("This link has expired. Reload the page for a new one."))
    playable = playable_tracks(user=user, kind=kind).filter(pk=OuterRef("master__track"))
    # get(), not first(): no ORDER BY over the related models' default orderings.
    try:
        rendition = (
            Rendition.objects.select_related("master__track")
            .annotate(playable=Exists(playable))
            .get(pk=rendition_id)
        )
    except Rendition.DoesNotExist:
        raise StreamNotFound(_("This recording is no longer available.")) from None
    if rendition.master.track is None:
        raise StreamNotFound(_("This recording is no longer available."))
    if rendition.kind != kind:
        raise StreamDenied(_("This link is not valid."))
    if kind in FULL_KINDS and (not user.is_authenticated or issued_to != user.pk):
        raise StreamDenied(_("This link was issued to someone else."))
    if not rendition.playable:  # type: ignore[attr-defined]
        raise StreamDenied(_("You may not play this recording."))
    return StreamGrant(rendition=rendition, expires_at=expires_at)
