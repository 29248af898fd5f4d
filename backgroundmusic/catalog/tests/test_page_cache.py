"""The catalogue listing kept in the cache (catalog/page_cache.py): read again until a write that
changes it, never for a search with text, never across audiences, and nothing of the viewer in
what is kept."""

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import QueryDict
from django.test import Client

from backgroundmusic.accounts.tests.factories import PASSWORD, UserFactory
from backgroundmusic.catalog import page_cache, services
from backgroundmusic.catalog.forms import CatalogueSearchForm, FacetChoiceField
from backgroundmusic.catalog.models import Genre, Track
from backgroundmusic.catalog.tests.fixtures import make_facets, ready_track
from backgroundmusic.core import clock
from backgroundmusic.media import services as media
from backgroundmusic.media.streaming import DEFAULT_TTL
from backgroundmusic.media.tests.audio import sine, write_wav

pytestmark = pytest.mark.django_db

MAIN = re.compile(r"<main.*</main>", re.DOTALL)
ROW = re.compile(r'<li class="track-row" data-slug="([^"]+)">')


@pytest.fixture
def catalogue() -> dict[str, Track]:
    make_facets()
    return {
        "light": ready_track(title="Morning Light", genres=["ambient"], moods=["calm"]),
        "run": ready_track(title="City Run", genres=["classical"], moods=["uplifting"]),
        "draft": ready_track(title="Draft", published=False, genres=["ambient"]),
    }


