"""Who a licence lets in: media's one definition of "playable" asked for each rendition kind,
for agreements of every shape (licensing/entitlements.py)."""

from datetime import timedelta

import pytest

from backgroundmusic.accounts.models import User
from backgroundmusic.catalog.models import Track
from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.core import clock
from backgroundmusic.licensing.models import Agreement, PlanKind, Use
from backgroundmusic.licensing.tests.factories import agreement, plan_edition
from backgroundmusic.media.models import Master, Rendition
from backgroundmusic.media.streaming import playable_tracks

pytestmark = pytest.mark.django_db

FULL = (Rendition.Kind.OPUS, Rendition.Kind.AAC)


@pytest.fixture
def tracks() -> dict[str, Track]:
    return {
        "one": ready_track(title="One"),
        "two": ready_track(title="Two"),
        "draft": ready_track(title="Draft", published=False),
        "failed": ready_track(title="Failed", status=Master.Status.FAILED),
    }


@pytest.fixture
def licensee() -> User:
    return User.objects.create_user(username="licensee", email="l@example.com")


def titles(user: User, kind: str) -> set[str]:
    return set(playable_tracks(user=user, kind=kind).values_list("title", flat=True))


def test_a_catalogue_subscription_opens_every_published_ready_track(tracks, licensee):
    agreement(user=licensee, edition=plan_edition(kind=PlanKind.CREATOR))
    for kind in (*FULL, Rendition.Kind.MP3_320):
        assert titles(licensee, kind) == {"One", "Two"}


def test_a_single_track_licence_opens_that_track_only(tracks, licensee):
    edition = plan_edition(kind=PlanKind.SINGLE_TRACK, uses=[Use.PROJECT])
    agreement(user=licensee, edition=edition, track=tracks["two"])
    for kind in (*FULL, Rendition.Kind.MP3_320):
        assert titles(licensee, kind) == {"Two"}


def test_a_venue_licence_plays_in_full_but_gives_no_downloads(tracks, licensee):
    edition = plan_edition(kind=PlanKind.VENUE, uses=[Use.PUBLIC_PERFORMANCE])
    agreement(user=licensee, edition=edition)
    assert titles(licensee, Rendition.Kind.OPUS) == {"One", "Two"}
    assert titles(licensee, Rendition.Kind.MP3_320) == set()


@pytest.mark.parametrize(
    "status",
    [Agreement.Status.EXPIRED, Agreement.Status.SUSPENDED, Agreement.Status.REVOKED],
)
def test_an_agreement_not_active_opens_nothing(tracks, licensee, status):
    agreement(user=licensee, edition=plan_edition(), status=status)
    assert titles(licensee, Rendition.Kind.OPUS) == set()
    assert titles(licensee, Rendition.Kind.MP3_320) == set()


def test_a_subscription_opens_nothing_past_its_paid_month(tracks, licensee):
    now = clock.now()
    agreement(
        user=licensee,
        edition=plan_edition(),
        starts_at=now - timedelta(days=31),
        paid_until=now - timedelta(seconds=1),
    )
    assert titles(licensee, Rendition.Kind.OPUS) == set()


def test_an_agreement_that_has_not_started_opens_nothing(tracks, licensee):
    agreement(user=licensee, edition=plan_edition(), starts_at=clock.now() + timedelta(hours=1))
    assert titles(licensee, Rendition.Kind.OPUS) == set()


def test_another_persons_licence_opens_nothing_and_previews_stay_for_everyone(tracks, licensee):
    agreement(user=licensee, edition=plan_edition())
    other = User.objects.create_user(username="other", email="o@example.com")
    assert titles(other, Rendition.Kind.OPUS) == set()
    assert titles(other, Rendition.Kind.PREVIEW) == {"One", "Two"}
