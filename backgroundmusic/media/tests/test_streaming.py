"""The entitlement selector, signed URLs and the stream view's refusals (media/streaming.py)."""

import base64
import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.catalog.models import Track
from backgroundmusic.core import clock
from backgroundmusic.media.models import Master, Rendition
from backgroundmusic.media.streaming import (
    DEFAULT_TTL,
    may_play,
    playable_url,
    playable_urls,
    signed_url,
    stream_open,
)
from backgroundmusic.media.tests.streaming_fixtures import (
    body,
    encoded_clip,
    playable_track,
    rendition_of,
)
from backgroundmusic.staffroles.roles import StaffRole

pytestmark = pytest.mark.django_db

CALLERS = [
    "anonymous",
    "other_user",
    "support",
    "content_manager",
    "privacy_officer",
    "administrator",
    "licensing_manager",
]
MAY_PLAY_FULL = {"content_manager", "administrator"}
FULL_KINDS = [Rendition.Kind.OPUS, Rendition.Kind.AAC, Rendition.Kind.MP3_320]


def client_as(user: User | AnonymousUser) -> Client:
    client = Client()
    if isinstance(user, User):
        client.force_login(user)
    return client


@pytest.mark.parametrize("caller", CALLERS)
def test_may_play_by_caller_and_kind(caller, caller_for):
    track = playable_track()
    user = caller_for(caller).user or AnonymousUser()
    assert may_play(user=user, track=track, kind="preview") is True
    for kind in FULL_KINDS:
        assert may_play(user=user, track=track, kind=kind) is (caller in MAY_PLAY_FULL)


def test_content_manager_without_two_factor_gets_only_the_preview():
    track = playable_track()
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER, totp=False)
    assert may_play(user=manager, track=track, kind="preview") is True
    assert may_play(user=manager, track=track, kind="opus") is False


@pytest.mark.parametrize("caller", CALLERS)
def test_unpublished_track_is_for_content_managers_only(caller, caller_for):
    track = playable_track(published=False)
    user = caller_for(caller).user or AnonymousUser()
    assert may_play(user=user, track=track, kind="preview") is (caller in MAY_PLAY_FULL)
    assert may_play(user=user, track=track, kind="opus") is (caller in MAY_PLAY_FULL)


@pytest.mark.parametrize(
    "status", [Master.Status.UPLOADED, Master.Status.PROCESSING, Master.Status.FAILED]
)
def test_nobody_plays_a_master_that_is_not_ready(status):
    track = playable_track(status=status, kinds=[])
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    assert may_play(user=AnonymousUser(), track=track, kind="preview") is False
    assert may_play(user=manager, track=track, kind="preview") is False
    assert may_play(user=manager, track=track, kind="opus") is False


def test_track_without_master_and_unknown_kind():
    track = playable_track()
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    assert may_play(user=manager, track=track, kind="flac") is False
    track.master.delete()
    track.refresh_from_db()
    assert may_play(user=AnonymousUser(), track=track, kind="preview") is False
    assert may_play(user=manager, track=track, kind="opus") is False


def test_playable_url_for_anonymous_preview_and_none_for_full():
    track = playable_track()
    url = playable_url(user=AnonymousUser(), track=track, kind="preview")
    assert url is not None and url.startswith("/stream/")
    for kind in FULL_KINDS:
        assert playable_url(user=AnonymousUser(), track=track, kind=kind) is None


def test_playable_url_none_when_rendition_missing():
    track = playable_track(kinds=["opus"])
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    assert playable_url(user=AnonymousUser(), track=track, kind="preview") is None
    assert playable_url(user=manager, track=track, kind="aac") is None
    assert playable_url(user=manager, track=track, kind="opus") is not None


def test_full_url_needs_a_user():
    track = playable_track(kinds=["opus"])
    with pytest.raises(ValueError, match="names the user"):
        signed_url(user=AnonymousUser(), rendition=rendition_of(track, "opus"))


# The stream view: who gets bytes


@pytest.mark.parametrize("caller", CALLERS)
def test_preview_streams_to_every_caller(caller, caller_for):
    track = playable_track()
    user = caller_for(caller).user or AnonymousUser()
    url = playable_url(user=user, track=track, kind="preview")
    assert url is not None
    response = client_as(user).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/ogg; codecs=opus"
    assert body(response) == encoded_clip("preview")


@pytest.mark.parametrize("kind", FULL_KINDS)
@pytest.mark.parametrize("caller", CALLERS)
def test_full_rendition_only_for_content_managers(caller, kind, caller_for):
    track = playable_track()
    user = caller_for(caller).user or AnonymousUser()
    # A URL issued to this caller (to a plain user when the caller is anonymous), bypassing
    # playable_url, which would not issue one: the view itself must refuse.
    holder = user if isinstance(user, User) else UserFactory.create()
    url = signed_url(user=holder, rendition=rendition_of(track, kind))
    response = client_as(user).get(url)
    if caller in MAY_PLAY_FULL:
        assert response.status_code == 200
        assert body(response) == encoded_clip(kind)
    else:
        assert response.status_code == 403
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert encoded_clip(kind)[:64] not in body(response)
        assert "Content-Range" not in response and "X-Accel-Redirect" not in response


