"""/staff/analytics/: aggregates only, rows under 10 visitors suppressed, for the right people."""

import csv
import io
from datetime import UTC, date, datetime

import pytest

from backgroundmusic.accounts.tests.factories import StaffFactory
from backgroundmusic.analytics import aggregates
from backgroundmusic.analytics.selectors import chart_bars, dashboard
from backgroundmusic.analytics.tests.factories import visits
from backgroundmusic.core import clock
from backgroundmusic.staffroles.roles import StaffRole
from tests.callers import CALLERS, expected_by_caller

pytestmark = pytest.mark.django_db(databases="__all__")

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
EARLIER = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def traffic():
    visits(at=EARLIER, path="/catalog/", visitors=12, views_each=2, engaged_ms=3000)
    visits(at=EARLIER, path="/", visitors=10, key_prefix="h", referrer_host="ya.ru")
    # Small pages: suppressed one by one; together 5 + 4 = 9 visitors, still too few.
    visits(at=EARLIER, path="/u-small/", visitors=5, key_prefix="s", device="mobile")
    visits(at=EARLIER, path="/tiny/", visitors=4, key_prefix="t", device="mobile")
    aggregates.day_aggregate(EARLIER.date())
    # Today: computed live from raw events.
    visits(at=NOW, path="/catalog/", visitors=10, key_prefix="n")


def test_small_rows_are_suppressed_and_totals_add_up_what_is_shown(traffic):
    with clock.frozen_at(NOW):
        figures = dashboard(start=date(2026, 11, 20), end=date(2026, 11, 24))
    pages = figures.pages
    assert [(r.label, r.page_views, r.visitors, r.engaged_ms) for r in pages.rows] == [
        ("/catalog/", 34, 22, 72_000),
        ("/", 10, 10, 0),
    ]
    assert (pages.other, pages.suppressed) == (None, 2)
    assert (pages.total.page_views, pages.total.visitors) == (44, 32)
    devices = figures.devices
    assert [(r.label, r.visitors) for r in devices.rows] == [("desktop", 32)]
    assert (devices.other, devices.suppressed) == (None, 1)  # mobile: 9 visitors
    referrers = figures.referrers
    assert [(r.label, r.visitors) for r in referrers.rows] == [("(none)", 31), ("ya.ru", 10)]
    assert [(r.label, r.page_views, r.visitors) for r in figures.daily.rows] == [
        ("2026-11-20", 43, 31),
        ("2026-11-24", 10, 10),
    ]
    assert figures.daily.suppressed == 3  # the days without visitors


def test_suppressed_rows_together_are_shown_when_they_reach_ten_distinct_visitors(traffic):
    # On another day, a small page with 6 visitors: per day the largest small row (5, then 6)
    # adds up to at least 11 different visitors.
    visits(at=NOW, path="/third-small/", visitors=6, key_prefix="x")
    with clock.frozen_at(NOW):
        pages = dashboard(start=date(2026, 11, 20), end=date(2026, 11, 24)).pages
    assert pages.other is not None
    assert (pages.suppressed, pages.other.page_views, pages.other.visitors) == (3, 15, 15)
    assert pages.other.distinct_visitors_at_least == 11
    assert (pages.total.page_views, pages.total.visitors) == (59, 47)


def test_one_visitor_in_many_small_rows_does_not_make_the_other_row_shown(traffic):
    # One person viewing twelve pages nobody else opened: twelve rows of one visitor each.
    for number in range(12):
        visits(at=NOW, path=f"/lonely-{number:02d}/", visitors=1, key_prefix="one")
    with clock.frozen_at(NOW):
        pages = dashboard(start=date(2026, 11, 24), end=date(2026, 11, 24)).pages
    assert [(r.label, r.visitors) for r in pages.rows] == [("/catalog/", 10)]
    assert pages.suppressed == 12
    assert pages.other is None


def test_the_chart_draws_no_bar_for_a_suppressed_day(traffic):
    with clock.frozen_at(NOW):
        bars = chart_bars(dashboard(start=date(2026, 11, 20), end=date(2026, 11, 24)))
    assert [(b.label, b.page_views) for b in bars] == [
        ("2026-11-20", 43),
        ("2026-11-21", None),
        ("2026-11-22", None),
        ("2026-11-23", None),
        ("2026-11-24", 10),
    ]
    assert (bars[0].height, bars[4].height, bars[1].height) == (160.0, 37.21, 0.0)


