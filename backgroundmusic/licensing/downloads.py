"""A person's downloads tied to the licences they were made under (issue 11 §6).

Media records each download (media/downloads.py: person, track, kind, time); licensing knows
which agreement let the person download that track then: one of theirs that comes with downloads
(entitlements.with_downloads), covers the track (the whole catalogue, or that one track) and was
in force at that moment by its history (coverage.history_stretches), so a licence revoked later
still names the downloads it allowed. A download no licence allowed (a content manager's) names
none.
"""

from dataclasses import dataclass
from datetime import datetime

from backgroundmusic.accounts.models import User
from backgroundmusic.licensing.coverage import InForce, history_stretches
from backgroundmusic.licensing.entitlements import with_downloads
from backgroundmusic.licensing.models import Agreement, Scope
from backgroundmusic.media.downloads import downloads_of
from backgroundmusic.media.models import Download
from backgroundmusic.media.streaming import DOWNLOAD_KINDS

# The kinds of file a download keeps (media/streaming.py), for those who describe downloads.
DOWNLOADED_KINDS = sorted(DOWNLOAD_KINDS)


@dataclass(frozen=True)
class DownloadUnder:
    download: Download
    agreement: Agreement | None


@dataclass(frozen=True)
class DownloadsPage:
    items: list[DownloadUnder]
    total: int


def _in_force_at(stretches: list[InForce], moment: datetime) -> bool:
    return any(s.start <= moment and (s.end is None or moment < s.end) for s in stretches)


def downloads_under_licences(*, user: User, offset: int, limit: int) -> DownloadsPage:
    """The person's downloads, newest first, `limit` of them from `offset`, each with the
    agreement it was made under (a licence for that one track before one for the catalogue,
    then the earliest). Four queries however many there are: the count, the page, the
    agreements and their histories."""
    downloads = downloads_of(user=user)
    total = downloads.count()
    page = list(downloads[offset : offset + limit]) if offset < total else []
    if not page:
        return DownloadsPage(items=[], total=total)
    agreements = with_downloads(Agreement.objects.filter(user_id=user.pk)).prefetch_related(
        "events"
    )
    candidates = sorted(
        (
            (agreement, history_stretches(agreement=agreement, events=list(agreement.events.all())))
            for agreement in agreements
        ),
        key=lambda pair: (pair[0].scope != Scope.TRACK, pair[0].starts_at, pair[0].pk),
    )
    items = []
    for download in page:
        under = next(
            (
                agreement
                for agreement, stretches in candidates
                if download.track_id is not None
                and (agreement.scope == Scope.CATALOGUE or agreement.track_id == download.track_id)
                and _in_force_at(stretches, download.at)
            ),
            None,
        )
        items.append(DownloadUnder(download=download, agreement=under))
    return DownloadsPage(items=items, total=total)
