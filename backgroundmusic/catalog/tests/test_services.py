from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from backgroundmusic.accounts.tests.factories import StaffFactory
from backgroundmusic.audit.models import AuditEvent
from backgroundmusic.audit.tests.refusals import service_denial, service_denials
from backgroundmusic.catalog import services
from backgroundmusic.catalog.models import (
    Collection,
    CollectionItem,
    Genre,
    Instrument,
    Mood,
    Tag,
    Track,
)
from backgroundmusic.catalog.tests.fixtures import make_facets
from backgroundmusic.core.errors import ActionRefused, DomainError
from backgroundmusic.staffroles.roles import StaffRole
from backgroundmusic.staffroles.selectors import staff_may_manage_catalogue
from tests.callers import expected_by_caller

pytestmark = pytest.mark.django_db

MAY_MANAGE = expected_by_caller(
    {"content_manager", "administrator"}, allowed_outcome=True, refused_outcome=False
)

# Each catalogue service, called on a scene of one track, one genre and one collection (made by
# the system), with the audit action it writes when allowed.
CATALOGUE_CALLS: dict[str, tuple[Callable[[Any, dict[str, Any]], Any], str]] = {
    "track_create": (
        lambda actor, scene: services.track_create(
            actor=actor, title="Dusk", catalogue_code="MW-2"
        ),
        "catalogue.track_created",
    ),
    "track_update": (
        lambda actor, scene: services.track_update(
            actor=actor, track=scene["track"], title="Dawn again"
        ),
        "catalogue.track_updated",
    ),
    "facet_create": (
        lambda actor, scene: services.facet_create(
            actor=actor, kind="genre", name_en="Jazz", name_ru="Джаз"
        ),
        "catalogue.facet_created",
    ),
    "facet_rename": (
        lambda actor, scene: services.facet_rename(
            actor=actor, facet=scene["genre"], name_en="Drones", name_ru="Дроун"
        ),
        "catalogue.facet_renamed",
    ),
    "collection_create": (
        lambda actor, scene: services.collection_create(actor=actor, kind="album", title="B"),
        "catalogue.collection_created",
    ),
    "collection_update": (
        lambda actor, scene: services.collection_update(
            actor=actor,
            collection=scene["collection"],
            kind="album",
            title="A",
            slug="a",
            description="",
            is_published=True,
            track_ids=[scene["track"].pk],
        ),
        "catalogue.collection_updated",
    ),
}


def catalogue_state() -> tuple[list[Any], ...]:
    """Every catalogue row and every audit row but the refusals."""
    return (
        list(Track.objects.order_by("pk").values()),
        list(Genre.objects.order_by("pk").values()),
        list(Collection.objects.order_by("pk").values()),
        list(CollectionItem.objects.order_by("pk").values()),
        list(
            AuditEvent.objects.exclude(action="service.denied")
            .order_by("pk")
            .values_list("pk", flat=True)
        ),
    )


@pytest.mark.parametrize(("kind", "allowed"), MAY_MANAGE.items())
@pytest.mark.parametrize("service", CATALOGUE_CALLS)
def test_who_may_manage_the_catalogue(service, kind, allowed, caller_for):
    scene = {
        "track": services.track_create(actor=None, title="Dawn", catalogue_code="MW-1"),
        "genre": services.facet_create(actor=None, kind="genre", name_en="Drone", name_ru="Дроун"),
        "collection": services.collection_create(actor=None, kind="album", title="A"),
    }
    user = caller_for(kind).user
    actor = AnonymousUser() if user is None else user
    assert staff_may_manage_catalogue(actor=actor) is allowed
    call, action = CATALOGUE_CALLS[service]
    before = catalogue_state()
    if allowed:
        changed = call(actor, scene)
        last = AuditEvent.objects.order_by("-pk").first()
        assert last is not None
        assert (last.actor_id, last.action, last.target_id) == (actor.pk, action, str(changed.pk))
        assert service_denials() == []
    else:
        with pytest.raises(ActionRefused) as refused:
            call(actor, scene)
        assert refused.value.message == "You may not manage the catalogue."
        assert catalogue_state() == before
        assert service_denials() == [
            service_denial(
                actor, service=f"catalog.{service}", permission="staff_may_manage_catalogue"
            )
        ]


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
    # Terms (catalog.search_terms): each word in one Latin sound spelling, then its stem's.
    assert track.search_document == (
        " morning morn light v a mosart soft pads pad korporate korpor video sunrise sunris "
        "ambient embient kalm spokoinoe spokoin piano fortepiano fortepia strings string strunie "
        "strun "
    )
    assert track.search_title == " morning  morn  light  v  a  mosart "
    # Facet terms (catalog.search_terms.facet_term): genres, moods, instruments by id.
    piano, strings = (Instrument.objects.get(slug=slug).pk for slug in ("piano", "strings"))
    assert track.search_facets == (
        f" g{Genre.objects.get(slug='ambient').pk} m{Mood.objects.get(slug='calm').pk}"
        f" i{min(piano, strings)} i{max(piano, strings)} "
    )


def test_track_update_refreshes_the_search_document_and_facet_renames_too():
    make_facets()
    track = services.track_create(actor=None, title="Dawn", catalogue_code="MW-1")
    assert track.search_document == " davn "
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    services.track_update(actor=manager, track=track, genres=["classical"], tags=["film"])
    track.refresh_from_db()
    assert track.search_document == " davn film klasikal klasik klasika "
    assert track.search_facets == f" g{Genre.objects.get(slug='classical').pk} "
    services.facet_rename(
        actor=manager,
        facet=Genre.objects.get(slug="classical"),
        name_en="Baroque",
        name_ru="Барокко",
    )
    track.refresh_from_db()
    assert track.search_document == " davn film barokue baroku baroko barok "


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
