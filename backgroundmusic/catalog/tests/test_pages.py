import re

import pytest

from backgroundmusic.catalog.models import Collection, Track
from backgroundmusic.catalog.services import collection_create
from backgroundmusic.catalog.tests.fixtures import make_facets, ready_track

pytestmark = pytest.mark.django_db


@pytest.fixture
def tracks():
    make_facets()
    light = ready_track(
        title="Morning Light",
        catalogue_code="MW-1",
        composer="Ada Composer",
        genres=["ambient"],
        moods=["calm"],
        instruments=["piano"],
        tempo_bpm=80,
        musical_key="Am",
        energy=2,
        duration_seconds=125,
        preview_seconds=1.0,
    )
    run = ready_track(
        title="City Run", catalogue_code="MW-2", genres=["classical"], moods=["calm"], energy=8
    )
    return light, run


def test_catalogue_lists_searches_and_keeps_filters_in_the_url(client, tracks):
    response = client.get("/catalog/", {"genre": "ambient", "mood": "calm", "sort": "title"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 track</h2>" in html
    assert '<a href="#results-title">Skip the filters: 1 track</a>' in html
    assert 'href="/catalog/morning-light/"' in html
    assert "/catalog/city-run/" not in html
    assert (
        '<input type="checkbox" name="genre" value="ambient" id="facet-genre-ambient" checked>'
        in html
    )
    # The play button carries the signed preview URL; a track without a preview shows none.
    assert re.search(
        r'class="play-preview" data-src="/stream/[^"]+" data-title="Morning Light"', html
    )


def test_zero_results_are_explained(client, tracks):
    response = client.get("/catalog/", {"q": "nothing-like-this"})
    assert response.status_code == 200
    assert "No track matches all of these choices." in response.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"genre": "jazz"}, "“jazz” is not one of the choices."),
        ({"bpm_min": "fast"}, "Enter a whole number."),
        ({"bpm_min": "10" * 30}, "Ensure this value is less than or equal to 1000."),
        ({"energy_min": "8", "energy_max": "2"}, "Energy: “from” is greater than “to”."),
        ({"sort": "loud"}, "Select a valid choice. loud is not one of the available choices."),
        ({"q": "a\x07b"}, "The text holds the control character U+0007; remove it."),
        (
            {"q": "a\u2067b"},
            "The text holds the bidirectional control U+2067, which makes text read differently "
            "from what it is; remove it.",
        ),
    ],
)
def test_bad_parameters_show_the_page_with_a_message(client, tracks, params, message):
    response = client.get("/catalog/", params)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Some search settings could not be used" in html
    assert "Skip the filters" not in html
    # The facets stay on the page to correct the choice.
    assert '<input type="checkbox" name="genre" value="ambient"' in html
    assert message in html.replace("&ldquo;", "“").replace("&rdquo;", "”").replace("&#x27;", "'")


def test_track_page_shows_the_facts_waveform_loudness_and_player(client, tracks):
    response = client.get("/catalog/morning-light/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "<h1>Morning Light</h1>",
        "<dd>Ada Composer</dd>",
        "<dd>MUSWAY STUDIO</dd>",
        "<dd>MW-1</dd>",
        '<dd class="track-duration">2:05</dd>',
        "<dd>A minor</dd>",
        '<dd class="lufs">−16.0 LUFS</dd>',
        '<dd class="lra">5.2 LU</dd>',
        '<dd class="true-peak">−1.0 dBTP</dd>',
        '<polygon points="0.0,25.0 266.7,5.0 533.3,35.0 800.0,50.0 800.0,50.0 533.3,62.5 '
        '266.7,100.0 0.0,75.0" class="waveform-shape">',
    ):
        assert text in html, text
    assert re.search(r'class="play-preview" data-src="/stream/', html)


def test_unlisted_tracks_have_no_page(client, tracks):
    ready_track(title="Draft", catalogue_code="MW-9", published=False)
    assert client.get("/catalog/draft/").status_code == 404
    assert client.get("/catalog/no-such-track/").status_code == 404


def test_the_preview_url_plays(client, tracks):
    html = client.get("/catalog/morning-light/").content.decode()
    found = re.search(r'data-src="([^"]+)"', html)
    assert found is not None
    url = found.group(1)
    response = client.get(url.replace("&amp;", "&"))
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/mpeg"


def test_collections(client, tracks):
    light, run = tracks
    collection_create(
        actor=None, kind="curated", title="Calm", is_published=True, track_ids=[run.pk, light.pk]
    )
    collection_create(actor=None, kind="album", title="Hidden", track_ids=[light.pk])
    html = client.get("/catalog/collections/").content.decode()
    assert 'href="/catalog/collections/calm/"' in html
    assert "Hidden" not in html
    html = client.get("/catalog/collections/calm/").content.decode()
    assert html.index("City Run") < html.index("Morning Light")
    assert client.get("/catalog/collections/hidden/").status_code == 404


