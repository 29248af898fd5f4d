"""Downloads and renewal in Chromium on a phone (390 px wide), in English and Russian: the track
page's "Download FLAC" saves the file, which the licence page then lists; the track page, the
licence page (renewal open, the plan's edition changed, downloads listed) and the renew page fit
the screen and axe-core finds no violation on them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.core import clock
from backgroundmusic.licensing import agreements
from backgroundmusic.licensing.models import Agreement, PlanEdition
from backgroundmusic.licensing.tests.checkout_scene import profile_set
from backgroundmusic.licensing.tests.factories import plan_edition, terms_edition
from backgroundmusic.licensing.tests.paid_orders import paid_order
from backgroundmusic.media.downloads import attachment_filename
from backgroundmusic.media.models import Download, Rendition
from backgroundmusic.media.tests.streaming_fixtures import (
    encoded_clip,
    playable_track,
    rendition_of,
)
from tests.browser.test_licences_journey import PHONE, problems, signed_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]


def subscription_ending_soon(owner: User) -> Agreement:
    """A creator subscription paid 28 days ago, on a plan with a newer edition on sale."""
    paid_at = clock.now() - timedelta(days=28)
    edition = plan_edition(title_en="Creator subscription", title_ru="Подписка автора")
    terms_edition()
    [agreement] = agreements.agreements_conclude(
        order=paid_order(
            user=owner,
            lines=[{"edition": edition, "use_description": "https://youtube.com/@" + "a" * 60}],
            paid_at=paid_at,
        ),
        now=paid_at,
    )
    values = {
        field.attname: getattr(edition, field.attname)
        for field in PlanEdition._meta.concrete_fields
        if not field.primary_key
    }
    values.update(
        version="2", content_hash="2" * 64, price_rub=Decimal("1290.00"), price_eur=Decimal("12.90")
    )
    PlanEdition.objects.create(**values)
    return agreement


def rows(page: Page) -> list[str]:
    return [text.strip() for text in page.locator(".download-row").all_inner_texts()]


def test_download_from_the_track_page_and_find_it_on_the_licence(live_server, new_context):
    owner = UserFactory.create(username="licensee")
    agreement = subscription_ending_soon(owner)
    track = playable_track(kinds=[Rendition.Kind.PREVIEW, Rendition.Kind.MP3_320, "flac"])
    context = new_context()
    signed_in(context, live_server.url, owner)
    page = context.new_page()
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/catalog/{track.slug}/")
    with page.expect_download() as started:
        page.get_by_role("link", name="Download FLAC").click()
    download = started.value
    assert download.suggested_filename == attachment_filename(rendition=rendition_of(track, "flac"))
    with open(download.path(), "rb") as saved:
        assert saved.read() == encoded_clip("flac")
    page.goto(f"{live_server.url}/licences/{agreement.number}/")
    [row] = rows(page)
    assert row.startswith(f"{track.title} FLAC ")
    assert Download.objects.get().user == owner


@pytest.mark.parametrize("locale", ["en-US", "ru-RU"])
def test_the_pages_fit_a_phone_and_pass_axe(live_server, new_context, locale):
    owner = UserFactory.create(username="licensee")
    profile_set(owner)
    agreement = subscription_ending_soon(owner)
    track = playable_track(kinds=[Rendition.Kind.PREVIEW, Rendition.Kind.MP3_320, "flac"])
    track.title = "A rather long title of a calm piano piece for the evening"
    track.save()
    Download.objects.bulk_create(
        Download(
            user=owner,
            track=track,
            kind=kind,
            token_sha256=f"{kind}-{number}",
            at=clock.now() - timedelta(hours=number + 1),
        )
        for number in range(60)
        for kind in ("mp3_320", "flac")[number % 2 :][:1]
    )
    context = new_context(locale=locale)
    signed_in(context, live_server.url, owner)
    page = context.new_page()
    page.set_viewport_size(PHONE)
    paths = [
        f"/catalog/{track.slug}/",
        "/licences/",
        f"/licences/{agreement.number}/",
        f"/licences/{agreement.number}/?page=2",
        f"/licences/{agreement.number}/renew/",
    ]
    assert [issue for path in paths for issue in problems(page, live_server.url + path)] == []
    page.goto(f"{live_server.url}/licences/{agreement.number}/renew/")
    assert page.locator(".renewal-edition-changed").is_visible()
