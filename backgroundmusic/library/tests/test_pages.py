"""The Favourites and Playlists pages, the favourite toggle of track pages and catalogue rows, and
who may use them: each page is its owner's, and someone else's playlist is not found."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.catalog.models import Track
from backgroundmusic.library import services
from backgroundmusic.library.models import Favourite, Playlist, PlaylistEntry
from backgroundmusic.media.tests.streaming_fixtures import playable_track
from tests.callers import CALLERS, expected_by_caller

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(owner):
    track = playable_track()
    playlist = services.playlist_create(person=owner, name="Owner's set", description="Quiet")
    entry = services.playlist_entry_add(person=owner, playlist_id=playlist.pk, slug=track.slug)
    services.favourite_add(person=owner, slug=track.slug)
    return {"track": track, "playlist": playlist, "entry": entry}


def snapshot():
    return (
        list(Playlist.objects.order_by("pk").values()),
        list(PlaylistEntry.objects.order_by("pk").values()),
        list(Favourite.objects.order_by("pk").values()),
    )


@pytest.mark.parametrize(
    ("kind", "expected"),
    expected_by_caller(
        {"owner"}, allowed_outcome=200, refused_outcome=404, kinds=CALLERS, anonymous=302
    ).items(),
)
def test_a_playlist_page_is_its_owners_only(caller_for, scene, kind, expected):
    caller = caller_for(kind)
    url = reverse("library:playlist", args=[scene["playlist"].pk])
    response = caller.client.get(url)
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"] == f"/accounts/login/?next={url}"
    if expected == 200:
        assert "Owner&#x27;s set" in response.content.decode()


@pytest.mark.parametrize(
    ("kind", "expected"),
    expected_by_caller({"owner"}, allowed_outcome=302, refused_outcome=404, kinds=CALLERS).items(),
)
def test_only_the_owner_changes_a_playlist(caller_for, scene, kind, expected):
    caller = caller_for(kind)
    playlist, entry = scene["playlist"], scene["entry"]
    before = snapshot()
    posts = [
        (reverse("library:playlist", args=[playlist.pk]), {"name": "Taken", "description": ""}),
        (reverse("library:entry_move", args=[playlist.pk, entry.pk]), {"position": "1"}),
        (reverse("library:entry_remove", args=[playlist.pk, entry.pk]), {}),
        (reverse("library:delete", args=[playlist.pk]), {}),
    ]
    statuses = [caller.client.post(url, data).status_code for url, data in posts]
    if kind == "owner":
        assert statuses == [302, 302, 302, 302]
        assert not Playlist.objects.exists()
        return
    assert statuses == [expected] * 4 if kind != "anonymous" else statuses == [302] * 4
    assert snapshot() == before


@pytest.mark.parametrize("kind", CALLERS)
def test_adding_to_someone_elses_playlist_changes_nothing(caller_for, scene, kind):
    caller = caller_for(kind)
    before = snapshot()
    response = caller.client.post(
        reverse("library:entry_add"),
        {"playlist": scene["playlist"].pk, "track": scene["track"].slug},
    )
    assert response.status_code == 302
    if kind == "owner":
        assert PlaylistEntry.objects.filter(playlist=scene["playlist"]).count() == 2
    else:
        assert snapshot() == before


@pytest.mark.parametrize(
    ("kind", "expected"),
    expected_by_caller(
        {"owner"}, allowed_outcome=200, refused_outcome=200, kinds=CALLERS, anonymous=302
    ).items(),
)
def test_each_person_sees_only_their_own_favourites_and_playlists(
    caller_for, scene, kind, expected
):
    caller = caller_for(kind)
    pages = [
        caller.client.get(reverse(name)) for name in ("library:favourites", "library:playlists")
    ]
    assert [page.status_code for page in pages] == [expected, expected]
    if expected == 200:
        shown = [
            scene["track"].title in pages[0].content.decode(),
            "Owner&#x27;s set" in pages[1].content.decode(),
        ]
        assert shown == ([True, True] if kind == "owner" else [False, False])


def test_the_favourite_toggle_works_as_a_plain_form_and_through_htmx(client, owner):
    track = playable_track()
    client.force_login(owner)
    url = reverse("library:favourite", args=[track.slug])
    response = client.post(url, {"next": "/catalog/?genre=ambient"})
    assert (response.status_code, response["Location"]) == (302, "/catalog/?genre=ambient")
    assert Favourite.objects.filter(person=owner, track=track).count() == 1
    page = client.get("/catalog/?genre=ambient").content.decode()
    assert f"“{track.title}” is in your favourites." in page
    # htmx swaps the control only: the fragment says the new state.
    fragment = client.post(url, {"next": "/x/"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert 'aria-pressed="false"' in fragment.content.decode()
    assert not Favourite.objects.exists()
    # An address elsewhere is not followed.
    response = client.post(url, {"next": "https://elsewhere.example/"})
    assert response["Location"] == reverse("catalog:track", args=[track.slug])


def test_the_track_page_shows_the_toggle_and_the_playlists(client, owner, scene):
    track = scene["track"]
    anonymous = Client().get(reverse("catalog:track", args=[track.slug])).content.decode()
    assert "Log in to keep favourites and playlists" in anonymous
    client.force_login(owner)
    page = client.get(reverse("catalog:track", args=[track.slug])).content.decode()
    assert 'class="favourite-button" aria-pressed="true"' in page
    assert f'<option value="{scene["playlist"].pk}">Owner&#x27;s set</option>' in page


@pytest.mark.parametrize("path", ["/catalog/", "/"])
def test_the_track_rows_star_submits_the_pages_favourite_form(client, owner, path):
    """On the catalogue and on the home page's new and featured tracks alike."""
    track = playable_track()
    anonymous = Client().get(path).content.decode()
    assert f'formaction="{reverse("library:favourite", args=[track.slug])}"' in anonymous
    assert '<form id="favourite-form" method="get" action="/accounts/login/"' in anonymous
    services.favourite_add(person=owner, slug=track.slug)
    client.force_login(owner)
    page = client.get(path).content.decode()
    form = re.search(r'<form id="favourite-form" method="post"[^>]*>', page)
    assert form is not None and f'data-favourites="{track.slug}"' in form.group()
    assert 'name="csrfmiddlewaretoken"' in page


