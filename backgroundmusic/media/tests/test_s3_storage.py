"""Masters, renditions and streaming on S3-compatible storage (decision 0012).

The bucket is on moto's S3 server, a TEST DOUBLE of S3 (tests/s3_double.py says why); the rest
is real: django-storages and boto3 sign and send HTTP requests over loopback, and the audio is
really encoded.
"""

import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.files.storage import default_storage
from django.test import Client

from backgroundmusic.media import pipeline, services
from backgroundmusic.media.models import Master, Rendition
from backgroundmusic.media.streaming import signed_url
from backgroundmusic.media.tests.audio import sine, write_wav
from backgroundmusic.media.tests.streaming_fixtures import (
    body,
    encoded_clip,
    playable_track,
    rendition_of,
)
from tests.s3_double import bucket_keys

pytestmark = pytest.mark.django_db


def local_files() -> list[Path]:
    return [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]


def test_upload_and_ingest_keep_the_master_and_every_rendition_in_the_bucket(bucket, tmp_path):
    path = write_wav(tmp_path / "Harbour.wav", sine(3.0, lead=0.5, tail=0.5), bits=24)
    master = services.master_upload(source=path, actor=None)
    assert bucket_keys(bucket) == [master.storage_key]
    ingested = services.master_ingest(master_id=master.pk)
    assert ingested is not None
    assert ingested.status == Master.Status.READY
    renditions = {r.kind: r.storage_key for r in ingested.renditions.all()}
    assert set(renditions) == set(Rendition.Kind.values)
    assert bucket_keys(bucket) == sorted([master.storage_key, *renditions.values()])
    for rendition in ingested.renditions.all():
        stored = bucket.Object(rendition.storage_key)
        assert (stored.content_length, stored.content_type) == (
            rendition.size_bytes,
            rendition.mime_type,
        )
    assert local_files() == []


def test_a_damaged_master_leaves_nothing_in_the_bucket(bucket, tmp_path):
    path = tmp_path / "broken.wav"
    path.write_bytes(b"RIFF" + bytes(range(256)) * 100)
    with pytest.raises(pipeline.MasterRejected):
        services.master_upload(source=path, actor=None)
    assert bucket_keys(bucket) == []


def test_a_silent_master_fails_and_its_file_leaves_the_bucket(bucket, tmp_path):
    path = write_wav(tmp_path / "quiet.wav", sine(2.0, dbfs=-120))
    master = services.master_upload(source=path, actor=None)
    failed = services.master_ingest(master_id=master.pk)
    assert failed is not None
    assert (failed.status, failed.failure_reason) == ("failed", "The master is silent.")
    assert bucket_keys(bucket) == []


@pytest.fixture
def get_object_ranges():  # type: ignore[no-untyped-def]
    """The Range of every GetObject the storage sends (None: the whole object)."""
    seen: list[str | None] = []
    events = default_storage.connection.meta.client.meta.events  # type: ignore[attr-defined]

    def remember(params, **_kwargs):  # type: ignore[no-untyped-def]
        seen.append(params.get("Range"))

    events.register("provide-client-params.s3.GetObject", remember)
    yield seen
    events.unregister("provide-client-params.s3.GetObject", remember)


def test_a_range_is_fetched_from_the_bucket_as_that_range(bucket, get_object_ranges):
    track = playable_track()
    preview = rendition_of(track, Rendition.Kind.PREVIEW)
    clip = encoded_clip(Rendition.Kind.PREVIEW)
    url = signed_url(user=AnonymousUser(), rendition=preview)
    answer = Client().get(url, headers={"Range": "bytes=100-199"})
    assert answer.status_code == 206
    assert answer["Content-Range"] == f"bytes 100-199/{len(clip)}"
    assert body(answer) == clip[100:200]
    assert get_object_ranges == ["bytes=100-199"]


def test_a_whole_file_and_a_suffix_range_from_the_bucket(bucket, get_object_ranges):
    track = playable_track()
    preview = rendition_of(track, Rendition.Kind.PREVIEW)
    clip = encoded_clip(Rendition.Kind.PREVIEW)
    client = Client()
    whole = client.get(signed_url(user=AnonymousUser(), rendition=preview))
    suffix = client.get(
        signed_url(user=AnonymousUser(), rendition=preview), headers={"Range": "bytes=-10"}
    )
    assert (whole.status_code, body(whole)) == (200, clip)
    assert (suffix.status_code, body(suffix)) == (206, clip[-10:])
    last = len(clip) - 1
    assert get_object_ranges == [f"bytes=0-{last}", f"bytes={last - 9}-{last}"]


def test_a_rendition_missing_from_the_bucket_is_404_without_bytes(bucket):
    track = playable_track()
    preview = rendition_of(track, Rendition.Kind.PREVIEW)
    bucket.Object(preview.storage_key).delete()
    answer = Client().get(signed_url(user=AnonymousUser(), rendition=preview))
    assert answer.status_code == 404
    assert answer.content.decode() == "This recording is no longer available."


def test_x_accel_redirect_on_s3_hands_nginx_a_short_lived_presigned_path(
    bucket, settings, s3_double_endpoint
):
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-s3/"
    track = playable_track()
    preview = rendition_of(track, Rendition.Kind.PREVIEW)
    clip = encoded_clip(Rendition.Kind.PREVIEW)
    answer = Client().get(signed_url(user=AnonymousUser(), rendition=preview))
    assert (answer.status_code, answer.content) == (200, b"")
    target = answer["X-Accel-Redirect"]
    path, _, query = target.partition("?")
    assert path == f"/protected-s3/{bucket.name}/{preview.storage_key}"
    assert "X-Amz-Expires=60" in query.split("&")
    # What nginx does with it (deploy/nginx/backgroundmusic-s3.conf): the same path and query on
    # the endpoint, with the client's Range. (The double does not check signatures, so a
    # tampered URL cannot be tested here; refusing it is S3's part.)
    fetched = urllib.request.Request(  # noqa: S310 (loopback)
        s3_double_endpoint + target.removeprefix("/protected-s3"),
        headers={"Range": "bytes=10-19"},
    )
    with urllib.request.urlopen(fetched, timeout=10) as response:  # noqa: S310 (loopback)
        assert (response.status, response.read()) == (206, clip[10:20])


def test_a_rendition_deleted_between_its_size_and_its_bytes_is_404(bucket):
    track = playable_track()
    preview = rendition_of(track, Rendition.Kind.PREVIEW)
    events = default_storage.connection.meta.client.meta.events  # type: ignore[attr-defined]

    def delete_after_measuring(**_kwargs):  # type: ignore[no-untyped-def]
        bucket.Object(preview.storage_key).delete()

    events.register("after-call.s3.HeadObject", delete_after_measuring)
    try:
        answer = Client().get(signed_url(user=AnonymousUser(), rendition=preview))
    finally:
        events.unregister("after-call.s3.HeadObject", delete_after_measuring)
    assert answer.status_code == 404
    assert answer.content.decode() == "This recording is no longer available."
