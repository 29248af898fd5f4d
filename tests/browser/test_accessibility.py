"""axe-core (4.12, bundled by axe-playwright-python) on the pages people use most, signed out,
signed in and as staff, in English and Russian: no violation of any impact."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import Client
from playwright.sync_api import BrowserContext, Page

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.catalog.tests.fixtures import make_facets, ready_track
from backgroundmusic.licensing.demo import demo_plans_publish, demo_terms_publish
from backgroundmusic.staffroles.roles import StaffRole

pytestmark = [
    pytest.mark.browser,
    # Every page sends analytics beacons, which reach the analytics database.
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

SIGNED_OUT_PAGES = [
    "/",
    "/catalog/",
    "/catalog/?genre=ambient&sort=title",
    "/catalog/morning-light/",
    "/accounts/signup/",
    "/accounts/login/",
    "/cookies/",
    "/privacy/processing/",
    "/privacy/request/",
    "/pricing/",
    "/pricing/venue/",
    "/licence-terms/",
    "/no-such-page/",
]
SIGNED_IN_PAGES = ["/account/profile/", "/privacy/", "/catalog/"]
STAFF_PAGES = {
    StaffRole.ADMINISTRATOR: [
        "/staff/",
        "/staff/catalogue/",
        "/staff/catalogue/masters/",
        "/staff/analytics/",
    ],
    StaffRole.PRIVACY_OFFICER: [
        "/staff/requests/",
        "/staff/disclosures/",
        "/staff/legal-holds/",
        "/staff/policies/",
        "/staff/analytics/research/",
    ],
    StaffRole.LICENSING_MANAGER: [
        "/staff/licensing/plans/",
        "/staff/licensing/plans/venue/editions/new/",
        "/staff/licensing/plans/terms/new/",
    ],
}


def violations(page: Page, url: str) -> list[str]:
    response = page.goto(url)
    assert response is not None
    expected = 404 if "no-such-page" in url else 200
    if (response.status, page.url) != (expected, url):
        return [f"{url}: answered {response.status} at {page.url}"]
    found = Axe().run(page).response["violations"]
    return [f"{url}: {v['impact']} {v['id']} at {v['nodes'][0]['target']}" for v in found]


def signed_in(context: BrowserContext, base: str, user: User) -> None:
    client = Client()
    client.force_login(user)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )


@pytest.mark.parametrize("locale", ["en-US", "ru-RU"])
def test_the_main_pages_have_no_accessibility_violations(live_server, new_context, locale):
    make_facets()
    ready_track(title="Morning Light", genres=["ambient"], preview_seconds=1.0)
    demo_terms_publish()
    demo_plans_publish()
    base = live_server.url
    signed_out = new_context(locale=locale).new_page()
    found = [issue for path in SIGNED_OUT_PAGES for issue in violations(signed_out, base + path)]
    context = new_context(locale=locale)
    signed_in(context, base, UserFactory.create(username="listener"))
    member = context.new_page()
    found += [issue for path in SIGNED_IN_PAGES for issue in violations(member, base + path)]
    for role, paths in STAFF_PAGES.items():
        context = new_context(locale=locale)
        signed_in(context, base, StaffFactory.create(username=f"staff-{role}", role=role))
        staff = context.new_page()
        found += [issue for path in paths for issue in violations(staff, base + path)]
    assert found == []
