"""The register of recipients in a real browser: the privacy officer's pages fit a 390 px phone
in both languages, with a long name, a deactivated recipient and a form refused with its input."""

import pytest
from django.test import Client
from playwright.sync_api import BrowserContext, Page

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory
from backgroundmusic.privacy import recipients
from backgroundmusic.staffroles.roles import StaffRole

pytestmark = [
    pytest.mark.browser,
    # Every page sends analytics beacons, which reach the analytics database.
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

PHONE = {"width": 390, "height": 844}


def signed_in(context: BrowserContext, base: str, officer: User) -> None:
    client = Client()
    client.force_login(officer)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )


def width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


@pytest.mark.parametrize(("locale", "language"), [("en-US", "en"), ("ru-RU", "ru")])
def test_the_recipients_pages_fit_a_phone(live_server, new_context, locale, language):
    base = live_server.url
    officer = StaffFactory.create(role=StaffRole.PRIVACY_OFFICER)
    long_name = "Международная-служба-доставки-электронной-почты-" * 3
    entry = recipients.recipient_add(
        actor=officer,
        name=long_name[:200],
        country="DE",
        purpose_en="Delivers the site's e-mail.",
        purpose_ru="Доставляет письма сайта.",
        categories=["user.contact.email", "user.name", "user.device.ip_address"],
        shared_with_consent=True,
    )
    old = recipients.recipient_add(
        actor=officer,
        name="Old Partner",
        country="RU",
        purpose_en="Kept the backups.",
        purpose_ru="Хранил резервные копии.",
        categories=["user.account.settings"],
    )
    recipients.recipient_deactivate(actor=officer, recipient=old)
    context = new_context(locale=locale)
    signed_in(context, base, officer)
    page = context.new_page()
    page.set_viewport_size(PHONE)
    wide = []
    for path in ("/staff/recipients/", f"/staff/recipients/{entry.pk}/"):
        response = page.goto(base + path)
        assert response is not None and response.status == 200, path
        assert page.locator("html").get_attribute("lang") == language
        if width(page) > PHONE["width"]:
            wide.append(f"{path}: {width(page)}px wide")
    # Refused (a name already on the register): the form comes back with what was typed.
    page.goto(base + "/staff/recipients/")
    page.fill("#id_name", "old partner")
    page.select_option("#id_country", "KZ")
    page.fill("#id_purpose_en", "Typed purpose")
    page.fill("#id_purpose_ru", "Набранная цель")
    page.check("input[name=categories][value='user.name']")
    page.click("#recipient-form button[type=submit]")
    assert page.input_value("#id_name") == "old partner"
    assert page.input_value("#id_purpose_ru") == "Набранная цель"
    assert page.is_checked("input[name=categories][value='user.name']")
    if width(page) > PHONE["width"]:
        wide.append(f"refused form: {width(page)}px wide")
    assert wide == []