def main_of(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    found = MAIN.search(response.content.decode())
    assert found is not None
    return found.group()


def listed(client: Client, path: str = "/catalog/") -> list[str]:
    return ROW.findall(main_of(client.get(path)))


def kept_listings() -> int:
    """How many listings the cache holds (LocMemCache in tests; its keys carry a prefix)."""
    return sum(":catalog:listing:" in key and "version" not in key for key in cache._cache)  # type: ignore[attr-defined]


def test_a_listing_is_read_from_the_cache_until_a_track_is_edited(
    catalogue, client, django_assert_num_queries
):
    first = main_of(client.get("/catalog/"))
    with django_assert_num_queries(0):
        assert main_of(client.get("/catalog/")) == first
    # Changed behind the services' back: the kept listing is still shown.
    Track.objects.filter(pk=catalogue["light"].pk).update(title="Changed In The Database")
    assert main_of(client.get("/catalog/")) == first
    services.track_update(actor=None, track=catalogue["run"], title="City Walk")
    again = main_of(client.get("/catalog/"))
    assert "City Walk" in again
    assert "Changed In The Database" in again
    assert "City Run" not in again


def test_publishing_a_track_lists_it(catalogue, client):
    assert listed(client) == ["city-run", "morning-light"]
    services.track_update(actor=None, track=catalogue["draft"], is_published=True)
    assert listed(client) == ["city-run", "draft", "morning-light"]


def test_renaming_and_adding_a_facet_change_the_listing(catalogue, client):
    page = main_of(client.get("/catalog/", {"genre": "ambient"}))
    assert "> Ambient <" in page
    services.facet_rename(
        actor=None, facet=Genre.objects.get(slug="ambient"), name_en="Drone", name_ru="Дроун"
    )
    page = main_of(client.get("/catalog/", {"genre": "ambient"}))
    assert "> Drone <" in page
    assert "Ambient" not in page
    services.facet_create(actor=None, kind="mood", name_en="Tense", name_ru="Напряжённое")
    assert 'name="mood" value="tense"' in main_of(client.get("/catalog/", {"genre": "ambient"}))


def test_a_master_becoming_ready_lists_its_track(client, tmp_path: Path):
    make_facets()
    wav = write_wav(tmp_path / "dusk.wav", sine(3.0, lead=0.5, tail=0.5))
    # Duration and tempo as ingest will find them, so that its update of the track changes
    # nothing: the listing changes because the master is ready.
    track = services.track_create(
        actor=None,
        title="Dusk",
        catalogue_code="MW-0001",
        is_published=True,
        duration_seconds=4.0,
        tempo_bpm=90,
    )
    master = media.master_upload(source=wav, actor=None, track=track)
    assert listed(client) == []
    ingested = media.master_ingest(master_id=master.pk)
    assert ingested is not None
    assert ingested.status == "ready"
    assert ingested.duration_seconds == 4.0
    assert listed(client) == ["dusk"]


def test_the_token_is_replaced_again_when_the_transaction_commits(
    catalogue, django_capture_on_commit_callbacks
):
    """A listing another process renders from the rows before the commit, under the token the
    write set at once, is not read after the commit."""
    query = page_cache.listing_query(QueryDict())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page_cache.listing_changed()
        rendered_meanwhile = page_cache.listing_key(query=query, user=AnonymousUser())
        page_cache.listing_store(rendered_meanwhile, "<h1>before the commit</h1>")
    assert page_cache.listing_get(rendered_meanwhile) == "<h1>before the commit</h1>"
    assert len(callbacks) == 1
    callbacks[0]()
    after_commit = page_cache.listing_key(query=query, user=AnonymousUser())
    assert after_commit != rendered_meanwhile
    assert page_cache.listing_get(after_commit) is None


def test_a_lost_token_is_replaced_by_a_new_one(catalogue, client):
    client.get("/catalog/")
    key = page_cache.listing_key(query=QueryDict(), user=AnonymousUser())
    assert page_cache.listing_get(key) is not None
    cache.delete(page_cache.VERSION_KEY)
    assert page_cache.listing_key(query=QueryDict(), user=AnonymousUser()) != key


def test_a_search_with_text_is_never_kept(catalogue, client, django_assert_num_queries):
    assert listed(client, "/catalog/?q=light") == ["morning-light"]
    assert kept_listings() == 0
    # The terms one edit away from "light", the vocabularies, the page's rows, their facets and
    # their previews; matched and counted in the process's index (decision 0044).
    with django_assert_num_queries(5):
        assert listed(client, "/catalog/?q=light") == ["morning-light"]
    Track.objects.filter(pk=catalogue["light"].pk).update(title="Evening Light")
    assert "Evening Light" in main_of(client.get("/catalog/?q=light"))
    assert kept_listings() == 0
    assert page_cache.listing_key(query=QueryDict("q=light"), user=AnonymousUser()) is None


def test_a_refused_search_is_not_kept(catalogue, client, django_assert_num_queries):
    # The slug checked, and the three vocabularies for the form's checkboxes, every time.
    for _attempt in range(2):
        with django_assert_num_queries(4):
            response = client.get("/catalog/", {"genre": "jazz"})
        assert response.status_code == 400
        assert "“jazz” is not one of the choices." in response.content.decode()
    assert kept_listings() == 0


def test_the_same_query_written_differently_is_one_listing(
    catalogue, client, django_assert_num_queries
):
    """The listing is rendered from the canonical query, so what is kept is the same whichever
    way the URL wrote it."""
    messy = "/catalog/?sort=bpm&utm_source=mail&genre=classical&genre=ambient&bpm_min=&sort=title"
    assert page_cache.listing_query(QueryDict(messy.split("?")[1])).urlencode() == (
        "genre=ambient&genre=classical&sort=title"
    )
    page = main_of(client.get(messy))
    assert listed(client, messy) == ["city-run", "morning-light"]
    with django_assert_num_queries(0):
        assert main_of(client.get("/catalog/?genre=ambient&genre=classical&sort=title")) == page
    assert kept_listings() == 1
    # A parameter the form does not know is no filter: no "Clear all".
    plain = main_of(client.get("/catalog/"))
    assert "Clear all" not in plain
    with django_assert_num_queries(0):
        assert main_of(client.get("/catalog/?utm_source=mail")) == plain


def test_the_fields_are_the_forms():
    assert tuple(CatalogueSearchForm.base_fields) == page_cache.FIELDS
    facets = {
        name
        for name, field in CatalogueSearchForm.base_fields.items()
        if isinstance(field, FacetChoiceField)
    }
    assert facets == page_cache.MULTIPLE


@pytest.mark.parametrize("first", ["anonymous", "content_manager"])
def test_audiences_never_see_each_others_listing(first, catalogue, caller_for, client):
    """Content managers also see drafts (their audience is the whole ready catalogue)."""
    expected = {
        "anonymous": ["city-run", "morning-light"],
        "content_manager": ["city-run", "draft", "morning-light"],
    }
    manager = caller_for("content_manager").user
    client.logout()
    order = [first, *(kind for kind in expected if kind != first)] * 2
    for kind in order:
        client.logout()
        if kind == "content_manager":
            client.force_login(manager)
        assert listed(client) == expected[kind]
    assert kept_listings() == 2


def test_languages_are_kept_apart(catalogue, client):
    assert "Catalogue</h1>" in main_of(client.get("/catalog/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "Каталог</h1>" in main_of(client.get("/catalog/", HTTP_ACCEPT_LANGUAGE="ru"))
    assert "Catalogue</h1>" in main_of(client.get("/catalog/", HTTP_ACCEPT_LANGUAGE="en"))
    assert kept_listings() == 2


def test_nothing_of_the_viewer_is_kept(catalogue, client):
    """The layout (the CSRF tokens, the signed-in links, the messages) is each request's own."""
    UserFactory.create(username="viewer")
    response = client.post("/accounts/login/", {"login": "viewer", "password": PASSWORD})
    assert response.status_code == 302
    signed_in = client.get("/catalog/").content.decode()
    assert "Successfully signed in as viewer." in signed_in
    assert "Log out" in signed_in
    (kept,) = (
        str(value)
        for key, value in cache._cache.items()  # type: ignore[attr-defined]
        if ":catalog:listing:" in key and "version" not in key
    )
    assert "Morning Light" in kept
    for personal in ("csrfmiddlewaretoken", "Successfully signed in", "viewer", "Log out"):
        assert personal not in kept
    stranger = Client()
    from_cache = stranger.get("/catalog/").content.decode()
    assert kept_listings() == 1
    assert "Log in" in from_cache
    for personal in ("Successfully signed in", "viewer", "Log out"):
        assert personal not in from_cache
    tokens = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    assert tokens.findall(signed_in)
    assert tokens.findall(from_cache)
    assert set(tokens.findall(signed_in)).isdisjoint(tokens.findall(from_cache))


@pytest.mark.parametrize(
    ("kind", "queries"),
    [
        ("anonymous", 0),
        # The home page's 12 and 15 (the session, the sign-in record, the staff link, consents),
        # and one for the audience: their permissions, or the content manager's authenticator;
        # one for the viewer's favourites, which the rows' stars show (library/_favourite_form).
        ("other_user", 14),
        ("content_manager", 17),
    ],
)
def test_a_listing_from_the_cache_costs_at_most(
    kind, queries, catalogue, caller_for, client, django_assert_num_queries
):
    caller_for(kind)
    first = main_of(client.get("/catalog/", {"mood": "calm", "sort": "title"}))
    with django_assert_num_queries(queries):
        assert main_of(client.get("/catalog/", {"mood": "calm", "sort": "title"})) == first


def test_preview_urls_in_a_kept_listing_outlive_it(client):
    """A kept listing's preview URLs were signed when it was rendered: they must still open when
    it is last read, LISTING_SECONDS later."""
    make_facets()
    ready_track(title="Morning Light", genres=["ambient"], preview_seconds=0.2)
    rendered_at = clock.now()
    with clock.frozen_at(rendered_at):
        client.get("/catalog/")
    key = page_cache.listing_key(query=QueryDict(), user=AnonymousUser())
    kept_for = cache._expire_info[cache.make_key(key)] - time.time()  # type: ignore[attr-defined]
    assert page_cache.LISTING_SECONDS - 60 < kept_for <= page_cache.LISTING_SECONDS
    last_read = rendered_at + timedelta(seconds=page_cache.LISTING_SECONDS)
    with clock.frozen_at(last_read):
        page = main_of(client.get("/catalog/"))
        (url,) = re.findall(r'data-src="(/stream/[^"]+)"', page)
        assert client.get(url).status_code == 200
    with clock.frozen_at(rendered_at + DEFAULT_TTL):
        assert client.get(url).status_code == 403


@pytest.mark.parametrize("count", [2, 12])
def test_a_listing_not_kept_costs_four_queries_however_many_tracks(
    count, client, django_assert_num_queries
):
    make_facets()
    for number in range(count):
        ready_track(title=f"Track {number:02d}", genres=["ambient"], moods=["calm"])
    # The first search of the process since the catalogue changed makes the index: two more.
    with django_assert_num_queries(6):
        assert len(listed(client, "/catalog/?sort=title")) == count
    # The vocabularies, the page's rows, their facets and their previews.
    with django_assert_num_queries(4):
        assert len(listed(client, "/catalog/?sort=bpm")) == count
