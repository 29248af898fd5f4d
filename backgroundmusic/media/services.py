"""Every write of the media app: uploading masters, running ingest, failing stuck ingests,
retrying, adding the lossless rendition to masters ingested before it existed.

Files live in Django's default storage under content-hash keys: a master at
`masters/<h[:2]>/<h>` where h is its SHA-256; its renditions at
`renditions/<h[:2]>/<h>/<kind>.<ext>`, so a re-run after a kill writes the same keys again and
leaves nothing behind.

What a failure leaves (docs/decisions/0007-loudness-target.md, "Failures"):
- the file was refused (damaged, truncated, silent, unsupported, too long): the master's file
  and renditions are deleted, so is the draft track made for the upload; the master row stays,
  FAILED with the reason, for staff to read. Uploading the same file again replaces it.
- processing stopped for another reason (a worker killed, an unexpected error): the renditions
  are deleted; the master file and its track stay so `master_retry` can run it again.
"""

import logging
import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from backgroundmusic.audit.refusals import refusals_audited
from backgroundmusic.catalog import services as catalogue
from backgroundmusic.catalog.models import Track
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.media import pipeline
from backgroundmusic.media.models import Master, Rendition
from backgroundmusic.staffroles.selectors import Actor, staff_may_manage_catalogue, staff_require

logger = logging.getLogger(__name__)

STUCK_AFTER = timedelta(minutes=15)
STUCK_REASON = "Processing stopped: the worker died or timed out. Upload again or retry."

# Progress (percent) reached when each step starts.
STEPS: dict[str, int] = {
    "probe": 2,
    "checksum": 5,
    "decode": 10,
    "loudness": 30,
    "cue_points": 40,
    "waveform": 42,
    "bpm": 45,
    "opus": 50,
    "aac": 62,
    "mp3_320": 74,
    "preview": 86,
    "flac": 92,
    "ready": 100,
}


class _Abandoned(Exception):
    """The master left PROCESSING while we worked (failed by the watchdog, or deleted)."""


def master_key(sha256: str) -> str:
    return f"masters/{sha256[:2]}/{sha256}"


def rendition_key(sha256: str, spec: pipeline.RenditionSpec) -> str:
    return f"renditions/{sha256[:2]}/{sha256}/{spec.kind}.{spec.extension}"


def _max_bytes() -> int:
    return int(settings.MEDIA_MAX_MASTER_BYTES)


def size_limit_for(master: Master) -> int:
    """A stored master is re-hashed whatever today's limit: it was accepted under its own."""
    return master.size_bytes + 1


def _max_seconds() -> float:
    return float(settings.MEDIA_MAX_MASTER_SECONDS)


def _chunks(source: str | Path | File) -> Iterator[bytes]:
    if isinstance(source, str | Path):
        yield from pipeline.file_chunks(source)
        return
    if hasattr(source, "seek"):
        with suppress(OSError, ValueError):
            source.seek(0)
    yield from source.chunks()


def _source_name(source: str | Path | File) -> str:
    name = source if isinstance(source, str | Path) else (source.name or "")
    return Path(str(name)).name[:255]


def _draft_code(sha256: str) -> str:
    return f"MW-{sha256[:10].upper()}"


def _delete_keys(keys: Iterable[str]) -> None:
    for key in keys:
        if key and default_storage.exists(key):
            default_storage.delete(key)


def _rendition_keys(master: Master) -> list[str]:
    return [rendition_key(master.sha256, spec) for spec in pipeline.SPECS.values()]


