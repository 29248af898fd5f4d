"""Issue 13: after "Reject all", ten pages later the browser holds nothing but the essential
cookies, nothing in local or session storage or IndexedDB, and no request ever left the site; the
Content-Security-Policy header is the configured one."""

from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import expect

from backgroundmusic.catalog.models import Collection, CollectionItem
from backgroundmusic.catalog.tests.fixtures import make_facets, ready_track
from backgroundmusic.licensing.demo import demo_plans_publish, demo_terms_publish
from backgroundmusic.privacy import cookies
from backgroundmusic.privacy.demo import demo_editions_publish
from backgroundmusic.privacy.models import VisitorCookieChoice
from tests.browser.conftest import ContextFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

ESSENTIAL = cookies.cookie_names(category=cookies.CookieCategory.ESSENTIAL)


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def csp_directives(header: str) -> dict[str, list[str]]:
    """A policy header as directive -> sources (the order of directives means nothing)."""
    directives: dict[str, list[str]] = {}
    for directive in header.split("; "):
        name, *sources = directive.split(" ")
        assert name not in directives, f"{name} twice in {header}"
        directives[name] = sources
    return directives


def test_after_reject_all_ten_pages_keep_nothing_and_ask_nothing_elsewhere(
    live_server, new_context: ContextFactory
):
    make_facets()
    track = ready_track(title="Morning Light", genres=["ambient"], preview_seconds=2.0)
    collection = Collection.objects.create(
        kind=Collection.Kind.CURATED, title="Calm", slug="calm", is_published=True
    )
    CollectionItem.objects.create(collection=collection, track=track, position=1)
    demo_editions_publish()
    demo_terms_publish()
    demo_plans_publish()
    base = live_server.url
    context = new_context()
    requested: list[tuple[str, str]] = []
    context.on("request", lambda request: requested.append((page_now(), request.url)))
    page = context.new_page()

    def page_now() -> str:
        return page.url

    page.goto(f"{base}/")
    page.get_by_role("button", name="Reject all").click()
    expect(page.locator("#cookie-banner")).to_have_count(0)
    assert list(VisitorCookieChoice.objects.values_list("analytics", "method")) == [
        (False, "banner")
    ]
    pages = [
        "/",
        "/catalog/",
        f"/catalog/{track.slug}/",
        "/catalog/collections/",
        f"/catalog/collections/{collection.slug}/",
        "/pricing/",
        "/licence-terms/",
        "/privacy-policy/",
        "/cookies/",
        "/accounts/login/",
        "/accounts/signup/",
    ]
    statuses = {}
    for path in pages:
        response = page.goto(f"{base}{path}")
        assert response is not None
        statuses[path] = response.status
        page.wait_for_load_state("networkidle")
    assert statuses == dict.fromkeys(pages, 200)
    page.locator("#player-audio, audio").first.wait_for(state="attached")

    names = {cookie["name"] for cookie in context.cookies()}
    assert names <= ESSENTIAL, names - ESSENTIAL
    assert names == {"csrftoken", "bm_consent"}
    assert page.evaluate("() => [localStorage.length, sessionStorage.length]") == [0, 0]
    assert page.evaluate("async () => (await indexedDB.databases()).map(d => d.name)") == []
    elsewhere = [f"{at}: {url}" for at, url in requested if origin(url) != base]
    assert elsewhere == [], "requests that left the site:\n" + "\n".join(elsewhere)
    assert {url for _at, url in requested} >= {f"{base}{path}" for path in pages}

    response = page.goto(f"{base}/catalog/")
    assert response is not None
    assert csp_directives(response.headers["content-security-policy"]) == {
        name: list(sources)
        for name, sources in settings.CONTENT_SECURITY_POLICY["DIRECTIVES"].items()
    }
    assert "content-security-policy-report-only" not in response.headers
