"""Downloads (media/downloads.py, views.download): who gets the file, how it is named, and one
record per download URL however many requests fetch it."""

import concurrent.futures
import hashlib
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.core import clock
from backgroundmusic.media import downloads
from backgroundmusic.media.models import Download, Rendition
from backgroundmusic.media.streaming import (
    DEFAULT_TTL,
    DOWNLOAD_KINDS,
    FULL_KINDS,
    playable_url,
    signed_url,
)
from backgroundmusic.media.tests.streaming_fixtures import (
    body,
    encoded_clip,
    playable_track,
    rendition_of,
)
from backgroundmusic.staffroles.roles import StaffRole
from tests.callers import ALL_CALLERS

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MAY_DOWNLOAD = {"content_manager", "administrator"}
KINDS = [Rendition.Kind.MP3_320, Rendition.Kind.FLAC]
MIME = {Rendition.Kind.MP3_320: "audio/mpeg", Rendition.Kind.FLAC: "audio/flac"}


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def manager() -> User:
    return StaffFactory.create(username="manager", role=StaffRole.CONTENT_MANAGER)


def client_as(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def named_track(**fields: str):
    track = playable_track(kinds=KINDS)
    for name, value in fields.items():
        setattr(track, name, value)
    track.save()
    return track


def download_url(user: User, track, kind: str = Rendition.Kind.FLAC) -> str:
    url = playable_url(user=user, track=track, kind=kind)
    assert url is not None
    return url


def test_the_download_kinds_are_the_full_kinds_people_keep():
    assert sorted(DOWNLOAD_KINDS) == ["flac", "mp3_320"]
    assert DOWNLOAD_KINDS < FULL_KINDS
    for kind in Rendition.Kind.values:
        row = Download(kind=kind, token_sha256=kind, at=NOW)
        if kind in DOWNLOAD_KINDS:
            row.save()
        else:
            with pytest.raises(IntegrityError), transaction.atomic():
                row.save()
    assert sorted(Download.objects.values_list("kind", flat=True)) == ["flac", "mp3_320"]


# Who gets the file


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("caller", ALL_CALLERS)
def test_only_catalogue_managers_download_today(caller, kind, caller_for):
    track = named_track(composer="Erik Satie", title="Gymnopédie No. 1")
    user = caller_for(caller).user
    # A URL issued to this caller (to a plain user for an anonymous one), bypassing
    # playable_url, which would issue none: the view itself must refuse.
    holder = user if user is not None else UserFactory.create()
    url = signed_url(user=holder, rendition=rendition_of(track, kind))
    assert url.startswith("/download/")
    response = client_as(user).get(url)
    if caller in MAY_DOWNLOAD:
        assert response.status_code == 200
        assert body(response) == encoded_clip(kind)
        assert Download.objects.get().user == user
    else:
        assert response.status_code == 403
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert response["Cache-Control"] == "no-store"
        assert "Content-Disposition" not in response
        assert encoded_clip(kind)[:64] not in body(response)
        assert Download.objects.count() == 0


@pytest.mark.parametrize("caller", ["anonymous", "other_user", "support", "privacy_officer"])
def test_no_download_url_is_issued_to_those_who_may_not_download(caller, caller_for):
    track = named_track()
    user = caller_for(caller).user or AnonymousUser()
    for kind in KINDS:
        assert playable_url(user=user, track=track, kind=kind) is None


def test_a_content_manager_downloads_the_flac_as_a_named_attachment(manager):
    track = named_track(composer="Erik Satie", title="Gymnopédie No. 1")
    rendition = rendition_of(track, "flac")
    url = download_url(manager, track)
    response = client_as(manager).get(url)
    assert response.status_code == 200
    assert body(response) == encoded_clip("flac")
    assert response["Content-Type"] == "audio/flac"
    assert response["Content-Length"] == str(rendition.size_bytes)
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"] == f'"{rendition.sha256}"'
    assert response["Cache-Control"] == f"private, max-age={int(DEFAULT_TTL.total_seconds())}"
    assert response["Content-Disposition"] == (
        'attachment; filename="Erik Satie - Gymnopedie No. 1.flac"; '
        "filename*=UTF-8''Erik%20Satie%20-%20Gymnop%C3%A9die%20No.%201.flac"
    )
    [download] = Download.objects.all()
    assert (download.user, download.track, download.rendition, download.kind, download.at) == (
        manager,
        track,
        rendition,
        "flac",
        NOW,
    )
    token = url.removeprefix("/download/")
    assert download.token_sha256 == hashlib.sha256(token.encode()).hexdigest()


def test_the_mp3_320_downloads_too(manager):
    track = named_track(composer="Scott Joplin", title="Maple Leaf Rag")
    response = client_as(manager).get(download_url(manager, track, Rendition.Kind.MP3_320))
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/mpeg"
    assert response["Content-Disposition"] == (
        'attachment; filename="Scott Joplin - Maple Leaf Rag.mp3"'
    )
    assert body(response) == encoded_clip("mp3_320")
    assert Download.objects.get().kind == "mp3_320"


def test_a_download_url_opens_only_for_the_person_it_was_issued_to(manager):
    track = named_track()
    url = download_url(manager, track)
    other = StaffFactory.create(username="other-manager", role=StaffRole.ADMINISTRATOR)
    response = client_as(other).get(url)
    assert response.status_code == 403
    assert response.content == b"This link was issued to someone else."
    assert client_as(None).get(url).status_code == 403
    assert Download.objects.count() == 0


def test_an_expired_download_url_is_refused_and_records_nothing(manager):
    track = named_track()
    url = download_url(manager, track)
    with clock.frozen_at(NOW + DEFAULT_TTL):
        response = client_as(manager).get(url)
    assert response.status_code == 403
    assert response.content == b"This link has expired. Reload the page for a new one."
    assert Download.objects.count() == 0


def test_download_and_stream_urls_do_not_open_each_other(manager):
    """Bytes of a download kind leave only through the view that records them."""
    track = playable_track(kinds=["opus", "flac"])
    flac = download_url(manager, track)
    opus = playable_url(user=manager, track=track, kind="opus")
    assert opus is not None and opus.startswith("/stream/")
    as_stream = reverse("media:stream", kwargs={"token": flac.removeprefix("/download/")})
    as_download = reverse("media:download", kwargs={"token": opus.removeprefix("/stream/")})
    for url in (as_stream, as_download):
        response = client_as(manager).get(url)
        assert response.status_code == 403
        assert response.content == b"This link is not valid."
    assert Download.objects.count() == 0


def test_a_missing_file_is_404_and_records_nothing(manager):
    track = named_track()
    url = download_url(manager, track)
    default_storage.delete(rendition_of(track, "flac").storage_key)
    response = client_as(manager).get(url)
    assert response.status_code == 404
    assert response.content == b"This recording is no longer available."
    assert Download.objects.count() == 0


# One record per download URL


def test_every_range_of_one_url_counts_once_and_a_new_url_counts_again(manager):
    track = named_track()
    data = encoded_clip("flac")
    url = download_url(manager, track)
    client = client_as(manager)
    step = len(data) // 50 + 1
    fetched = b""
    for first in range(0, len(data), step):
        response = client.get(url, headers={"range": f"bytes={first}-{first + step - 1}"})
        assert response.status_code == 206
        fetched += body(response)
    assert fetched == data
    assert client.get(url).status_code == 200
    assert Download.objects.count() == 1
    with clock.frozen_at(NOW + timedelta(seconds=1)):  # the page rendered again: a new URL
        again = download_url(manager, track)
        assert again != url
        assert client.get(again).status_code == 200
    assert list(Download.objects.values_list("at", flat=True)) == [
        NOW + timedelta(seconds=1),
        NOW,
    ]


def test_answers_without_the_files_bytes_record_nothing(manager):
    track = named_track()
    rendition = rendition_of(track, "flac")
    url = download_url(manager, track)
    client = client_as(manager)
    head = client.head(url)
    assert (head.status_code, head.content) == (200, b"")
    assert head["Content-Disposition"].startswith("attachment; ")
    assert client.get(url, headers={"range": "bytes=999999-"}).status_code == 416
    etag = f'"{rendition.sha256}"'
    assert client.get(url, headers={"if-none-match": etag}).status_code == 304
    assert client.get(url, headers={"if-match": '"other"'}).status_code == 412
    assert Download.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_ranges_of_one_url_over_http_count_once(live_server):
    """A download manager opens several connections at once, each asking for a range of the
    same URL: the first INSERT wins, the others change nothing and still get their bytes."""
    manager = StaffFactory.create(username="manager", role=StaffRole.CONTENT_MANAGER)
    track = named_track(title="Колыбельная", composer="Пётр Чайковский")
    data = encoded_clip("flac")
    url = live_server.url + download_url(manager, track)
    client = Client()
    client.force_login(manager)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    # The browser has been on the site before: allauth records a session on its first request
    # (and two first requests at once would both try).
    head = urllib.request.Request(url, headers={"Cookie": cookie}, method="HEAD")  # noqa: S310
    urllib.request.urlopen(head, timeout=30).close()  # noqa: S310
    step = len(data) // 8 + 1
    ranges = [(first, min(first + step, len(data)) - 1) for first in range(0, len(data), step)]

    def fetch(span: tuple[int, int]) -> tuple[int, str, bytes]:
        headers = {"Cookie": cookie, "Range": f"bytes={span[0]}-{span[1]}"}
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 (our live server)
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, answer.headers["Content-Disposition"], answer.read()

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(ranges)) as pool:
        answers = list(pool.map(fetch, ranges))
    assert [status for status, _name, _bytes in answers] == [206] * len(ranges)
    assert b"".join(part for _status, _name, part in answers) == data
    assert {name for _status, name, _part in answers} == {
        'attachment; filename="Petr Cajkovskij - Kolybel\'naa.flac"; '
        "filename*=UTF-8''%D0%9F%D1%91%D1%82%D1%80%20%D0%A7%D0%B0%D0%B9%D0%BA%D0%BE%D0%B2"
        "%D1%81%D0%BA%D0%B8%D0%B9%20-%20%D0%9A%D0%BE%D0%BB%D1%8B%D0%B1%D0%B5%D0%BB%D1%8C"
        "%D0%BD%D0%B0%D1%8F.flac"
    }
    assert Download.objects.count() == 1


