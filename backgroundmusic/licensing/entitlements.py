"""What a licence entitles its holder to: the named interface through which media's one
definition of "playable" (media/streaming.py `playable_tracks`) lets licensees in.

An agreement entitles while it is active, has started and, for a subscription, is paid for the
present moment. Every active licence lets its holder hear the full tracks it covers; downloads
(MP3 320, lossless) come with licences for making works (videos, podcasts, advertising, a
project), not with a venue's licence to perform in public, which plays through the service.
"""

from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet

from backgroundmusic.licensing.models import Agreement, Scope, Use

# Uses that play through the service only: a licence with no other use gives no downloads.
PERFORMANCE_ONLY = frozenset({Use.PUBLIC_PERFORMANCE})


def comes_with_downloads(*, uses: list[str]) -> bool:
    """Does a licence granting `uses` come with downloads? Every one but a licence only to
    perform, as `with_downloads` asks it of the database."""
    return list(uses) != sorted(PERFORMANCE_ONLY)


def agreements_in_force(*, user_id: int, now: datetime) -> QuerySet[Agreement]:
    """The person's agreements that entitle at `now`."""
    return Agreement.objects.filter(
        user_id=user_id,
        status=Agreement.Status.ACTIVE,
        starts_at__lte=now,
    ).filter(Q(paid_until__isnull=True) | Q(paid_until__gt=now))


def with_downloads(agreements: QuerySet[Agreement]) -> QuerySet[Agreement]:
    """Those of `agreements` that come with downloads: every licence but one only to perform."""
    return agreements.exclude(uses=sorted(PERFORMANCE_ONLY))


def licensed_track_filter(*, user_id: int, now: datetime, download: bool) -> Exists:
    """A filter on catalog.Track: the track is covered by an agreement of the person in force at
    `now` (for `download`, one that comes with downloads)."""
    agreements = agreements_in_force(user_id=user_id, now=now).filter(
        Q(scope=Scope.CATALOGUE) | Q(track=OuterRef("pk"))
    )
    if download:
        agreements = with_downloads(agreements)
    return Exists(agreements)


def agreements_covering_track(*, user_id: int, track_id: int, now: datetime) -> list[Agreement]:
    """The person's agreements in force at `now` that cover the track (the whole catalogue, or
    that track), by number."""
    return list(
        agreements_in_force(user_id=user_id, now=now)
        .filter(Q(scope=Scope.CATALOGUE) | Q(track_id=track_id))
        .order_by("number")
    )
