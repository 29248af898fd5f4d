"""The home page: new and featured tracks and collections, and a person's next steps."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from allauth.account.models import EmailAddress

from backgroundmusic.accounts.models import AccountType, Profile
from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.catalog.models import Collection
from backgroundmusic.catalog.services import collection_create
from backgroundmusic.catalog.tests.fixtures import make_facets, ready_track
from backgroundmusic.core import clock
from backgroundmusic.home.selectors import next_steps

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def catalogue():
    make_facets()
    old = ready_track(title="Old Song", slug="old-song", preview_seconds=0.2)
    new = ready_track(title="New Song", slug="new-song", preview_seconds=0.2)
    hidden = ready_track(title="Hidden", slug="hidden", published=False)
    collection_create(
        actor=None,
        kind=Collection.Kind.CURATED,
        title="Focus",
        title_ru="Для работы",
        slug="focus",
        is_published=True,
        is_featured=True,
        track_ids=[old.pk, new.pk, hidden.pk],
    )
    collection_create(
        actor=None,
        kind=Collection.Kind.CURATED,
        title="Not featured",
        slug="plain",
        is_published=True,
        track_ids=[new.pk],
    )
    collection_create(
        actor=None,
        kind=Collection.Kind.CURATED,
        title="Draft",
        slug="draft",
        is_featured=True,
        track_ids=[new.pk],
    )
    return old, new


def section(page: str, name: str) -> str:
    (found,) = re.findall(rf'<section class="{name}".*?</section>', page, re.DOTALL)
    return found


def test_a_visitor_sees_new_and_featured_tracks_and_featured_collections(client, catalogue):
    page = client.get("/").content.decode()
    newest = section(page, "home-newest")
    assert re.findall(r'<li class="track-row" data-slug="([-a-z]+)"', newest) == [
        "new-song",
        "old-song",
    ]
    featured = section(page, "home-featured")
    assert re.findall(r'<li class="track-row" data-slug="([-a-z]+)"', featured) == ["old-song"]
    collections = section(page, "home-collections")
    assert re.findall(r'href="/catalog/collections/([-a-z]+)/"', collections) == ["focus"]
    assert "2 tracks" in collections
    assert "home-next" not in page
    assert 'href="/catalog/collections/"' in page
    client.cookies["django_language"] = "ru"
    page = client.get("/").content.decode()
    assert ">Для работы</a>" in section(page, "home-collections")


def test_an_empty_catalogue_shows_no_empty_sections(client):
    page = client.get("/").content.decode()
    assert "home-newest" not in page and "home-featured" not in page
    assert "home-collections" not in page


def steps_of(user):
    return [step.kind for step in next_steps(user=user, now=NOW)]


def test_a_new_person_is_asked_to_confirm_complete_and_license():
    person = UserFactory.create()
    EmailAddress.objects.filter(user=person).update(verified=False)
    Profile.objects.update_or_create(user=person, defaults={"full_name": ""})
    assert steps_of(person) == ["verify_email", "profile", "first_licence"]


def test_a_company_without_its_name_is_asked_for_it():
    person = UserFactory.create()
    EmailAddress.objects.update_or_create(
        user=person, email=person.email, defaults={"verified": True, "primary": True}
    )
    Profile.objects.update_or_create(
        user=person,
        defaults={"full_name": "Ada Person", "account_type": AccountType.LEGAL},
    )
    assert steps_of(person) == ["profile", "first_licence"]
    profile = Profile.objects.get(user=person)
    profile.company_name = "Acme"
    profile.save()
    assert steps_of(person) == ["first_licence"]


def test_a_licence_ending_within_the_week_is_offered_for_renewal(client):
    from backgroundmusic.licensing import agreements
    from backgroundmusic.licensing.tests.factories import plan_edition
    from backgroundmusic.licensing.tests.paid_orders import paid_order

    person = UserFactory.create()
    EmailAddress.objects.update_or_create(
        user=person, email=person.email, defaults={"verified": True, "primary": True}
    )
    Profile.objects.update_or_create(user=person, defaults={"full_name": "Ada Person"})
    edition = plan_edition()
    (licence,) = agreements.agreements_conclude(
        order=paid_order(user=person, lines=[{"edition": edition}], paid_at=NOW), now=NOW
    )
    assert steps_of(person) == []
    client.force_login(person)
    page = client.get("/").content.decode()
    assert "Everything is in order." in section(page, "home-next")
    assert licence.paid_until is not None
    later = licence.paid_until - timedelta(days=3)
    (step,) = next_steps(user=person, now=later)
    assert step.kind == "renew"
    assert step.url == f"/licences/{licence.number}/"
    assert licence.number in step.text
