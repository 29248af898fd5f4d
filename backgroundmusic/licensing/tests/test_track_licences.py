"""A track's page lists the plans on sale that license it and the person's licences that
already cover it (licensing/templatetags/licensing_tags.py)."""

from datetime import UTC, datetime
from typing import Any

import pytest

from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.catalog.tests.fixtures import make_facets, ready_track
from backgroundmusic.core import clock
from backgroundmusic.licensing import agreements
from backgroundmusic.licensing.models import PlanKind
from backgroundmusic.licensing.tests.factories import plan_edition
from backgroundmusic.licensing.tests.paid_orders import paid_order

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


def test_the_track_page_lists_the_plans_that_license_it(client):
    make_facets()
    ready_track(title="Morning Light", slug="morning-light")
    single = plan_edition(kind=PlanKind.SINGLE_TRACK, uses=["project"], title_en="One track")
    creator = plan_edition(title_en="Creator", title_ru="Автор")
    page = client.get("/catalog/morning-light/").content.decode()
    assert (
        f'<li data-plan="{single.plan.code}"><a href="/pricing/track/morning-light/">One track'
        "</a> — this track alone: One named project in any medium</li>"
    ) in page
    assert (
        f'<li data-plan="{creator.plan.code}"><a href="/pricing/{creator.plan.code}/">Creator'
        "</a> — the whole catalogue:"
    ) in page
    assert "track-licences-held" not in page
    client.cookies["django_language"] = "ru"
    page = client.get("/catalog/morning-light/").content.decode()
    assert f'<a href="/pricing/{creator.plan.code}/">Автор</a> — весь каталог:' in page


def test_the_track_page_names_the_persons_licences_that_cover_it(client):
    make_facets()
    track = ready_track(title="Morning Light", slug="morning-light")
    other = ready_track(title="Other", slug="other")
    person = UserFactory.create()
    single = plan_edition(kind=PlanKind.SINGLE_TRACK, uses=["project"])
    lines: list[dict[str, Any]] = [
        {"edition": plan_edition()},
        {"edition": single, "track": other},
    ]
    catalogue, one_track = agreements.agreements_conclude(
        order=paid_order(user=person, lines=lines, paid_at=NOW), now=NOW
    )
    client.force_login(person)
    page = client.get(f"/catalog/{track.slug}/").content.decode()
    assert (
        '<p class="track-licences-held">Your licences that cover it: '
        f'<a href="/licences/{catalogue.number}/">{catalogue.number}</a></p>'
    ) in page
    page = client.get(f"/catalog/{other.slug}/").content.decode()
    assert f">{one_track.number}</a>" in page and f">{catalogue.number}</a>" in page
