"""Who may hear what, and the signed, expiring URLs through which audio is reached (DESIGN.md §5).

`may_play` is THE entitlement selector (DESIGN.md rule 7): the track page, the API, the player
and the serving view (`views_stream.py`) all ask it, and nothing else decides. A URL from
`signed_url` names one rendition, its kind, an expiry and, for full renditions, the user it was
issued to; the serving view checks the signature, the expiry, that user, and `may_play` again, so
a URL copied to someone else or kept after the right to play it ended is worth nothing.

Expiry is written inside the signed payload and read against `core.clock` (not the timestamp of
`signing.TimestampSigner`, which uses `time.time()`), so tests can freeze it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from backgroundmusic.accounts.models import User
from backgroundmusic.catalog.models import Track
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.media.models import Master, Rendition
from backgroundmusic.staffroles.selectors import staff_may_manage_catalogue

Actor = User | AnonymousUser

SALT = "backgroundmusic.media.stream"
# Long enough for a visitor to open a track page and listen to the whole rendition (the browser
# fetches byte ranges as it plays, all with the same URL); short enough that a copied URL dies
# the same day. Pages issue a fresh URL on every render.
DEFAULT_TTL = timedelta(hours=2)

FULL_KINDS = frozenset({Rendition.Kind.OPUS, Rendition.Kind.AAC, Rendition.Kind.MP3_320})


# ---------------------------------------------------------------------------------------------
# The entitlement selector


def may_play(*, user: Actor, track: Track, kind: str) -> bool:
    """May `user` hear (or, for mp3_320, download) rendition `kind` of `track` now?

    - Content managers and administrators (the manage-catalogue permission, with two-factor
      sign-in) may play every rendition of any track whose master is ready, published or not:
      they check the masters they upload.
    - Everyone else, anonymous visitors included, gets the preview of a published track whose
      master is ready, and nothing more.

    Licensing (a later issue) grants full renditions (opus, aac) and the mp3_320 download to
    licensees HERE, and only here: page, API and stream all ask this function.
    """
    if kind not in Rendition.Kind.values:
        return False
    if _ready_master(track) is None:
        return False
    if kind == Rendition.Kind.PREVIEW and track.is_published:
        return True  # everyone; asked first, so a catalogue page costs no permission queries
    # Full renditions and the download: licensees will be let in here (licensing issue).
    return staff_may_manage_catalogue(actor=user)


def _ready_master(track: Track) -> Master | None:
    """The track's master when ingest finished it (no query when the caller select_related it)."""
    try:
        master: Master = track.master  # type: ignore[attr-defined]
    except Master.DoesNotExist:
        return None
    return master if master.status == Master.Status.READY else None


# ---------------------------------------------------------------------------------------------
# Signed URLs


def signed_url(*, user: Actor, rendition: Rendition, ttl: timedelta = DEFAULT_TTL) -> str:
    """A path (no host) reaching `rendition` until now + ttl.

    It does not ask `may_play` (callers use `playable_url`, which does); the serving view does,
    for the user who opens it. Full renditions carry the id of `user` and open only for them.
    """
    expires = int((clock.now() + ttl).timestamp())
    payload: dict[str, object] = {"r": rendition.pk, "k": rendition.kind, "e": expires}
    if rendition.kind in FULL_KINDS:
        if not user.is_authenticated:
            raise ValueError("A full rendition's URL names the user it is issued to.")
        payload["u"] = user.pk
    token = signing.Signer(salt=SALT).sign_object(payload, compress=False)
    return reverse("media:stream", kwargs={"token": token})


def playable_url(*, user: Actor, track: Track, kind: str) -> str | None:
    """The signed URL of `kind` of `track` for `user`; None when they may not play it or the
    rendition is not there (e.g. ingest made no such rendition)."""
    return playable_urls(user=user, tracks=[track], kind=kind)[track.pk]


def playable_urls(*, user: Actor, tracks: Sequence[Track], kind: str) -> dict[int, str | None]:
    """`playable_url` of every track, by track id: one query for all their renditions of `kind`
    (none when `user` may play none of them), however many tracks a page lists."""
    masters = {
        track.pk: master
        for track in tracks
        if may_play(user=user, track=track, kind=kind)
        and (master := _ready_master(track)) is not None
    }
    renditions = (
        {
            rendition.master_id: rendition
            for rendition in Rendition.objects.filter(
                master__in=[master.pk for master in masters.values()], kind=kind
            ).only("master", "kind")
        }
        if masters
        else {}
    )
    urls: dict[int, str | None] = {track.pk: None for track in tracks}
    for track_id, master in masters.items():
        rendition = renditions.get(master.pk)
        if rendition is not None:
            urls[track_id] = signed_url(user=user, rendition=rendition)
    return urls


# ---------------------------------------------------------------------------------------------
# Opening a signed URL (the serving view's rules)


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
    """Checks a token from a signed URL for `user`: signature, expiry, rendition, the user it
    was issued to (full renditions) and `may_play` now. Raises StreamDenied or StreamNotFound."""
    try:
        payload = signing.Signer(salt=SALT).unsign_object(token)
        rendition_id = int(payload["r"])
        kind = str(payload["k"])
        expires_at = int(payload["e"])
        issued_to = payload.get("u")
    except (signing.BadSignature, ValueError, TypeError, KeyError, AttributeError):
        raise StreamDenied(_("This link is not valid.")) from None
    if expires_at <= int(clock.now().timestamp()):
        raise StreamDenied(_("This link has expired. Reload the page for a new one."))
    # get(), not first(): no ORDER BY over the related models' default orderings.
    try:
        rendition = Rendition.objects.select_related("master__track").get(pk=rendition_id)
    except Rendition.DoesNotExist:
        raise StreamNotFound(_("This recording is no longer available.")) from None
    if rendition.master.track is None:
        raise StreamNotFound(_("This recording is no longer available."))
    if rendition.kind != kind:
        raise StreamDenied(_("This link is not valid."))
    if kind in FULL_KINDS and (not user.is_authenticated or issued_to != user.pk):
        raise StreamDenied(_("This link was issued to someone else."))
    if not may_play(user=user, track=rendition.master.track, kind=kind):
        raise StreamDenied(_("You may not play this recording."))
    return StreamGrant(rendition=rendition, expires_at=expires_at)
