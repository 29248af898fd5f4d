"""Playwright (sync API) driving Debian's chromium against pytest-django's live server."""

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Request,
    Route,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """The Playwright driver, for one test module at a time.

    Playwright's sync API runs an asyncio event loop in this (the test) thread and switches to
    it with greenlets, so for as long as the driver lives, asyncio reports a running loop here.
    Django then refuses ORM calls from the test thread (the tests' own checks, and the database
    flush after a transactional test) with SynchronousOnlyOperation, although none of them runs
    inside that loop: each is plain blocking code between two Playwright calls, and the live
    server answers in its own thread. So DJANGO_ALLOW_ASYNC_UNSAFE is set exactly while the
    driver lives. Module scope keeps both the loop and the variable away from the rest of the
    suite (the variable also leaks into subprocesses, where `check --deploy` warns about it).
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as driver:
            yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        found = shutil.which("chromium")
        pytest.fail(
            f"The browser tests need Debian's chromium at {CHROMIUM} "
            f"(chromium on PATH: {found or 'none'}). "
            "Install it with `make browser-deps` (part of `make test`) or "
            "`apt-get install chromium`.",
            pytrace=False,
        )
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture(scope="session", autouse=True)
def _urlconf_loaded() -> None:
    """Imports the URLconf, and with it every view module, before the first page is asked for.

    The live server would do it on its first request, and that import (seconds on a loaded
    machine) would then count against the first page's navigation timeout. The live server runs
    in this process, so it finds the resolver already loaded.
    """
    from django.urls import get_resolver

    assert get_resolver().url_patterns


@pytest.fixture
def new_context(browser: Browser) -> Iterator["ContextFactory"]:
    """Makes fresh browser contexts (separate cookies), closed after the test."""
    factory = ContextFactory(browser)
    yield factory
    factory.close_all()


class ContextFactory:
    def __init__(self, browser: Browser) -> None:
        self._browser = browser
        self._contexts: list[BrowserContext] = []
        self._watches: list[BeaconWatch] = []

    def __call__(self, *, analytics: bool = False, locale: str = "en-US") -> BrowserContext:
        """A new context. Its analytics beacons are answered by the browser itself (204) unless
        `analytics`: a journey that is not about them must not have them reach the live server
        at any moment, e.g. while the test's database is being emptied."""
        # The language is set from the browser side, so the pages do not depend on the machine's.
        context = self._browser.new_context(locale=locale)
        context.set_default_timeout(10_000)
        if analytics:
            self._watches.append(BeaconWatch(context))
        else:
            context.route("**/a/e", _answer_beacon)
        self._contexts.append(context)
        return context

    def close_all(self) -> None:
        """Beacons already on their way are answered before the database is emptied; and the
        last beacon the script sends when a page closes is not sent at all: the browser sends
        it after the page is gone, past any route."""
        for context in self._contexts:
            context.route("**/a/e", _answer_beacon)
        for watch in self._watches:
            watch.wait_until_answered()
        for context in self._contexts:
            for page in context.pages:
                # A page that is navigating or gone sends nothing either.
                with contextlib.suppress(PlaywrightError):
                    page.evaluate("navigator.sendBeacon = () => true")
            context.close()


class BeaconWatch:
    """Counts the beacons of a context that the live server has not answered yet."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.unanswered = 0
        context.on("request", lambda request: self._count(request, +1))
        context.on("requestfinished", lambda request: self._count(request, -1))
        context.on("requestfailed", lambda request: self._count(request, -1))

    def _count(self, request: Request, change: int) -> None:
        if request.url.endswith("/a/e"):
            self.unanswered += change

    def wait_until_answered(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.unanswered > 0 and self.context.pages and time.monotonic() < deadline:
            self.context.pages[0].wait_for_timeout(50)  # lets Playwright deliver the events


def _answer_beacon(route: Route) -> None:
    route.fulfill(status=204)


@pytest.fixture
def page(new_context: ContextFactory) -> Page:
    return new_context().new_page()
