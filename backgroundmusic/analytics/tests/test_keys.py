"""The cookieless key's daily salt: made on first use, never for a past day, gone after 48 h."""

from datetime import UTC, datetime, timedelta

import pytest

from backgroundmusic.analytics import keys, tasks
from backgroundmusic.analytics.models import VisitorSalt
from backgroundmusic.core import clock

pytestmark = pytest.mark.django_db(databases="__all__")

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def key_on(day_start: datetime) -> str:
    with clock.frozen_at(day_start):
        keys.forget_cached_salt()
        return keys.visitor_key(
            salt=keys.salt_for_today(), truncated_ip="198.51.100.0", browser="Firefox"
        )


def test_the_same_visitor_has_one_key_a_day_and_another_the_next_day():
    monday = key_on(MONDAY)
    assert key_on(MONDAY + timedelta(hours=5)) == monday
    assert key_on(MONDAY + timedelta(days=1)) != monday
    assert len(monday) == 64
    assert (
        keys.visitor_key_for_day(day=MONDAY.date(), truncated_ip="198.51.100.0", browser="Firefox")
        == monday
    )


def test_after_the_salt_job_a_three_day_old_key_cannot_be_recomputed():
    monday = key_on(MONDAY)
    key_on(MONDAY + timedelta(days=2))  # Wednesday's visitors make Wednesday's salt
    with clock.frozen_at(MONDAY + timedelta(days=3)):
        assert tasks.purge_visitor_salts.call() == 1  # Monday's; Wednesday's is 24 h old
        assert sorted(VisitorSalt.objects.values_list("day", flat=True)) == [
            (MONDAY + timedelta(days=2)).date()
        ]
        assert (
            keys.visitor_key_for_day(
                day=MONDAY.date(), truncated_ip="198.51.100.0", browser="Firefox"
            )
            is None
        )
        # Today's salt is a new random one: the old key does not come back.
        today = keys.visitor_key(
            salt=keys.salt_for_today(), truncated_ip="198.51.100.0", browser="Firefox"
        )
    assert today != monday
    assert not VisitorSalt.objects.filter(day=MONDAY.date()).exists()


def test_a_salt_younger_than_48_hours_is_kept():
    key_on(MONDAY)
    with clock.frozen_at(MONDAY + timedelta(hours=47, minutes=59)):
        assert keys.salts_purge() == 0
    with clock.frozen_at(MONDAY + timedelta(hours=48, minutes=1)):
        assert keys.salts_purge() == 1
