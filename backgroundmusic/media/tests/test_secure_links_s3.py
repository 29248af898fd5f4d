"""Secure links with the media in S3-compatible storage (media/secure_links.py,
deploy/nginx/secure-media-s3.conf; decision 0041): real nginx from the deploy template in front
of moto's S3 server (the TEST DOUBLE of the storage, tests/s3_double.py), the app only issuing
URLs. moto does not check pre-signed signatures, so its request recorder keeps what nginx sent
and each test checks that request's SigV4 signature with botocore, as S3 would."""

import http.client
import json
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command

from backgroundmusic.accounts.tests.factories import StaffFactory
from backgroundmusic.core import clock
from backgroundmusic.media import secure_links
from backgroundmusic.media.streaming import playable_url
from backgroundmusic.media.tests.nginx_server import secure_link_nginx
from backgroundmusic.media.tests.streaming_fixtures import encoded_clip, playable_track
from backgroundmusic.staffroles.roles import StaffRole
from tests.s3_double import TEST_DOUBLE_CREDENTIALS, running_s3_double

pytestmark = pytest.mark.django_db

SECRET = "k7Qw2bXr9Lm4Zt8Vn1Pc6Hs3Jd0Fg5Ya-Ue_Wi"
SECONDS = 600


@pytest.fixture(scope="module")
def s3_double_recording(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    return tmp_path_factory.mktemp("moto") / "requests.jsonl"


@pytest.fixture(scope="module")
def s3_double_endpoint(s3_double_recording: Path):  # type: ignore[no-untyped-def]
    """This module's own S3 double, recording every request it gets (the `bucket` fixture of
    tests/s3_double.py makes its buckets here)."""
    recorder = {"MOTO_ENABLE_RECORDING": "1", "MOTO_RECORDER_FILEPATH": str(s3_double_recording)}
    with running_s3_double(recorder) as endpoint:
        yield endpoint


@pytest.fixture
def secure(settings, bucket):  # type: ignore[no-untyped-def]
    settings.S3_BUCKET = bucket.name
    settings.MEDIA_SECURE_LINK_SECRET = SECRET
    settings.MEDIA_SECURE_LINK_SECONDS = SECONDS
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-s3/"
    return bucket


@pytest.fixture
def nginx_port(secure, tmp_path):  # type: ignore[no-untyped-def]
    with secure_link_nginx(tmp_path / "nginx") as port:
        yield port


@pytest.fixture
def storage_requests(s3_double_recording: Path):  # type: ignore[no-untyped-def]
    """The requests the S3 double gets from nginx from now on (the pre-signed ones: the app's
    own calls carry an Authorization header): a function returning them."""
    offset = s3_double_recording.stat().st_size if s3_double_recording.exists() else 0

    def since() -> list[dict]:  # type: ignore[type-arg]
        if not s3_double_recording.exists():
            return []
        with s3_double_recording.open() as recording:
            recording.seek(offset)
            received = [json.loads(line) for line in recording]
        return [r for r in received if "Authorization" not in r["headers"]]

    return since


def fetch(port: int, path: str, *, method: str = "GET", headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        # Case-insensitive: nginx passes the storage's header names as the storage wrote them.
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def signature_holds(request: dict) -> bool:  # type: ignore[type-arg]
    """Would S3 accept this pre-signed request? Its SigV4 query signature, recomputed from the
    method, Host, path and query the storage received, with the double's credentials."""
    url = urlsplit(request["url"])
    query = parse_qsl(url.query, keep_blank_values=True)
    given = dict(query)["X-Amz-Signature"]
    # As received, still percent-encoded: S3 signs the query as it travels.
    unsigned = "&".join(
        part for part in url.query.split("&") if not part.startswith("X-Amz-Signature=")
    )
    host = request["headers"]["Host"]
    credentials = Credentials(
        TEST_DOUBLE_CREDENTIALS["access_key"], TEST_DOUBLE_CREDENTIALS["secret_key"]
    )
    auth = S3SigV4QueryAuth(
        credentials, "s3", "us-east-1", expires=int(dict(query)["X-Amz-Expires"])
    )
    signed = AWSRequest(
        method=request["method"], url=f"http://{host}{url.path}?{unsigned}", headers={"Host": host}
    )
    signed.context["timestamp"] = dict(query)["X-Amz-Date"]
    canonical = auth.canonical_request(signed)
    return bool(auth.signature(auth.string_to_sign(signed, canonical), signed) == given)


def parts_of(url: str) -> tuple[str, list[tuple[str, str]]]:
    parts = urlsplit(url)
    return parts.path, parse_qsl(parts.query, keep_blank_values=True)


def rebuilt(path: str, query: list[tuple[str, str]]) -> str:
    from urllib.parse import urlencode

    return f"{path}?{urlencode(query)}"


def test_a_link_carries_the_secure_link_then_a_presigned_get_of_the_same_object(secure):
    track = playable_track(kinds=["preview"])
    moment = clock.now()
    with clock.frozen_at(moment):
        url = playable_url(user=AnonymousUser(), track=track, kind="preview")
    assert url is not None
    path, query = parts_of(url)
    assert path.startswith("/audio/renditions/")
    names = [name for name, _ in query]
    assert names[:2] == ["e", "s"]
    assert set(names[2:]) == {
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
    }
    values = dict(query)
    assert int(values["e"]) == int(moment.timestamp()) + SECONDS
    assert values["s"] == secure_links.signature(path=path, expires=int(values["e"]), secret=SECRET)
    assert values["X-Amz-Expires"] == str(SECONDS)
    assert SECRET not in url


def test_nginx_serves_exact_ranges_from_the_bucket_and_the_app_is_not_involved(
    secure, nginx_port, tmp_path, storage_requests
):
    """The rendered config proxies to the storage only (no upstream, no other proxy_pass): every
    answer is nginx's or the bucket's. The storage gets the pre-signed query alone, Range and
    nothing else of the listener's (no cookie), and the signature still holds."""
    config = "".join(path.read_text() for path in (tmp_path / "nginx").glob("*.conf"))
    endpoint = secure_links.storage_folder_url(secure_links.COVERED_FOLDER)
    assert re.findall(r"^[ ]*proxy_pass .*$", config, flags=re.MULTILINE) == [
        f"    proxy_pass {endpoint};"
    ]
    assert "upstream" not in config
    track = playable_track(kinds=["preview", "opus"])
    data = encoded_clip("preview")
    url = playable_url(user=AnonymousUser(), track=track, kind="preview")
    assert url is not None
    status, headers, content = fetch(
        nginx_port, url, headers={"Range": "bytes=100-1099", "Cookie": "sessionid=private"}
    )
    assert status == 206
    assert content == data[100:1100]
    assert headers["Content-Range"] == f"bytes 100-1099/{len(data)}"
    # The object's own type (the pipeline stores each rendition's; this fixture's is guessed).
    stored_key = secure_links.storage_key_of(urlsplit(url).path)
    assert headers["Content-Type"] == secure.Object(stored_key).content_type == "audio/ogg"
    assert headers["Cache-Control"] == f"private, max-age={SECONDS}"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert not [name for name in headers if name.lower().startswith(("x-amz", "access-control"))]
    (received,) = storage_requests()
    path, query = parts_of(url)
    assert received["method"] == "GET"
    assert urlsplit(received["url"]).path == f"/{secure.name}{path.removeprefix('/audio')}"
    assert parse_qsl(urlsplit(received["url"]).query) == query[2:]
    assert {name.lower() for name in received["headers"]} <= {"host", "range", "connection"}
    assert received["headers"]["Range"] == "bytes=100-1099"
    assert signature_holds(received)

    status, headers, content = fetch(nginx_port, url)
    assert (status, content) == (200, data)
    status, headers, content = fetch(nginx_port, url, method="HEAD")
    assert (status, headers["Content-Length"], content) == (200, str(len(data)), b"")
    # The storage's own answer to a range past the end.
    status, _, content = fetch(nginx_port, url, headers={"Range": f"bytes={len(data)}-"})
    assert status == 416
    assert data[:64] not in content
    assert all(signature_holds(request) for request in storage_requests())
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    full = playable_url(user=manager, track=track, kind="opus")
    assert full is not None
    status, _, content = fetch(nginx_port, full, headers={"Range": "bytes=0-9"})
    assert (status, content) == (206, encoded_clip("opus")[:10])


@pytest.mark.parametrize(
    "tamper",
    ["signature", "later_expiry", "no_signature", "no_expiry", "other_order", "other_object"],
)
def test_a_tampered_link_is_refused_with_403_and_the_storage_is_not_asked(
    secure, nginx_port, storage_requests, tamper
):
    track = playable_track(kinds=["preview"])
    other = playable_track(kinds=["preview"])
    url = playable_url(user=AnonymousUser(), track=track, kind="preview")
    other_url = playable_url(user=AnonymousUser(), track=other, kind="preview")
    assert url is not None and other_url is not None
    path, query = parts_of(url)
    values = dict(query)
    sign = values["s"]
    changed = {
        "signature": [("e", values["e"]), ("s", ("A" if sign[0] != "A" else "B") + sign[1:])],
        "later_expiry": [("e", str(int(values["e"]) + 3600)), ("s", sign)],
        "no_signature": [("e", values["e"])],
        "no_expiry": [("s", sign)],
        "other_order": [("s", sign), ("e", values["e"])],
        "other_object": [("e", values["e"]), ("s", sign)],
    }[tamper]
    target = parts_of(other_url)[0] if tamper == "other_object" else path
    status, _, content = fetch(
        nginx_port, rebuilt(target, changed + query[2:]), headers={"Range": "bytes=0-99"}
    )
    assert status == 403
    assert encoded_clip("preview")[:64] not in content
    assert storage_requests() == []


def test_a_tampered_presigned_query_fails_the_storages_signature(
    secure, nginx_port, storage_requests
):
    """The secure link does not cover the pre-signed part: the storage's own signature does,
    and a changed lifetime no longer verifies (S3 answers 403; the double does not check)."""
    track = playable_track(kinds=["preview"])
    url = playable_url(user=AnonymousUser(), track=track, kind="preview")
    assert url is not None
    path, query = parts_of(url)
    longer = [(n, "604800" if n == "X-Amz-Expires" else v) for n, v in query]
    fetch(nginx_port, rebuilt(path, longer), headers={"Range": "bytes=0-9"})
    (received,) = storage_requests()
    assert not signature_holds(received)


def test_an_expired_link_is_refused_with_410(secure, nginx_port, storage_requests):
    track = playable_track(kinds=["preview"])
    with clock.frozen_at(clock.now() - timedelta(seconds=SECONDS + 1)):
        url = playable_url(user=AnonymousUser(), track=track, kind="preview")
    assert url is not None
    status, _, content = fetch(nginx_port, url, headers={"Range": "bytes=0-99"})
    assert status == 410
    assert encoded_clip("preview")[:64] not in content
    assert storage_requests() == []


@pytest.mark.parametrize(
    "path",
    [
        "/audio/masters/master.wav",
        "/audio/renditions/../masters/master.wav",
        "/audio/renditions/%2e%2e/masters/master.wav",
    ],
)
def test_a_key_outside_renditions_is_refused_even_signed_with_the_secret(
    secure, nginx_port, storage_requests, path
):
    """A master in the bucket stays out of reach, even for a link signed with the real secret
    and a genuine pre-signed GET of the master."""
    secure.put_object(Key="masters/master.wav", Body=b"MASTER-BYTES")
    from backgroundmusic.core.storage import presigned_get_url

    presigned = presigned_get_url("masters/master.wav", seconds=60)
    assert presigned is not None
    expires = int(clock.now().timestamp()) + 60
    for signed_path in (path, "/audio/masters/master.wav"):
        sign = secure_links.signature(path=signed_path, expires=expires, secret=SECRET)
        status, _, content = fetch(
            nginx_port, f"{path}?e={expires}&s={sign}&{urlsplit(presigned).query}"
        )
        assert status == 404, (path, signed_path, status)
        assert b"MASTER-BYTES" not in content
    assert storage_requests() == []


def test_the_deploy_check_on_s3_bounds_the_lifetime_by_the_presigned_limit(settings):
    settings.S3_BUCKET = "audio"
    settings.MEDIA_SECURE_LINK_SECRET = SECRET
    settings.MEDIA_SECURE_LINK_SECONDS = 7 * 24 * 3600
    assert secure_links.secure_link_deploy_check() == []
    assert secure_links.enabled()
    settings.MEDIA_SECURE_LINK_SECONDS = 7 * 24 * 3600 + 1
    assert [m.id for m in secure_links.secure_link_deploy_check()] == ["media.E003"]


def test_the_render_command_on_s3_writes_the_storage_location(secure, tmp_path, s3_double_endpoint):
    output = tmp_path / "audio.conf"
    call_command("render_secure_media_nginx", output=str(output))
    text = output.read_text()
    endpoint = f"{s3_double_endpoint}/{secure.name}/renditions/"
    assert secure_links.storage_folder_url(secure_links.COVERED_FOLDER) == endpoint
    assert f"proxy_pass {endpoint};" in text
    assert f"proxy_set_header Host {urlsplit(s3_double_endpoint).netloc};" in text
    assert f'secure_link_md5 "$secure_link_expires$uri {SECRET}";' in text
    assert "${" not in text