def test_full_rendition_url_of_another_user_is_refused():
    track = playable_track()
    issued_to = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    other = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    url = playable_url(user=issued_to, track=track, kind="opus")
    assert url is not None
    assert client_as(issued_to).get(url).status_code == 200
    response = client_as(other).get(url)
    assert response.status_code == 403
    assert response.content == b"This link was issued to someone else."
    assert client_as(AnonymousUser()).get(url).status_code == 403


def test_mp3_download_is_an_attachment_named_after_the_track():
    track = playable_track(kinds=["mp3_320"])
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    url = playable_url(user=manager, track=track, kind="mp3_320")
    assert url is not None
    response = client_as(manager).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/mpeg"
    assert response["Content-Disposition"] == f'attachment; filename="{track.slug}.mp3"'


def test_preview_url_stops_working_when_the_track_is_unpublished():
    track = playable_track()
    url = playable_url(user=AnonymousUser(), track=track, kind="preview")
    assert url is not None
    track.is_published = False
    track.save()
    response = Client().get(url)
    assert response.status_code == 403
    assert response.content == b"You may not play this recording."


def _flip(character: str) -> str:
    return "A" if character != "A" else "B"


@pytest.mark.parametrize("where", ["payload", "signature", "garbage", "empty_payload"])
def test_tampered_url_is_refused_without_bytes(where):
    track = playable_track(kinds=["preview"])
    url = playable_url(user=AnonymousUser(), track=track, kind="preview")
    assert url is not None
    token = url.removeprefix("/stream/")
    payload, _sep, signature = token.rpartition(":")
    tampered = {
        "payload": _flip(payload[0]) + payload[1:] + ":" + signature,
        "signature": payload + ":" + signature[:-1] + _flip(signature[-1]),
        "garbage": "not-a-token",
        "empty_payload": ":" + signature,
    }[where]
    response = Client().get(reverse("media:stream", kwargs={"token": tampered}))
    assert response.status_code == 403
    assert response.content == b"This link is not valid."
    assert response["Cache-Control"] == "no-store"


def test_url_for_another_rendition_cannot_be_forged_from_a_preview_url():
    """The payload names rendition and kind; editing them breaks the signature."""
    track = playable_track(kinds=["preview", "opus"])
    url = playable_url(user=AnonymousUser(), track=track, kind="preview")
    assert url is not None
    payload, _sep, signature = url.removeprefix("/stream/").rpartition(":")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["r"] = rendition_of(track, "opus").pk
    data["k"] = "opus"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    response = Client().get(f"/stream/{forged}:{signature}")
    assert response.status_code == 403


def test_expired_url_is_refused_with_a_frozen_clock():
    track = playable_track(kinds=["preview"])
    issued = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with clock.frozen_at(issued):
        url = playable_url(user=AnonymousUser(), track=track, kind="preview")
    assert url is not None
    with clock.frozen_at(issued + DEFAULT_TTL - timedelta(seconds=1)):
        response = Client().get(url)
        assert response.status_code == 200
        assert response["Cache-Control"] == "private, max-age=1"
        assert body(response) == encoded_clip("preview")
    with clock.frozen_at(issued + DEFAULT_TTL):
        response = Client().get(url)
    assert response.status_code == 403
    assert response.content == b"This link has expired. Reload the page for a new one."


def test_max_age_is_the_remaining_life_of_the_url():
    track = playable_track(kinds=["preview"])
    issued = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with clock.frozen_at(issued):
        url = signed_url(
            user=AnonymousUser(), rendition=rendition_of(track, "preview"), ttl=timedelta(minutes=5)
        )
    with clock.frozen_at(issued + timedelta(minutes=1)):
        response = Client().get(url)
    assert response["Cache-Control"] == "private, max-age=240"


def test_unknown_rendition_is_404():
    track = playable_track(kinds=["preview"])
    url = playable_url(user=AnonymousUser(), track=track, kind="preview")
    assert url is not None
    rendition_of(track, "preview").delete()
    response = Client().get(url)
    assert response.status_code == 404
    assert response.content == b"This recording is no longer available."


def test_missing_file_is_404_without_a_500(caplog):
    track = playable_track(kinds=["preview"])
    rendition = rendition_of(track, "preview")
    url = playable_url(user=AnonymousUser(), track=track, kind="preview")
    assert url is not None
    default_storage.delete(rendition.storage_key)
    response = Client().get(url)
    assert response.status_code == 404
    assert f"rendition {rendition.pk}: file missing from storage" in caplog.text


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_only_get_and_head(method):
    track = playable_track(kinds=["preview"])
    url = playable_url(user=AnonymousUser(), track=track, kind="preview")
    assert url is not None
    response = getattr(Client(), method)(url)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


