"""A stream URL that expires while a track plays (decision 0041): on the server's 403/410 the
player asks the app for a fresh URL and carries on at the same position, without an error. The
network is throttled (Chromium's own emulation) so a seek needs a new range request, which the
server refuses once the clock has moved past the URL's life."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.core import clock
from backgroundmusic.media.streaming import DEFAULT_TTL

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]


def audio_state(page: Page) -> dict:
    return page.evaluate(
        "() => { const a = document.getElementById('player-audio');"
        " return {time: a.currentTime, paused: a.paused, src: a.currentSrc}; }"
    )


def test_an_expired_url_is_renewed_and_plays_on_at_the_same_position(live_server, page: Page):
    ready_track(title="Long Shore", catalogue_code="LS-1", duration_seconds=60, preview_seconds=60)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(f"{live_server.url}/catalog/long-shore/")
    # About 3 s of this 128 kbit/s file a second: the end is not there when the seek comes.
    network = page.context.new_cdp_session(page)
    network.send("Network.enable")
    network.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": 48_000, "uploadThroughput": -1},
    )
    page.get_by_role("button", name="Play the preview of Long Shore").click()
    page.wait_for_function(
        "() => { const a = document.getElementById('player-audio');"
        " return !a.paused && a.currentTime > 0.5; }"
    )
    first = audio_state(page)["src"]
    assert first.startswith(f"{live_server.url}/stream/")

    # The URL's life is over: the server now refuses it (403), and the listener seeks ahead.
    with clock.frozen_at(clock.now() + DEFAULT_TTL + timedelta(minutes=1)):
        page.evaluate("() => { document.getElementById('player-audio').currentTime = 45; }")
        page.wait_for_function(
            "first => { const a = document.getElementById('player-audio');"
            " return a.currentSrc !== first && !a.paused && a.currentTime > 45.2; }",
            arg=first,
        )
        renewed = audio_state(page)
    assert renewed["src"].startswith(f"{live_server.url}/stream/")
    assert 45 < renewed["time"] < 50
    assert any("/stream-url?src=" in url for url in asked)
    expect(page.locator("#player")).not_to_have_class("player player-error")
    expect(page.locator("#player .player-title")).to_have_text("Long Shore")
    # The page's button carries the fresh URL for the next click.
    button = page.get_by_role("button", name="Play the preview of Long Shore")
    assert live_server.url + button.get_attribute("data-src") == renewed["src"]


def test_a_url_expired_before_the_first_click_plays_from_the_start(live_server, page: Page):
    ready_track(title="Old Page", catalogue_code="OP-1", duration_seconds=5, preview_seconds=5)
    with clock.frozen_at(clock.now() - DEFAULT_TTL - timedelta(minutes=1)):
        page.goto(f"{live_server.url}/catalog/old-page/")
    expect(page.locator("h1")).to_have_text("Old Page")
    page.get_by_role("button", name="Play the preview of Old Page").click()
    page.wait_for_function(
        "() => { const a = document.getElementById('player-audio');"
        " return !a.paused && a.currentTime > 0.3; }"
    )
    expect(page.locator("#player")).not_to_have_class("player player-error")


def test_a_listener_who_may_no_longer_play_sees_the_error(live_server, page: Page):
    track = ready_track(title="Withdrawn", catalogue_code="WD-1", preview_seconds=5)
    with clock.frozen_at(clock.now() - DEFAULT_TTL - timedelta(minutes=1)):
        page.goto(f"{live_server.url}/catalog/withdrawn/")
    expect(page.locator("h1")).to_have_text("Withdrawn")
    track.is_published = False
    track.save()
    page.get_by_role("button", name="Play the preview of Withdrawn").click()
    expect(page.locator("#player")).to_have_class("player player-error")
    expect(page.locator("#player .player-title")).to_have_text("The preview could not be played.")
