"""Downloads for licensees: the track page's download block for each kind of licence and each
caller, and a licence's files on its page (what it lets its holder download now, and the
downloads made under it, each under exactly one licence)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.template.defaultfilters import filesizeformat

from backgroundmusic.accounts.models import User
from backgroundmusic.catalog.models import Track
from backgroundmusic.licensing import agreements
from backgroundmusic.licensing.models import Agreement, PlanKind, QuantityUnit, Use
from backgroundmusic.licensing.tests.factories import plan_edition
from backgroundmusic.licensing.tests.paid_orders import paid_order
from backgroundmusic.media.models import Download, Rendition
from backgroundmusic.media.tests.streaming_fixtures import encoded_clip, playable_track
from tests.callers import CALLERS

pytestmark = pytest.mark.django_db

PAID = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
NOW = PAID + timedelta(days=2)
# The creator subscription's paid month has ended an hour ago: suspended.
UNPAID = PAID + timedelta(days=31, hours=1)
DOWNLOAD_KINDS = [Rendition.Kind.MP3_320, Rendition.Kind.FLAC]
# Who may download every track whatever they hold: media's one rule lets catalogue managers.
CATALOGUE_MANAGERS = {"content_manager", "administrator"}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def licence(owner: User, kind: str, *, track: Track | None = None, paid_at=PAID) -> Agreement:
    """A licence of `kind` concluded when its order was paid."""
    uses: dict[str, list[str]] = {
        PlanKind.CREATOR: [Use.ONLINE_VIDEO, Use.PODCAST],
        PlanKind.BUSINESS: [Use.COMPANY_CHANNEL, Use.ADVERTISING],
        PlanKind.VENUE: [Use.PUBLIC_PERFORMANCE],
        PlanKind.SINGLE_TRACK: [Use.PROJECT],
    }
    fields = {"quantity_unit": QuantityUnit.LOCATION} if kind == PlanKind.VENUE else {}
    edition = plan_edition(kind=kind, uses=uses[kind], **fields)
    [agreement] = agreements.agreements_conclude(
        order=paid_order(user=owner, lines=[{"edition": edition, "track": track}], paid_at=paid_at),
        now=paid_at,
    )
    return agreement


@pytest.fixture
def track() -> Track:
    return playable_track(kinds=[Rendition.Kind.PREVIEW, *DOWNLOAD_KINDS])


def offered(html: str) -> list[str]:
    """The kinds of file a page offers to download, in order."""
    return re.findall(
        r'<a class="button" href="/download/[^"]+" download hx-boost="false" '
        r'data-kind="(\w+)"',
        html,
    )


def main_words(html: str) -> str:
    main = html.split('<main id="content">', 1)[1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)).strip()


# The track page


@pytest.mark.parametrize(
    ("held", "expected"),
    [
        ("none", []),
        ("creator", DOWNLOAD_KINDS),
        ("business", DOWNLOAD_KINDS),
        ("venue", []),
        ("this_track", DOWNLOAD_KINDS),
        ("another_track", []),
        ("creator_suspended", []),
        ("creator_revoked", []),
        ("creator_of_someone_else", []),
    ],
)
def test_the_track_page_offers_downloads_as_the_licence_allows(
    client, owner, track, held, expected
):
    if held in ("creator", "creator_suspended"):
        licence(owner, PlanKind.CREATOR)
    elif held == "business":
        licence(owner, PlanKind.BUSINESS)
    elif held == "venue":
        licence(owner, PlanKind.VENUE)
    elif held == "this_track":
        licence(owner, PlanKind.SINGLE_TRACK, track=track)
    elif held == "another_track":
        other_track = playable_track(kinds=DOWNLOAD_KINDS)
        licence(owner, PlanKind.SINGLE_TRACK, track=other_track)
    elif held == "creator_revoked":
        agreements.agreement_revoke(
            actor=None, agreement=licence(owner, PlanKind.CREATOR), reason="Refunded.", now=NOW
        )
    elif held == "creator_of_someone_else":
        licence(User.objects.create(username="someone"), PlanKind.CREATOR)
    at = UNPAID if held == "creator_suspended" else NOW
    with time_machine.travel(at, tick=False):
        client.force_login(owner)
        html = client.get(f"/catalog/{track.slug}/").content.decode()
    assert offered(html) == expected
    if expected:
        text = main_words(html)
        mp3, flac = (
            filesizeformat(len(encoded_clip(kind))).replace("\xa0", " ") for kind in DOWNLOAD_KINDS
        )
        assert f"Download Download MP3 320 {mp3} Download FLAC {flac}" in text
        assert "the FLAC keeps the master's own samples and level" in text
    else:
        assert 'id="track-downloads-title"' not in html


@pytest.mark.parametrize("kind", CALLERS)
def test_the_download_block_by_caller(caller_for, kind, owner, track):
    licence(owner, PlanKind.CREATOR)
    html = caller_for(kind).client.get(f"/catalog/{track.slug}/").content.decode()
    if kind == "owner" or kind in CATALOGUE_MANAGERS:
        assert offered(html) == DOWNLOAD_KINDS
    else:
        assert offered(html) == []
        assert "/download/" not in html


def test_a_link_of_the_track_page_downloads_and_the_licence_page_lists_it(client, owner, track):
    agreement = licence(owner, PlanKind.CREATOR)
    client.force_login(owner)
    html = client.get(f"/catalog/{track.slug}/").content.decode()
    flac_url = re.search(r'href="(/download/[^"]+)"[^>]*data-kind="flac"', html)
    assert flac_url is not None
    response = client.get(flac_url.group(1))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    page = client.get(f"/licences/{agreement.number}/").content.decode()
    assert main_words(page).count(f"{track.title} FLAC 12 March 2026, 12:00 UTC") == 1
    assert "1 download, newest first." in main_words(page)


# The licence page: what it lets its holder download now


def test_a_catalogue_licence_links_to_the_catalogue_instead_of_listing_tracks(client, owner, track):
    agreement = licence(owner, PlanKind.CREATOR)
    client.force_login(owner)
    html = client.get(f"/licences/{agreement.number}/").content.decode()
    assert offered(html) == []
    assert (
        "This licence covers the whole catalogue: download any track as MP3 320 or FLAC from "
        'its page in the <a href="/catalog/">catalogue</a>.'
    ) in html
    assert "Nothing has been downloaded under this licence yet." in html


def test_a_single_track_licence_offers_its_files(client, owner, track):
    agreement = licence(owner, PlanKind.SINGLE_TRACK, track=track)
    client.force_login(owner)
    html = client.get(f"/licences/{agreement.number}/").content.decode()
    assert offered(html) == DOWNLOAD_KINDS
    assert f'The track <a href="/catalog/{track.slug}/">{track.title}</a>:' in html


def test_a_venue_licence_has_no_files(client, owner, track):
    agreement = licence(owner, PlanKind.VENUE)
    # A download the person made under another licence is not the venue licence's.
    Download.objects.create(user=owner, track=track, kind="flac", token_sha256="a", at=NOW)
    licence(owner, PlanKind.CREATOR)
    client.force_login(owner)
    text = main_words(client.get(f"/licences/{agreement.number}/").content.decode())
    assert (
        "Files and downloads This licence is for public performance: the music plays through "
        "the service, and the licence comes with no downloads."
    ) in text
    assert "Downloads under this licence" not in text


@pytest.mark.parametrize("ended", ["suspended", "revoked"])
def test_a_licence_not_in_force_offers_nothing(client, owner, track, ended):
    agreement = licence(
        owner,
        PlanKind.SINGLE_TRACK if ended == "revoked" else PlanKind.CREATOR,
        track=track if ended == "revoked" else None,
    )
    at = UNPAID
    if ended == "revoked":
        agreements.agreement_revoke(actor=None, agreement=agreement, reason="Refunded.", now=NOW)
        at = NOW
    with time_machine.travel(at, tick=False):
        client.force_login(owner)
        html = client.get(f"/licences/{agreement.number}/").content.decode()
    assert offered(html) == []
    assert "This licence is not in force now, so it gives no downloads." in html


# The licence page: the downloads made under it


def downloaded(user: User, track: Track | None, at: datetime, kind: str = "mp3_320") -> Download:
    return Download.objects.create(
        user=user, track=track, kind=kind, token_sha256=f"{user.pk}-{at.isoformat()}-{kind}", at=at
    )


def listed(client, agreement: Agreement, query: str = "") -> list[str]:
    html = client.get(f"/licences/{agreement.number}/{query}").content.decode()
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in re.findall(r'<li class="download-row">(.*?)</li>', html)
    ]


def test_each_download_is_listed_under_the_one_licence_that_allowed_it(client, owner, track):
    other_track = playable_track(kinds=DOWNLOAD_KINDS)
    catalogue = licence(owner, PlanKind.CREATOR)
    single = licence(owner, PlanKind.SINGLE_TRACK, track=track, paid_at=PAID + timedelta(days=1))
    downloaded(owner, track, PAID - timedelta(hours=1))  # before any licence: neither's
    downloaded(owner, track, PAID + timedelta(hours=1))  # only the catalogue's then
    downloaded(owner, other_track, PAID + timedelta(hours=2), kind="flac")
    downloaded(owner, track, PAID + timedelta(days=1, hours=1))  # the one-track licence first
    downloaded(owner, None, PAID + timedelta(days=1, hours=2))  # a track deleted since: nobody's
    downloaded(User.objects.create(username="someone"), track, PAID + timedelta(hours=3))
    client.force_login(owner)
    assert listed(client, catalogue) == [
        f"{other_track.title} FLAC 10 March 2026, 14:00 UTC",
        f"{track.title} MP3 320 10 March 2026, 13:00 UTC",
    ]
    assert listed(client, single) == [f"{track.title} MP3 320 11 March 2026, 13:00 UTC"]


def test_a_revoked_licence_keeps_what_it_allowed_and_a_lapse_allowed_nothing(client, owner, track):
    """A subscription suspended for a week, then renewed late, then revoked: the downloads of
    its paid months are its own, those of the week unpaid and after the revocation are not."""
    catalogue = licence(owner, PlanKind.CREATOR)
    single = licence(owner, PlanKind.SINGLE_TRACK, track=track)
    paid_until = catalogue.paid_until
    assert paid_until is not None
    renewed_at = paid_until + timedelta(days=7)
    with time_machine.travel(paid_until + timedelta(hours=1), tick=False):
        agreements.agreements_lapse(now=paid_until + timedelta(hours=1))
    agreements.agreement_extend(
        agreement=catalogue, paid_until=renewed_at + timedelta(days=30), now=renewed_at
    )
    revoked_at = renewed_at + timedelta(days=3)
    agreements.agreement_revoke(actor=None, agreement=catalogue, reason="Refunded.", now=revoked_at)
    for at in (
        paid_until - timedelta(hours=1),
        paid_until + timedelta(days=2),
        renewed_at + timedelta(hours=1),
        revoked_at + timedelta(hours=1),
    ):
        downloaded(owner, track, at)
    with time_machine.travel(revoked_at + timedelta(days=1), tick=False):
        client.force_login(owner)
        # The one-track licence, concluded as early, comes first for its own track.
        assert listed(client, single) == [
            f"{track.title} MP3 320 20 April 2026, 13:00 UTC",
            f"{track.title} MP3 320 17 April 2026, 13:00 UTC",
            f"{track.title} MP3 320 12 April 2026, 12:00 UTC",
            f"{track.title} MP3 320 10 April 2026, 11:00 UTC",
        ]
        other = playable_track(kinds=DOWNLOAD_KINDS)
        for at in (
            paid_until - timedelta(hours=1),
            paid_until + timedelta(days=2),
            renewed_at + timedelta(hours=1),
            revoked_at + timedelta(hours=1),
        ):
            downloaded(owner, other, at, kind="flac")
        assert listed(client, catalogue) == [
            f"{other.title} FLAC 17 April 2026, 13:00 UTC",
            f"{other.title} FLAC 10 April 2026, 11:00 UTC",
        ]


def test_downloads_come_fifty_to_a_page(client, owner, track):
    agreement = licence(owner, PlanKind.CREATOR)
    for minute in range(51):
        downloaded(owner, track, PAID + timedelta(minutes=minute + 1))
    client.force_login(owner)
    first = client.get(f"/licences/{agreement.number}/").content.decode()
    assert len(listed(client, agreement)) == 50
    assert "51 downloads, newest first." in first
    assert "Page 1 of 2" in first
    assert 'href="?page=2#downloads">Older</a>' in first
    assert listed(client, agreement, "?page=2") == [
        f"{track.title} MP3 320 10 March 2026, 12:01 UTC"
    ]
    # A page number that is not one gives the first or the last page, never an error.
    for query, expected in (("?page=abc", 50), ("?page=99", 1), ("?page=-1", 1)):
        assert len(listed(client, agreement, query)) == expected
    assert client.get(f"/licences/{agreement.number}/?page=%00").status_code == 400


def test_the_files_in_russian(client, owner, track):
    agreement = licence(owner, PlanKind.CREATOR)
    client.force_login(owner)
    track_text = main_words(
        client.get(f"/catalog/{track.slug}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    )
    assert "Скачать Скачать MP3 320" in track_text
    assert "Каждое скачивание записывается." in track_text
    licence_text = main_words(
        client.get(f"/licences/{agreement.number}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    )
    assert (
        "Файлы и скачивания Эта лицензия распространяется на весь каталог: любой трек можно "
        "скачать в MP3 320 или FLAC на его странице в каталоге ."
    ) in licence_text
    assert "По этой лицензии ещё ничего не скачано." in licence_text