# Production: nginx sends the bytes


def test_x_accel_redirect_when_configured(settings):
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    track = playable_track(kinds=["preview"])
    rendition = rendition_of(track, "preview")
    with clock.frozen_at(datetime(2026, 3, 1, 12, 0, tzinfo=UTC)):
        url = playable_url(user=AnonymousUser(), track=track, kind="preview")
        assert url is not None
        response = Client().get(url, headers={"range": "bytes=0-9"})
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-media/{rendition.storage_key}"
    assert response["Content-Type"] == "audio/ogg; codecs=opus"
    assert response["Cache-Control"] == f"private, max-age={int(DEFAULT_TTL.total_seconds())}"
    assert response.content == b""
    # Range, Accept-Ranges, ETag and Last-Modified are nginx's to answer from the file.
    assert "Content-Range" not in response and "Accept-Ranges" not in response
    assert "ETag" not in response and "Last-Modified" not in response


def test_x_accel_redirect_of_a_download_keeps_the_attachment_name(settings):
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media"
    track = playable_track(kinds=["mp3_320"])
    manager = StaffFactory.create(role=StaffRole.ADMINISTRATOR)
    url = playable_url(user=manager, track=track, kind="mp3_320")
    assert url is not None
    response = client_as(manager).head(url)
    assert response.status_code == 200
    key = rendition_of(track, "mp3_320").storage_key
    assert response["X-Accel-Redirect"] == f"/protected-media/{key}"
    assert response["Content-Disposition"] == f'attachment; filename="{track.slug}.mp3"'


def test_x_accel_redirect_still_refuses_bad_urls(settings):
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    response = Client().get(reverse("media:stream", kwargs={"token": "forged:token"}))
    assert response.status_code == 403
    assert "X-Accel-Redirect" not in response


# Over real HTTP: the streamed body and headers survive the WSGI layer


@pytest.mark.django_db(transaction=True)
def test_ranges_over_real_http(live_server):
    track = playable_track(kinds=["opus"])
    data = encoded_clip("opus")
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    url = live_server.url + str(playable_url(user=manager, track=track, kind="opus"))
    # A full rendition opens only for its user: over HTTP without the session cookie, 403.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=30)  # noqa: S310 (our live server)
    assert refused.value.code == 403
    client = Client()
    client.force_login(manager)
    cookie = f"sessionid={client.cookies['sessionid'].value}"

    def fetch(**headers: str) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(url, headers={"Cookie": cookie, **headers})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    status, headers, content = fetch()
    assert (status, content) == (200, data)
    assert headers["Content-Length"] == str(len(data))
    assert headers["Accept-Ranges"] == "bytes"
    status, headers, content = fetch(Range="bytes=100-1099")
    assert (status, content) == (206, data[100:1100])
    assert headers["Content-Range"] == f"bytes 100-1099/{len(data)}"
    assert headers["Content-Length"] == "1000"
    status, headers, content = fetch(Range="bytes=-10")
    assert (status, content) == (206, data[-10:])
    status, headers, content = fetch(Range=f"bytes={len(data)}-")
    assert (status, content) == (416, b"")
    assert headers["Content-Range"] == f"bytes */{len(data)}"


# Cost: catalogue pages list many tracks; every range request opens the URL again


@pytest.mark.parametrize("count", [3, 30])
def test_preview_urls_of_a_list_cost_one_query_however_long(count, django_assert_num_queries):
    for _ in range(count):
        playable_track()
    without_preview = playable_track(kinds=["opus"])
    unpublished = playable_track(published=False)
    tracks = list(Track.objects.select_related("master").order_by("pk"))
    with django_assert_num_queries(1):
        urls = playable_urls(user=AnonymousUser(), tracks=tracks, kind="preview")
    assert list(urls) == [track.pk for track in tracks]
    assert urls.pop(without_preview.pk) is None
    assert urls.pop(unpublished.pk) is None
    assert len(urls) == count
    for track in tracks:
        url = urls.get(track.pk)
        if url is not None:
            grant = stream_open(user=AnonymousUser(), token=url.removeprefix("/stream/"))
            assert grant.rendition == rendition_of(track, "preview")


def test_no_query_for_renditions_nobody_may_play(django_assert_num_queries):
    tracks = [playable_track() for _ in range(3)]
    with django_assert_num_queries(0):
        urls = playable_urls(user=AnonymousUser(), tracks=tracks, kind="opus")
    assert urls == {track.pk: None for track in tracks}


def test_opening_a_preview_url_is_one_query(django_assert_num_queries):
    track = playable_track(kinds=["preview"])
    url = playable_url(user=AnonymousUser(), track=track, kind="preview")
    assert url is not None
    with django_assert_num_queries(1):
        grant = stream_open(user=AnonymousUser(), token=url.removeprefix("/stream/"))
    assert grant.rendition == rendition_of(track, "preview")
