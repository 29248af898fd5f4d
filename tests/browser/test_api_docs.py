"""/api/docs renders Swagger UI from the site's own files under the site's Content-Security-Policy:
no request leaves the site and the browser reports no policy violation."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def test_the_api_docs_list_every_operation_from_the_site_alone(live_server, page: Page):
    requests: list[str] = []
    console_errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on(
        "console",
        lambda message: console_errors.append(message.text) if message.type == "error" else None,
    )
    violations: list[str] = []
    page.expose_function("reportViolation", lambda text: violations.append(text))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', (event) =>"
        " window.reportViolation(`${event.violatedDirective} ${event.blockedURI}`));"
    )

    response = page.goto(f"{live_server.url}/api/docs")

    assert response is not None and response.status == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    operations = page.locator(".opblock-summary-path")
    expect(operations).to_have_text(
        [
            "/api/tracks",
            "/api/tracks/{slug}",
            "/api/collections",
            "/api/collections/{slug}",
            "/api/plans",
            "/api/plans/{code}",
            "/api/certificates/{public_id}",
            "/api/me/agreements",
            "/api/me/agreements/{number}",
            "/api/me/agreements/{number}/coverage",
            "/api/me/agreements/{number}/works",
            "/api/me/orders",
            "/api/me/orders/{public_id}",
            "/api/me/downloads",
            "/api/me/favourites",
            "/api/me/favourites/{slug}",
            "/api/me/favourites/{slug}",
            "/api/me/playlists",
            "/api/me/playlists",
            "/api/me/playlists/{playlist_id}",
            "/api/me/playlists/{playlist_id}",
            "/api/me/playlists/{playlist_id}",
            "/api/me/playlists/{playlist_id}/entries",
            "/api/me/playlists/{playlist_id}/entries/{entry_id}",
            "/api/me/playlists/{playlist_id}/order",
        ]
    )
    expect(page.locator(".opblock-summary-method").first).to_have_text("GET")
    # The operations are drawn only after the schema arrived from the site itself.
    assert f"{live_server.url}/api/openapi.json" in requests
    assert [url for url in requests if origin(url) != live_server.url] == []
    assert violations == []
    # Chromium also writes each blocked load to the console as an error.
    assert console_errors == []
