import pytest
from django.contrib.auth.models import AnonymousUser

from backgroundmusic.accounts.tests.factories import StaffFactory
from backgroundmusic.catalog import services
from backgroundmusic.catalog.models import Collection, Genre, Tag, Track
from backgroundmusic.catalog.tests.fixtures import make_facets
from backgroundmusic.core.errors import DomainError, PermissionDenied
from backgroundmusic.staffroles.roles import StaffRole
from backgroundmusic.staffroles.selectors import staff_may_manage_catalogue
from tests.callers import ALL_CALLERS

pytestmark = pytest.mark.django_db

MANAGERS = {"content_manager", "administrator"}


@pytest.mark.parametrize("kind", ALL_CALLERS)
def test_who_may_manage_the_catalogue(kind, caller_for):
    user = caller_for(kind).user
    actor = AnonymousUser() if user is None else user
    allowed = kind in MANAGERS
    assert staff_may_manage_catalogue(actor=actor) is allowed
    if allowed:
        track = services.track_create(actor=actor, title="Dawn", catalogue_code="MW-1")
        assert Track.objects.get().pk == track.pk
    else:
        with pytest.raises(PermissionDenied):
            services.track_create(actor=actor, title="Dawn", catalogue_code="MW-1")
        with pytest.raises(PermissionDenied):
            services.collection_create(actor=actor, kind="album", title="A")
        with pytest.raises(PermissionDenied):
            services.facet_create(actor=actor, kind="genre", name_en="Jazz", name_ru="Джаз")
        assert Track.objects.count() == 0
        assert Collection.objects.count() == 0
        assert Genre.objects.count() == 0


def test_track_create_keeps_the_search_document():
    make_facets()
    track = services.track_create(
        actor=None,
        title="Morning  Light",
        catalogue_code=" MW-0001 ",
        description="Soft pads.",
        composer="W. A. Mozart",
        genres=["ambient"],
        moods=["calm"],
        instruments=["piano", "strings"],
        tags=["Sunrise", "sunrise", " corporate  video "],
        tempo_bpm=92,
        energy=3,
    )
    track.refresh_from_db()
    assert track.slug == "morning-light"
    assert track.title == "Morning  Light"
    assert track.catalogue_code == "MW-0001"
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["corporate video", "sunrise"]
    assert track.search_document == (
        "morning light soft pads. w. a. mozart corporate video sunrise ambient эмбиент "
        "calm спокойное piano фортепиано strings струнные"
    )


def test_track_update_refreshes_the_search_document_and_facet_renames_too():
    make_facets()
    track = services.track_create(actor=None, title="Dawn", catalogue_code="MW-1")
    assert track.search_document == "dawn"
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    services.track_update(actor=manager, track=track, genres=["classical"], tags=["film"])
    track.refresh_from_db()
    assert track.search_document == "dawn film classical классика"
    services.facet_rename(
        actor=manager,
        facet=Genre.objects.get(slug="classical"),
        name_en="Baroque",
        name_ru="Барокко",
    )
    track.refresh_from_db()
    assert track.search_document == "dawn film baroque барокко"


def test_a_used_catalogue_code_is_refused_naming_the_track():
    services.track_create(actor=None, title="Dawn", catalogue_code="MW-1")
    with pytest.raises(DomainError) as error:
        services.track_create(actor=None, title="Dusk", catalogue_code="MW-1")
    assert error.value.message == "Catalogue code MW-1 is already used by “Dawn”."
    assert Track.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"energy": 11}, "Energy is a whole number from 1 to 10."),
        ({"tempo_bpm": 19}, "Tempo must be between 20 and 300 BPM."),
        ({"title": "  "}, "A track needs a title."),
        ({"musical_key": "H"}, "Unknown musical key."),
        ({"genres": ["jazz"]}, "There is no genre “jazz”."),
        (
            {"slug": "Not A Slug"},
            "The address may hold only lower-case letters, digits and hyphens.",
        ),
    ],
)
def test_track_update_refuses_bad_values_and_changes_nothing(changes, message):
    track = services.track_create(actor=None, title="Dawn", catalogue_code="MW-1", energy=4)
    with pytest.raises(DomainError) as error:
        services.track_update(actor=None, track=track, **changes)
    assert error.value.message == message
    track.refresh_from_db()
    assert (track.title, track.energy, track.slug) == ("Dawn", 4, "dawn")


def test_slugs_are_made_unique():
    first = services.track_create(actor=None, title="Dawn", catalogue_code="MW-1")
    second = services.track_create(actor=None, title="Dawn", catalogue_code="MW-2")
    assert (first.slug, second.slug) == ("dawn", "dawn-2")


def test_collections_keep_the_given_order():
    tracks = [
        services.track_create(actor=None, title=f"T{n}", catalogue_code=f"MW-{n}") for n in range(3)
    ]
    collection = services.collection_create(
        actor=None,
        kind="curated",
        title="Calm mornings",
        track_ids=[tracks[2].pk, tracks[0].pk, tracks[2].pk],
    )
    assert collection.slug == "calm-mornings"
    assert list(collection.items.values_list("track_id", "position")) == [
        (tracks[2].pk, 1),
        (tracks[0].pk, 2),
    ]
    services.collection_update(
        actor=None,
        collection=collection,
        kind="album",
        title="Calm mornings",
        slug="calm",
        description="",
        is_published=True,
        track_ids=[tracks[1].pk],
    )
    collection.refresh_from_db()
    assert (collection.kind, collection.slug, collection.is_published) == ("album", "calm", True)
    assert list(collection.items.values_list("track_id", flat=True)) == [tracks[1].pk]
    with pytest.raises(DomainError) as error:
        services.collection_create(actor=None, kind="album", title="X", track_ids=[999999])
    assert error.value.message == "There is no track with id 999999."
