"""/api/me/favourites and /api/me/playlists: the same services and rules as the pages. A
playlist is its owner's: anyone else gets 404 and nothing changes; nobody signed out gets in."""

import pytest
from django.test import Client

from backgroundmusic.library import services
from backgroundmusic.library.models import Favourite, Playlist, PlaylistEntry
from backgroundmusic.media.tests.streaming_fixtures import playable_track
from tests.callers import CALLERS, expected_by_caller

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(owner):
    track = playable_track()
    playlist = services.playlist_create(person=owner, name="Owner's set")
    entry = services.playlist_entry_add(person=owner, playlist_id=playlist.pk, slug=track.slug)
    services.favourite_add(person=owner, slug=track.slug)
    return {"track": track, "playlist": playlist, "entry": entry}


def snapshot():
    return (
        list(Playlist.objects.order_by("pk").values()),
        list(PlaylistEntry.objects.order_by("pk").values()),
        list(Favourite.objects.order_by("pk").values()),
    )


def send(client: Client, method: str, path: str, body: dict | None = None):
    call = getattr(client, method)
    if body is None:
        return call(path)
    return call(path, body, content_type="application/json")


@pytest.mark.parametrize(
    ("kind", "expected"),
    expected_by_caller(
        {"owner"}, allowed_outcome=200, refused_outcome=404, kinds=CALLERS, anonymous=401
    ).items(),
)
def test_a_playlist_is_read_only_by_its_owner(caller_for, scene, kind, expected):
    caller = caller_for(kind)
    response = caller.client.get(f"/api/me/playlists/{scene['playlist'].pk}")
    assert response.status_code == expected
    if expected == 200:
        body = response.json()
        assert (body["name"], body["track_count"]) == ("Owner's set", 1)
        [entry] = body["entries"]
        assert (entry["slug"], entry["position"], entry["entry_id"], entry["in_catalogue"]) == (
            scene["track"].slug,
            0,
            scene["entry"].pk,
            True,
        )
        assert entry["play_url"].startswith("/stream/") and entry["plays_full"] is False
    elif expected == 404:
        assert response.json()["error"]["code"] == "no_such_playlist"


@pytest.mark.parametrize(
    ("kind", "expected"),
    expected_by_caller(
        {"owner"}, allowed_outcome=None, refused_outcome=404, kinds=CALLERS, anonymous=401
    ).items(),
)
def test_only_the_owner_changes_a_playlist(caller_for, scene, kind, expected):
    caller = caller_for(kind)
    pk, entry = scene["playlist"].pk, scene["entry"].pk
    before = snapshot()
    statuses = [
        send(caller.client, "patch", f"/api/me/playlists/{pk}", {"name": "Taken"}).status_code,
        send(
            caller.client, "put", f"/api/me/playlists/{pk}/order", {"entries": [entry]}
        ).status_code,
        send(
            caller.client, "post", f"/api/me/playlists/{pk}/entries", {"track": scene["track"].slug}
        ).status_code,
        send(caller.client, "delete", f"/api/me/playlists/{pk}/entries/{entry}").status_code,
        send(caller.client, "delete", f"/api/me/playlists/{pk}").status_code,
    ]
    if kind == "owner":
        assert statuses == [200, 200, 201, 204, 204]
        assert not Playlist.objects.exists()
    else:
        assert statuses == [expected] * 5
        assert snapshot() == before


@pytest.mark.parametrize("kind", CALLERS)
def test_each_caller_lists_only_their_own_library(caller_for, scene, kind):
    caller = caller_for(kind)
    favourites = caller.client.get("/api/me/favourites")
    playlists = caller.client.get("/api/me/playlists")
    if kind == "anonymous":
        assert (favourites.status_code, playlists.status_code) == (401, 401)
        return
    assert (favourites.status_code, playlists.status_code) == (200, 200)
    if kind == "owner":
        assert [f["slug"] for f in favourites.json()] == [scene["track"].slug]
        assert [(p["name"], p["track_count"]) for p in playlists.json()] == [("Owner's set", 1)]
    else:
        assert (favourites.json(), playlists.json()) == ([], [])


def test_favourites_put_is_idempotent_and_delete_says_when_it_was_none(client, owner):
    track = playable_track()
    client.force_login(owner)
    assert client.put(f"/api/me/favourites/{track.slug}").status_code == 204
    assert client.put(f"/api/me/favourites/{track.slug}").status_code == 204
    assert Favourite.objects.filter(person=owner).count() == 1
    assert client.delete(f"/api/me/favourites/{track.slug}").status_code == 204
    response = client.delete(f"/api/me/favourites/{track.slug}")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_a_favourite")
    response = client.put("/api/me/favourites/no-such-track")
    assert (response.status_code, response.json()["error"]) == (
        404,
        {
            "code": "no_such_track",
            "message": "There is no such track in the catalogue.",
            "details": None,
        },
    )


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "x" * 101}, 422, "invalid_request"),
        ({"name": "   "}, 400, "name_required"),
        ({"name": "ok", "description": "d" * 1001}, 422, "invalid_request"),
        ({}, 422, "invalid_request"),
    ],
)
def test_a_bad_playlist_is_refused_with_a_clear_error_and_nothing_made(
    client, owner, body, status, code
):
    client.force_login(owner)
    response = client.post("/api/me/playlists", body, content_type="application/json")
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert not Playlist.objects.exists()


def test_reordering_through_the_api(client, owner):
    a, b = playable_track(), playable_track()
    client.force_login(owner)
    made = client.post("/api/me/playlists", {"name": "Set"}, content_type="application/json")
    assert made.status_code == 201
    pk = made.json()["id"]
    for track in (a, b):
        response = client.post(
            f"/api/me/playlists/{pk}/entries",
            {"track": track.slug},
            content_type="application/json",
        )
        assert response.status_code == 201
    ids = [e["entry_id"] for e in response.json()["entries"]]
    bad = client.put(
        f"/api/me/playlists/{pk}/order", {"entries": ids[:1]}, content_type="application/json"
    )
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "bad_order")
    response = client.put(
        f"/api/me/playlists/{pk}/order", {"entries": ids[::-1]}, content_type="application/json"
    )
    assert [e["slug"] for e in response.json()["entries"]] == [b.slug, a.slug]


def test_the_api_needs_the_csrf_token_for_changes(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post("/api/me/playlists", {"name": "Set"}, content_type="application/json")
    assert (response.status_code, response.json()["error"]["code"]) == (403, "csrf_failed")
    assert not Playlist.objects.exists()