@refusals_audited("media.master_upload")
def master_upload(
    *,
    source: str | Path | File,
    actor: catalogue.Actor,
    track: Track | None = None,
    new_track: dict[str, Any] | None = None,
    source_name: str = "",
) -> Master:
    """Stores a master under its content hash and enqueues its ingest, in one transaction.

    `track` attaches the master to an existing track; otherwise a draft track is made from
    `new_track` (keyword arguments of catalog.services.track_create; title defaults to the
    file name, the catalogue code to MW-<hash>), and it goes with the master if the file is
    refused. The header is probed before anything is kept, so a damaged, unsupported, too long
    or too large file is refused at once (MasterRejected) and nothing is stored. A file already
    in the catalogue is refused naming its track; one that failed before is replaced.

    `actor`: the staff member uploading, who must manage the catalogue; None is the system
    (import_tracks, the demo seeding).
    """
    if actor is not None:
        staff_require(actor=actor, may=staff_may_manage_catalogue)
    name = source_name or _source_name(source)
    with tempfile.NamedTemporaryFile(prefix="master-", suffix=Path(name).suffix[:10]) as copy:
        sha256, size = pipeline.sha256_copy(_chunks(source), copy, max_bytes=_max_bytes())
        copy.flush()
        pipeline.probe(copy.name, max_seconds=_max_seconds())
        copy.seek(0)
        try:
            return _master_store(
                sha256=sha256,
                size=size,
                copy=copy,
                name=name,
                actor=actor,
                track=track,
                new_track=new_track,
            )
        except IntegrityError as error:  # the same file uploaded at the same moment
            existing = Master.objects.select_related("track").filter(sha256=sha256).first()
            raise _duplicate(existing) from error


def _duplicate(existing: Master | None) -> DomainError:
    if existing is not None and existing.track is not None:
        return DomainError(
            _("This master is already in the catalogue as «%(title)s» (%(code)s).")
            % {"title": existing.track.title, "code": existing.track.catalogue_code},
            code="duplicate_master",
        )
    return DomainError(_("This master has already been uploaded."), code="duplicate_master")


@transaction.atomic
def _master_store(
    *,
    sha256: str,
    size: int,
    copy: Any,
    name: str,
    actor: catalogue.Actor,
    track: Track | None,
    new_track: dict[str, Any] | None,
) -> Master:
    existing = Master.objects.select_for_update().filter(sha256=sha256).first()
    if existing is not None:
        if existing.status != Master.Status.FAILED:
            raise _duplicate(Master.objects.select_related("track").get(pk=existing.pk))
        _delete_keys(_rendition_keys(existing))
        existing.renditions.all().delete()
    if track is None and existing is not None and existing.track_id is not None:
        track, owns_track = existing.track, existing.owns_track
    elif track is not None:
        track = Track.objects.select_for_update().get(pk=track.pk)
        other = Master.objects.filter(track=track).exclude(sha256=sha256).first()
        if other is not None and other.status != Master.Status.FAILED:
            raise DomainError(
                _("«%(title)s» already has a master; a track has one master.")
                % {"title": track.title},
                code="track_has_master",
            )
        if other is not None:  # a corrected file replaces the one that failed
            _delete_keys([*_rendition_keys(other), other.storage_key])
            other.delete()
        owns_track = False
    if track is None:
        fields: dict[str, Any] = {
            "title": Path(name).stem or sha256[:10],
            "catalogue_code": _draft_code(sha256),
        }
        fields |= {k: v for k, v in (new_track or {}).items() if v not in (None, "")}
        track = catalogue.track_create(actor=actor, **fields)
        owns_track = True
    master = existing or Master(sha256=sha256)
    for field in Master._meta.concrete_fields:
        if field.name not in ("id", "sha256"):
            setattr(master, field.attname, field.get_default())
    master.track = track
    master.owns_track = owns_track
    master.source_name = name
    master.size_bytes = size
    master.uploaded_by_id = None if actor is None else actor.pk
    master.uploaded_at = clock.now()
    master.status = Master.Status.UPLOADED
    key = master_key(sha256)
    stored_now = False
    try:
        if not default_storage.exists(key):
            saved = default_storage.save(key, File(copy, name=key))
            stored_now = True
            if saved != key:
                raise RuntimeError(f"storage saved {saved!r} instead of {key!r}")
        master.storage_key = key
        master.save()
        from backgroundmusic.media import tasks  # tasks import services

        tasks.ingest_master.enqueue(master_id=master.pk)
    except BaseException:
        if stored_now:
            _delete_keys([key])
        raise
    return master


