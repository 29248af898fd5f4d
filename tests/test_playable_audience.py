"""`media.streaming.playable_audience`: people given the same key for a kind play the same tracks
of it, for every kind of person and every rendition kind; what lets the catalogue's page cache
(catalog/page_cache.py) give a licensee the page everyone else gets."""

import re
from itertools import combinations

import pytest
from django.contrib.auth.models import AnonymousUser

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.catalog.models import Track
from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.licensing.models import Agreement, PlanKind, Use
from backgroundmusic.licensing.tests.factories import agreement, plan_edition
from backgroundmusic.media.models import Master, Rendition
from backgroundmusic.media.streaming import Actor, playable_audience, playable_tracks
from backgroundmusic.staffroles.roles import StaffRole
from tests.callers import STAFF_WITHOUT_TWO_FACTOR, caller_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def tracks() -> dict[str, Track]:
    return {
        "one": ready_track(title="One"),
        "two": ready_track(title="Two"),
        "draft": ready_track(title="Draft", published=False),
        "failed": ready_track(title="Failed", status=Master.Status.FAILED),
    }


def licensee(name: str, kind: str, *, uses: list[str] | None = None, track=None) -> User:  # type: ignore[no-untyped-def]
    user = UserFactory.create(username=name)
    agreement(user=user, edition=plan_edition(kind=kind, uses=uses), track=track)
    return user


@pytest.fixture
def people(tracks) -> dict[str, Actor]:
    lapsed = licensee("lapsed", PlanKind.CREATOR)
    Agreement.objects.filter(user=lapsed).update(status=Agreement.Status.EXPIRED)
    return {
        "anonymous": AnonymousUser(),
        "user": UserFactory.create(username="plain"),
        "content_manager": StaffFactory.create(username="manager", role=StaffRole.CONTENT_MANAGER),
        "staff_without_two_factor": caller_user(STAFF_WITHOUT_TWO_FACTOR),
        "subscriber": licensee("subscriber", PlanKind.CREATOR),
        "subscriber_too": licensee("subscriber-too", PlanKind.BUSINESS),
        "single_track": licensee(
            "single", PlanKind.SINGLE_TRACK, uses=[Use.PROJECT], track=tracks["two"]
        ),
        "venue": licensee("venue", PlanKind.VENUE, uses=[Use.PUBLIC_PERFORMANCE]),
        "lapsed": lapsed,
    }


def in_force(user: Actor) -> str:
    assert isinstance(user, User)
    ids = Agreement.objects.filter(user=user, status=Agreement.Status.ACTIVE).order_by("pk")
    return "licensee:" + ",".join(str(pk) for pk in ids.values_list("pk", flat=True))


def test_the_keys(people):
    keys = {
        name: {kind: playable_audience(user=user, kind=kind) for kind in ("preview", "opus")}
        for name, user in people.items()
    }
    assert keys == {
        "anonymous": {"preview": "public", "opus": "nobody"},
        "user": {"preview": "public", "opus": "nobody"},
        "content_manager": {"preview": "catalogue-staff", "opus": "catalogue-staff"},
        "staff_without_two_factor": {"preview": "public", "opus": "nobody"},
        "subscriber": {"preview": "public", "opus": in_force(people["subscriber"])},
        "subscriber_too": {"preview": "public", "opus": in_force(people["subscriber_too"])},
        "single_track": {"preview": "public", "opus": in_force(people["single_track"])},
        "venue": {"preview": "public", "opus": in_force(people["venue"])},
        "lapsed": {"preview": "public", "opus": "nobody"},
    }
    assert playable_audience(user=people["content_manager"], kind="wav") == "nobody"


@pytest.mark.parametrize("kind", Rendition.Kind.values)
def test_the_same_key_means_the_same_tracks(kind, people):
    played = {
        name: set(playable_tracks(user=user, kind=kind).values_list("title", flat=True))
        for name, user in people.items()
    }
    keys = {name: playable_audience(user=user, kind=kind) for name, user in people.items()}
    for first, second in combinations(people, 2):
        if keys[first] == keys[second]:
            assert played[first] == played[second], (kind, first, second)
    shared = {"anonymous", "user", "staff_without_two_factor", "lapsed"}
    assert len({keys[name] for name in shared}) == 1
    if kind == Rendition.Kind.PREVIEW:
        assert {keys[name] for name in people} == {"public", "catalogue-staff"}


def test_the_key_follows_the_agreements_in_force(people, tracks):
    subscriber = people["subscriber"]
    before = playable_audience(user=subscriber, kind="opus")
    agreement(user=subscriber, edition=plan_edition(kind=PlanKind.CREATOR))
    with_two = playable_audience(user=subscriber, kind="opus")
    assert with_two != before
    Agreement.objects.filter(user=subscriber).update(status=Agreement.Status.SUSPENDED)
    assert playable_audience(user=subscriber, kind="opus") == "nobody"
    assert playable_tracks(user=subscriber, kind="opus").count() == 0


def test_anonymous_visitors_cost_no_query(people, django_assert_num_queries):
    with django_assert_num_queries(0):
        for kind in Rendition.Kind.values:
            playable_audience(user=AnonymousUser(), kind=kind)


def test_a_licensee_gets_the_listing_everyone_gets(people, client, django_assert_num_queries):
    """The listing offers previews, which a licence does not change (it adds full tracks)."""
    main = re.compile(r"<main.*</main>", re.DOTALL)
    public = main.findall(client.get("/catalog/").content.decode())
    assert len(public) == 1
    client.force_login(people["subscriber"])
    assert client.get("/").status_code == 200
    # What any signed-in person's page from the cache costs, their favourites for the rows'
    # stars included (catalog/tests/test_page_cache.py).
    with django_assert_num_queries(14):
        response = client.get("/catalog/")
    assert main.findall(response.content.decode()) == public
    assert 'data-slug="one"' in public[0]
