"""Key pages in Russian carry no English label: every word the site itself writes is translated.

Each page is rendered in Russian and its visible text (and the labels read aloud: aria-label,
title, placeholder) is searched for Latin words. What may stay Latin is the content itself
(track titles and composers, which the catalogue keeps in their own language), names of
products and units, and the brand; anything else is an untranslated label.
"""

import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.catalog.models import Collection
from backgroundmusic.catalog.services import collection_create
from backgroundmusic.catalog.tests.fixtures import make_facets, ready_track
from backgroundmusic.licensing.tests.factories import plan_edition

pytestmark = pytest.mark.django_db

# Latin that is not a label: the brand, the studio, units, formats and file names, products,
# words Russian writes in Latin (cookie, IP, SMS, e-mail), the demo's fictional company in
# configuration, the composer, titles and tag of the test catalogue.
ALLOWED = re.compile(
    r"BACKGROUND MUSIC|MUSWAY STUDIO|LUFS|LU|dBTP|BPM|MP3|FLAC|Opus|CSV|JSON|"
    r"index\.html|data\.json|[Cc]ookie|IP|SMS|e-mail|morning|"
    r"Chrome|Firefox|Safari|Windows|Linux|macOS|iOS|Android|HeadlessChrome|"
    r"Harbour Lights|Quiet Hours|Anna Composer|MW-\d+|"
    r"[\w.+-]+@[\w.-]+|https?://\S+|"
    r"Demo Representative GmbH \(fictional\), Musterstraße 1, 10115 Berlin, Germany|"
    r"Dana Demo \(fictional\)|demonstration"
)
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
LABEL_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")


class _Text(HTMLParser):
    """The visible text and spoken labels of a page (scripts, styles and <head> left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "svg"):
            self._skip += 1
        for name, value in attrs:
            if name in LABEL_ATTRIBUTES and value:
                self.parts.append(value)
            if tag == "option" and name == "value":
                continue

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "svg"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(" ".join(data.split()))


def english_left(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    # The language switcher names each language in itself.
    found = []
    for part in parser.parts:
        if part in ("English", "Русский"):
            continue
        rest = ALLOWED.sub(" ", part)
        if LATIN_WORD.search(rest):
            found.append(part)
    return found


def russian(client: Client) -> Client:
    client.cookies["django_language"] = "ru"
    return client


@pytest.fixture
def catalogue():
    make_facets()
    first = ready_track(
        title="Harbour Lights",
        slug="harbour-lights",
        composer="Anna Composer",
        genres=["ambient"],
        moods=["calm"],
        instruments=["piano"],
        tempo_bpm=90,
        duration_seconds=150,
        tags=["morning"],
        preview_seconds=0.2,
    )
    second = ready_track(title="Quiet Hours", slug="quiet-hours", preview_seconds=0.2)
    collection_create(
        actor=None,
        kind=Collection.Kind.CURATED,
        title="Café mornings",
        title_ru="Утро в кафе",
        slug="cafe-mornings",
        description="Bright tracks.",
        description_ru="Светлая музыка.",
        is_published=True,
        is_featured=True,
        track_ids=[first.pk, second.pk],
    )
    plan_edition()
    return first


PUBLIC_PAGES = [
    "/",
    "/catalog/",
    "/catalog/harbour-lights/",
    "/catalog/collections/",
    "/catalog/collections/cafe-mornings/",
    "/contact/",
    "/pricing/",
    "/accounts/login/",
    "/accounts/signup/",
]
SIGNED_IN_PAGES = [
    "/",
    "/catalog/harbour-lights/",
    "/accounts/sessions/",
    "/account/profile/",
    "/privacy/",
    "/licences/",
]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_a_public_page_in_russian_has_no_english_label(path, catalogue, client):
    response = russian(client).get(path)
    assert response.status_code == 200
    left = english_left(response.content.decode())
    assert not left, "\n".join(left)


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_a_signed_in_page_in_russian_has_no_english_label(path, catalogue, client):
    client.force_login(UserFactory.create())
    response = russian(client).get(
        path,
        headers={
            "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
            "Gecko) HeadlessChrome/131.0.0.0 Safari/537.36"
        },
    )
    assert response.status_code == 200
    left = english_left(response.content.decode())
    assert not left, "\n".join(left)


def test_the_check_finds_an_english_label():
    html = "<main><h1>Каталог</h1><p>Play the preview</p><a aria-label='Next page'>→</a></main>"
    assert english_left(html) == ["Play the preview", "Next page"]
