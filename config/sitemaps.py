"""/sitemap.xml and /robots.txt: what search engines are told to list (issue 13, "Rights").

Composition, above every app: the public catalogue (published tracks and collections, as an
anonymous visitor sees them: catalog.selectors) and the public profiles whose owners chose both
publishing and indexing (accounts.selectors.indexable_profile_usernames). Drafts, unpublished or
non-indexable profiles and erased accounts (their /u/<name>/ answers 410 with noindex) are
never listed. Addresses are absolute, from settings.SITE_URL, not from the request's Host.
"""

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sitemaps import Sitemap
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from backgroundmusic.accounts.selectors import indexable_profile_usernames
from backgroundmusic.catalog.selectors import catalogue_tracks, collections_public
from backgroundmusic.core.http import site_address


class SiteUrlSitemap(Sitemap):
    """Absolute addresses under settings.SITE_URL, whatever host the request named."""

    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.SITE_URL).scheme or "https"

    def get_domain(self, site: Any = None) -> str:
        parts = urlsplit(settings.SITE_URL)
        return f"{parts.netloc}{parts.path.rstrip('/')}"


class PagesSitemap(SiteUrlSitemap):
    def items(self) -> list[str]:
        return [
            "home",
            "catalog:catalogue",
            "catalog:collections",
            "privacy:policy",
            "privacy:terms",
            "privacy:public_request",
        ]

    def location(self, item: str) -> str:
        return reverse(item)


class TracksSitemap(SiteUrlSitemap):
    def items(self) -> list[str]:
        tracks = catalogue_tracks(user=AnonymousUser()).order_by("slug")
        return list(tracks.values_list("slug", flat=True))

    def location(self, item: str) -> str:
        return reverse("catalog:track", kwargs={"slug": item})


class CollectionsSitemap(SiteUrlSitemap):
    def items(self) -> list[str]:
        collections = collections_public(user=AnonymousUser()).order_by("slug")
        return list(collections.values_list("slug", flat=True))

    def location(self, item: str) -> str:
        return reverse("catalog:collection", kwargs={"slug": item})


class ProfilesSitemap(SiteUrlSitemap):
    def items(self) -> list[str]:
        return list(indexable_profile_usernames())

    def location(self, item: str) -> str:
        return reverse("accounts:public_profile", kwargs={"username": item})


SITEMAPS = {
    "pages": PagesSitemap,
    "tracks": TracksSitemap,
    "collections": CollectionsSitemap,
    "profiles": ProfilesSitemap,
}


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    """Staff pages, the API, accounts and the privacy center are not for search engines; the
    public request form is (someone who lost access to their account looks for it), and so is
    the sitemap."""
    lines = [
        "User-agent: *",
        f"Allow: {reverse('privacy:public_request')}",
        "Disallow: /staff/",
        "Disallow: /admin/",
        "Disallow: /api/",
        "Disallow: /accounts/",
        "Disallow: /privacy/",
        f"Sitemap: {site_address(reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
