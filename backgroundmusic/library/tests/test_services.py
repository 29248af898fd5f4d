"""The library's services: what each does, its clear errors, and that a refusal changes nothing."""

import pytest

from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.catalog.models import Track
from backgroundmusic.core.errors import DomainError
from backgroundmusic.library import selectors, services
from backgroundmusic.library.models import Favourite, Playlist, PlaylistEntry
from backgroundmusic.media.tests.streaming_fixtures import playable_track

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return UserFactory.create(username="listener")


def order_of(playlist: Playlist) -> list[str]:
    return list(
        PlaylistEntry.objects.filter(playlist=playlist)
        .order_by("position")
        .values_list("track__slug", flat=True)
    )


def test_favourite_add_is_idempotent_and_remove_says_whether_it_was_one(person):
    track = playable_track()
    first = services.favourite_add(person=person, slug=track.slug)
    assert services.favourite_add(person=person, slug=track.slug) == first
    assert Favourite.objects.filter(person=person).count() == 1
    assert services.favourite_remove(person=person, slug=track.slug) is True
    assert services.favourite_remove(person=person, slug=track.slug) is False
    assert not Favourite.objects.exists()


def test_favourite_toggle_flips(person):
    track = playable_track()
    assert services.favourite_toggle(person=person, slug=track.slug) is True
    assert selectors.is_favourite(person=person, track=track) is True
    assert services.favourite_toggle(person=person, slug=track.slug) is False
    assert selectors.is_favourite(person=person, track=track) is False


@pytest.mark.parametrize(
    "slug_of", [lambda: "no-such-track", lambda: playable_track(published=False).slug]
)
def test_a_track_the_catalogue_does_not_show_cannot_be_added(person, slug_of):
    slug = slug_of()
    playlist = services.playlist_create(person=person, name="Mine")
    with pytest.raises(services.LibraryError) as error:
        services.favourite_add(person=person, slug=slug)
    assert (error.value.code, error.value.message) == (
        "no_such_track",
        "There is no such track in the catalogue.",
    )
    with pytest.raises(services.LibraryError) as error:
        services.playlist_entry_add(person=person, playlist_id=playlist.pk, slug=slug)
    assert error.value.code == "no_such_track"
    assert not Favourite.objects.exists()
    assert not PlaylistEntry.objects.exists()


def test_the_favourites_have_a_limit(person, monkeypatch):
    monkeypatch.setattr(services, "MAX_FAVOURITES", 2)
    tracks = [playable_track() for _ in range(3)]
    for track in tracks[:2]:
        services.favourite_add(person=person, slug=track.slug)
    with pytest.raises(services.LibraryError) as error:
        services.favourite_add(person=person, slug=tracks[2].slug)
    assert (error.value.code, error.value.message) == (
        "too_many_favourites",
        "You can keep at most 2 favourites: remove one first.",
    )
    assert Favourite.objects.count() == 2


def test_a_track_that_left_the_catalogue_stays_marked_and_can_be_removed(person):
    kept, gone = playable_track(), playable_track()
    services.favourite_add(person=person, slug=kept.slug)
    services.favourite_add(person=person, slug=gone.slug)
    Track.objects.filter(pk=gone.pk).update(is_published=False)
    items = {item.track.slug: item for item in selectors.favourites_of(person=person)}
    assert (items[kept.slug].in_catalogue, items[kept.slug].play_url is not None) == (True, True)
    assert items[kept.slug].plays_full is False  # no licence: the preview
    assert (items[gone.slug].in_catalogue, items[gone.slug].play_url) == (False, None)
    assert services.favourite_remove(person=person, slug=gone.slug) is True


@pytest.mark.parametrize(
    ("name", "description", "code", "message"),
    [
        ("", "", "name_required", "Give the playlist a name."),
        ("   ", "", "name_required", "Give the playlist a name."),
        ("x" * 101, "", "name_too_long", "A playlist's name has at most 100 characters."),
        (
            "ok",
            "y" * 1001,
            "description_too_long",
            "A playlist's description has at most 1000 characters.",
        ),
        (
            "bad\u202ename",
            "",
            "bidi_control",
            "The text holds the bidirectional control U+202E, which makes text read differently "
            "from what it is; remove it.",
        ),
    ],
)
def test_playlist_create_refuses_bad_names(person, name, description, code, message):
    with pytest.raises(DomainError) as error:
        services.playlist_create(person=person, name=name, description=description)
    assert (error.value.code, error.value.message) == (code, message)
    assert not Playlist.objects.exists()


