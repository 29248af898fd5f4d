"""Audio files hold no personal data; the id of the staff member who uploaded a master does, and
so does who downloaded which rendition when."""

from backgroundmusic.privacy.kernel.registry import (
    Category,
    Clock,
    Erasure,
    ErasureSubject,
    LegalBasis,
    PersonalData,
    Purpose,
    Retentions,
    Source,
    Subjects,
    data_map,
    declare,
)

declare(
    "media.Master",
    subject="",
    subjects=(Subjects.STAFF,),
    personal={
        "uploaded_by_id": PersonalData(
            category=Category.STAFF_ACTIONS,
            purpose=Purpose.CONTRACT,
            legal_basis=LegalBasis.LEGITIMATE_INTEREST,
            retention=Retentions.STAFF_AUDIT,
            erasure=Erasure.NULL,
            exportable=False,
            source=Source.GENERATED,
        )
    },
    not_personal=[
        "id",
        "track",
        "sha256",
        "storage_key",
        "source_name",
        "owns_track",
        "container",
        "codec",
        "size_bytes",
        "sample_rate",
        "channels",
        "bit_depth",
        "duration_seconds",
        "status",
        "step",
        "progress",
        "failure_reason",
        "uploaded_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "integrated_lufs",
        "loudness_range_lu",
        "true_peak_dbtp",
        "cue_in_seconds",
        "cue_out_seconds",
        "bpm_estimate",
        "waveform_peaks",
    ],
    clock=Clock(field="uploaded_at"),
    note="A staff member's id on the masters they uploaded; emptied if they are erased, and a "
    "year after the upload.",
)
declare(
    "media.Rendition",
    subject="",
    not_personal=[
        "id",
        "master",
        "kind",
        "storage_key",
        "mime_type",
        "bitrate",
        "size_bytes",
        "duration_seconds",
        "sha256",
        "created_at",
    ],
)
declare(
    "media.Download",
    subject="user",
    subjects=(Subjects.CUSTOMERS,),
    personal={
        "user": PersonalData(
            category=Category.CONTRACT,
            purpose=Purpose.CONTRACT,
            legal_basis=LegalBasis.CONTRACT,
            retention=Retentions.DOWNLOADS,
            erasure=Erasure.NULL,
            source=Source.GENERATED,
        )
    },
    not_personal=["id", "track", "rendition", "kind", "token_sha256", "at"],
    clock=Clock(field="at"),
    note="Which file a person downloaded and when, under a licence; the person is emptied on "
    "erasure and three years after the download, and the row then only counts a download.",
)


def erase_uploader(*, subject: ErasureSubject) -> dict[str, int]:
    """The masters a staff member uploaded stay in the catalogue, no longer naming them."""
    from backgroundmusic.media.models import Master

    emptied = Master.objects.filter(uploaded_by_id=subject.subject_id).update(uploaded_by_id=None)
    return {"media.Master": emptied} if emptied else {}


data_map.register_eraser(
    "media: uploader of masters", erase_uploader, order=67, models=["media.Master"]
)
