"""Catalogue test data: facets, and tracks made through the services with a ready master and,
when asked, a real preview file (a generated tone encoded to MP3 with PyAV, as ingest makes it).
"""

import functools
import hashlib
import io
import itertools
from typing import Any

import av
import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from backgroundmusic.catalog import services
from backgroundmusic.catalog.models import Genre, Instrument, Mood, Track
from backgroundmusic.core import clock
from backgroundmusic.media.models import Master, Rendition

_serial = itertools.count(1)

WAVEFORM = [[-0.5, 0.5], [-1.0, 0.9], [-0.25, 0.3], [0.0, 0.0]]


def make_facets() -> None:
    """Two of each facet kind, named in both languages."""
    Genre.objects.create(slug="ambient", name_en="Ambient", name_ru="Эмбиент")
    Genre.objects.create(slug="classical", name_en="Classical", name_ru="Классика")
    Mood.objects.create(slug="calm", name_en="Calm", name_ru="Спокойное")
    Mood.objects.create(slug="uplifting", name_en="Uplifting", name_ru="Воодушевляющее")
    Instrument.objects.create(slug="piano", name_en="Piano", name_ru="Фортепиано")
    Instrument.objects.create(slug="strings", name_en="Strings", name_ru="Струнные")


@functools.cache
def preview_mp3(seconds: float = 1.0) -> bytes:
    """`seconds` of a 440 Hz tone, stereo 44.1 kHz, as a 128 kbit/s MP3."""
    rate = 44_100
    samples = np.arange(int(rate * seconds)) / rate
    tone = (0.2 * np.sin(2 * np.pi * 440 * samples)).astype(np.float32)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3") as output:
        stream = output.add_stream("libmp3lame", rate=rate, layout="stereo")
        stream.bit_rate = 128_000
        frame = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return buffer.getvalue()


def ready_track(
    *,
    status: str = Master.Status.READY,
    preview_seconds: float | None = None,
    published: bool = True,
    **fields: Any,
) -> Track:
    """A track (made by services.track_create as the system) whose master is in `status`, with
    measured loudness and a waveform; with a stored MP3 preview when preview_seconds is given."""
    number = next(_serial)
    fields.setdefault("title", f"Track {number}")
    fields.setdefault("catalogue_code", f"MW-{number:05d}")
    track = services.track_create(actor=None, is_published=published, **fields)
    master = Master.objects.create(
        track=track,
        sha256=hashlib.sha256(f"catalogue test master {number}".encode()).hexdigest(),
        storage_key=f"masters/test-{number}.wav",
        status=status,
        failure_reason="corrupt file" if status == Master.Status.FAILED else "",
        uploaded_at=clock.now(),
        duration_seconds=fields.get("duration_seconds"),
        integrated_lufs=-16.04,
        loudness_range_lu=5.2,
        true_peak_dbtp=-1.03,
        waveform_peaks=WAVEFORM,
    )
    if preview_seconds is not None:
        content = preview_mp3(preview_seconds)
        digest = hashlib.sha256(content).hexdigest()
        key = f"renditions/{digest[:2]}/{digest}.mp3"
        if not default_storage.exists(key):
            default_storage.save(key, ContentFile(content))
        Rendition.objects.create(
            master=master,
            kind=Rendition.Kind.PREVIEW,
            storage_key=key,
            mime_type="audio/mpeg",
            bitrate=128_000,
            size_bytes=len(content),
            duration_seconds=preview_seconds,
            sha256=digest,
        )
    return track
