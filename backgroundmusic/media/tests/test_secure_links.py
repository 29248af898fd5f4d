"""Secure links checked by nginx itself (media/secure_links.py, decision 0041): real nginx from
the deploy template, the app only issuing URLs, the player's renewal, the deploy check."""

import http.client
import json
import stat
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.core import clock
from backgroundmusic.media import secure_links
from backgroundmusic.media.downloads import download_links
from backgroundmusic.media.streaming import playable_url, playable_urls
from backgroundmusic.media.tests.nginx_server import secure_link_nginx
from backgroundmusic.media.tests.streaming_fixtures import encoded_clip, playable_track
from backgroundmusic.staffroles.roles import StaffRole

pytestmark = pytest.mark.django_db

SECRET = "k7Qw2bXr9Lm4Zt8Vn1Pc6Hs3Jd0Fg5Ya-Ue_Wi"
SECONDS = 600


@pytest.fixture
def secure(settings):
    settings.MEDIA_SECURE_LINK_SECRET = SECRET
    settings.MEDIA_SECURE_LINK_SECONDS = SECONDS
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media/"


@pytest.fixture
def nginx_port(secure, tmp_path):
    with secure_link_nginx(tmp_path / "nginx") as port:
        yield port


def fetch(port: int, path: str, *, method: str = "GET", headers: dict[str, str] | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    query.update(changes)
    return parts.path + "?" + "&".join(f"{name}={value}" for name, value in query.items())


def test_the_app_issues_secure_links_only_for_streamed_kinds_and_never_shows_the_secret(secure):
    track = playable_track()
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    moment = clock.now()
    with clock.frozen_at(moment):
        preview = playable_url(user=AnonymousUser(), track=track, kind="preview")
        full = playable_url(user=manager, track=track, kind="opus")
    assert preview is not None and full is not None
    for url in (preview, full):
        parts = urlsplit(url)
        assert parts.path.startswith("/audio/renditions/")
        query = parse_qs(parts.query)
        assert sorted(query) == ["e", "s"]
        assert int(query["e"][0]) == int(moment.timestamp()) + SECONDS
        assert query["s"][0] == secure_links.signature(
            path=parts.path, expires=int(query["e"][0]), secret=SECRET
        )
        assert SECRET not in url
    # Downloads are recorded by the app: they keep their /download/<token>.
    links = download_links(user=manager, tracks=[track])[track.pk]
    assert [link.url.split("/")[1] for link in links] == ["download", "download"]


def test_without_the_secret_the_urls_are_todays(settings):
    settings.MEDIA_SECURE_LINK_SECRET = ""
    track = playable_track(kinds=["preview"])
    url = playable_url(user=AnonymousUser(), track=track, kind="preview")
    assert url is not None and url.startswith("/stream/")


def test_nobody_gets_a_link_the_selector_refuses(secure):
    track = playable_track(kinds=["preview", "opus"])
    assert playable_url(user=UserFactory.create(), track=track, kind="opus") is None
    assert playable_url(user=AnonymousUser(), track=track, kind="opus") is None
    assert playable_urls(user=AnonymousUser(), tracks=[track], kind="preview")[track.pk]


def test_nginx_serves_exact_ranges_of_an_app_issued_link_without_the_app(
    secure, nginx_port, tmp_path
):
    """The nginx here has no upstream at all (the rendered config has no proxy_pass): every
    answer below is nginx's own, so no range request reaches Python."""
    track = playable_track(kinds=["preview", "opus"])
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    config = "".join(path.read_text() for path in (tmp_path / "nginx").glob("*.conf"))
    assert "proxy_pass" not in config and "upstream" not in config
    data = encoded_clip("preview")
    url = playable_url(user=AnonymousUser(), track=track, kind="preview")
    assert url is not None
    status, headers, content = fetch(nginx_port, url, headers={"Range": "bytes=100-1099"})
    assert status == 206
    assert content == data[100:1100]
    assert headers["Content-Range"] == f"bytes 100-1099/{len(data)}"
    assert headers["Content-Type"] == "audio/ogg"
    assert headers["Cache-Control"] == f"private, max-age={SECONDS}"
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, content = fetch(nginx_port, url)
    assert (status, content) == (200, data)
    assert headers["Accept-Ranges"] == "bytes"
    status, headers, content = fetch(nginx_port, url, method="HEAD")
    assert (status, headers["Content-Length"], content) == (200, str(len(data)), b"")
    status, headers, _ = fetch(nginx_port, url, headers={"Range": f"bytes={len(data)}-"})
    assert (status, headers["Content-Range"]) == (416, f"bytes */{len(data)}")
    full = playable_url(user=manager, track=track, kind="opus")
    assert full is not None
    status, _, content = fetch(nginx_port, full, headers={"Range": "bytes=0-9"})
    assert (status, content) == (206, encoded_clip("opus")[:10])


@pytest.mark.parametrize("tamper", ["signature", "later_expiry", "no_signature", "no_expiry"])
def test_a_tampered_link_is_refused_with_403_and_no_bytes(secure, nginx_port, tamper):
    track = playable_track(kinds=["preview"])
    url = playable_url(user=AnonymousUser(), track=track, kind="preview")
    assert url is not None
    query = parse_qs(urlsplit(url).query)
    sign, expires = query["s"][0], int(query["e"][0])
    tampered = {
        "signature": with_query(url, s=("A" if sign[0] != "A" else "B") + sign[1:]),
        "later_expiry": with_query(url, e=str(expires + 3600)),
        "no_signature": urlsplit(url).path + f"?e={expires}",
        "no_expiry": urlsplit(url).path + f"?s={sign}",
    }[tamper]
    status, _, content = fetch(nginx_port, tampered, headers={"Range": "bytes=0-99"})
    assert status == 403
    assert encoded_clip("preview")[:64] not in content


def test_an_expired_link_is_refused_with_410(secure, nginx_port):
    track = playable_track(kinds=["preview"])
    with clock.frozen_at(clock.now() - timedelta(seconds=SECONDS + 1)):
        url = playable_url(user=AnonymousUser(), track=track, kind="preview")
    assert url is not None
    status, _, content = fetch(nginx_port, url, headers={"Range": "bytes=0-99"})
    assert status == 410
    assert encoded_clip("preview")[:64] not in content


@pytest.mark.parametrize(
    "path",
    [
        "/audio/renditions/../../outside.txt",
        "/audio/renditions/%2e%2e/%2e%2e/outside.txt",
        "/audio/renditions/..%2f..%2foutside.txt",
        "/audio/masters/master.wav",
        "/audio/outside.txt",
    ],
)
def test_nothing_but_renditions_is_reachable_even_with_the_secret(
    secure, settings, nginx_port, path
):
    """Files beside the renditions (masters) or outside the media root stay out of reach, even
    for a link signed with the real secret over the raw or the normalised path."""
    (settings.MEDIA_ROOT / "masters").mkdir(parents=True)
    (settings.MEDIA_ROOT / "masters" / "master.wav").write_bytes(b"MASTER-BYTES")
    (settings.MEDIA_ROOT.parent / "outside.txt").write_bytes(b"OUTSIDE-BYTES")
    expires = int(clock.now().timestamp()) + 60
    for signed_path in (path, "/outside.txt", "/audio/masters/master.wav"):
        sign = secure_links.signature(path=signed_path, expires=expires, secret=SECRET)
        status, _, content = fetch(nginx_port, f"{path}?e={expires}&s={sign}")
        assert status == 404, (path, signed_path, status)
        assert b"MASTER-BYTES" not in content and b"OUTSIDE-BYTES" not in content


def test_the_player_gets_a_fresh_link_for_an_expired_one(secure, nginx_port):
    track = playable_track(kinds=["preview"])
    with clock.frozen_at(clock.now() - timedelta(hours=1)):
        expired = playable_url(user=AnonymousUser(), track=track, kind="preview")
    assert expired is not None
    assert fetch(nginx_port, expired)[0] == 410
    response = Client().get("/stream-url", {"src": expired})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    fresh = json.loads(response.content)["url"]
    assert urlsplit(fresh).path == urlsplit(expired).path
    status, _, content = fetch(nginx_port, fresh, headers={"Range": "bytes=5-14"})
    assert (status, content) == (206, encoded_clip("preview")[5:15])


def test_renewal_asks_the_selector_again(secure):
    track = playable_track(kinds=["preview", "opus"])
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    full = playable_url(user=manager, track=track, kind="opus")
    assert full is not None
    manager_client = Client()
    manager_client.force_login(manager)
    assert manager_client.get("/stream-url", {"src": full}).status_code == 200
    refused = Client().get("/stream-url", {"src": full})
    assert refused.status_code == 403
    assert refused.content == b"You may not play this recording."
    preview = playable_url(user=AnonymousUser(), track=track, kind="preview")
    assert preview is not None
    track.is_published = False
    track.save()
    assert Client().get("/stream-url", {"src": preview}).status_code == 403


@pytest.mark.parametrize(
    "src",
    ["", "garbage", "/audio/renditions/nope/none.opus", "/stream/not-a-token", "/catalog/"],
)
def test_renewal_of_a_url_that_names_no_stream_is_refused(secure, src):
    playable_track(kinds=["preview"])
    response = Client().get("/stream-url", {"src": src})
    assert response.status_code in {403, 404}
    expected = {403: b"This link is not valid.", 404: b"This recording is no longer available."}
    assert response.content == expected[response.status_code]


def test_renewal_of_an_expired_stream_token_in_embedded_mode(settings):
    settings.MEDIA_SECURE_LINK_SECRET = ""
    track = playable_track(kinds=["preview"])
    with clock.frozen_at(clock.now() - timedelta(hours=3)):
        expired = playable_url(user=AnonymousUser(), track=track, kind="preview")
    assert expired is not None
    assert Client().get(expired).status_code == 403
    fresh = Client().get("/stream-url", {"src": expired}).json()["url"]
    assert fresh.startswith("/stream/") and fresh != expired
    response = Client().get(fresh, HTTP_RANGE="bytes=0-9")
    assert response.status_code == 206


def test_the_deploy_check_refuses_a_weak_secret_its_reuse_and_no_lifetime(settings):
    settings.S3_BUCKET = ""
    settings.MEDIA_SECURE_LINK_SECONDS = SECONDS
    settings.MEDIA_SECURE_LINK_SECRET = ""
    assert secure_links.secure_link_deploy_check() == []
    settings.MEDIA_SECURE_LINK_SECRET = SECRET
    assert secure_links.secure_link_deploy_check() == []
    for weak in ("short", "x" * 31, "has spaces in it but is long enough, really", 'quote"' * 8):
        settings.MEDIA_SECURE_LINK_SECRET = weak
        assert [m.id for m in secure_links.secure_link_deploy_check()] == ["media.E001"]
    settings.MEDIA_SECURE_LINK_SECRET = settings.SECRET_KEY = SECRET
    assert [m.id for m in secure_links.secure_link_deploy_check()] == ["media.E002"]
    settings.SECRET_KEY = "another"
    # S3-compatible storage has secure links too (test_secure_links_s3.py): E003 is its lifetime.
    settings.S3_BUCKET = "audio"
    assert secure_links.secure_link_deploy_check() == []
    settings.S3_BUCKET = ""
    settings.MEDIA_SECURE_LINK_SECONDS = 0
    assert [m.id for m in secure_links.secure_link_deploy_check()] == ["media.E004"]


def test_the_render_command_writes_the_snippet_privately(secure, settings, tmp_path, capsys):
    output = tmp_path / "audio.conf"
    call_command("render_secure_media_nginx", output=str(output))
    text = output.read_text()
    assert stat.S_IMODE(output.stat().st_mode) == 0o640
    assert f'secure_link_md5 "$secure_link_expires$uri {SECRET}";' in text
    assert f"alias {settings.MEDIA_ROOT}/renditions/;" in text
    assert f'"private, max-age={SECONDS}"' in text
    assert "${" not in text
    assert SECRET not in capsys.readouterr().out
    settings.MEDIA_SECURE_LINK_SECRET = "weak"
    with pytest.raises(CommandError, match="too weak"):
        call_command("render_secure_media_nginx", output=str(output))
    settings.MEDIA_SECURE_LINK_SECRET = ""
    with pytest.raises(CommandError, match="Secure links are off"):
        call_command("render_secure_media_nginx", output=str(output))


@pytest.mark.parametrize("count", [3, 30])
def test_secure_links_of_a_list_cost_one_query_however_long(
    secure, count, django_assert_num_queries
):
    tracks = [playable_track(kinds=["preview"]) for _ in range(count)]
    with django_assert_num_queries(1):
        urls = playable_urls(user=AnonymousUser(), tracks=tracks, kind="preview")
    assert all(url is not None and url.startswith("/audio/") for url in urls.values())