@pytest.mark.parametrize(
    ("kind", "status"),
    expected_by_caller(
        {"analyst", "administrator", "privacy_officer"},
        allowed_outcome=200,
        refused_outcome=403,
        kinds=CALLERS,
        anonymous=302,
    ).items(),
)
def test_who_may_see_the_statistics(client, kind, status, caller_for):
    caller_for(kind)
    for path in ("/staff/analytics/", "/staff/analytics/statistics.csv"):
        response = client.get(path)
        assert response.status_code == status
        if status == 302:
            assert response["Location"] == f"/accounts/login/?next={path}"


def test_staff_without_two_factor_are_sent_to_set_it_up(client):
    client.force_login(StaffFactory.create(role=StaffRole.ANALYST, totp=False))
    assert client.get("/staff/analytics/")["Location"] == "/accounts/2fa/totp/activate/"


def test_the_period_form_starts_with_the_last_30_days_in_iso_dates(client, caller_for):
    caller_for("analyst")
    with clock.frozen_at(NOW):
        html = client.get("/staff/analytics/", headers={"Accept-Language": "ru"}).content.decode()
    assert 'name="start" value="2026-10-26"' in html
    assert 'name="end" value="2026-11-24"' in html


def test_the_page_and_the_csv_show_the_same_figures(client, traffic, caller_for):
    caller_for("analyst")
    with clock.frozen_at(NOW):
        page = client.get("/staff/analytics/?start=2026-11-20&end=2026-11-24").content.decode()
        download = client.get("/staff/analytics/statistics.csv?start=2026-11-20&end=2026-11-24")
    assert '<dd data-figure="page_views">53</dd>' in page
    assert (
        '<tr data-row="/catalog/"><th scope="row">/catalog/</th><td class="number">34</td>' in page
    )
    assert "/u-small/" not in page
    assert download["Content-Disposition"] == (
        'attachment; filename="statistics-2026-11-20-2026-11-24.csv"'
    )
    lines = list(csv.reader(io.StringIO(download.content.decode())))
    assert lines[0] == ["table", "row", "page_views", "visitors", "engaged_seconds"]
    assert ["page", "/catalog/", "34", "22", "72"] in lines
    assert ["page", "suppressed", "", "", ""] in lines
    assert not any("/u-small/" in cell for line in lines for cell in line)


def test_days_with_too_few_visitors_are_said_to_be_left_out(client, traffic, caller_for):
    visits(at=datetime(2026, 11, 22, 9, 0, tzinfo=UTC), path="/", visitors=3, key_prefix="q")
    aggregates.day_aggregate(date(2026, 11, 22))
    caller_for("analyst")
    with clock.frozen_at(NOW):
        counted = client.get("/staff/analytics/?start=2026-11-20&end=2026-11-24").content.decode()
        quiet = client.get("/staff/analytics/?start=2026-11-21&end=2026-11-23").content.decode()
    assert '<dd data-figure="page_views">53</dd>' in counted
    assert "1 day had visitors, but fewer than 10: it is not in these figures." in counted
    assert "No day of this period" not in counted
    assert '<dd data-figure="page_views">0</dd>' in quiet
    assert "No day of this period had 10 or more visitors, so no day is drawn." in quiet
    assert ('<svg class="chart"' in counted, '<svg class="chart"' in quiet) == (True, False)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-11-24&end=2026-11-20", "The period ends before it starts."),
        ("start=2024-01-01&end=2026-11-20", "Choose a period of at most 366 days."),
        ("start=yesterday&end=2026-11-20", "Enter a valid date."),
    ],
)
def test_a_bad_period_is_explained_and_kept_in_the_form(client, query, message, caller_for):
    caller_for("analyst")
    response = client.get(f"/staff/analytics/?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert client.get(f"/staff/analytics/statistics.csv?{query}").status_code == 400


def test_the_csv_writes_formula_cells_as_text(client, caller_for):
    """Rows stored before referrer hosts were checked, and labels that begin like a formula:
    the download carries them quoted with a leading ' so a spreadsheet shows, not runs, them."""
    visits(
        at=EARLIER,
        path="/catalog/",
        visitors=10,
        referrer_host='=hyperlink("http://x","y")',
        browser="@SUM(A1)",
        device="-1",
    )
    aggregates.day_aggregate(EARLIER.date())
    caller_for("analyst")
    with clock.frozen_at(NOW):
        download = client.get("/staff/analytics/statistics.csv?start=2026-11-20&end=2026-11-20")
    assert download.status_code == 200
    assert download.content.decode() == (
        "table,row,page_views,visitors,engaged_seconds\r\n"
        "day,2026-11-20,10,10,0\r\n"
        "page,/catalog/,10,10,0\r\n"
        'referrer,"\'=hyperlink(""http://x"",""y"")",10,10\r\n'
        "device,'-1,10,10\r\n"
        "browser,'@SUM(A1),10,10\r\n"
    )