def test_the_nav_links_to_the_catalogue(client, tracks):
    html = client.get("/").content.decode()
    assert '<a href="/catalog/">Catalogue</a>' in html
    assert '<div id="player" class="player" hx-preserve="true" hidden' in html
    assert '<body hx-boost="true">' in html


STAFF_CALLERS = [
    ("anonymous", 302),
    ("other_user", 403),
    ("support", 403),
    ("privacy_officer", 403),
    ("content_manager", 302),
    ("administrator", 302),
    ("licensing_manager", 403),
]

FORM = {
    "title": "New Dawn",
    "slug": "",
    "catalogue_code": "MW-100",
    "composer": "",
    "rights_holder": "MUSWAY STUDIO",
    "description": "",
    "genres": ["ambient"],
    "tags": "sunrise, film",
    "tempo_bpm": "90",
    "musical_key": "C",
    "energy": "4",
    "duration_seconds": "",
    "release_date": "",
    "is_instrumental": "on",
}


@pytest.mark.parametrize(("kind", "expected"), STAFF_CALLERS)
def test_creating_a_track_needs_the_catalogue_permission(kind, expected, caller_for):
    make_facets()
    client = caller_for(kind).client
    listing = client.get("/staff/catalogue/")
    assert listing.status_code == (200 if expected == 302 and kind != "anonymous" else expected)
    response = client.post("/staff/catalogue/tracks/new/", FORM)
    assert response.status_code == expected
    created = Track.objects.filter(catalogue_code="MW-100").first()
    if kind in ("content_manager", "administrator"):
        assert created is not None
        assert response["Location"] == f"/staff/catalogue/tracks/{created.pk}/"
        assert created.search_document == " nev davn film sunrise sunris ambient embient "
        assert (created.tempo_bpm, created.energy, created.is_published) == (90, 4, False)
    else:
        assert created is None


