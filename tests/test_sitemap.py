"""/sitemap.xml lists exactly the public catalogue and the profiles published and allowed to be
indexed; /robots.txt points to it; an erased profile's 410 says noindex."""

import re

import pytest
from django.test import Client

from backgroundmusic.accounts.models import Profile, User
from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.catalog.models import Collection
from backgroundmusic.catalog.services import collection_create
from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.privacy.tests.test_erasure import erase

pytestmark = pytest.mark.django_db(databases="__all__")

SITE = "https://music.example"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


def profile(username: str, *, published: bool, indexable: bool, active: bool = True) -> User:
    user = UserFactory.create(username=username)
    User.objects.filter(pk=user.pk).update(is_active=active)
    Profile.objects.filter(user=user).update(is_published=published, is_indexable=indexable)
    return user


def listed(client: Client) -> list[str]:
    response = client.get("/sitemap.xml", HTTP_HOST="127.0.0.1")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    return re.findall(r"<loc>([^<]+)</loc>", response.content.decode())


def test_the_sitemap_lists_the_public_catalogue_and_indexable_profiles_only(client):
    profile("listed", published=True, indexable=True)
    profile("alsolisted", published=True, indexable=True)
    profile("notindexed", published=True, indexable=False)
    profile("private", published=False, indexable=False)
    profile("inactive", published=True, indexable=True, active=False)
    erase(profile("erased", published=True, indexable=True))
    shown = ready_track(title="Dawn Light", slug="dawn-light")
    ready_track(title="Draft Track", slug="draft-track", published=False)
    collection_create(
        actor=None,
        kind=Collection.Kind.CURATED,
        title="Calm Set",
        is_published=True,
        track_ids=[shown.pk],
    )
    collection_create(
        actor=None, kind=Collection.Kind.CURATED, title="Hidden Set", is_published=False
    )
    assert listed(client) == [
        f"{SITE}/",
        f"{SITE}/catalog/",
        f"{SITE}/catalog/collections/",
        f"{SITE}/privacy-policy/",
        f"{SITE}/terms-of-use/",
        f"{SITE}/privacy/request/",
        f"{SITE}/catalog/dawn-light/",
        f"{SITE}/catalog/collections/calm-set/",
        f"{SITE}/u/alsolisted/",
        f"{SITE}/u/listed/",
    ]


def test_robots_txt_points_to_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().splitlines() == [
        "User-agent: *",
        "Allow: /privacy/request/",
        "Disallow: /staff/",
        "Disallow: /admin/",
        "Disallow: /api/",
        "Disallow: /accounts/",
        "Disallow: /privacy/",
        f"Sitemap: {SITE}/sitemap.xml",
    ]


def test_an_erased_profile_answers_410_with_noindex(client):
    erase(profile("gone", published=True, indexable=True))
    response = client.get("/u/gone/")
    assert response.status_code == 410
    assert response["X-Robots-Tag"] == "noindex"
    assert client.get("/u/neverexisted/").status_code == 404
