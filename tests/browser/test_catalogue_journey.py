"""A visitor searches the catalogue with two facets, opens a track, plays its preview and moves
on to another page: the mini-player keeps playing the same <audio> element (htmx hx-boost with
the player hx-preserve'd). Choosing a facet or a sort order applies at once, the new count is
announced, and on a phone the filters fold away."""

import re

import pytest
from playwright.sync_api import Page, expect

from backgroundmusic.catalog.tests.fixtures import make_facets, ready_track

pytestmark = [
    pytest.mark.browser,
    # Every page sends analytics beacons, which reach the analytics database.
    pytest.mark.django_db(transaction=True, databases="__all__"),
]


@pytest.fixture
def catalogue():
    make_facets()
    ready_track(
        title="Morning Light",
        catalogue_code="MW-1",
        genres=["ambient"],
        instruments=["piano"],
        duration_seconds=8,
        preview_seconds=8.0,
    )
    ready_track(
        title="City Run",
        catalogue_code="MW-2",
        genres=["ambient"],
        instruments=["strings"],
        preview_seconds=1.0,
    )
    ready_track(title="Sonata", catalogue_code="MW-3", genres=["classical"], instruments=["piano"])


def audio_state(page: Page) -> dict:
    return page.evaluate(
        "() => { const a = document.getElementById('player-audio');"
        " return {time: a.currentTime, paused: a.paused, src: a.currentSrc}; }"
    )


def test_the_preview_keeps_playing_across_pages(live_server, page: Page, catalogue):
    errors: list[str] = []

    def console(message) -> None:
        # Chromium asks for /favicon.ico, which the site does not have.
        if message.type == "error" and "favicon" not in message.location.get("url", ""):
            errors.append(message.text)

    page.on("console", console)
    page.goto(f"{live_server.url}/catalog/")
    expect(page.locator(".results-count")).to_have_text("3 tracks")

    # Each choice applies at once, without the Search button; the focus stays on the box ticked.
    page.get_by_label("Ambient").check()
    expect(page.locator(".results-count")).to_have_text("2 tracks")
    expect(page.locator("#results-status")).to_have_text("2 tracks")
    expect(page.get_by_label("Ambient")).to_be_focused()
    page.get_by_label("Piano").check()
    expect(page).to_have_url(re.compile(r"/catalog/\?.*genre=ambient.*instrument=piano"))
    expect(page.locator(".results-count")).to_have_text("1 track")
    expect(page.locator("#results-status")).to_have_text("1 track")
    expect(page.locator(".track-title")).to_have_text(["Morning Light"])

    page.get_by_role("link", name="Morning Light").click()
    expect(page).to_have_url(f"{live_server.url}/catalog/morning-light/")
    expect(page.locator("h1")).to_have_text("Morning Light")
    expect(page.locator(".waveform-shape")).to_have_count(1)

    page.get_by_role("button", name="Play the preview of Morning Light").click()
    expect(page.locator("#player")).to_be_visible()
    expect(page.locator("#player .player-title")).to_have_text("Morning Light")
    page.wait_for_function(
        "() => { const a = document.getElementById('player-audio');"
        " return !a.paused && a.currentTime > 0.3; }"
    )
    audio = page.evaluate_handle("document.getElementById('player-audio')")
    before = audio_state(page)
    assert before["src"].startswith(f"{live_server.url}/stream/")

    # Another page, through the main navigation (a boosted link: no full page load).
    page.get_by_role("link", name="Catalogue", exact=True).first.click()
    expect(page).to_have_url(f"{live_server.url}/catalog/")
    expect(page.locator(".results-count")).to_have_text("3 tracks")
    page.wait_for_timeout(700)
    after = audio_state(page)
    assert page.evaluate(
        "a => a === document.getElementById('player-audio') && a.isConnected", audio
    )
    assert after["paused"] is False
    assert after["time"] > before["time"]
    assert after["src"] == before["src"]
    # The list shows the playing track's button pressed; the player still names it.
    expect(page.locator('.track-row[data-slug="morning-light"] .play-preview')).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator("#player .player-title")).to_have_text("Morning Light")

    # Keyboard: the player's own button pauses.
    page.locator("#player .player-toggle").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('player-audio').paused")
    assert errors == []


def test_on_a_phone_two_facets_and_a_sort_apply_at_once_and_a_result_plays(
    live_server, page: Page, catalogue
):
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/catalog/?q=morning+OR+sonata")
    expect(page.locator(".results-count")).to_have_text("0 tracks")
    page.goto(f"{live_server.url}/catalog/")
    status = page.locator("#results-status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_have_text("3 tracks")
    ambient = page.get_by_label("Ambient")
    expect(ambient).to_be_hidden()
    page.get_by_text("Filters", exact=True).click()
    expect(ambient).to_be_visible()
    ambient.check()
    expect(page.locator(".results-count")).to_have_text("2 tracks")
    # The same live region, not a new one, says the new count.
    expect(status).to_have_text("2 tracks")
    # Chosen filters keep the fold open.
    expect(page.get_by_label("Piano")).to_be_visible()
    page.get_by_label("Sort by").select_option("title")
    expect(page).to_have_url(re.compile(r"sort=title"))
    expect(page.locator(".track-title")).to_have_text(["City Run", "Morning Light"])
    # A second facet, again without a button, then a result plays from the list.
    page.get_by_label("Piano").check()
    expect(page).to_have_url(re.compile(r"genre=ambient.*instrument=piano"))
    expect(status).to_have_text("1 track")
    expect(page.locator(".track-title")).to_have_text(["Morning Light"])
    page.locator('.track-row[data-slug="morning-light"] .play-preview').click()
    expect(page.locator("#player .player-title")).to_have_text("Morning Light")
    page.wait_for_function(
        "() => { const a = document.getElementById('player-audio');"
        " return !a.paused && a.currentTime > 0.3; }"
    )
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
