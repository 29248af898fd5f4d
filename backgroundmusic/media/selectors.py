"""Reads of the media app that carry a rule."""

from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from backgroundmusic.audit.refusals import refusals_audited
from backgroundmusic.catalog.models import Track
from backgroundmusic.media import pipeline
from backgroundmusic.media.models import Master, Rendition
from backgroundmusic.staffroles.selectors import Actor, staff_may_manage_catalogue, staff_require


def ready_master_for(*, track: Track) -> Master | None:
    """The track's master when ingest finished; None while it is processing or failed."""
    return Master.objects.filter(track=track, status=Master.Status.READY).first()


def rendition_for(*, track: Track, kind: str) -> Rendition | None:
    """One rendition (Rendition.Kind) of the track's ready master, or None."""
    return (
        Rendition.objects.select_related("master")
        .filter(master__track=track, master__status=Master.Status.READY, kind=kind)
        .first()
    )


@refusals_audited("media.masters_for_staff")
def masters_for_staff(*, actor: Actor) -> QuerySet[Master]:
    """Every master, newest first, for the staff masters page."""
    staff_require(actor=actor, may=staff_may_manage_catalogue)
    return Master.objects.select_related("track").defer("waveform_peaks")


def masters_in_progress(*, masters: QuerySet[Master]) -> bool:
    return masters.filter(status__in=[Master.Status.UPLOADED, Master.Status.PROCESSING]).exists()


def masters_missing_lossless() -> QuerySet[Master]:
    """Ready masters of a lossless codec without their lossless rendition (ingested before it
    existed), oldest first: what `manage.py add_lossless_renditions` makes."""
    lossless_codec = reduce(
        or_, (Q(codec__startswith=prefix) for prefix in pipeline.LOSSLESS_CODECS)
    )
    return (
        Master.objects.filter(lossless_codec, status=Master.Status.READY)
        .exclude(renditions__kind=Rendition.Kind.FLAC)
        .select_related("track")
        .defer("waveform_peaks")
        .order_by("pk")
    )