def _progress(master_id: int, step: str) -> None:
    """One short transaction per step, so the staff page sees it while we work."""
    updated = Master.objects.filter(pk=master_id, status=Master.Status.PROCESSING).update(
        step=step, progress=STEPS[step], heartbeat_at=clock.now()
    )
    if not updated:
        raise _Abandoned


@contextmanager
def _local_copy(key: str) -> Iterator[Path]:
    """A local path of a stored file: the file itself on local disk, else a temporary copy."""
    try:
        yield Path(default_storage.path(key))
        return
    except NotImplementedError:
        pass
    with default_storage.open(key, "rb") as stored, tempfile.NamedTemporaryFile() as copy:
        shutil.copyfileobj(stored, copy, length=pipeline.CHUNK * 16)
        copy.flush()
        yield Path(copy.name)


def master_ingest(*, master_id: int) -> Master | None:
    """Runs the whole pipeline on a master and returns it READY or FAILED (None when there is
    no such master). Idempotent: a READY or FAILED master is returned as it is; an UPLOADED one,
    or one left PROCESSING by a killed worker, is processed from the start."""
    claimed = Master.objects.filter(
        pk=master_id, status__in=[Master.Status.UPLOADED, Master.Status.PROCESSING]
    ).update(
        status=Master.Status.PROCESSING,
        step="probe",
        progress=STEPS["probe"],
        started_at=clock.now(),
        heartbeat_at=clock.now(),
        failure_reason="",
    )
    master = Master.objects.filter(pk=master_id).first()
    if master is None or not claimed:
        return master
    with translation.override(settings.LANGUAGE_CODE):  # reasons are stored in one language
        return _ingest(master)


def _ingest(master: Master) -> Master | None:
    master_id = master.pk
    try:
        result = _run(master)
    except _Abandoned:
        return Master.objects.filter(pk=master_id).first()
    except pipeline.MasterRejected as refused:
        return _fail(master_id=master_id, reason=refused.message, refused=True)
    except Exception:
        logger.exception("ingest of master %s failed", master_id)
        return _fail(
            master_id=master_id,
            reason="Processing failed unexpectedly. Retry, or upload the file again.",
            refused=False,
        )
    return result


def _run(master: Master) -> Master:
    if not master.storage_key or not default_storage.exists(master.storage_key):
        raise pipeline.MasterRejected(_("The master file is missing from storage."))
    with (
        _local_copy(master.storage_key) as path,
        tempfile.TemporaryDirectory(prefix="renditions-") as workdir,
    ):
        probed = pipeline.probe(path, max_seconds=_max_seconds())
        _progress(master.pk, "checksum")
        with open(os.devnull, "wb") as sink:
            sha256, size = pipeline.sha256_copy(
                pipeline.file_chunks(path),
                sink,
                max_bytes=max(_max_bytes(), size_limit_for(master)),
            )
        if sha256 != master.sha256:
            raise pipeline.MasterRejected(_("The stored file does not match its checksum."))
        _progress(master.pk, "decode")
        audio = pipeline.decode(path, probed=probed)
        duration = pipeline.check_complete(probed, audio)
        _progress(master.pk, "loudness")
        measured = pipeline.loudness(audio)
        _progress(master.pk, "cue_points")
        cue_in, cue_out = pipeline.cue_points(audio)
        _progress(master.pk, "waveform")
        peaks = pipeline.waveform_peaks(audio)
        _progress(master.pk, "bpm")
        bpm = pipeline.estimate_bpm(audio)
        gain = pipeline.normalising_gain_db(measured)
        made: dict[str, tuple[str, pipeline.Encoded]] = {}
        for spec in pipeline.RENDITIONS:
            _progress(master.pk, spec.kind)
            local = Path(workdir) / f"{spec.kind}.{spec.extension}"
            if spec.kind == "preview":
                start, end = pipeline.preview_window(audio, cue_in=cue_in, cue_out=cue_out)
                encoded = pipeline.encode(
                    audio,
                    spec,
                    local,
                    gain_db=gain,
                    start=start,
                    end=end,
                    fade_in=pipeline.PREVIEW_FADE_IN,
                    fade_out=pipeline.PREVIEW_FADE_OUT,
                )
            else:
                encoded = pipeline.encode(audio, spec, local, gain_db=gain)
            made[spec.kind] = (_rendition_store(master, spec, local), encoded)
        del audio
        lossless = pipeline.lossless_format(probed)
        if lossless is not None:
            _progress(master.pk, pipeline.LOSSLESS.kind)
            local = Path(workdir) / f"{pipeline.LOSSLESS.kind}.{pipeline.LOSSLESS.extension}"
            encoded = pipeline.encode_lossless(path, local, target=lossless)
            made[pipeline.LOSSLESS.kind] = (
                _rendition_store(master, pipeline.LOSSLESS, local),
                encoded,
            )
    return _finish(
        master_id=master.pk,
        values={
            "container": probed.container,
            "codec": probed.codec,
            "sample_rate": probed.sample_rate,
            "channels": probed.channels,
            "bit_depth": probed.bit_depth,
            "size_bytes": size,
            "duration_seconds": round(duration, 3),
            "integrated_lufs": round(measured.integrated_lufs, 2),
            "loudness_range_lu": round(measured.range_lu, 2),
            "true_peak_dbtp": round(measured.true_peak_dbtp, 2),
            "cue_in_seconds": round(cue_in, 3),
            "cue_out_seconds": round(cue_out, 3),
            "bpm_estimate": bpm,
            "waveform_peaks": peaks,
        },
        made=made,
    )


