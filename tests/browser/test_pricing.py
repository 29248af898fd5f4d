"""The pricing pages and the staff pages of plans on a phone (390 CSS pixels wide), in English
and Russian: nothing wider than the screen, so no page scrolls sideways."""

import pytest
from django.test import Client
from playwright.sync_api import BrowserContext, Page

from backgroundmusic.accounts.tests.factories import StaffFactory
from backgroundmusic.licensing.demo import demo_plans_publish, demo_terms_publish
from backgroundmusic.staffroles.roles import StaffRole

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
PUBLIC_PAGES = ["/pricing/", "/pricing/venue/", "/pricing/single-track/", "/licence-terms/"]
STAFF_PAGES = [
    "/staff/licensing/plans/",
    "/staff/licensing/plans/venue/editions/new/",
    "/staff/licensing/plans/terms/new/",
]


def signed_in(context: BrowserContext, base: str) -> None:
    client = Client()
    client.force_login(StaffFactory.create(role=StaffRole.LICENSING_MANAGER))
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )


def too_wide(page: Page, url: str, language: str) -> list[str]:
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    assert page.locator("html").get_attribute("lang") == language
    width = page.evaluate("document.documentElement.scrollWidth")
    return [] if width <= PHONE["width"] else [f"{url}: {width}px wide"]


@pytest.mark.parametrize(("locale", "language"), [("en-US", "en"), ("ru-RU", "ru")])
def test_the_pricing_and_plan_pages_fit_a_phone(live_server, new_context, locale, language):
    demo_terms_publish()
    demo_plans_publish()
    base = live_server.url
    visitor = new_context(locale=locale).new_page()
    visitor.set_viewport_size(PHONE)
    found = [issue for path in PUBLIC_PAGES for issue in too_wide(visitor, base + path, language)]
    context = new_context(locale=locale)
    signed_in(context, base)
    manager = context.new_page()
    manager.set_viewport_size(PHONE)
    found += [issue for path in STAFF_PAGES for issue in too_wide(manager, base + path, language)]
    assert found == []
