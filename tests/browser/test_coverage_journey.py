"""Coverage in a real browser on a phone (390 px wide), in English and Russian: a licensee
registers a channel and a published work with a long link, a refused link keeps what was typed,
the page never scrolls sideways, axe-core finds nothing, and the letter opens as a PDF."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.licensing.models import CoveredChannel, CoveredUse
from backgroundmusic.licensing.tests.coverage_scenes import licence

pytestmark = [
    pytest.mark.browser,
    # Every page sends analytics beacons, which reach the analytics database.
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

PHONE = {"width": 390, "height": 844}
LONG_LINK = "https://www.youtube.com/watch?v=" + "Ab1_" * 60
TEXTS = {
    "en-US": {
        "channel_url": "Link to the channel",
        "channel_button": "Register the channel",
        "refused": "The link must start with https:// or http://.",
        "use_url": "Link to the published work",
        "published_on": "Published on",
        "title": "Title",
        "use_button": "Register the work",
        "registered": "The published work is registered.",
    },
    "ru-RU": {
        "channel_url": "Ссылка на канал",
        "channel_button": "Добавить канал",
        "refused": "Ссылка должна начинаться с https:// или http://.",
        "use_url": "Ссылка на опубликованное произведение",
        "published_on": "Дата публикации",
        "title": "Название",
        "use_button": "Добавить произведение",
        "registered": "Произведение добавлено.",
    },
}


def fits_the_screen(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize("locale", ["en-US", "ru-RU"])
def test_a_licensee_registers_coverage_on_a_phone(live_server, new_context, locale):
    texts = TEXTS[locale]
    owner = UserFactory.create(username="creator")
    now = timezone.now()
    agreement = licence(
        user=owner, starts_at=now - timedelta(days=5), paid_until=now + timedelta(days=25)
    )
    client = Client()
    client.force_login(owner)
    context = new_context(locale=locale)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.set_viewport_size(PHONE)
    path = f"/licences/{agreement.number}/coverage/"
    page.goto(live_server.url + path)
    fits_the_screen(page)

    page.get_by_label(texts["channel_url"]).fill("youtube.com/@creator")
    page.get_by_role("button", name=texts["channel_button"]).click()
    expect(page.locator("#channel-form .errorlist")).to_have_text(texts["refused"])
    expect(page.get_by_label(texts["channel_url"])).to_have_value("youtube.com/@creator")
    assert not CoveredChannel.objects.exists()

    page.get_by_label(texts["channel_url"]).fill("https://www.youtube.com/@creator")
    page.get_by_role("button", name=texts["channel_button"]).click()
    expect(page.locator("#channel-list a.coverage-url")).to_have_text(
        "https://www.youtube.com/@creator"
    )

    published = (now - timedelta(days=2)).date()
    page.get_by_label(texts["use_url"]).fill(LONG_LINK)
    page.get_by_label(texts["published_on"]).fill(published.isoformat())
    page.get_by_label(texts["title"]).fill("Весенний выпуск — «подкаст»")
    page.get_by_role("button", name=texts["use_button"]).click()
    expect(page.locator("ul.messages li")).to_have_text([texts["registered"]])
    expect(page.locator("#use-list a.coverage-url")).to_have_text(LONG_LINK)
    fits_the_screen(page)
    use = CoveredUse.objects.get()
    assert (use.url, use.published_on, use.title) == (
        LONG_LINK,
        published,
        "Весенний выпуск — «подкаст»",
    )

    found = Axe().run(page).response["violations"]
    assert [f"{v['impact']} {v['id']} at {v['nodes'][0]['target']}" for v in found] == []

    letter = page.locator(".coverage-letter a").first.get_attribute("href")
    assert letter is not None
    response = page.request.get(live_server.url + letter)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")