def _rendition_store(master: Master, spec: pipeline.RenditionSpec, local: Path) -> str:
    """Stores an encoded file under the master's key for `spec`, replacing what is there."""
    key = rendition_key(master.sha256, spec)
    _delete_keys([key])
    with open(local, "rb") as handle:
        stored = File(handle, name=key)
        # Object storage keeps it with the object, so what nginx proxies is labelled.
        stored.content_type = spec.mime_type  # type: ignore[attr-defined]
        saved = default_storage.save(key, stored)
    if saved != key:
        _delete_keys([saved])
        raise RuntimeError(f"storage saved {saved!r} instead of {key!r}")
    return key


@transaction.atomic
def _finish(
    *, master_id: int, values: dict[str, Any], made: dict[str, tuple[str, pipeline.Encoded]]
) -> Master:
    master = Master.objects.select_for_update().get(pk=master_id)
    if master.status != Master.Status.PROCESSING:
        raise _Abandoned
    for name, value in values.items():
        setattr(master, name, value)
    master.status = Master.Status.READY
    master.step = "ready"
    master.progress = 100
    master.finished_at = master.heartbeat_at = clock.now()
    master.save()
    for kind, (key, encoded) in made.items():
        _rendition_save(master, pipeline.SPECS[kind], key, encoded)
    master.renditions.exclude(kind__in=list(made)).delete()
    catalogue.listing_changed()  # the track is playable now: listed, with its preview
    if master.track_id is not None:
        track = Track.objects.get(pk=master.track_id)
        changes: dict[str, Any] = {"duration_seconds": master.duration_seconds}
        bpm = master.bpm_estimate
        if track.tempo_bpm is None and bpm is not None and 20 <= round(bpm) <= 300:
            changes["tempo_bpm"] = round(bpm)
        catalogue.track_update(actor=None, track=track, **changes)
    return master


def _rendition_save(
    master: Master, spec: pipeline.RenditionSpec, key: str, encoded: pipeline.Encoded
) -> Rendition:
    rendition, _created = Rendition.objects.update_or_create(
        master=master,
        kind=spec.kind,
        defaults={
            "storage_key": key,
            "mime_type": spec.mime_type,
            "bitrate": encoded.bitrate,
            "size_bytes": encoded.size_bytes,
            "duration_seconds": encoded.duration_seconds,
            "sha256": encoded.sha256,
        },
    )
    return rendition


