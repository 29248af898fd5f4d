"""Tracks with a ready master and real, short renditions on disk, for the streaming tests.

Rows are made directly (not through ingest) so these tests do not depend on the pipeline; the
files are one second of a 440 Hz sine encoded with PyAV in each rendition's real codec.
"""

import functools
import hashlib
import io
import itertools
from collections.abc import Iterable

import av
import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from backgroundmusic.catalog.models import Track
from backgroundmusic.core import clock
from backgroundmusic.media.models import Master, Rendition

ALL_KINDS: tuple[str, ...] = tuple(Rendition.Kind.values)

# kind → (container, encoder, sample rate, MIME type, file extension)
_CODECS = {
    Rendition.Kind.PREVIEW: ("ogg", "libopus", 48_000, "audio/ogg; codecs=opus", "opus"),
    Rendition.Kind.OPUS: ("ogg", "libopus", 48_000, "audio/ogg; codecs=opus", "opus"),
    Rendition.Kind.AAC: ("ipod", "aac", 48_000, "audio/mp4", "m4a"),
    Rendition.Kind.MP3_320: ("mp3", "libmp3lame", 44_100, "audio/mpeg", "mp3"),
    Rendition.Kind.FLAC: ("flac", "flac", 44_100, "audio/flac", "flac"),
}
_serial = itertools.count(1)


def encoded_clip(kind: str) -> bytes:
    """The bytes stored for `kind` (encoded once per process: Ogg serial numbers are random)."""
    return _encoded_clip(str(kind))  # Kind.OPUS and "opus" hash differently


@functools.cache
def _encoded_clip(kind: str) -> bytes:
    container, encoder, rate, _mime, _ext = _CODECS[Rendition.Kind(kind)]
    # The preview is shorter than the full renditions, so their bytes (and ETags) differ.
    seconds = 0.5 if kind == Rendition.Kind.PREVIEW else 1.0
    samples = np.arange(int(rate * seconds)) / rate
    tone = (0.25 * np.sin(2 * np.pi * 440 * samples)).astype(np.float32)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as output:
        stream = output.add_stream(encoder, rate=rate, layout="stereo")
        assert isinstance(stream, av.AudioStream)
        if encoder == "flac":  # takes integers
            pcm = np.round(np.stack([tone, tone]) * 32767).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(pcm, format="s16p", layout="stereo")
        else:
            frame = av.AudioFrame.from_ndarray(
                np.stack([tone, tone]), format="fltp", layout="stereo"
            )
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return buffer.getvalue()


def playable_track(
    *,
    published: bool = True,
    status: str = Master.Status.READY,
    kinds: Iterable[str] = ALL_KINDS,
) -> Track:
    """A track with a master in `status` and one stored rendition of each of `kinds`."""
    number = next(_serial)
    track = Track.objects.create(
        title=f"Streaming test {number}",
        slug=f"streaming-test-{number}",
        catalogue_code=f"STR-{number:04d}",
        is_published=published,
    )
    master = Master.objects.create(
        track=track,
        sha256=hashlib.sha256(f"master {number}".encode()).hexdigest(),
        storage_key=f"masters/streaming-test-{number}.wav",
        status=status,
        failure_reason="test failure" if status == Master.Status.FAILED else "",
        uploaded_at=clock.now(),
    )
    for kind in kinds:
        data = encoded_clip(kind)
        _container, _encoder, _rate, mime, extension = _CODECS[Rendition.Kind(kind)]
        digest = hashlib.sha256(data).hexdigest()
        key = default_storage.save(
            f"renditions/{digest[:2]}/{digest}.{extension}", ContentFile(data)
        )
        Rendition.objects.create(
            master=master,
            kind=kind,
            storage_key=key,
            mime_type=mime,
            bitrate={Rendition.Kind.MP3_320: 320_000, Rendition.Kind.FLAC: 700_000}.get(
                Rendition.Kind(kind), 128_000
            ),
            size_bytes=len(data),
            duration_seconds=0.5 if kind == Rendition.Kind.PREVIEW else 1.0,
            sha256=digest,
        )
    return track


def rendition_of(track: Track, kind: str) -> Rendition:
    return Rendition.objects.get(master__track=track, kind=kind)


def body(response) -> bytes:  # type: ignore[no-untyped-def]
    """The bytes of a response, streamed or not."""
    return b"".join(response.streaming_content) if response.streaming else response.content
