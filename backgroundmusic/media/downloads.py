"""Downloads: the renditions people keep (MP3 320 and FLAC), and the record of each download.

A download URL is a signed URL of `streaming.signed_url` for a kind in
`streaming.DOWNLOAD_KINDS` (`/download/<token>`), checked like a stream's: signature, expiry,
the user it was issued to, and `streaming.playable_tracks` now (`download_open`). The view
(`views.download`) serves the file as an attachment named `<Artist> - <Title>.<ext>`
(`content_disposition`) with the same byte ranges as the stream.

Each download is one `Download` row, whatever number of requests fetch it: a browser fetches a
file in one request, a download manager in many ranges, often several at once, all with one URL.
`download_record` writes the row on the first request of a URL that sends bytes, keyed by the
SHA-256 of its token (unique), and the other requests find it there; so the row counts URLs
fetched, and a new download is a new URL (pages issue one per render). Licensing lists a
person's downloads with `downloads_of` and ties each to the agreement in force by person, track
and time.

Pages offer downloads through `download_links`: for each track, the files the person may
download now (`streaming.playable_tracks`, the one rule) with their URLs and sizes.
"""

import functools
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

import icu
from django.db.models import Q, QuerySet

from backgroundmusic.catalog.models import Track
from backgroundmusic.core import clock
from backgroundmusic.media import pipeline, streaming
from backgroundmusic.media.models import Download, Rendition
from backgroundmusic.media.streaming import Actor, StreamGrant

# Characters no file name may hold on Windows, macOS or Linux, and the percent sign, which some
# browsers decode in a plain `filename` (RFC 6266 appendix D).
_RESERVED = re.compile(r'[\\/:*?"<>|%]')
_SPACES = re.compile(r"\s+")
# Names Windows keeps for devices, whatever the extension.
_DEVICE_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"{port}{digit}" for port in ("COM", "LPT") for digit in range(1, 10)}
)
# Most file systems allow 255 bytes; leave room for the extension and a "(1)" the browser adds.
MAX_STEM_BYTES = 200


def download_open(*, user: Actor, token: str) -> StreamGrant:
    """The download view's check of a token (`streaming.grant_open`): only the download kinds.
    Raises streaming.StreamDenied or StreamNotFound."""
    return streaming.grant_open(user=user, token=token, kinds=streaming.DOWNLOAD_KINDS)


@dataclass(frozen=True)
class DownloadLink:
    """A file a person may download now: its kind (mp3_320 or flac), signed URL and size."""

    kind: str
    url: str
    size_bytes: int


# The order in which pages offer the files: the MP3 everyone plays, then the lossless one.
LINK_ORDER = (Rendition.Kind.MP3_320, Rendition.Kind.FLAC)


def download_links(*, user: Actor, tracks: Sequence[Track]) -> dict[int, list[DownloadLink]]:
    """Each of `tracks`' downloads that `user` may make now, MP3 320 before FLAC, by track id
    (an empty list for a track with none): one query for all the tracks, none for an anonymous
    visitor. A kind is offered only when `streaming.playable_tracks` allows it and the
    rendition exists (a lossy master has no FLAC)."""
    links: dict[int, list[DownloadLink]] = {track.pk: [] for track in tracks}
    if not links or not user.is_authenticated:
        return links
    allowed = Q()
    for kind in LINK_ORDER:
        playable = streaming.playable_tracks(user=user, kind=kind).filter(pk__in=list(links))
        allowed |= Q(kind=kind, master__track__in=playable)
    renditions = (
        Rendition.objects.filter(allowed)
        .select_related("master")
        .only("pk", "kind", "size_bytes", "master__track_id")
    )
    for rendition in sorted(renditions, key=lambda found: LINK_ORDER.index(found.kind)):
        track_id = rendition.master.track_id
        assert track_id is not None  # playable_tracks holds tracks, so their masters have one
        links[track_id].append(
            DownloadLink(
                kind=rendition.kind,
                url=streaming.signed_url(user=user, rendition=rendition),
                size_bytes=rendition.size_bytes,
            )
        )
    return links


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def download_record(*, user: Actor, rendition: Rendition, token: str) -> None:
    """Records that `user` downloads `rendition` through the URL of `token`, once per URL: one
    INSERT that does nothing when a request of the same URL came first (at once or before)."""
    Download.objects.bulk_create(
        [
            Download(
                user_id=user.pk,
                track_id=rendition.master.track_id,
                rendition=rendition,
                kind=rendition.kind,
                token_sha256=token_sha256(token),
                at=clock.now(),
            )
        ],
        ignore_conflicts=True,
    )


def downloads_of(*, user: Actor) -> QuerySet[Download]:
    """The person's downloads, newest first, with their tracks (none for anonymous visitors)."""
    if not user.is_authenticated:
        return Download.objects.none()
    return Download.objects.filter(user_id=user.pk).select_related("track")


def attachment_filename(*, rendition: Rendition) -> str:
    """`<Artist> - <Title>.<ext>`: the composer (else the rights holder) and the title, with
    what no file system takes removed: reserved characters, control and format characters (a
    right-to-left override would show another extension), leading and trailing dots and spaces,
    Windows device names; at most MAX_STEM_BYTES of UTF-8 before the extension."""
    track = rendition.master.track
    extension = pipeline.SPECS[rendition.kind].extension
    parts = [track.composer or track.rights_holder, track.title] if track else []
    stem = " - ".join(cleaned for cleaned in map(_clean, parts) if cleaned)
    if not stem and track is not None:
        stem = _clean(track.catalogue_code)
    return f"{_file_stem(stem)}.{extension}"


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = "".join(
        " " if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char for char in text
    )
    return _SPACES.sub(" ", _RESERVED.sub(" ", text)).strip(" .")


def _file_stem(text: str) -> str:
    encoded = text.encode()
    if len(encoded) > MAX_STEM_BYTES:
        text = encoded[:MAX_STEM_BYTES].decode(errors="ignore").rstrip(" .")
    if not text:
        return "track"
    return f"_{text}" if text.split(".")[0].strip().upper() in _DEVICE_NAMES else text


@functools.cache
def _to_ascii() -> icu.Transliterator:
    # Any script to Latin, then Latin to ASCII: «Чайковский» → Cajkovskij, «Dvořák» → Dvorak.
    return icu.Transliterator.createInstance("Any-Latin; Latin-ASCII")


def ascii_filename(name: str) -> str:
    """The plain-ASCII form of a file name, for clients that ignore `filename*`."""
    if name.isascii():
        return name
    stem, dot, extension = name.rpartition(".")
    latin = _to_ascii().transliterate(stem)
    return f"{_file_stem(_clean(''.join(c for c in latin if ' ' <= c <= '~')))}{dot}{extension}"


def content_disposition(*, rendition: Rendition) -> str:
    """`attachment` with the file name: plain when it is ASCII, else an ASCII `filename` for old
    clients and the UTF-8 `filename*` of RFC 6266 / RFC 8187 (RFC 5987's successor)."""
    name = attachment_filename(rendition=rendition)
    fallback = ascii_filename(name)
    if fallback == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
