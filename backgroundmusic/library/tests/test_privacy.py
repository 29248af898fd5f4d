"""A person's library in the data map: given to them in the access package (labelled, in both
languages), shown in the privacy center's data held, and deleted by the erasure of their account
while nobody else's library changes."""

import io
import json
import zipfile
from datetime import UTC, datetime

import pytest
from django.utils import translation

from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.library import services
from backgroundmusic.library.models import Favourite, Playlist, PlaylistEntry
from backgroundmusic.media.tests.streaming_fixtures import playable_track
from backgroundmusic.privacy.kernel.registry import Category, Erasure, Purpose, data_map
from backgroundmusic.privacy.rights import erasure
from backgroundmusic.privacy.rights.export import export_archive
from backgroundmusic.privacy.rights.held import data_held
from backgroundmusic.privacy.rights.package import package_problems
from backgroundmusic.privacy.tests.test_export import run_queued

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LABELS = ("library.Favourite", "library.Playlist", "library.PlaylistEntry")


def library_of(person, name: str):
    track = playable_track()
    services.favourite_add(person=person, slug=track.slug)
    playlist = services.playlist_create(person=person, name=name, description="For the lobby")
    services.playlist_entry_add(person=person, playlist_id=playlist.pk, slug=track.slug)
    return track, playlist


def package(person, language: str) -> dict[str, str]:
    with translation.override(language):
        content = export_archive(subject_id=person.pk, generated_at=NOW)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def test_the_data_map_declares_the_library_for_providing_the_service_until_the_account_goes():
    for label in LABELS:
        declaration = data_map.models[label]
        assert declaration.personal, label
        assert {
            (data.category, data.purpose, data.erasure, data.retention.start.value, data.exportable)
            for data in declaration.personal.values()
        } == {
            (Category.MEDIA_CONSUMPTION, Purpose.CONTRACT, Erasure.DELETE, "account_closed", True)
        }


def test_the_access_package_holds_the_library_with_labelled_columns():
    person = UserFactory.create(username="listener")
    track, playlist = library_of(person, "Morning set")
    files = package(person, "en")
    data = json.loads(files["data.json"])
    assert package_problems(data) == []
    sections = {section["key"]: section for section in data["sections"]}
    favourites = sections["library.Favourite"]
    assert [c["label"] for c in favourites["columns"]] == [
        "Record number",
        "Account",
        "Track",
        "Added at",
    ]
    assert [row[2] for row in favourites["rows"]] == [track.title]
    playlists = sections["library.Playlist"]
    assert [row[2:4] for row in playlists["rows"]] == [["Morning set", "For the lobby"]]
    entries = sections["library.PlaylistEntry"]
    assert [c["label"] for c in entries["columns"]] == [
        "Record number",
        "Playlist",
        "Track",
        "Position",
    ]
    assert [row[1:] for row in entries["rows"]] == [[playlist.pk, track.title, 0]]
    [category] = [c for c in data["categories"] if c["key"] == "user.behavior.media_consumption"]
    assert category["label"] == "Favourite tracks and playlists"
    assert category["sources"] == ["You gave it to us"]
    russian = json.loads(package(person, "ru")["data.json"])
    titles = {section["key"]: section["title"] for section in russian["sections"]}
    assert [titles[label] for label in LABELS] == [
        "Избранные треки",
        "Плейлисты",
        "Треки плейлистов",
    ]


def test_the_privacy_center_lists_the_library_among_the_data_held():
    person = UserFactory.create(username="listener")
    library_of(person, "Morning set")
    [held] = [c for c in data_held(subject=person) if c.category == Category.MEDIA_CONSUMPTION]
    assert held.label == "Favourite tracks and playlists"
    assert [(r.label, r.count) for r in held.records] == [
        ("library.Favourite", 1),
        ("library.Playlist", 1),
        ("library.PlaylistEntry", 1),
    ]


def test_erasure_deletes_the_library_and_leaves_everyone_elses():
    person = UserFactory.create(username="leaving")
    other = UserFactory.create(username="staying")
    library_of(person, "Mine")
    _track, kept = library_of(other, "Theirs")
    erasure.erasure_request(subject=person, reason="privacy center")
    assert run_queued("erase_account") == ["done"]
    assert not Favourite.objects.filter(person_id=person.pk).exists()
    assert not Playlist.objects.filter(owner_id=person.pk).exists()
    assert list(PlaylistEntry.objects.values_list("playlist_id", flat=True)) == [kept.pk]
    assert Favourite.objects.filter(person=other).count() == 1
    job = erasure.erasure_of(subject=person)
    assert job is not None
    steps = erasure.erasure_completed_steps(job=job)
    assert [f"data map: {label}" for label in LABELS] == [
        s for s in steps if s.startswith("data map: library.")
    ]
