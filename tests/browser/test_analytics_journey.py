"""Issue 5 in a real browser: the page-statistics script, the beacon and the bm_aid cookie.

What is simulated, and why: headless Chromium never reports a page as hidden, and neither does
Chromium on Xvfb without a window manager (a background tab, a second window and a minimized
window all stay "visible"; tried). So the engaged-time journey stands in for the browser's own
signal only: it overrides document.visibilityState and document.hasFocus and fires the
visibilitychange/blur/focus events the browser would fire. The script, the beacons, the server
and the database are real, and time runs on Playwright's clock, not by sleeping.
"""

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from backgroundmusic.analytics.buffer import event_buffer
from backgroundmusic.analytics.identity import cookie_value_for, pseudonym_from_cookie
from backgroundmusic.analytics.models import Event, EventKind
from backgroundmusic.privacy import cookies
from backgroundmusic.privacy.editions import current_edition
from backgroundmusic.privacy.models import DocumentKind

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

HIDE = """() => {
  Object.defineProperty(document, "visibilityState", {configurable: true, get: () => "hidden"});
  Object.defineProperty(document, "hidden", {configurable: true, get: () => true});
  document.hasFocus = () => false;
  window.dispatchEvent(new Event("blur"));
  document.dispatchEvent(new Event("visibilitychange"));
}"""
SHOW = """() => {
  delete document.visibilityState;
  delete document.hidden;
  delete document.hasFocus;
  document.dispatchEvent(new Event("visibilitychange"));
  window.dispatchEvent(new Event("focus"));
}"""


@pytest.fixture(autouse=True)
def no_policy_editions() -> None:
    """No edition in force: no policy notice in the way."""
    assert not current_edition(kind=DocumentKind.PRIVACY_POLICY)


def arrived(count: int, *, kind: str = EventKind.VIEW, timeout: float = 10.0) -> list[Event]:
    """Waits until `count` events of `kind` reached the server (beacons are asynchronous), writes
    them and returns every stored event of that kind in order."""
    deadline = time.monotonic() + timeout
    while True:
        event_buffer.flush()
        stored = list(Event.objects.filter(kind=kind).order_by("pk"))
        if len(stored) >= count or time.monotonic() > deadline:
            return stored
        time.sleep(0.05)


def jar(context: BrowserContext) -> dict[str, Any]:
    return {cookie["name"]: cookie for cookie in context.cookies()}


def nothing_stored_in_the_browser(page: Page) -> None:
    """No storage at all: htmx's note of the current path is removed (static/js/no-storage.js)."""
    assert page.evaluate("Object.keys(localStorage)") == []
    assert page.evaluate("Object.entries(sessionStorage)") == []
    assert page.evaluate("async () => (await indexedDB.databases()).length") == 0


def browse(page: Page, base: str, steps: list[tuple[str, str]]) -> None:
    """("goto", path) loads a page; ("click", path) follows the link to path through htmx and
    waits until htmx has put the new address into the history."""
    for how, path in steps:
        if how == "goto":
            page.goto(f"{base}{path}")
        else:
            page.locator(f'a[href="{path}"]').first.click()
            expect(page).to_have_url(f"{base}{path}")
        page.wait_for_load_state("load")


TEN_VIEWS = [
    ("goto", "/"),
    ("click", "/catalog/"),
    ("goto", "/cookies/"),
    ("click", "/catalog/"),
    ("goto", "/privacy/processing/"),
    ("goto", "/catalog/?q=someone%40example.com&mood=calm"),
    ("click", "/cookies/"),
    ("goto", "/"),
    ("click", "/catalog/"),
    ("goto", "/cookies/"),
]


def test_without_consent_ten_views_are_counted_with_no_cookie_and_nothing_stored(
    live_server, new_context: Callable[..., BrowserContext]
) -> None:
    base = live_server.url
    context = new_context(analytics=True)
    page = context.new_page()
    browse(page, base, TEN_VIEWS)

    views = arrived(10)
    # Beacons of consecutive pages travel side by side: compare without their arrival order.
    assert sorted(event.path for event in views) == sorted(
        [
            "/",
            "/catalog/",
            "/cookies/",
            "/catalog/",
            "/privacy/processing/",
            "/catalog/?mood=calm",  # the typed e-mail address is not kept
            "/cookies/",
            "/",
            "/catalog/",
            "/cookies/",
        ]
    )
    assert {event.pseudonym for event in views} == {""}
    assert len({event.visitor_key for event in views}) == 1  # one cookieless key for the day
    assert (views[0].browser, views[0].device, views[0].screen) == (
        "HeadlessChrome",
        "desktop",
        "l",
    )
    assert cookies.ANALYTICS_COOKIE not in jar(context)
    nothing_stored_in_the_browser(page)


