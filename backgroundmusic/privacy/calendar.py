"""Working days of the Russian production calendar, and the GDPR month.

152-FZ counts the deadline to answer a data-subject request in working days (art. 14, 20, 21:
ten working days, extendable once by five with a reasoned notice). A working day is a day that is
neither a weekend nor a non-working holiday (Labour Code art. 111, 112), except that the
Government's yearly decree on moving days off ("о переносе выходных дней") can turn a Saturday
into a working day and a weekday into a day off.

The `holidays` package (pinned in pyproject.toml; its Russian calendar cites each yearly decree)
answers which days work and counts them. `RussianProductionCalendar` adds to it the Saturdays made
working days that we checked by hand against the decrees: an upgrade of the package that lost one
would otherwise push deadlines past the legal ones without a sound (a test compares the two).
"""

import threading
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta  # type: ignore[import-untyped]
from holidays.countries.russia import Russia

from backgroundmusic.core import clock

# A letter or e-mail is received on the controller's (Moscow) date, and a deadline is missed when
# that date is past it.
CONTROLLER_TIME_ZONE = clock.CONTROLLER_TIME_ZONE

# Saturdays the yearly decree made working days (Russian Government decrees on moving days off):
# - 2021-02-20: decree No. 1648 of 10.10.2020 (day off moved to Monday 22 February);
# - 2022-03-05: decree No. 1564 of 16.09.2021 (day off moved to Monday 7 March);
# - 2024-04-27, 2024-11-02, 2024-12-28: decree No. 1314 of 10.08.2023 (days off moved to
#   29 April, 30 April and 30 December);
# - 2025-11-01: decree No. 1335 of 04.10.2024 (day off moved to Monday 3 November).
# 2023 and 2026 have none: decrees No. 1505 of 29.08.2022 and No. 1466 of 24.09.2025 move only
# the New Year weekend days (2026: 3 January to 9 January, 4 January to 31 December).
# Later years come from the `holidays` package until a decree is checked and added here.
VERIFIED_WORKING_WEEKEND_DAYS: frozenset[date] = frozenset(
    {
        date(2021, 2, 20),
        date(2022, 3, 5),
        date(2024, 4, 27),
        date(2024, 11, 2),
        date(2024, 12, 28),
        date(2025, 11, 1),
    }
)


class RussianProductionCalendar(Russia):
    """The package's Russian calendar with every Saturday we verified made a working day."""

    verified_working_weekend_days: frozenset[date] = VERIFIED_WORKING_WEEKEND_DAYS

    def _populate(self, year: int) -> None:
        super()._populate(year)
        self.weekend_workdays.update(
            day for day in self.verified_working_weekend_days if day.year == year
        )


# One calendar for the process. It fills in a year the first time a date in it is asked about,
# which changes the object, so threads take turns.
_calendar = RussianProductionCalendar()
_calendar_lock = threading.Lock()


def is_working_day(day: date) -> bool:
    with _calendar_lock:
        return _calendar.is_working_day(day)


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after `start`. The start day itself never counts, working or not
    (Civil Code art. 191: a period begins on the day after the event that starts it)."""
    if n < 0:
        raise ValueError("n must not be negative")
    if n == 0:
        return start
    with _calendar_lock:
        return _calendar.get_nth_working_day(start, n)


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]: how many working days are left from `start` until `end`
    (0 when `end` is not after `start`)."""
    if end <= start:
        return 0
    with _calendar_lock:
        return _calendar.get_working_days_count(start + timedelta(days=1), end)


def add_one_month(start: date) -> date:
    """The same day of the next month, or that month's last day when it has no such day.

    The GDPR's "one month" (art. 12(3)) is counted under Regulation 1182/71 art. 3(2)(c), as the
    EDPB's guidelines 01/2022 on the right of access explain: received on 31 January, due on the
    last day of February. The regulation's move of a deadline that falls on a weekend or holiday
    to the next working day is not applied: answering earlier is always within the period.
    """
    return add_months(start, 1)


def add_months(start: date, n: int) -> date:
    """The same day n months later, or that month's last day when it has no such day; counted
    from `start` itself, so received on 31 January, one month and two more end on 30 April."""
    if n < 0:
        raise ValueError("n must not be negative")
    return start + relativedelta(months=n)


def controller_date(moment: datetime) -> date:
    """The date of `moment` in the controller's time zone (Moscow)."""
    return moment.astimezone(CONTROLLER_TIME_ZONE).date()


def controller_today() -> date:
    """Today in the controller's time zone: the day deadlines and legal holds are checked on."""
    return controller_date(clock.now())
