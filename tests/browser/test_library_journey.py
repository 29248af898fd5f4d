"""Favourites and playlists in Chromium on a phone (390 px wide), in English and Russian: a star
on a catalogue row marks a favourite, the track page's toggle and "Add to playlist" work, the
playlist plays all through the mini-player; the library's pages fit the screen and axe-core finds
no violation."""

import pytest
from playwright.sync_api import expect

from backgroundmusic.accounts.tests.factories import PASSWORD, UserFactory
from backgroundmusic.library.models import Favourite, Playlist, PlaylistEntry
from backgroundmusic.media.tests.streaming_fixtures import playable_track
from tests.browser.test_licences_journey import PHONE, problems, signed_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

LOG_OUT = {"en-US": "Log out", "ru-RU": "Выйти"}


@pytest.mark.parametrize("locale", ["en-US", "ru-RU"])
def test_the_library_on_a_phone(live_server, new_context, locale):
    owner = UserFactory.create(username="listener")
    first, second = playable_track(), playable_track()
    base = live_server.url
    context = new_context(locale=locale)
    signed_in(context, base, owner)
    page = context.new_page()
    page.set_viewport_size(PHONE)

    # A catalogue row's star: the listing is the kept one, the star submits the page's form.
    page.goto(f"{base}/catalog/")
    star = page.locator(f'button.favourite-row[data-slug="{first.slug}"]')
    star.click()
    expect(page.locator(f'button.favourite-row[data-slug="{first.slug}"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    assert Favourite.objects.filter(person=owner, track=first).exists()

    # The track page: the toggle swaps itself through htmx.
    page.goto(f"{base}/catalog/{second.slug}/")
    page.locator("button.favourite-button").click()
    expect(page.locator("button.favourite-button")).to_have_attribute("aria-pressed", "true")
    assert Favourite.objects.filter(person=owner).count() == 2

    # A playlist made on the playlists page, named at the longest a name may be.
    name = ("A rather long name " * 6)[:100].strip()
    page.goto(f"{base}/account/playlists/")
    page.locator(".playlist-form input[name=name]").fill(name)
    page.locator(".playlist-form button[type=submit]").click()
    expect(page.locator(".messages")).to_be_visible()
    playlist = Playlist.objects.get(owner=owner)
    assert playlist.name == name
    page.goto(f"{base}/catalog/{second.slug}/")
    page.locator(".playlist-add button[type=submit]").click()
    expect(page.locator(".messages")).to_be_visible()
    page.goto(f"{base}/catalog/{first.slug}/")
    page.locator(".playlist-add button[type=submit]").click()
    expect(page.locator(".messages")).to_be_visible()
    assert PlaylistEntry.objects.filter(playlist=playlist).count() == 2

    # Play all: the mini-player takes the first track of the playlist.
    page.goto(f"{base}/account/playlists/{playlist.pk}/")
    page.locator("button.play-all").click()
    expect(page.locator("#player")).to_be_visible()
    expect(page.locator("#player .player-title")).to_have_text(second.title)

    # Signed out and in again with the password: the favourites and the playlist are there.
    page.get_by_role("button", name=LOG_OUT[locale]).click()
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_login").fill(owner.username)
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("#id_password").press("Enter")
    page.goto(f"{base}/account/favourites/")
    expect(page.locator(".library-row")).to_have_count(2)
    page.goto(f"{base}/account/playlists/")
    expect(page.locator(".playlist-card a")).to_have_text([name])

    found = [
        issue
        for path in (
            "/account/favourites/",
            "/account/playlists/",
            f"/account/playlists/{playlist.pk}/",
            f"/catalog/{first.slug}/",
        )
        for issue in problems(page, base + path)
    ]
    assert found == []


def test_without_javascript_a_rows_star_favourites_and_shows_it(live_server, browser):
    owner = UserFactory.create(username="no-script")
    first, second = playable_track(), playable_track()
    base = live_server.url
    context = browser.new_context(java_script_enabled=False, locale="en-US")
    try:
        signed_in(context, base, owner)
        page = context.new_page()
        page.set_viewport_size(PHONE)
        page.goto(f"{base}/catalog/")
        page.locator(f'button.favourite-row[data-slug="{first.slug}"]').click()
        # The form posts and the catalogue comes back, its listing the kept one.
        expect(page.locator(".messages")).to_contain_text("is in your favourites")
        assert list(Favourite.objects.filter(person=owner).values_list("track", flat=True)) == [
            first.pk
        ]

        def star_of(track) -> str:  # type: ignore[no-untyped-def]
            star = page.locator(f'button.favourite-row[data-slug="{track.slug}"]')
            return str(star.evaluate("star => getComputedStyle(star, '::before').content"))

        assert (star_of(first), star_of(second)) == ('"★"', "none")
    finally:
        context.close()