def test_consent_sets_the_cookie_and_withdrawal_removes_it_and_the_pseudonym(
    live_server, new_context: Callable[..., BrowserContext]
) -> None:
    base = live_server.url
    context = new_context(analytics=True)
    page = context.new_page()
    page.goto(f"{base}/")
    assert len(arrived(1)) == 1
    # The banner's form is boosted: the answer replaces the same page, which is no new view.
    page.locator("#cookie-banner").get_by_role("button", name="Accept all", exact=True).click()
    expect(page.locator("#cookie-banner")).to_have_count(0)
    aid = jar(context)[cookies.ANALYTICS_COOKIE]
    pseudonym = pseudonym_from_cookie(aid["value"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", pseudonym)
    assert aid["value"] == cookie_value_for(pseudonym)  # the pseudonym and the server's signature
    assert (aid["httpOnly"], aid["sameSite"]) == (True, "Lax")

    browse(page, base, [("click", "/catalog/"), ("goto", "/cookies/")])
    assert len(arrived(3)) == 3

    form = page.locator("#cookie-preferences")
    form.get_by_label("Do not allow", exact=True).check()
    form.get_by_role("button", name="Save my choice").click()
    expect(page.locator("#cookie-choice-state")).to_have_text("You allowed essential cookies only.")
    assert cookies.ANALYTICS_COOKIE not in jar(context)

    browse(page, base, [("click", "/catalog/"), ("goto", "/")])
    views = arrived(5)
    assert sorted((event.path, event.pseudonym) for event in views) == sorted(
        [
            ("/", ""),
            ("/catalog/", pseudonym),
            ("/cookies/", pseudonym),
            ("/catalog/", ""),
            ("/", ""),
        ]
    )
    assert cookies.ANALYTICS_COOKIE not in jar(context)


FORGED = "AbCdEfGhIjKlMnOpQrStUv"
SEND_VIEW = """async (path) => (await fetch("/a/e", {
  method: "POST",
  headers: {"Content-Type": "text/plain;charset=UTF-8"},
  body: JSON.stringify({events: [{kind: "view", view: crypto.randomUUID(), path: path}]}),
})).status"""


def test_a_forged_cookie_is_replaced_by_the_page_and_counts_for_no_one_in_a_beacon(
    live_server, new_context: Callable[..., BrowserContext]
) -> None:
    base = live_server.url
    context = new_context(analytics=True)
    consent = cookies.signed_choice_value(analytics=True)
    context.add_cookies(
        [
            {"url": base, "name": cookies.CONSENT_COOKIE, "value": consent},
            {"url": base, "name": cookies.ANALYTICS_COOKIE, "value": FORGED},
        ]
    )
    page = context.new_page()
    page.goto(f"{base}/")
    issued = pseudonym_from_cookie(jar(context)[cookies.ANALYTICS_COOKIE]["value"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", issued)
    assert issued != FORGED
    [view] = arrived(1)
    assert (view.path, view.pseudonym) == ("/", issued)

    # A client that plants made-up cookies and sends beacons itself is one cookieless visitor.
    for number in range(3):
        forged = f"{FORGED[:-2]}{number:02d}"
        context.add_cookies([{"url": base, "name": cookies.ANALYTICS_COOKIE, "value": forged}])
        assert page.evaluate(SEND_VIEW, f"/forged-{number}/") == 204
    forged_views = arrived(4)[1:]
    assert sorted(event.path for event in forged_views) == [
        "/forged-0/",
        "/forged-1/",
        "/forged-2/",
    ]
    assert {event.pseudonym for event in forged_views} == {""}
    assert len({event.visitor_key for event in forged_views}) == 1
    assert Event.objects.filter(pseudonym__startswith=FORGED[:-2]).count() == 0


def engaged_after(page: Page, base: str, *, hidden: bool) -> int:
    """Opens the catalogue on Playwright's clock, lets 60 s pass (hidden or not), then 400 ms
    visible, then hides the page so the script sends its engagement; returns the engaged
    milliseconds stored for that page view (the script may also have sent the few real
    milliseconds before the first hiding)."""
    page.clock.install()
    page.goto(f"{base}/catalog/")
    [view] = arrived(1)
    if hidden:
        page.evaluate(HIDE)
        page.clock.fast_forward(60_000)
        page.evaluate(SHOW)
    else:
        page.clock.fast_forward(60_000)
    page.clock.fast_forward(400)
    page.evaluate(HIDE)
    deadline = time.monotonic() + 10
    while not Event.objects.filter(kind=EventKind.ENGAGE, engaged_ms__gte=400).exists():
        assert time.monotonic() < deadline, "no engagement beacon arrived"
        time.sleep(0.05)
        event_buffer.flush()
    engaged = Event.objects.filter(kind=EventKind.ENGAGE, view_id=view.view_id)
    return sum(engaged.values_list("engaged_ms", flat=True))


def test_a_tab_hidden_for_60_s_adds_under_1_s_of_engaged_time(
    live_server, new_context: Callable[..., BrowserContext]
) -> None:
    engaged = engaged_after(new_context(analytics=True).new_page(), live_server.url, hidden=True)
    assert 400 <= engaged < 1000


def test_the_same_60_s_visible_and_focused_count_in_full(
    live_server, new_context: Callable[..., BrowserContext]
) -> None:
    engaged = engaged_after(new_context(analytics=True).new_page(), live_server.url, hidden=False)
    assert 60_400 <= engaged < 61_000