@transaction.atomic
def _fail(*, master_id: int, reason: str, refused: bool) -> Master | None:
    master = Master.objects.select_for_update().filter(pk=master_id).first()
    if master is None:
        return None
    master.renditions.all().delete()
    _delete_keys(_rendition_keys(master))
    if refused:
        _delete_keys([master.storage_key])
        master.storage_key = ""
        if master.owns_track and master.track_id is not None:
            track_id = master.track_id
            master.track = None
            master.save(update_fields=["track"])
            Track.objects.filter(pk=track_id).delete()
    master.status = Master.Status.FAILED
    master.failure_reason = reason
    master.finished_at = clock.now()
    master.save()
    return master


def master_fail_stuck() -> int:
    """Fails every master PROCESSING with no heartbeat for STUCK_AFTER; returns how many."""
    cutoff = clock.now() - STUCK_AFTER
    stuck = list(
        Master.objects.filter(status=Master.Status.PROCESSING, heartbeat_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    failed = 0
    for master_id in stuck:
        with transaction.atomic():
            still = Master.objects.select_for_update().filter(
                pk=master_id, status=Master.Status.PROCESSING, heartbeat_at__lt=cutoff
            )
            if still.exists():
                _fail(master_id=master_id, reason=STUCK_REASON, refused=False)
                failed += 1
    return failed


@refusals_audited("media.master_retry")
@transaction.atomic
def master_retry(*, actor: Actor | None, master_id: int) -> Master:
    """Queues a failed master's ingest again, when its file is still stored."""
    if actor is not None:
        staff_require(actor=actor, may=staff_may_manage_catalogue)
    master = Master.objects.select_for_update().filter(pk=master_id).first()
    if master is None:
        raise DomainError(_("There is no such master."), code="not_found")
    if master.status != Master.Status.FAILED:
        raise DomainError(_("Only a failed master can be retried."), code="not_failed")
    if not master.storage_key or not default_storage.exists(master.storage_key):
        raise DomainError(
            _("The file was refused and removed; upload a corrected file instead."),
            code="master_gone",
        )
    master.status = Master.Status.UPLOADED
    master.failure_reason = ""
    master.step = ""
    master.progress = 0
    master.started_at = master.heartbeat_at = master.finished_at = None
    master.save()
    from backgroundmusic.media import tasks

    tasks.ingest_master.enqueue(master_id=master.pk)
    return master


def master_lossless_add(*, master_id: int) -> Rendition | None:
    """Makes the lossless rendition of a ready master ingested before there was one, and
    returns it (or the one it has already). None when the master is not ready or is lossy
    (`pipeline.lossless_format`). The file is encoded outside any transaction; the row is
    written in one, once the master is found still ready. Running it again changes nothing."""
    master = Master.objects.filter(pk=master_id, status=Master.Status.READY).first()
    if master is None:
        return None
    existing = master.renditions.filter(kind=Rendition.Kind.FLAC).first()
    if existing is not None:
        return existing
    if not master.storage_key or not default_storage.exists(master.storage_key):
        raise DomainError(_("The master file is missing from storage."), code="master_gone")
    spec = pipeline.LOSSLESS
    with (
        _local_copy(master.storage_key) as path,
        tempfile.TemporaryDirectory(prefix="renditions-") as workdir,
    ):
        # A stored master was accepted under the length limit of its day.
        target = pipeline.lossless_format(pipeline.probe(path, max_seconds=math.inf))
        if target is None:
            return None
        local = Path(workdir) / f"{spec.kind}.{spec.extension}"
        encoded = pipeline.encode_lossless(path, local, target=target)
        key = _rendition_store(master, spec, local)
    with transaction.atomic():
        still = (
            Master.objects.select_for_update()
            .filter(pk=master_id, status=Master.Status.READY)
            .first()
        )
        if still is None:
            _delete_keys([key])
            return None
        return _rendition_save(still, spec, key, encoded)