def test_playlist_create_and_rename_keep_the_text_trimmed(person):
    playlist = services.playlist_create(
        person=person, name="  Morning café  ", description=" Calm "
    )
    assert (playlist.name, playlist.description) == ("Morning café", "Calm")
    services.playlist_rename(person=person, playlist_id=playlist.pk, name="x" * 100)
    playlist.refresh_from_db()
    assert (playlist.name, playlist.description) == ("x" * 100, "Calm")
    services.playlist_rename(person=person, playlist_id=playlist.pk, name="Evening", description="")
    playlist.refresh_from_db()
    assert (playlist.name, playlist.description) == ("Evening", "")


def test_entries_add_move_remove_and_reorder_keep_positions_without_gaps(person):
    a, b, c, d = (playable_track() for _ in range(4))
    playlist = services.playlist_create(person=person, name="Set")
    entries = [
        services.playlist_entry_add(person=person, playlist_id=playlist.pk, slug=t.slug)
        for t in (a, b, c, d)
    ]
    assert order_of(playlist) == [a.slug, b.slug, c.slug, d.slug]
    services.playlist_entry_move(
        person=person, playlist_id=playlist.pk, entry_id=entries[3].pk, position=0
    )
    assert order_of(playlist) == [d.slug, a.slug, b.slug, c.slug]
    services.playlist_entry_remove(person=person, playlist_id=playlist.pk, entry_id=entries[0].pk)
    assert order_of(playlist) == [d.slug, b.slug, c.slug]
    assert list(PlaylistEntry.objects.order_by("position").values_list("position", flat=True)) == [
        0,
        1,
        2,
    ]
    services.playlist_reorder(
        person=person,
        playlist_id=playlist.pk,
        entry_ids=[entries[2].pk, entries[1].pk, entries[3].pk],
    )
    assert order_of(playlist) == [c.slug, b.slug, d.slug]
    # The same track may be in a playlist twice.
    services.playlist_entry_add(person=person, playlist_id=playlist.pk, slug=c.slug)
    assert order_of(playlist) == [c.slug, b.slug, d.slug, c.slug]


def test_bad_moves_and_orders_change_nothing(person):
    a, b = playable_track(), playable_track()
    playlist = services.playlist_create(person=person, name="Set")
    first = services.playlist_entry_add(person=person, playlist_id=playlist.pk, slug=a.slug)
    services.playlist_entry_add(person=person, playlist_id=playlist.pk, slug=b.slug)
    with pytest.raises(services.LibraryError) as error:
        services.playlist_entry_move(
            person=person, playlist_id=playlist.pk, entry_id=first.pk, position=2
        )
    assert (error.value.code, error.value.message) == (
        "bad_position",
        "Choose a place from 1 to 2.",
    )
    with pytest.raises(services.LibraryError) as error:
        services.playlist_reorder(
            person=person, playlist_id=playlist.pk, entry_ids=[first.pk, first.pk]
        )
    assert error.value.code == "bad_order"
    with pytest.raises(services.LibraryError) as error:
        services.playlist_entry_remove(
            person=person, playlist_id=playlist.pk, entry_id=first.pk + 100
        )
    assert error.value.code == "no_such_entry"
    assert order_of(playlist) == [a.slug, b.slug]


def test_someone_elses_playlist_is_not_found_and_stays_as_it_was(person):
    owner_playlist = services.playlist_create(person=person, name="Mine")
    track = playable_track()
    entry = services.playlist_entry_add(
        person=person, playlist_id=owner_playlist.pk, slug=track.slug
    )
    other = UserFactory.create(username="someone")
    for call in (
        lambda: services.playlist_rename(person=other, playlist_id=owner_playlist.pk, name="Taken"),
        lambda: services.playlist_delete(person=other, playlist_id=owner_playlist.pk),
        lambda: services.playlist_entry_add(
            person=other, playlist_id=owner_playlist.pk, slug=track.slug
        ),
        lambda: services.playlist_entry_remove(
            person=other, playlist_id=owner_playlist.pk, entry_id=entry.pk
        ),
        lambda: services.playlist_reorder(
            person=other, playlist_id=owner_playlist.pk, entry_ids=[entry.pk]
        ),
    ):
        with pytest.raises(services.LibraryError) as error:
            call()
        assert (error.value.code, error.value.message) == (
            "no_such_playlist",
            "You have no such playlist.",
        )
    owner_playlist.refresh_from_db()
    assert owner_playlist.name == "Mine"
    assert order_of(owner_playlist) == [track.slug]
    assert selectors.playlist_of(person=other, playlist_id=owner_playlist.pk) is None
    assert selectors.playlist_entries(person=other, playlist=owner_playlist) == []
