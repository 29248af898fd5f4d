"""Upload, ingest, failure clean-up, watchdog, retry and the selectors, on real files."""

from datetime import timedelta
from pathlib import Path

import av
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tasks_db.models import DBTaskResult

from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.audit.models import AuditEvent
from backgroundmusic.audit.tests.refusals import service_denial, service_denials
from backgroundmusic.catalog import services as catalogue
from backgroundmusic.catalog.models import Track
from backgroundmusic.core import clock
from backgroundmusic.core.errors import ActionRefused, DomainError
from backgroundmusic.media import pipeline, selectors, services, tasks
from backgroundmusic.media.models import Master, Rendition
from backgroundmusic.media.tests.audio import sine, write_wav
from backgroundmusic.staffroles.roles import StaffRole

pytestmark = pytest.mark.django_db


def ingest(master_id: int) -> Master:
    master = services.master_ingest(master_id=master_id)
    assert master is not None
    return master


def stored_files() -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def ingest_jobs() -> list[dict]:
    return [
        row.args_kwargs["kwargs"]
        for row in DBTaskResult.objects.filter(
            task_path="backgroundmusic.media.tasks.ingest_master"
        )
    ]


def pcm_samples(path: Path) -> bytes:
    """Every decoded sample of a file, as FFmpeg hands them over (24 bits in the top of s32)."""
    with av.open(str(path)) as opened:
        return b"".join(
            frame.to_ndarray().tobytes() for frame in opened.decode(opened.streams.audio[0])
        )


@pytest.fixture
def master_wav(tmp_path: Path) -> Path:
    return write_wav(tmp_path / "Evening Walk.wav", sine(3.0, lead=0.5, tail=0.5), bits=24)


def test_upload_stores_under_the_hash_and_enqueues_ingest(master_wav: Path):
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    master = services.master_upload(source=master_wav, actor=manager)
    sha = master.sha256
    assert master.uploaded_by_id == manager.pk
    # The draft track is made for the manager, who is its audit row's actor.
    assert list(
        AuditEvent.objects.filter(action="catalogue.track_created").values_list(
            "actor_id", "target_id"
        )
    ) == [(manager.pk, str(master.track_id))]
    assert service_denials() == []
    assert master.storage_key == f"masters/{sha[:2]}/{sha}"
    assert stored_files() == [master.storage_key]
    assert (master.status, master.source_name, master.owns_track) == (
        "uploaded",
        "Evening Walk.wav",
        True,
    )
    assert master.track is not None
    assert (master.track.title, master.track.catalogue_code) == (
        "Evening Walk",
        f"MW-{sha[:10].upper()}",
    )
    assert master.track.is_published is False
    assert ingest_jobs() == [{"master_id": master.pk}]


