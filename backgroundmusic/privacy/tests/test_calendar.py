"""Working days of the Russian production calendar and the GDPR month (privacy/calendar.py).

Expected dates are counted by hand from the production calendars (decrees on moving days off
for 2025 and 2026); the day of receipt never counts.
"""

from datetime import UTC, date, datetime, timedelta

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backgroundmusic.core import clock
from backgroundmusic.privacy.calendar import (
    VERIFIED_WORKING_WEEKEND_DAYS,
    RussianProductionCalendar,
    add_one_month,
    add_working_days,
    controller_date,
    controller_today,
    is_working_day,
    working_days_between,
)


@pytest.mark.parametrize(
    "received, expected",
    [
        # New Year 2026: 30 Dec works (1); 31 Dec and 1-11 Jan are off (9 Jan moved from 3 Jan);
        # 12-16 Jan (2-6), 19-22 Jan (7-10).
        (date(2025, 12, 29), date(2026, 1, 22)),
        # Received on a holiday: counting starts the next day, still inside the holidays.
        (date(2026, 1, 1), date(2026, 1, 23)),
        # May 2026: 30 Apr (1); 1-3 May off; 4-8 May (2-6); 9-11 May off (9 May falls on a
        # Saturday, so Monday 11 May is off); 12-15 May (7-10).
        (date(2026, 4, 29), date(2026, 5, 15)),
        # Received on a Saturday before the 8 March weekend: 9 March (Monday) is off.
        (date(2026, 3, 7), date(2026, 3, 23)),
        # The working Saturday 1 Nov 2025 counts (6th day); 3-4 Nov are off.
        (date(2025, 10, 24), date(2025, 11, 10)),
        # Received on the Friday before it: the Saturday is the first working day.
        (date(2025, 10, 31), date(2025, 11, 17)),
        # An ordinary fortnight.
        (date(2025, 9, 1), date(2025, 9, 15)),
    ],
)
def test_ten_working_days(received, expected):
    assert add_working_days(received, 10) == expected


def test_five_more_working_days_after_the_new_year_deadline():
    assert add_working_days(date(2026, 1, 22), 5) == date(2026, 1, 29)


def test_zero_working_days_is_the_start_day_and_negative_is_refused():
    assert add_working_days(date(2026, 1, 3), 0) == date(2026, 1, 3)
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 3), -1)


@pytest.mark.parametrize(
    "day, working",
    [
        (date(2025, 11, 1), True),  # Saturday made a working day
        (date(2024, 4, 27), True),
        (date(2024, 11, 2), True),
        (date(2024, 12, 28), True),
        (date(2025, 11, 2), False),  # Sunday
        (date(2025, 11, 3), False),  # day off moved from 1 November
        (date(2025, 11, 4), False),  # Unity Day
        (date(2025, 12, 31), False),  # day off moved from 5 January
        (date(2026, 1, 9), False),  # day off moved from 3 January
        (date(2026, 1, 12), True),
        (date(2026, 3, 9), False),  # 8 March falls on a Sunday
        (date(2026, 5, 8), True),  # the shortened day before Victory Day still works
        (date(2026, 5, 11), False),
        (date(2026, 12, 31), False),  # day off moved from 4 January
    ],
)
def test_is_working_day(day, working):
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    "year, working_days",
    # The totals of the official production calendars for a five-day week.
    [(2021, 247), (2022, 247), (2023, 247), (2024, 248), (2025, 247), (2026, 247)],
)
def test_yearly_totals_match_the_production_calendar(year, working_days):
    first = date(year, 1, 1)
    days = (date(year + 1, 1, 1) - first).days
    assert sum(is_working_day(first + timedelta(d)) for d in range(days)) == working_days


