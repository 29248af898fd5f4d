"""Range requests against the embedded server (RFC 9110 §14, §13.1.5), through the test client."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from django.utils.http import http_date

from backgroundmusic.core import clock
from backgroundmusic.media.streaming import DEFAULT_TTL, playable_url
from backgroundmusic.media.tests.streaming_fixtures import (
    body,
    encoded_clip,
    playable_track,
    rendition_of,
)
from backgroundmusic.media.views import BLOCK_SIZE

pytestmark = pytest.mark.django_db

DATA = encoded_clip("preview")
SIZE = len(DATA)


@pytest.fixture
def preview():
    """The signed preview URL and its rendition, with the clock frozen (exact max-age)."""
    with clock.frozen_at(timezone.now()):
        track = playable_track(kinds=["preview"])
        url = playable_url(user=AnonymousUser(), track=track, kind="preview")
        assert url is not None
        yield url, rendition_of(track, "preview")


def get(url: str, **headers: str):
    return Client().get(url, headers=headers)


def test_sizes_used_below_fit_the_clip():
    assert 2_000 < SIZE < BLOCK_SIZE


def test_full_response(preview):
    url, rendition = preview
    response = get(url)
    assert response.status_code == 200
    assert response.streaming is True
    assert body(response) == DATA
    assert response["Content-Length"] == str(SIZE)
    assert response["Content-Type"] == "audio/ogg; codecs=opus"
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"] == f'"{rendition.sha256}"'
    assert response["Last-Modified"] == http_date(rendition.created_at.timestamp())
    assert response["Cache-Control"] == f"private, max-age={int(DEFAULT_TTL.total_seconds())}"
    assert "Content-Range" not in response


def test_head_has_the_headers_and_no_body(preview):
    url, rendition = preview
    response = Client().head(url, headers={"range": "bytes=0-9"})  # Range is for GET only
    assert response.status_code == 200
    assert response.content == b""
    assert response["Content-Length"] == str(SIZE)
    assert response["Accept-Ranges"] == "bytes"
    assert response["ETag"] == f'"{rendition.sha256}"'
    assert "Content-Range" not in response


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-0", 0, 0),
        ("bytes=0-99", 0, 99),
        ("bytes=100-1099", 100, 1099),
        (f"bytes=1000-{SIZE - 1}", 1000, SIZE - 1),
        ("bytes=1000-", 1000, SIZE - 1),  # open-ended
        (f"bytes={SIZE - 1}-", SIZE - 1, SIZE - 1),
        ("bytes=1000-99999999", 1000, SIZE - 1),  # last-pos beyond the end is clamped
        ("bytes=10-" + "9" * 40, 10, SIZE - 1),  # absurdly long last-pos, clamped too
        ("bytes=-500", SIZE - 500, SIZE - 1),  # suffix
        ("bytes=-1", SIZE - 1, SIZE - 1),
        (f"bytes=-{SIZE + 1000}", 0, SIZE - 1),  # suffix longer than the file: all of it
        ("BYTES = 5-9", 5, 9),  # the unit is case-insensitive
        ("bytes=5-9, ", 5, 9),  # empty list elements are allowed
    ],
)
def test_single_range_is_206(preview, header, first, last):
    url, _rendition = preview
    response = get(url, range=header)
    assert response.status_code == 206
    assert body(response) == DATA[first : last + 1]
    assert response["Content-Range"] == f"bytes {first}-{last}/{SIZE}"
    assert response["Content-Length"] == str(last - first + 1)
    assert response["Content-Type"] == "audio/ogg; codecs=opus"
    assert response["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize(
    "header", [f"bytes={SIZE}-", f"bytes={SIZE}-{SIZE + 10}", "bytes=-0", "bytes=" + "9" * 40 + "-"]
)
def test_unsatisfiable_range_is_416(preview, header):
    url, _rendition = preview
    response = get(url, range=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SIZE}"
    assert response["Content-Length"] == "0"
    assert response.content == b""


@pytest.mark.parametrize(
    "header",
    [
        "bytes=0-9,20-29",  # several ranges: the whole file (decision 0008)
        "bytes=0-9,-5",
        f"bytes={SIZE}-,{SIZE + 5}-",  # several, even all unsatisfiable
        "bytes=9-5",  # last < first: invalid, ignored
        "bytes=abc",
        "bytes=-",
        "bytes=",
        "bytes=1-2-3",
        "bytes 0-9",
        "items=0-9",  # unknown unit
        "bytes=0-9;x",
    ],
)
def test_multiple_malformed_or_foreign_ranges_get_the_whole_file(preview, header):
    url, _rendition = preview
    response = get(url, range=header)
    assert response.status_code == 200
    assert body(response) == DATA
    assert response["Content-Length"] == str(SIZE)
    assert "Content-Range" not in response


def test_if_range_with_the_etag_keeps_the_range(preview):
    url, rendition = preview
    response = get(url, range="bytes=0-9", if_range=f'"{rendition.sha256}"')
    assert response.status_code == 206
    assert body(response) == DATA[:10]


def test_if_range_with_the_last_modified_date_keeps_the_range(preview):
    url, rendition = preview
    date = http_date(rendition.created_at.timestamp())
    response = get(url, range="bytes=-10", if_range=date)
    assert response.status_code == 206
    assert body(response) == DATA[-10:]


@pytest.mark.parametrize(
    "if_range",
    [
        '"another-etag"',
        'W/"{sha}"',  # weak tags never match (strong comparison)
        "Thu, 01 Jan 2015 00:00:00 GMT",  # another date
        "not a date",
    ],
)
def test_if_range_mismatch_gets_the_whole_file(preview, if_range):
    url, rendition = preview
    response = get(url, range="bytes=0-9", if_range=if_range.replace("{sha}", rendition.sha256))
    assert response.status_code == 200
    assert body(response) == DATA
    assert "Content-Range" not in response


def test_if_none_match_is_304_without_body(preview):
    url, rendition = preview
    response = get(url, if_none_match=f'"{rendition.sha256}"')
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == f'"{rendition.sha256}"'
    assert response["Cache-Control"] == f"private, max-age={int(DEFAULT_TTL.total_seconds())}"


def test_if_modified_since_is_304(preview):
    url, rendition = preview
    response = get(url, if_modified_since=http_date(rendition.created_at.timestamp() + 60))
    assert response.status_code == 304


def test_if_match_mismatch_is_412(preview):
    url, _rendition = preview
    response = get(url, if_match='"something-else"', range="bytes=0-9")
    assert response.status_code == 412
    assert response.content == b""


def test_body_is_streamed_in_blocks(preview):
    """A large slice is read block by block from the storage file, never whole."""
    url, rendition = preview
    large = bytes(range(256)) * (3 * BLOCK_SIZE // 256) + b"tail"
    default_storage.delete(rendition.storage_key)
    assert default_storage.save(rendition.storage_key, ContentFile(large)) == rendition.storage_key
    response = get(url, range="bytes=1-")
    assert response.status_code == 206
    assert response.streaming is True
    chunks = list(response.streaming_content)
    assert [len(chunk) for chunk in chunks] == [BLOCK_SIZE, BLOCK_SIZE, BLOCK_SIZE, 3]
    assert b"".join(chunks) == large[1:]