def test_the_track_form_keeps_input_and_explains_errors(caller_for):
    make_facets()
    ready_track(title="Old", catalogue_code="MW-100")
    client = caller_for("content_manager").client
    response = client.post(
        "/staff/catalogue/tracks/new/", {**FORM, "energy": "11", "tempo_bpm": "90"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Ensure this value is less than or equal to 10." in html
    assert 'value="New Dawn"' in html
    assert 'value="sunrise, film"' in html
    response = client.post("/staff/catalogue/tracks/new/", FORM)
    assert response.status_code == 400
    assert "Catalogue code MW-100 is already used by “Old”." in response.content.decode()
    assert Track.objects.count() == 1


def test_editing_a_track_and_a_collection(caller_for):
    make_facets()
    track = ready_track(title="Old", catalogue_code="MW-100", genres=["ambient"])
    client = caller_for("content_manager").client
    page = client.get(f"/staff/catalogue/tracks/{track.pk}/").content.decode()
    assert 'value="Old"' in page
    response = client.post(
        f"/staff/catalogue/tracks/{track.pk}/",
        {**FORM, "title": "Renamed", "catalogue_code": "MW-100", "is_published": "on"},
    )
    assert response.status_code == 302
    track.refresh_from_db()
    assert (track.title, track.slug, track.is_published) == ("Renamed", "old", True)
    response = client.post(
        "/staff/catalogue/collections/new/",
        {"kind": "album", "title": "First", "track_codes": "MW-100\nMW-404", "slug": ""},
    )
    assert response.status_code == 400
    assert "No track has the catalogue code MW-404." in response.content.decode()
    assert Collection.objects.count() == 0
    response = client.post(
        "/staff/catalogue/collections/new/",
        {"kind": "album", "title": "First", "track_codes": "MW-100", "slug": ""},
    )
    assert response.status_code == 302
    assert list(Collection.objects.get().tracks.values_list("pk", flat=True)) == [track.pk]
    response = client.post(
        "/staff/catalogue/facets/", {"kind": "mood", "name_en": "Dark", "name_ru": "Мрачное"}
    )
    assert response.status_code == 302
    assert "Dark / Мрачное" in client.get("/staff/catalogue/facets/").content.decode()


def test_staff_name_tags_in_russian_after_a_slash(caller_for):
    make_facets()
    track = ready_track(title="Old", catalogue_code="MW-100", genres=["ambient"])
    client = caller_for("content_manager").client
    response = client.post(
        f"/staff/catalogue/tracks/{track.pk}/",
        {**FORM, "catalogue_code": "MW-100", "tags": "Rain / Дождь, film, night/ночь"},
    )
    assert response.status_code == 302
    tags = sorted(track.tags.values_list("name", "name_ru"))
    assert tags == [("film", ""), ("night", "ночь"), ("rain", "дождь")]
    page = client.get(f"/staff/catalogue/tracks/{track.pk}/").content.decode()
    assert 'value="film, night / ночь, rain / дождь"' in page
    track.refresh_from_db()
    # The Russian names are searched too ("ночь" as "noch", "дождь" as "doid").
    assert track.search_document == " nev davn film night noch rain doid ambient embient "


def test_a_collection_is_shown_in_the_visitors_language_and_linked_from_the_catalogue(
    client, tracks
):
    light, run = tracks
    collection_create(
        actor=None,
        kind=Collection.Kind.CURATED,
        title="Café mornings",
        title_ru="Утро в кафе",
        slug="cafe-mornings",
        description="Bright tracks.",
        description_ru="Светлая музыка.",
        is_published=True,
        track_ids=[run.pk, light.pk],
    )
    catalogue = client.get("/catalog/").content.decode()
    assert 'href="/catalog/collections/"' in catalogue
    listed = client.get("/catalog/collections/").content.decode()
    assert '<a href="/catalog/collections/cafe-mornings/">Café mornings</a>' in listed
    page = client.get("/catalog/collections/cafe-mornings/").content.decode()
    assert "<h1>Café mornings</h1>" in page and "<p>Bright tracks.</p>" in page
    assert re.findall(r'<li class="track-row" data-slug="([-a-z]+)"', page) == [
        "city-run",
        "morning-light",
    ]
    client.cookies["django_language"] = "ru"
    listed = client.get("/catalog/collections/").content.decode()
    assert '<a href="/catalog/collections/cafe-mornings/">Утро в кафе</a>' in listed
    page = client.get("/catalog/collections/cafe-mornings/").content.decode()
    assert "<h1>Утро в кафе</h1>" in page and "<p>Светлая музыка.</p>" in page


def test_a_collection_without_a_russian_title_shows_the_english_one(client, tracks):
    collection_create(
        actor=None, kind=Collection.Kind.ALBUM, title="Album", slug="album", is_published=True
    )
    client.cookies["django_language"] = "ru"
    assert "<h1>Album</h1>" in client.get("/catalog/collections/album/").content.decode()


def test_how_demo_audio_was_made_is_on_the_staff_page_only(client, caller_for):
    from backgroundmusic.catalog.demo.recipes import recipe_by_code

    recipe = recipe_by_code("BM-0002")
    assert recipe is not None
    make_facets()
    track = ready_track(
        title=recipe.title,
        slug="quiet-library",
        catalogue_code="BM-0002",
        description=recipe.description,
    )
    public = client.get("/catalog/quiet-library/").content.decode()
    assert recipe.description in public
    assert "SoundFont" not in public and recipe.source not in public
    manager = caller_for("content_manager").client
    staff = manager.get(f"/staff/catalogue/tracks/{track.pk}/")
    assert f"<p>{recipe.production}</p>" in staff.content.decode()
    other = ready_track(title="Not a demo", catalogue_code="MW-77")
    page = manager.get(f"/staff/catalogue/tracks/{other.pk}/")
    assert "track-production" not in page.content.decode()


def test_the_russian_pages_show_the_russian_title_description_and_tags(client):
    make_facets()
    ready_track(
        title="Clockwork Waltz",
        title_ru="Заводной вальс",
        description="A music box.",
        description_ru="Музыкальная шкатулка.",
        tags=[("toys", "игрушки")],
        catalogue_code="MW-1",
        preview_seconds=1.0,
    )
    russian = client.get("/catalog/?q=вальсы", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert (
        '<a class="track-title" href="/catalog/clockwork-waltz/" title="Заводной вальс">'
        "Заводной вальс</a>" in russian
    )
    assert 'aria-label="Прослушать фрагмент трека «Заводной вальс»"' in russian
    english = client.get("/catalog/?q=waltzes", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert (
        '<a class="track-title" href="/catalog/clockwork-waltz/" title="Clockwork Waltz">'
        "Clockwork Waltz</a>" in english
    )
    page = client.get("/catalog/clockwork-waltz/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "<h1>Заводной вальс</h1>" in page
    assert '<p class="track-description">Музыкальная шкатулка.</p>' in page
    assert 'href="/catalog/?q=%D0%B8%D0%B3%D1%80%D1%83%D1%88%D0%BA%D0%B8">игрушки</a>' in page
    page = client.get("/catalog/clockwork-waltz/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<h1>Clockwork Waltz</h1>" in page
    assert '<p class="track-description">A music box.</p>' in page
    assert 'href="/catalog/?q=toys">toys</a>' in page
