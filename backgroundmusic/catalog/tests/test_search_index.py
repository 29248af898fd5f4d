"""The search index each process holds (catalog/search_index.py, decision 0044): made again when
the catalogue's version token changes; a large catalogue's old index answers while the new one
is made, and even then nobody is shown a track they may no longer see."""

import threading

import pytest
from django.contrib.auth.models import AnonymousUser

from backgroundmusic.catalog import search_index, services
from backgroundmusic.catalog.selectors import track_search
from backgroundmusic.catalog.tests.fixtures import make_facets, ready_track


def titles(**search: object) -> list[str]:
    return [track.title for track in track_search(user=AnonymousUser(), **search).items]  # type: ignore[arg-type]


@pytest.mark.django_db
def test_a_change_through_the_services_is_found_by_the_next_search():
    make_facets()
    ready_track(title="Morning Light", genres=["ambient"])
    assert titles(query="morning") == ["Morning Light"]
    first = search_index.current_index()

    evening = ready_track(title="Evening Light", genres=["ambient"])
    assert titles(query="light") == ["Evening Light", "Morning Light"]
    assert search_index.current_index() is not first
    services.track_update(actor=None, track=evening, title="Evening Rain")
    assert titles(query="light") == ["Morning Light"]
    assert titles(query="rain") == ["Evening Rain"]


@pytest.mark.django_db
def test_the_index_is_made_once_per_version_token(django_assert_num_queries):
    make_facets()
    ready_track(title="Morning Light", genres=["ambient"])
    index = search_index.current_index()
    with django_assert_num_queries(0):
        assert search_index.current_index() is index


@pytest.mark.django_db(transaction=True)
def test_a_large_catalogues_old_index_answers_while_the_next_is_made(monkeypatch):
    monkeypatch.setattr(search_index, "MADE_IN_THE_BACKGROUND_FROM", 1)
    monkeypatch.setattr(search_index, "_current", None)  # not the index of an earlier test
    make_facets()
    ready_track(title="Morning Light", genres=["ambient"])
    light = ready_track(title="Evening Light", genres=["ambient"])
    assert titles(query="light") == ["Evening Light", "Morning Light"]
    old = search_index.current_index()

    # The thread making the next index waits until the test lets it.
    let_through = threading.Event()
    made = search_index.index_build

    def held(version: str) -> search_index.SearchIndex:
        let_through.wait(timeout=30)
        return made(version)

    monkeypatch.setattr(search_index, "index_build", held)
    services.track_update(actor=None, track=light, is_published=False)
    ready_track(title="Night Light", genres=["ambient"])

    # The old index answers: it still counts the unpublished track, but its row is not shown,
    # and the new track is not found yet.
    result = track_search(user=AnonymousUser(), query="light")
    assert search_index.current_index() is old
    assert (result.total, [track.title for track in result.items]) == (2, ["Morning Light"])

    let_through.set()
    making = search_index._making
    assert making is not None
    making.join(timeout=30)
    result = track_search(user=AnonymousUser(), query="light")
    assert search_index.current_index() is not old
    assert (result.total, [track.title for track in result.items]) == (
        2,
        ["Morning Light", "Night Light"],
    )