def test_anonymous_star_leads_to_sign_in_then_to_the_toggle(client, owner):
    track = playable_track()
    url = reverse("library:favourite", args=[track.slug])
    response = client.get(url)
    assert response["Location"] == f"/accounts/login/?next={url}"
    client.force_login(owner)
    page = client.get(url)
    assert page.status_code == 200
    assert "☆ Add to favourites" in page.content.decode()


def test_a_new_playlist_form_keeps_what_was_typed_on_error(client, owner):
    client.force_login(owner)
    response = client.post(
        reverse("library:playlists"), {"name": "x" * 101, "description": "kept text"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "kept text" in page and "x" * 101 in page
    assert not Playlist.objects.exists()
    response = client.post(reverse("library:playlists"), {"name": "Lobby", "description": ""})
    playlist = Playlist.objects.get()
    assert response["Location"] == reverse("library:playlist", args=[playlist.pk])


def test_the_playlist_page_marks_what_cannot_be_played_and_offers_play_all(client, owner, scene):
    gone = playable_track()
    services.playlist_entry_add(person=owner, playlist_id=scene["playlist"].pk, slug=gone.slug)
    Track.objects.filter(pk=gone.pk).update(is_published=False)
    client.force_login(owner)
    page = client.get(reverse("library:playlist", args=[scene["playlist"].pk])).content.decode()
    assert 'class="play-all" data-list="playlist-tracks"' in page
    assert page.count('class="play-preview"') == 1
    assert page.count("No longer in the catalogue") == 1


def test_the_pages_speak_russian(client, owner, scene):
    client.force_login(owner)
    client.cookies["django_language"] = "ru"
    page = client.get(
        reverse("library:playlists"), headers={"Accept-Language": "ru"}
    ).content.decode()
    assert "Плейлисты" in page and "Новый плейлист" in page
    page = client.get(
        reverse("library:favourites"), headers={"Accept-Language": "ru"}
    ).content.decode()
    assert "Избранное" in page and "Играть всё" in page


def test_another_person_cannot_see_the_owners_tracks_on_their_pages(client, scene):
    other = UserFactory.create(username="other-listener")
    client.force_login(other)
    assert scene["track"].title not in client.get(reverse("library:favourites")).content.decode()


@pytest.mark.parametrize("kind", CALLERS)
def test_the_favourites_stylesheet_is_the_callers_own(caller_for, scene, kind):
    caller = caller_for(kind)
    url = reverse("library:favourites_stylesheet")
    response = caller.client.get(url)
    if kind == "anonymous":
        assert (response.status_code, response["Location"]) == (
            302,
            f"/accounts/login/?next={url}",
        )
        return
    assert response.status_code == 200
    assert response["Content-Type"] == "text/css; charset=utf-8"
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    css = response.content.decode()
    if kind == "owner":
        selector = f'.favourite-row:not([aria-pressed]):is([data-slug="{scene["track"].slug}"])'
        assert css.strip().splitlines() == [
            f"{selector} {{ font-size: 0; }}",
            f'{selector}::before {{ content: "★"; font-size: 1.2rem; color: #c27c00; }}',
        ]
    else:
        assert css.strip() == ""


def test_the_favourites_stylesheet_lists_every_favourite_in_two_rules_with_few_queries(
    owner, django_assert_num_queries
):
    tracks = [playable_track() for _ in range(3)]
    for track in tracks:
        services.favourite_add(person=owner, slug=track.slug)
    client = Client()
    client.force_login(owner)
    client.get(reverse("library:favourites_stylesheet"))  # the first request records the session
    # What every signed-in request asks (the session, the person, allauth's record of the
    # session brought up to date in a savepoint: seven), and the favourites.
    with django_assert_num_queries(8):
        css = client.get(reverse("library:favourites_stylesheet")).content.decode()
    slugs = sorted(track.slug for track in tracks)
    assert re.findall(r'\[data-slug="([^"]+)"\]', css) == slugs * 2
    assert client.post(reverse("library:favourites_stylesheet")).status_code == 405


def test_the_catalogue_links_the_stylesheet_of_the_current_favourites(owner):
    first, second = playable_track(), playable_track()
    client = Client()
    client.force_login(owner)
    link = re.compile(r'<link rel="stylesheet" href="/account/favourites\.css\?v=([0-9a-f]{16})">')
    assert link.findall(client.get("/catalog/").content.decode()) == []  # no favourite yet
    services.favourite_add(person=owner, slug=first.slug)
    [one] = link.findall(client.get("/catalog/").content.decode())
    services.favourite_add(person=owner, slug=second.slug)
    [two] = link.findall(client.get("/catalog/").content.decode())
    assert one != two
    # Unchanged favourites, unchanged URL: the browser keeps the stylesheet.
    assert link.findall(client.get("/catalog/").content.decode()) == [two]
