"""The staff dashboard's figures: aggregates only, small cells suppressed (issue 5 item 4).

Figures for a period add up the stored daily aggregates, and compute today's from raw events.
"Visitors" of a row is the sum of its daily distinct visitors (cookieless keys change every day,
so nobody can be followed across days; a person who came on three days counts three times).

Suppression: a row (page, referrer, device, browser, day) with fewer than SUPPRESS_BELOW
visitors is not shown. Its figures go into one "other" row, shown only when that row itself
reaches the threshold; and the totals are the sums of what is shown, so no subtraction can give
back a suppressed row. One person can be in several suppressed rows of a day (ten small pages
viewed by one visitor), so the "other" row is measured by a floor of its distinct visitors: per
day, the largest of its rows, added up over the days.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from backgroundmusic.analytics.aggregates import day_figures
from backgroundmusic.analytics.models import DailyDimensionStat, DailyPageStat, Dimension
from backgroundmusic.core import clock

SUPPRESS_BELOW = 10
TOP_ROWS = 20


@dataclass
class Row:
    label: str
    page_views: int = 0
    visitors: int = 0
    engaged_ms: int = 0
    daily_visitors: dict[date, int] = field(default_factory=dict)

    def add(self, *, day: date, page_views: int, visitors: int, engaged_ms: int = 0) -> None:
        self.page_views += page_views
        self.visitors += visitors
        self.engaged_ms += engaged_ms
        self.daily_visitors[day] = self.daily_visitors.get(day, 0) + visitors

    def merge(self, other: "Row") -> None:
        """Adds `other` in; a day's visitors become the larger of the two, since the same
        people may be in both."""
        self.page_views += other.page_views
        self.visitors += other.visitors
        self.engaged_ms += other.engaged_ms
        for day, visitors in other.daily_visitors.items():
            self.daily_visitors[day] = max(self.daily_visitors.get(day, 0), visitors)

    @property
    def distinct_visitors_at_least(self) -> int:
        return sum(self.daily_visitors.values())

    @property
    def engaged_seconds_per_view(self) -> float:
        return round(self.engaged_ms / 1000 / self.page_views, 1) if self.page_views else 0.0


@dataclass
class Table:
    rows: list[Row]
    other: Row | None  # the suppressed rows together, when they reach the threshold
    suppressed: int  # how many rows are not shown on their own
    suppressed_with_visitors: int  # of those, the ones that had any visitor
    total: Row = field(default_factory=lambda: Row(label="total"))


@dataclass
class Dashboard:
    start: date
    end: date
    daily: Table  # one row per day, label = ISO date
    pages: Table
    referrers: Table
    devices: Table
    browsers: Table

    @property
    def days_left_out(self) -> int:
        """Days that had visitors but too few to count, in no figure of the page's summary."""
        return 0 if self.daily.other is not None else self.daily.suppressed_with_visitors


def _stored_and_today(
    start: date, end: date
) -> tuple[list[DailyPageStat], list[DailyDimensionStat]]:
    today = clock.now().date()
    pages = list(
        DailyPageStat.objects.filter(day__gte=start, day__lte=min(end, today - timedelta(days=1)))
    )
    dimensions = list(
        DailyDimensionStat.objects.filter(
            day__gte=start, day__lte=min(end, today - timedelta(days=1))
        )
    )
    stored_days = {row.day for row in pages}
    for day in (today - timedelta(days=1), today):
        if start <= day <= end and day not in stored_days:
            figures = day_figures(day)
            pages += figures.pages
            dimensions += figures.dimensions
    return pages, dimensions


def _table(rows: Iterable[Row], *, limit: int | None = TOP_ROWS, sort: bool = True) -> Table:
    shown: list[Row] = []
    hidden = Row(label="other")
    suppressed = suppressed_with_visitors = 0
    ordered = sorted(rows, key=lambda r: (-r.page_views, r.label)) if sort else list(rows)
    for row in ordered:
        if row.visitors >= SUPPRESS_BELOW and (limit is None or len(shown) < limit):
            shown.append(row)
        else:
            suppressed += 1
            suppressed_with_visitors += bool(row.visitors)
            hidden.merge(row)
    other = hidden if suppressed and hidden.distinct_visitors_at_least >= SUPPRESS_BELOW else None
    total = Row(label="total")
    for row in [*shown, *([other] if other else [])]:
        total.merge(row)
    return Table(
        rows=shown,
        other=other,
        suppressed=suppressed,
        suppressed_with_visitors=suppressed_with_visitors,
        total=total,
    )


def dashboard(*, start: date, end: date) -> Dashboard:
    pages, dimensions = _stored_and_today(start, end)
    by_path: dict[str, Row] = defaultdict(lambda: Row(label=""))
    by_day: dict[date, Row] = {}
    for page_stat in pages:
        row = by_path[page_stat.path]
        row.label = page_stat.path
        row.add(
            day=page_stat.day,
            page_views=page_stat.page_views,
            visitors=page_stat.visitors,
            engaged_ms=page_stat.engaged_ms,
        )
    # A day's visitors and views from its device rows: every view has exactly one device class
    # (possibly ""), and a cookieless visitor one browser, so they add up without repeats.
    for dimension_stat in dimensions:
        if dimension_stat.dimension == Dimension.DEVICE:
            day = by_day.setdefault(dimension_stat.day, Row(label=dimension_stat.day.isoformat()))
            day.add(
                day=dimension_stat.day,
                page_views=dimension_stat.page_views,
                visitors=dimension_stat.visitors,
            )
    for page_stat in pages:
        day = by_day.setdefault(page_stat.day, Row(label=page_stat.day.isoformat()))
        day.engaged_ms += page_stat.engaged_ms
    by_dimension: dict[str, dict[str, Row]] = defaultdict(dict)
    for dimension_stat in dimensions:
        row = by_dimension[dimension_stat.dimension].setdefault(
            dimension_stat.value, Row(label=dimension_stat.value or "(none)")
        )
        row.add(
            day=dimension_stat.day,
            page_views=dimension_stat.page_views,
            visitors=dimension_stat.visitors,
        )
    days = [
        by_day.get(day, Row(label=day.isoformat()))
        for day in (start + timedelta(days=n) for n in range((end - start).days + 1))
    ]
    return Dashboard(
        start=start,
        end=end,
        daily=_table(days, limit=None, sort=False),
        pages=_table(by_path.values()),
        referrers=_table(by_dimension[Dimension.REFERRER].values()),
        devices=_table(by_dimension[Dimension.DEVICE].values()),
        browsers=_table(by_dimension[Dimension.BROWSER].values()),
    )


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    page_views: int | None  # None: suppressed


def chart_bars(figures: Dashboard, *, width: float = 800, height: float = 160) -> list[Bar]:
    """Bars of page views per day of the period for an inline SVG; a suppressed day draws no
    bar (and says so in its title)."""
    shown = {row.label: row for row in figures.daily.rows}
    days = (figures.end - figures.start).days + 1
    tallest = max((row.page_views for row in figures.daily.rows), default=0) or 1
    slot = width / days
    bars = []
    for index in range(days):
        label = (figures.start + timedelta(days=index)).isoformat()
        row = shown.get(label)
        bar_height = height * (row.page_views if row else 0) / tallest
        bars.append(
            Bar(
                x=round(index * slot + slot * 0.1, 2),
                y=round(height - bar_height, 2),
                width=round(slot * 0.8, 2),
                height=round(bar_height, 2),
                label=label,
                page_views=row.page_views if row else None,
            )
        )
    return bars