def test_the_holidays_package_knows_every_working_saturday_we_verified():
    years = sorted({day.year for day in VERIFIED_WORKING_WEEKEND_DAYS})
    calendar = holidays.country_holidays("RU", years=years)
    # The same Saturdays, no more and no fewer, for every year we checked by hand.
    assert sorted(calendar.weekend_workdays) == sorted(VERIFIED_WORKING_WEEKEND_DAYS)
    assert all(day.weekday() == 5 for day in VERIFIED_WORKING_WEEKEND_DAYS)


def test_a_working_saturday_before_the_new_year_holidays_counts_across_the_year_boundary():
    # Received Friday 27 Dec 2024: Saturday 28 Dec works (1); 29 Dec-8 Jan are off (30 Dec moved
    # from 28 Dec); 9-10 Jan (2-3), 13-17 Jan (4-8), 20-21 Jan (9-10).
    assert add_working_days(date(2024, 12, 27), 10) == date(2025, 1, 21)
    assert add_working_days(date(2024, 12, 28), 10) == date(2025, 1, 22)
    assert working_days_between(date(2024, 12, 27), date(2025, 1, 10)) == 3
    assert working_days_between(date(2024, 12, 28), date(2025, 1, 8)) == 0


def test_a_verified_saturday_works_even_when_the_package_does_not_list_it():
    ordinary_saturday = date(2026, 6, 6)

    class CalendarWithOneMoreDecree(RussianProductionCalendar):
        verified_working_weekend_days = VERIFIED_WORKING_WEEKEND_DAYS | {ordinary_saturday}

    calendar = CalendarWithOneMoreDecree()
    assert holidays.country_holidays("RU").is_working_day(ordinary_saturday) is False
    assert calendar.is_working_day(ordinary_saturday) is True
    assert calendar.get_nth_working_day(date(2026, 6, 5), 1) == ordinary_saturday
    assert calendar.get_working_days_count(date(2026, 6, 6), date(2026, 6, 7)) == 1
    assert is_working_day(ordinary_saturday) is False


def test_working_days_between():
    assert working_days_between(date(2026, 1, 19), date(2026, 1, 22)) == 3
    assert working_days_between(date(2026, 1, 22), date(2026, 1, 22)) == 0
    assert working_days_between(date(2026, 1, 23), date(2026, 1, 22)) == 0
    assert working_days_between(date(2025, 12, 30), date(2026, 1, 12)) == 1


@pytest.mark.parametrize(
    "received, expected",
    [
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2024, 1, 31), date(2024, 2, 29)),  # leap year
        (date(2026, 1, 28), date(2026, 2, 28)),
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2025, 12, 29), date(2026, 1, 29)),
        (date(2025, 12, 31), date(2026, 1, 31)),
        (date(2026, 2, 28), date(2026, 3, 28)),
    ],
)
def test_gdpr_one_month(received, expected):
    assert add_one_month(received) == expected


def test_the_controller_date_is_moscow_time():
    # 21:30 UTC on 11 January is 00:30 on 12 January in Moscow (UTC+3).
    moment = datetime(2026, 1, 11, 21, 30, tzinfo=UTC)
    assert controller_date(moment) == date(2026, 1, 12)
    with clock.frozen_at(moment):
        assert controller_today() == date(2026, 1, 12)


days = st.dates(min_value=date(2021, 1, 1), max_value=date(2026, 11, 30))


@given(start=days, n=st.integers(min_value=1, max_value=30))
def test_the_nth_working_day_is_a_working_day_n_working_days_away(start, n):
    due = add_working_days(start, n)
    assert due > start
    assert is_working_day(due)
    assert working_days_between(start, due) == n
    assert working_days_between(start, due - timedelta(days=1)) == n - 1


@given(start=days)
def test_one_month_lands_in_the_next_month_never_later_than_the_same_day(start):
    due = add_one_month(start)
    assert (due.year * 12 + due.month) - (start.year * 12 + start.month) == 1
    assert due.day <= start.day
    assert due.day == start.day or (due + timedelta(days=1)).month != due.month