def test_ingest_makes_a_ready_master_with_measurements_and_five_renditions(master_wav: Path):
    track = catalogue.track_create(actor=None, title="Dusk", catalogue_code="MW-0001")
    master = services.master_upload(source=master_wav, actor=None, track=track)
    assert tasks.ingest_master.call(master_id=master.pk) == "ready"
    master.refresh_from_db()
    assert (master.status, master.step, master.progress, master.failure_reason) == (
        "ready",
        "ready",
        100,
        "",
    )
    assert (master.container, master.codec, master.sample_rate, master.channels) == (
        "wav",
        "pcm_s24le",
        48_000,
        2,
    )
    assert (master.bit_depth, master.duration_seconds) == (24, 4.0)
    # -20.0 for the tone alone; the 400 ms blocks that straddle the half seconds of silence
    # pass the relative gate and pull the integrated loudness down to -20.45 (BS.1770).
    assert master.integrated_lufs is not None and master.true_peak_dbtp is not None
    assert master.cue_in_seconds is not None and master.cue_out_seconds is not None
    assert abs(master.integrated_lufs - (-20.45)) <= 0.1
    assert abs(master.true_peak_dbtp - (-20.0)) <= 0.1
    assert abs(master.cue_in_seconds - 0.5) <= 0.01
    assert abs(master.cue_out_seconds - 3.5) <= 0.01
    assert len(master.waveform_peaks) == 800
    assert master.bpm_estimate is None  # a steady tone has no beat
    kinds = dict(master.renditions.values_list("kind", "storage_key"))
    assert sorted(kinds) == ["aac", "flac", "mp3_320", "opus", "preview"]
    assert stored_files() == sorted([master.storage_key, *kinds.values()])
    opus = master.renditions.get(kind="opus")
    assert (opus.mime_type, opus.bitrate, opus.duration_seconds) == (
        "audio/webm; codecs=opus",
        128_000,
        4.0,
    )
    decoded = pipeline.decode(Path(settings.MEDIA_ROOT) / opus.storage_key)
    assert abs(pipeline.loudness(decoded).integrated_lufs - pipeline.TARGET_LUFS) <= 0.5
    with av.open(str(Path(settings.MEDIA_ROOT) / kinds["mp3_320"])) as mp3:
        context = mp3.streams.audio[0].codec_context
        assert (context.name, context.bit_rate) == ("mp3float", 320_000)
    # The lossless rendition is the master's own 24-bit samples at its rate, bit for bit.
    flac = master.renditions.get(kind="flac")
    assert flac.storage_key == f"renditions/{master.sha256[:2]}/{master.sha256}/flac.flac"
    assert (flac.mime_type, flac.duration_seconds) == ("audio/flac", 4.0)
    assert flac.bitrate == round(flac.size_bytes * 8 / 4.0)
    flac_path = Path(settings.MEDIA_ROOT) / flac.storage_key
    probed = pipeline.probe(flac_path, max_seconds=60)
    assert (probed.codec, probed.sample_rate, probed.channels, probed.bit_depth) == (
        "flac",
        48_000,
        2,
        24,
    )
    assert pcm_samples(flac_path) == pcm_samples(master_wav)
    track.refresh_from_db()
    assert track.duration_seconds == 4.0
    assert selectors.ready_master_for(track=track) == master
    assert selectors.rendition_for(track=track, kind="preview") == master.renditions.get(
        kind="preview"
    )
    # Idempotent: a second run changes nothing.
    assert ingest(master.pk).finished_at == master.finished_at
    assert Rendition.objects.count() == 5


def test_selectors_answer_none_until_ready(master_wav: Path):
    master = services.master_upload(source=master_wav, actor=None)
    assert master.track is not None
    assert selectors.ready_master_for(track=master.track) is None
    assert selectors.rendition_for(track=master.track, kind="opus") is None


def test_a_duplicate_is_refused_naming_the_track(master_wav: Path, tmp_path: Path):
    track = catalogue.track_create(actor=None, title="Dusk", catalogue_code="MW-0001")
    services.master_upload(source=master_wav, actor=None, track=track)
    copy = tmp_path / "renamed.wav"
    copy.write_bytes(master_wav.read_bytes())
    upload = SimpleUploadedFile("again.wav", copy.read_bytes(), content_type="audio/wav")
    with pytest.raises(DomainError) as refused:
        services.master_upload(source=upload, actor=None)
    assert refused.value.message == "This master is already in the catalogue as «Dusk» (MW-0001)."
    assert (Master.objects.count(), Track.objects.count(), len(ingest_jobs())) == (1, 1, 1)


def test_a_corrupt_file_is_refused_and_nothing_is_kept(tmp_path: Path):
    path = tmp_path / "broken.wav"
    path.write_bytes(b"RIFF" + bytes(range(256)) * 100)
    with pytest.raises(pipeline.MasterRejected):
        services.master_upload(source=path, actor=None)
    assert (Master.objects.count(), Track.objects.count(), stored_files(), ingest_jobs()) == (
        0,
        0,
        [],
        [],
    )


def test_an_enormous_file_is_refused(master_wav: Path, settings):
    settings.MEDIA_MAX_MASTER_BYTES = 100_000
    with pytest.raises(pipeline.MasterRejected) as refused:
        services.master_upload(source=master_wav, actor=None)
    assert refused.value.message == "The file is larger than the limit of 0.1 MB."
    assert (Master.objects.count(), Track.objects.count(), stored_files()) == (0, 0, [])