def test_nginx_gets_the_file_and_the_get_is_recorded(settings, manager):
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    track = named_track(composer="Erik Satie", title="Vexations")
    url = download_url(manager, track)
    client = client_as(manager)
    head = client.head(url)
    assert Download.objects.count() == 0
    response = client.get(url, headers={"range": "bytes=0-9"})
    for answer in (head, response):
        assert answer.status_code == 200
        key = rendition_of(track, "flac").storage_key
        assert answer["X-Accel-Redirect"] == f"/protected-media/{key}"
        assert answer["Content-Disposition"] == 'attachment; filename="Erik Satie - Vexations.flac"'
        assert answer["Content-Type"] == "audio/flac"
    assert Download.objects.count() == 1


# The file name


@pytest.mark.parametrize(
    ("composer", "title", "code", "header"),
    [
        ("", "Morning", "BM-0001", 'attachment; filename="MUSWAY STUDIO - Morning.flac"'),
        (
            'AC/DC: "Live"',
            "Who? <Me> | You*",
            "BM-0002",
            'attachment; filename="AC DC Live - Who Me You.flac"',
        ),
        (
            "Evil\u202egalf.exe",
            "..Dots..",
            "BM-0003",
            'attachment; filename="Evil galf.exe - Dots.flac"',
        ),
        ("", "CON", "BM-0004", 'attachment; filename="MUSWAY STUDIO - CON.flac"'),
        (
            "Dvořák",
            "Humoresque «Ré»",
            "BM-0005",
            'attachment; filename="Dvorak - Humoresque Re.flac"; '
            "filename*=UTF-8''Dvo%C5%99%C3%A1k%20-%20Humoresque%20%C2%ABR%C3%A9%C2%BB.flac",
        ),
        (
            "東京",
            "夜",
            "BM-0006",
            'attachment; filename="dong jing - ye.flac"; '
            "filename*=UTF-8''%E6%9D%B1%E4%BA%AC%20-%20%E5%A4%9C.flac",
        ),
    ],
)
def test_attachment_names(composer, title, code, header):
    track = named_track(composer=composer, title=title, catalogue_code=code)
    assert downloads.content_disposition(rendition=rendition_of(track, "flac")) == header


