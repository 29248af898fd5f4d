"""The home page promises only what licensing does (issue 11, item 9): plans with their prices,
an agreement and a certificate anyone can check, downloads only with licences for making works,
and a venue plan that plays through the service."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "sentences"),
    [
        (
            "en",
            [
                "Choose a plan, and on payment you get a licence agreement and a certificate "
                "anyone can check.",
                "download them as MP3 320 and FLAC; a venue plan plays the music through the "
                "service, without downloads.",
                '<a href="/pricing/">Plans and prices</a>',
            ],
        ),
        (
            "ru",
            [
                "Выберите тариф — после оплаты вы получите лицензионный договор и сертификат, "
                "который может проверить кто угодно.",
                "скачивать их в MP3 320 и FLAC; тариф для заведений воспроизводит музыку через "
                "сервис, без скачивания.",
                '<a href="/pricing/">Тарифы и цены</a>',
            ],
        ),
    ],
)
def test_the_home_page_says_what_a_licence_gives(client, language, sentences):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for sentence in sentences:
        assert sentence in html
    # The earlier promise of downloads with any licence is gone.
    assert "download it, stream it all day" not in html
