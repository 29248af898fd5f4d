"""The contact page (operator details from configuration) and the favicon."""

import pytest

from backgroundmusic.core.request_info import device_description
from backgroundmusic.core.views import FAVICON

pytestmark = pytest.mark.django_db


def test_the_contact_page_names_the_operator_and_its_addresses_from_configuration(client, settings):
    settings.OPERATOR_DEMONSTRATION = False
    settings.OPERATOR_DETAILS = {
        **settings.OPERATOR_DETAILS,
        "en": {"name": "Real Music LLC", "address": "1 Real Street, Moscow"},
        "ru": {"name": "ООО «Настоящая музыка»", "address": "Москва, Настоящая ул., 1"},
        "ogrn": "1234567890123",
        "inn": "7701234567",
        "rkn_register_number": "",
        "representative": "",
        "dpo_name": "Ivan Officer",
        "dpo_email": "dpo@example.com",
        "dpo_phone": "+7 495 123-45-67",
    }
    settings.PRIVACY_ADDRESS = "privacy@example.com"
    page = client.get("/contact/").content.decode()
    assert '<dd class="operator-name">Real Music LLC</dd>' in page
    assert '<dd class="operator-address">1 Real Street, Moscow</dd>' in page
    assert "<dd>1234567890123</dd>" in page and "<dd>7701234567</dd>" in page
    assert '<a href="mailto:dpo@example.com">dpo@example.com</a>' in page
    assert '<a href="tel:+74951234567">+7 495 123-45-67</a>' in page
    assert '<a href="mailto:privacy@example.com">privacy@example.com</a>' in page
    # Details not configured are left out, and a real operator is no demonstration.
    assert "Representative in the European Union" not in page
    assert "demonstration-notice" not in page
    client.cookies["django_language"] = "ru"
    page = client.get("/contact/").content.decode()
    assert '<dd class="operator-name">ООО «Настоящая музыка»</dd>' in page
    assert "<h1>Контакты</h1>" in page


def test_the_demonstrations_contact_page_says_its_details_are_fictional(client, settings):
    settings.OPERATOR_DEMONSTRATION = True
    page = client.get("/contact/").content.decode()
    assert '<p class="demonstration-notice" role="note">' in page
    assert "Dana Demo (fictional)" in page


def test_every_page_links_the_contact_page_and_the_favicon(client):
    page = client.get("/").content.decode()
    assert '<a href="/contact/">Contact</a>' in page
    assert '<link rel="icon" href="/static/favicon.ico"' in page


def test_the_favicon_is_served_at_the_root(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/vnd.microsoft.icon"
    assert response.content == FAVICON.read_bytes()
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO header
    assert "max-age=86400" in response["Cache-Control"]
    assert client.post("/favicon.ico").status_code == 405


CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Safari/605.1.15"
)


@pytest.mark.parametrize(
    ("user_agent", "english", "russian"),
    [
        (CHROME_LINUX, "Chrome 126 on Linux", "Chrome 126, Linux"),
        (IPHONE, "Safari for phones 17 on iOS", "Safari для телефонов 17, iOS"),
        (MAC, "Safari 17 on macOS", "Safari 17, macOS"),
        ("", "an unknown browser on an unknown system", "неизвестный браузер, неизвестная система"),
    ],
)
def test_a_device_is_named_as_people_read_it_in_their_language(user_agent, english, russian):
    from django.utils.translation import override

    with override("en"):
        assert device_description(user_agent) == english
    with override("ru"):
        assert device_description(user_agent) == russian


def test_the_sessions_list_names_the_device_not_the_user_agent(client):
    from backgroundmusic.accounts.tests.factories import UserFactory

    client.force_login(UserFactory.create())
    page = client.get("/accounts/sessions/", headers={"user-agent": CHROME_LINUX})
    html = page.content.decode()
    assert "Chrome 126 on Linux" in html
    assert "Mozilla/5.0" not in html
