"""Hypothesis fuzz of the library's entry points (issue 14): the playlist forms and the playlist
API, with the hostile text of test_edge_fuzz (lone surrogates, NUL and other controls, bidi
controls, very long values) and hostile or deeply nested JSON; the catalogue's search box with
hostile text. The checks: never a 5xx; nothing stored that a column cannot hold; a refused change
writes nothing; what is written passes the text rules."""

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.catalog.tests.fixtures import make_facets, ready_track
from backgroundmusic.core.text import TextKind, check_text
from backgroundmusic.library import services
from backgroundmusic.library.models import Playlist, PlaylistEntry
from tests.fuzz.test_edge_fuzz import (
    DEEP_JSON,
    EDGE,
    HOSTILE_BYTES,
    HOSTILE_TEXT,
    JSON_VALUES,
    check_response,
    hostile_fields,
    post_form,
)
from tests.fuzz.test_forms_fuzz import separate_example

pytestmark = pytest.mark.django_db(databases="__all__")


def state() -> list[tuple[Any, ...]]:
    playlists = Playlist.objects.order_by("pk").values_list("pk", "name", "description")
    entries = PlaylistEntry.objects.order_by("pk").values_list("pk", "playlist_id", "position")
    return [*playlists, *entries]


def assert_written_text_passes_the_rules() -> None:
    for name, description in Playlist.objects.values_list("name", "description"):
        check_text(name, TextKind.LINE)
        check_text(description, TextKind.TEXT)


@pytest.fixture
def owner_client(client: Client) -> tuple[Client, Any, Playlist]:
    make_facets()
    track = ready_track(title="Calm River", slug="calm-river", preview_seconds=1.0)
    owner = UserFactory.create(username="library_owner")
    playlist = services.playlist_create(person=owner, name="Lobby")
    client.force_login(owner)
    return client, track, playlist


def test_the_playlist_forms(owner_client: tuple[Client, Any, Playlist]) -> None:
    client, track, playlist = owner_client
    forms = {
        "/account/playlists/": {"name": "Evening", "description": "Quiet tracks."},
        f"/account/playlists/{playlist.pk}/": {"name": "Lobby", "description": "Renamed."},
        "/account/playlists/add/": {"playlist": str(playlist.pk), "track": track.slug},
    }

    @EDGE
    @given(
        post=st.sampled_from(sorted(forms)).flatmap(
            lambda url: st.tuples(st.just(url), hostile_fields(forms[url]))
        )
    )
    def hostile(post: tuple[str, dict[str, bytes]]) -> None:
        url, fields = post
        with separate_example(client, new_visitor=False):
            before = state()
            response = post_form(client, url, fields)
            check_response(response)
            if response.status_code == 302:
                assert_written_text_passes_the_rules()
            else:
                assert state() == before, (url, fields)

    hostile()
    assert state() == [(playlist.pk, "Lobby", "")]
    for url, good in forms.items():
        response = post_form(client, url, {name: value.encode() for name, value in good.items()})
        assert response.status_code == 302, (url, response.content.decode()[-2000:])
    assert sorted(Playlist.objects.values_list("name", "description")) == [
        ("Evening", "Quiet tracks."),
        ("Lobby", "Renamed."),
    ]
    assert PlaylistEntry.objects.filter(playlist=playlist).count() == 1


# A JSON body: a hostile value in a field the schema names, any JSON at all, deep nesting, or
# bytes that are not JSON.
PLAYLIST_BODIES = st.one_of(
    st.fixed_dictionaries({"name": HOSTILE_TEXT, "description": HOSTILE_TEXT}).map(
        lambda body: json.dumps(body).encode("utf-8", "surrogatepass")
    ),
    JSON_VALUES.map(lambda body: json.dumps(body).encode("utf-8", "surrogatepass")),
    DEEP_JSON,
    HOSTILE_BYTES,
)
ENTRY_BODIES = st.one_of(
    st.fixed_dictionaries({"track": HOSTILE_TEXT}).map(
        lambda body: json.dumps(body).encode("utf-8", "surrogatepass")
    ),
    DEEP_JSON,
    HOSTILE_BYTES,
)


def test_the_playlist_api(owner_client: tuple[Client, Any, Playlist]) -> None:
    client, track, playlist = owner_client
    calls = st.one_of(
        st.tuples(st.just("post"), st.just("/api/me/playlists"), PLAYLIST_BODIES),
        st.tuples(st.just("patch"), st.just(f"/api/me/playlists/{playlist.pk}"), PLAYLIST_BODIES),
        st.tuples(
            st.just("post"), st.just(f"/api/me/playlists/{playlist.pk}/entries"), ENTRY_BODIES
        ),
    )

    @EDGE
    @given(call=calls)
    def hostile(call: tuple[str, str, bytes]) -> None:
        method, url, body = call
        with separate_example(client, new_visitor=False):
            before = state()
            response = getattr(client, method)(url, body, content_type="application/json")
            check_response(response)
            if response.status_code < 300:
                assert_written_text_passes_the_rules()
            else:
                assert response.status_code in {400, 401, 403, 404, 409, 413, 422}, response
                assert state() == before, (url, body)

    hostile()
    assert state() == [(playlist.pk, "Lobby", "")]
    made = client.post("/api/me/playlists", {"name": "Evening"}, content_type="application/json")
    assert made.status_code == 201, made.content
    added = client.post(
        f"/api/me/playlists/{playlist.pk}/entries",
        {"track": track.slug},
        content_type="application/json",
    )
    assert added.status_code in {200, 201}, added.content
    assert sorted(Playlist.objects.values_list("name", flat=True)) == ["Evening", "Lobby"]


def test_the_catalogue_search_box(client: Client) -> None:
    make_facets()
    ready_track(title="Calm River", slug="calm-river", preview_seconds=1.0)

    @EDGE
    @given(query=HOSTILE_TEXT)
    def hostile(query: str) -> None:
        response = client.get("/catalog/", {"q": query.encode("utf-8", "surrogatepass")})
        check_response(response)
        assert response.status_code in {200, 400}

    hostile()
    found = client.get("/catalog/", {"q": "calm"}).content.decode()
    assert '<li class="track-row" data-slug="calm-river">' in found
