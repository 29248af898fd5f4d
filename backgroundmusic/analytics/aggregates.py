"""Daily aggregates, and the 25-month life of raw events (policy clause 6.1, issue 5 item 3).

A day's figures are built from its raw events (`day_figures`) and stored as DailyPageStat and
DailyDimensionStat rows (`day_aggregate`, idempotent). The nightly job aggregates the last two
days (late beacons), then deletes raw events older than 25 months, aggregating first any of
their days not yet aggregated. The dashboard reads stored days and computes today live.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.db.models import CharField, Count, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, NullIf

from backgroundmusic.analytics.models import (
    AnalyticsIdentity,
    DailyDimensionStat,
    DailyPageStat,
    Dimension,
    Event,
    EventKind,
)
from backgroundmusic.core import clock
from backgroundmusic.privacy.kernel.holds import held_left, held_persons, held_record_ids

RAW_RETENTION_MONTHS = 25
# Dimension → the Event field it counts (views only).
DIMENSION_FIELDS = {
    Dimension.REFERRER: "referrer_host",
    Dimension.BROWSER: "browser",
    Dimension.DEVICE: "device",
    Dimension.SCREEN: "screen",
    Dimension.COUNTRY: "country",
    Dimension.LANGUAGE: "language",
}


def visitor_identity() -> Coalesce:
    """Who a row counts as: the pseudonym when identified, else the day's cookieless key."""
    return Coalesce(NullIf("pseudonym", Value("")), "visitor_key", output_field=CharField())


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def events_of_day(day: date) -> QuerySet[Event]:
    start, end = day_bounds(day)
    return Event.objects.filter(occurred_at__gte=start, occurred_at__lt=end)


@dataclass(frozen=True)
class DayFigures:
    pages: list[DailyPageStat]
    dimensions: list[DailyDimensionStat]


def day_figures(day: date) -> DayFigures:
    events = events_of_day(day)
    pages = [
        DailyPageStat(
            day=day,
            path=row["path"],
            page_views=row["views"],
            visitors=row["visitors"],
            engaged_ms=row["engaged"] or 0,
        )
        for row in events.values("path")
        .annotate(
            views=Count("pk", filter=Q(kind=EventKind.VIEW)),
            visitors=Count(visitor_identity(), distinct=True),
            engaged=Sum("engaged_ms"),
        )
        .order_by("path")
    ]
    views = events.filter(kind=EventKind.VIEW)
    dimensions = [
        DailyDimensionStat(
            day=day,
            dimension=dimension,
            value=row[field_name],
            page_views=row["views"],
            visitors=row["visitors"],
        )
        for dimension, field_name in DIMENSION_FIELDS.items()
        for row in views.values(field_name)
        .annotate(views=Count("pk"), visitors=Count(visitor_identity(), distinct=True))
        .order_by(field_name)
    ]
    return DayFigures(pages=pages, dimensions=dimensions)


def day_aggregate(day: date) -> int:
    """Stores the day's aggregates in place of any stored before; returns the page rows."""
    figures = day_figures(day)
    with transaction.atomic(using=DailyPageStat.objects.db):
        DailyPageStat.objects.filter(day=day).delete()
        DailyDimensionStat.objects.filter(day=day).delete()
        DailyPageStat.objects.bulk_create(figures.pages, batch_size=500)
        DailyDimensionStat.objects.bulk_create(figures.dimensions, batch_size=500)
    return len(figures.pages)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` earlier (the month's last day when it is shorter)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    for day in range(moment.day, 0, -1):
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:
            continue
    raise ValueError(moment)


def aggregate_recent(*, now: datetime | None = None) -> int:
    """The nightly job: aggregate yesterday and the day before; returns the page rows written."""
    today = (now or clock.now()).astimezone(UTC).date()
    return sum(day_aggregate(today - timedelta(days=back)) for back in (1, 2))


def destroy_expired_events(*, now: datetime) -> dict[str, int]:
    """The retention step of raw events (registered in analytics/privacy.py, so the retention
    run writes its destruction record): events older than 25 months are deleted once their days
    are aggregated, except those a legal hold keeps (`held_events`), reported as held."""
    cutoff = months_before(now.astimezone(UTC), RAW_RETENTION_MONTHS)
    expiring = Event.objects.filter(occurred_at__lt=cutoff)
    stored = set(DailyPageStat.objects.values_list("day", flat=True).distinct())
    first = expiring.order_by("occurred_at").values_list("occurred_at", flat=True).first()
    if first is not None:
        day = first.astimezone(UTC).date()
        while day <= cutoff.date():
            if day not in stored:
                day_aggregate(day)
            day += timedelta(days=1)
    held = held_events()
    held_left(Event._meta.label, expiring.filter(held).count())
    deleted, _ = expiring.exclude(held).delete()
    return {Event._meta.label: deleted} if deleted else {}


def held_events() -> Q:
    """The events a legal hold keeps: those it names, and a held person's identified events,
    found through the pseudonyms their AnalyticsIdentity rows link to them (rows the hold keeps
    too). Cookieless events name nobody (their daily key cannot be recomputed after 48 hours),
    so a hold on a person cannot reach them."""
    persons = held_persons()
    pseudonyms = (
        list(
            AnalyticsIdentity.objects.filter(user_id__in=persons).values_list(
                "pseudonym", flat=True
            )
        )
        if persons
        else []
    )
    named = [int(pk) for pk in held_record_ids(Event._meta.label) if pk.isdigit()]
    return Q(pk__in=named) | Q(pseudonym__in=pseudonyms)