def test_a_silent_master_fails_and_leaves_no_file_and_no_track(tmp_path: Path):
    path = write_wav(tmp_path / "quiet.wav", sine(2.0, dbfs=-120))
    master = services.master_upload(source=path, actor=None)
    master = ingest(master.pk)
    assert (master.status, master.failure_reason, master.storage_key, master.track) == (
        "failed",
        "The master is silent.",
        "",
        None,
    )
    assert (Track.objects.count(), Rendition.objects.count(), stored_files()) == (0, 0, [])
    with pytest.raises(DomainError) as refused:
        services.master_retry(actor=None, master_id=master.pk)
    assert refused.value.message == (
        "The file was refused and removed; upload a corrected file instead."
    )
    # The same file again replaces the failed row (and fails again the same way).
    again = services.master_upload(source=path, actor=None)
    assert (again.pk, again.status, Master.objects.count()) == (master.pk, "uploaded", 1)


def test_a_killed_ingest_completes_when_run_again(master_wav: Path, monkeypatch):
    master = services.master_upload(source=master_wav, actor=None)
    real_encode = pipeline.encode

    def killed_at_aac(audio, spec, *args, **kwargs):
        if spec.kind == "aac":
            raise SystemExit("worker killed")
        return real_encode(audio, spec, *args, **kwargs)

    monkeypatch.setattr(pipeline, "encode", killed_at_aac)
    with pytest.raises(SystemExit):
        ingest(master.pk)
    master.refresh_from_db()
    assert (master.status, master.step, master.progress) == ("processing", "aac", 62)
    assert len(stored_files()) == 2  # the master and the opus rendition made before the kill
    monkeypatch.setattr(pipeline, "encode", real_encode)
    master = ingest(master.pk)
    assert master.status == "ready"
    assert len(stored_files()) == 6
    assert Rendition.objects.filter(master=master).count() == 5


def test_the_watchdog_fails_stuck_masters_and_retry_runs_them_again(master_wav, tmp_path):
    stuck = services.master_upload(source=master_wav, actor=None)
    other = services.master_upload(
        source=write_wav(tmp_path / "b.wav", sine(2.0, freq=440)), actor=None
    )
    now = clock.now()
    Master.objects.filter(pk=stuck.pk).update(
        status="processing", heartbeat_at=now - timedelta(minutes=16)
    )
    Master.objects.filter(pk=other.pk).update(
        status="processing", heartbeat_at=now - timedelta(minutes=14)
    )
    with clock.frozen_at(now):
        assert tasks.fail_stuck_masters.call() == 1
    stuck.refresh_from_db()
    assert (stuck.status, stuck.failure_reason) == (
        "failed",
        "Processing stopped: the worker died or timed out. Upload again or retry.",
    )
    assert Master.objects.get(pk=other.pk).status == "processing"
    assert stuck.track is not None and default_storage_has(stuck.storage_key)
    person = UserFactory.create()
    with pytest.raises(ActionRefused):
        services.master_retry(actor=person, master_id=stuck.pk)
    assert Master.objects.get(pk=stuck.pk).status == "failed"
    assert service_denials() == [
        service_denial(
            person, service="media.master_retry", permission="staff_may_manage_catalogue"
        )
    ]
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    retried = services.master_retry(actor=manager, master_id=stuck.pk)
    assert len(service_denials()) == 1
    assert (retried.status, retried.failure_reason) == ("uploaded", "")
    assert ingest_jobs()[-1] == {"master_id": stuck.pk}
    assert ingest(stuck.pk).status == "ready"


def default_storage_has(key: str) -> bool:
    from django.core.files.storage import default_storage

    return bool(key) and default_storage.exists(key)


def test_the_task_of_a_deleted_master_is_a_no_op():
    assert tasks.ingest_master.call(master_id=999_999) == "gone"
