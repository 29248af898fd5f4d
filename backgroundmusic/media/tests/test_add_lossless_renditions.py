"""Masters ingested before the lossless rendition existed get it: master_lossless_add and
`manage.py add_lossless_renditions`, on real files; lossy masters get none, at ingest or after."""

import re
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from backgroundmusic.catalog import services as catalogue
from backgroundmusic.core.errors import DomainError
from backgroundmusic.media import pipeline, selectors, services
from backgroundmusic.media.models import Master, Rendition
from backgroundmusic.media.tests.audio import clicks, sine, write_encoded, write_wav
from backgroundmusic.media.tests.test_pipeline import decoded_samples

pytestmark = pytest.mark.django_db


def ready_master(source: Path, code: str) -> Master:
    track = catalogue.track_create(actor=None, title=code, catalogue_code=code)
    master = services.master_upload(source=source, actor=None, track=track)
    done = services.master_ingest(master_id=master.pk)
    assert done is not None and done.status == Master.Status.READY
    return done


def as_before_the_lossless_rendition(master: Master) -> None:
    """What a master ingested before this rendition existed looks like: no FLAC, no file."""
    flac = master.renditions.get(kind="flac")
    default_storage.delete(flac.storage_key)
    flac.delete()


def run() -> tuple[list[str], list[str]]:
    out, err = StringIO(), StringIO()
    call_command("add_lossless_renditions", stdout=out, stderr=err)
    return out.getvalue().splitlines(), err.getvalue().splitlines()


def without_timings(lines: list[str]) -> list[str]:
    return [re.sub(r"\d+(\.\d)? s\b", "N s", line) for line in lines]


def test_a_lossy_master_is_ingested_without_a_lossless_rendition(tmp_path):
    mp3 = write_encoded(
        tmp_path / "a.mp3", sine(2.0) + clicks(2.0, bpm=100), container="mp3", codec="libmp3lame"
    )
    master = ready_master(mp3, "MW-0001")
    assert sorted(master.renditions.values_list("kind", flat=True)) == [
        "aac",
        "mp3_320",
        "opus",
        "preview",
    ]
    assert list(selectors.masters_missing_lossless()) == []
    assert services.master_lossless_add(master_id=master.pk) is None


def test_the_command_makes_what_is_missing_once_and_shows_progress(tmp_path):
    first = ready_master(write_wav(tmp_path / "a.wav", sine(2.0), bits=24), "MW-0001")
    second = ready_master(
        write_wav(tmp_path / "b.wav", sine(3.0, freq=440, rate=44_100), rate=44_100), "MW-0002"
    )
    already = ready_master(write_wav(tmp_path / "c.wav", sine(1.5, freq=220)), "MW-0003")
    lossy = ready_master(
        write_encoded(tmp_path / "d.mp3", sine(2.0), container="mp3", codec="libmp3lame"),
        "MW-0004",
    )
    kept = already.renditions.get(kind="flac")
    as_before_the_lossless_rendition(first)
    as_before_the_lossless_rendition(second)
    assert list(selectors.masters_missing_lossless()) == [first, second]

    out, err = run()
    sizes = {
        master.pk: master.renditions.get(kind="flac").size_bytes / 1e6 for master in (first, second)
    }
    assert err == []
    assert without_timings(out) == [
        f"[1/2] MW-0001: FLAC {sizes[first.pk]:.1f} MB, "
        f"{100 * sizes[first.pk] * 1e6 / first.size_bytes:.0f}% of the master, in N s",
        f"[2/2] MW-0002: FLAC {sizes[second.pk]:.1f} MB, "
        f"{100 * sizes[second.pk] * 1e6 / second.size_bytes:.0f}% of the master, in N s",
        f"Lossless renditions: 2 made, 0 failed; {sum(sizes.values()):.1f} MB for "
        f"{(first.size_bytes + second.size_bytes) / 1e6:.1f} MB of masters "
        f"({100 * sum(sizes.values()) * 1e6 / (first.size_bytes + second.size_bytes):.0f}%), "
        "N s in all.",
    ]
    for master in (first, second):
        flac = master.renditions.get(kind="flac")
        assert flac.storage_key == f"renditions/{master.sha256[:2]}/{master.sha256}/flac.flac"
        stored = Path(settings.MEDIA_ROOT) / flac.storage_key
        assert np.array_equal(
            decoded_samples(stored), decoded_samples(Path(settings.MEDIA_ROOT) / master.storage_key)
        )
    probed = pipeline.probe(
        Path(settings.MEDIA_ROOT) / second.renditions.get(kind="flac").storage_key, max_seconds=60
    )
    assert (probed.sample_rate, probed.bit_depth) == (44_100, 16)
    assert already.renditions.get(kind="flac") == kept
    assert not lossy.renditions.filter(kind="flac").exists()

    # Run again: nothing is missing, nothing changes.
    before = list(Rendition.objects.order_by("pk").values())
    assert run() == (["Every ready master has its lossless rendition."], [])
    assert list(Rendition.objects.order_by("pk").values()) == before


def test_a_master_whose_file_is_gone_is_reported_and_the_others_are_made(tmp_path):
    gone = ready_master(write_wav(tmp_path / "a.wav", sine(2.0)), "MW-0001")
    fine = ready_master(write_wav(tmp_path / "b.wav", sine(2.0, freq=440)), "MW-0002")
    as_before_the_lossless_rendition(gone)
    as_before_the_lossless_rendition(fine)
    default_storage.delete(gone.storage_key)
    with pytest.raises(CommandError) as failed:
        run()
    assert str(failed.value) == "1 masters got no lossless rendition: ['MW-0001']"
    assert fine.renditions.filter(kind="flac").exists()
    assert not gone.renditions.filter(kind="flac").exists()
    with pytest.raises(DomainError) as refused:
        services.master_lossless_add(master_id=gone.pk)
    assert refused.value.message == "The master file is missing from storage."


def test_only_ready_masters_get_one(tmp_path):
    master = services.master_upload(source=write_wav(tmp_path / "a.wav", sine(2.0)), actor=None)
    assert services.master_lossless_add(master_id=master.pk) is None
    assert services.master_lossless_add(master_id=master.pk + 1000) is None
    assert Rendition.objects.count() == 0
    assert list(selectors.masters_missing_lossless()) == []
