"""A licence's files on its page: what its holder may download under it now, and the downloads
made under it (issue 11 §6; docs/decisions/0020).

Media records each download (media/downloads.py: person, track, kind, time) and links it to no
agreement: the download was made under the licence that allowed it, found here by person, track
and time. That is one of the person's licences that comes with downloads
(entitlements.with_downloads), covers the track (the whole catalogue, or that one track) and was
in force at that moment by its history (coverage.history_stretches, so a licence revoked later
keeps the downloads it allowed). When several did, the download counts under the licence for
that one track before one for the catalogue, then the earliest: each download is listed under
exactly one licence, as the API's list of downloads ties it. The whole rule is one filter on
the person's downloads, so a page of them costs the same however many there are.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import Q

from backgroundmusic.accounts.models import User
from backgroundmusic.licensing.agreements import agreement_status_at
from backgroundmusic.licensing.coverage import history_stretches
from backgroundmusic.licensing.entitlements import comes_with_downloads, with_downloads
from backgroundmusic.licensing.models import Agreement, Scope
from backgroundmusic.media.downloads import DownloadLink, download_links, downloads_of

DOWNLOADS_PER_PAGE = 50


def _precedence(agreement: Agreement) -> tuple[bool, datetime, int]:
    """Which of two licences that both allowed a download it counts under: the smaller."""
    return (agreement.scope != Scope.TRACK, agreement.starts_at, agreement.pk)


def _allowed(agreement: Agreement) -> Q | None:
    """The downloads `agreement` allowed, by track and time, as a filter on media.Download;
    None when it was never in force."""
    stretches = history_stretches(agreement=agreement, events=list(agreement.events.all()))
    if not stretches:
        return None
    during = Q()
    for stretch in stretches:
        moment = Q(at__gte=stretch.start)
        if stretch.end is not None:
            moment &= Q(at__lt=stretch.end)
        during |= moment
    if agreement.scope == Scope.TRACK:
        return Q(track_id=agreement.track_id) & during
    return Q(track__isnull=False) & during


def downloads_under(*, user: User, agreement: Agreement, page_number: str | None) -> Page | None:
    """The page `page_number` (out-of-range numbers give the nearest page) of the downloads
    the person made under their `agreement`, newest first; None for a licence that comes with
    no downloads. Four queries however many downloads and licences: the person's licences with
    downloads, their histories, the count and the page."""
    if agreement.user_id != user.pk or not comes_with_downloads(uses=agreement.uses):
        return None
    ranked = sorted(
        with_downloads(Agreement.objects.filter(user_id=user.pk)).prefetch_related("events"),
        key=_precedence,
    )
    position = next(index for index, found in enumerate(ranked) if found.pk == agreement.pk)
    mine = _allowed(ranked[position])
    if mine is None:
        found = downloads_of(user=user).none()
    else:
        for earlier in ranked[:position]:
            theirs = _allowed(earlier)
            if theirs is not None:
                mine &= ~theirs
        found = downloads_of(user=user).filter(mine)
    return Paginator(found, DOWNLOADS_PER_PAGE).get_page(page_number)


@dataclass(frozen=True)
class LicenceFiles:
    """What the licence page offers to download."""

    # The licence comes with downloads at all (a venue's licence to perform does not).
    gives_downloads: bool
    # It does now: in force, and for making works.
    in_force: bool
    # The whole catalogue: its page says to download from the track pages instead of listing
    # every track.
    catalogue: bool
    # A one-track licence's files in force (MP3 320, FLAC), with their sizes.
    links: list[DownloadLink]


def licence_files(*, user: User, agreement: Agreement, now: datetime) -> LicenceFiles:
    """What `agreement`'s page offers `user` to download now. The files themselves are offered
    by media's one rule (streaming.playable_tracks), which the licence in force satisfies: at
    most one query, for a one-track licence in force."""
    gives = comes_with_downloads(uses=agreement.uses)
    in_force = (
        gives
        and agreement.starts_at <= now
        and agreement_status_at(agreement, now=now) == Agreement.Status.ACTIVE
    )
    links: list[DownloadLink] = []
    track = agreement.track
    if in_force and agreement.scope == Scope.TRACK and track is not None:
        links = download_links(user=user, tracks=[track])[track.pk]
    return LicenceFiles(
        gives_downloads=gives,
        in_force=in_force,
        catalogue=agreement.scope == Scope.CATALOGUE,
        links=links,
    )
