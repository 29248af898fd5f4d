"""Daily aggregates equal the raw counts; raw events go after 25 months, aggregated first."""

from datetime import UTC, date, datetime, timedelta

import pytest

from backgroundmusic.analytics import aggregates, tasks
from backgroundmusic.analytics.models import DailyDimensionStat, DailyPageStat, Event
from backgroundmusic.analytics.tests.factories import visits
from backgroundmusic.core import clock
from backgroundmusic.privacy.models import DestructionRecord
from backgroundmusic.privacy.retention import retention_run

pytestmark = pytest.mark.django_db(databases="__all__")

DAY = date(2026, 11, 20)
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_a_days_aggregates_equal_its_raw_counts():
    visits(at=NOON, path="/catalog/", visitors=3, views_each=2, engaged_ms=1500)
    visits(at=NOON, path="/", visitors=2, device="mobile", referrer_host="ya.ru", key_prefix="m")
    visits(at=NOON + timedelta(days=1), path="/", visitors=4)  # another day
    assert aggregates.day_aggregate(DAY) == 2
    pages = {
        row.path: (row.page_views, row.visitors, row.engaged_ms)
        for row in DailyPageStat.objects.filter(day=DAY)
    }
    assert pages == {"/catalog/": (6, 3, 9000), "/": (2, 2, 0)}
    dimensions = {
        (row.dimension, row.value): (row.page_views, row.visitors)
        for row in DailyDimensionStat.objects.filter(day=DAY)
    }
    assert dimensions[("device", "desktop")] == (6, 3)
    assert dimensions[("device", "mobile")] == (2, 2)
    assert dimensions[("referrer", "ya.ru")] == (2, 2)
    assert dimensions[("referrer", "")] == (6, 3)
    # Run again: the same rows, not twice as many.
    aggregates.day_aggregate(DAY)
    assert DailyPageStat.objects.filter(day=DAY).count() == 2


def test_an_identified_visitor_counts_once_by_pseudonym():
    visits(at=NOON, pseudonyms=["AbCdEfGhIjKlMnOpQrStUv"], views_each=3)
    aggregates.day_aggregate(DAY)
    assert DailyPageStat.objects.get(day=DAY).visitors == 1


def test_months_before_keeps_the_day_or_takes_the_months_last():
    assert aggregates.months_before(datetime(2026, 11, 24, tzinfo=UTC), 25) == datetime(
        2024, 10, 24, tzinfo=UTC
    )
    assert aggregates.months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(
        2026, 2, 28, tzinfo=UTC
    )


def test_raw_events_older_than_25_months_are_deleted_after_their_day_is_aggregated():
    now = datetime(2026, 11, 24, 1, 23, tzinfo=UTC)
    old = datetime(2024, 10, 20, 9, 0, tzinfo=UTC)  # 25 months and 4 days ago
    kept = datetime(2024, 10, 25, 9, 0, tzinfo=UTC)  # 25 months less a day
    visits(at=old, path="/old/", visitors=2)
    visits(at=kept, path="/kept/", visitors=1)
    visits(at=now - timedelta(days=1), path="/yesterday/", visitors=1)
    with clock.frozen_at(now):
        assert tasks.aggregate_events.call() == 1
        report = retention_run()
    assert report.destroyed == {"analytics.Event": 2}
    assert sorted(Event.objects.values_list("path", flat=True)) == ["/kept/", "/yesterday/"]
    assert DailyPageStat.objects.get(day=old.date()).page_views == 2
    assert DailyPageStat.objects.get(day=(now - timedelta(days=1)).date()).page_views == 1
    record = DestructionRecord.objects.get()
    assert (record.counts, record.method, record.reason, record.subject_pseudonym) == (
        {"analytics.Event": 2},
        "delete",
        "retention: analytics events",
        "",
    )
    assert record.categories == [
        "user.behavior.browsing_history",
        "user.device",
        "user.device.cookie_id",
        "user.unique_id",
    ]