def test_attachment_name_edge_cases():
    track = named_track(composer="", rights_holder="", title="CON")
    assert downloads.attachment_filename(rendition=rendition_of(track, "flac")) == "_CON.flac"
    track = named_track(composer="", rights_holder="", title="?*", catalogue_code="BM-0042")
    assert downloads.attachment_filename(rendition=rendition_of(track, "mp3_320")) == (
        "BM-0042.mp3"
    )
    track = named_track(composer="Ф" * 150, title="Долгое название")
    name = downloads.attachment_filename(rendition=rendition_of(track, "flac"))
    assert name == "Ф" * 100 + ".flac"  # 200 bytes of UTF-8, cut between characters
    assert downloads.ascii_filename(name) == "F" * 100 + ".flac"


# What licensing lists


def test_downloads_of_lists_the_persons_own_newest_first(manager):
    first, second = named_track(), named_track()
    other = StaffFactory.create(username="admin", role=StaffRole.ADMINISTRATOR)
    client = client_as(manager)
    client.get(download_url(manager, first))
    with clock.frozen_at(NOW + timedelta(minutes=5)):
        client.get(download_url(manager, second, Rendition.Kind.MP3_320))
    client_as(other).get(download_url(other, first))
    listed = [(d.track, d.kind, d.at) for d in downloads.downloads_of(user=manager)]
    assert listed == [
        (second, "mp3_320", NOW + timedelta(minutes=5)),
        (first, "flac", NOW),
    ]
    assert list(downloads.downloads_of(user=AnonymousUser())) == []


