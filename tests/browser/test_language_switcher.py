"""The language switcher in the page header: the choice shows in <html lang> and is kept."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ContextFactory

pytestmark = [
    pytest.mark.browser,
    # Every page sends analytics beacons, which reach the analytics database.
    pytest.mark.django_db(transaction=True, databases="__all__"),
]


def test_choosing_russian_sets_the_page_language_and_keeps_it(
    live_server, new_context: ContextFactory
) -> None:
    base = live_server.url
    context = new_context()
    page = context.new_page()
    page.goto(f"{base}/")
    html = page.locator("html")
    select = page.locator("#language-select")
    expect(html).to_have_attribute("lang", "en")
    expect(select).to_have_value("en")
    expect(select.locator("option")).to_have_text(["English", "Русский"])
    assert [o.get_attribute("value") for o in select.locator("option").all()] == ["en", "ru"]

    select.select_option(value="ru")
    page.locator("form.language-switcher button[type='submit']").click()
    page.wait_for_url(f"{base}/")
    expect(html).to_have_attribute("lang", "ru")
    expect(select).to_have_value("ru")
    cookies = {cookie["name"]: cookie["value"] for cookie in context.cookies()}
    assert cookies["django_language"] == "ru"

    # The choice survives navigation: a link, a fresh load, and a different page.
    page.locator("header a.brand").click()
    page.wait_for_url(f"{base}/")
    expect(html).to_have_attribute("lang", "ru")
    page.goto(f"{base}/?again")
    expect(html).to_have_attribute("lang", "ru")
    expect(select).to_have_value("ru")
    response = page.goto(f"{base}/accounts/login/")
    assert response is not None
    assert response.headers["content-language"] == "ru"

    # And back to English, which returns the visitor to the page they were on.
    page.goto(f"{base}/?from=switcher")
    select.select_option(value="en")
    page.locator("form.language-switcher button[type='submit']").click()
    page.wait_for_url(f"{base}/?from=switcher")
    expect(html).to_have_attribute("lang", "en")
    assert {c["name"]: c["value"] for c in context.cookies()}["django_language"] == "en"