# Cost


def test_a_download_costs_one_query_more_than_a_stream_first_and_again(
    manager, django_assert_num_queries
):
    """A signed-in request to either view: the session, the user, allauth's record of the
    session (savepoint, read, its user, update, release), the role and two-factor checks of the
    permission, and the grant (one query with the entitlement): 10. A download adds its record,
    one INSERT that does nothing after the first request of the URL."""
    track = playable_track(kinds=["opus", "flac"])
    stream = playable_url(user=manager, track=track, kind="opus")
    assert stream is not None
    url = download_url(manager, track)
    client = client_as(manager)
    assert client.head(url).status_code == 200  # the session's first request records it
    with django_assert_num_queries(10):
        assert client.get(stream, headers={"range": "bytes=0-99"}).status_code == 206
    for _attempt in range(2):
        with django_assert_num_queries(11):
            response = client.get(url, headers={"range": "bytes=0-99"})
            assert response.status_code == 206
    assert Download.objects.count() == 1


# What pages offer


def test_download_links_offer_the_mp3_then_the_flac_with_their_sizes(manager):
    track = named_track()
    [mp3, flac] = downloads.download_links(user=manager, tracks=[track])[track.pk]
    assert (mp3.kind, mp3.size_bytes) == ("mp3_320", len(encoded_clip(Rendition.Kind.MP3_320)))
    assert (flac.kind, flac.size_bytes) == ("flac", len(encoded_clip(Rendition.Kind.FLAC)))
    for link in (mp3, flac):
        assert link.url.startswith("/download/")
        response = client_as(manager).get(link.url)
        assert response.status_code == 200
        assert body(response) == encoded_clip(link.kind)
    assert sorted(Download.objects.values_list("kind", flat=True)) == ["flac", "mp3_320"]


def test_a_lossy_master_offers_only_its_mp3(manager):
    track = playable_track(kinds=[Rendition.Kind.MP3_320, Rendition.Kind.OPUS])
    links = downloads.download_links(user=manager, tracks=[track])[track.pk]
    assert [link.kind for link in links] == ["mp3_320"]


@pytest.mark.parametrize("caller", ALL_CALLERS)
def test_download_links_follow_the_one_rule(caller, caller_for):
    track = named_track()
    user = caller_for(caller).user or AnonymousUser()
    links = downloads.download_links(user=user, tracks=[track])
    expected = ["mp3_320", "flac"] if caller in MAY_DOWNLOAD else []
    assert [link.kind for link in links[track.pk]] == expected


def test_download_links_cost_the_same_for_many_tracks_and_nothing_for_visitors(
    manager, django_assert_num_queries
):
    """For staff, each kind's rule asks two-factor sign-in (one query each; a licensee's costs
    none once the request knows they are not staff), then one query finds every file."""
    tracks = [named_track() for _ in range(5)]
    downloads.download_links(user=manager, tracks=tracks[:1])  # the roles, kept for the request
    with django_assert_num_queries(3):
        downloads.download_links(user=manager, tracks=tracks[:1])
    with django_assert_num_queries(3):
        links = downloads.download_links(user=manager, tracks=tracks)
    assert [len(links[track.pk]) for track in tracks] == [2] * 5
    with django_assert_num_queries(0):
        assert downloads.download_links(user=AnonymousUser(), tracks=tracks) == {
            track.pk: [] for track in tracks
        }
