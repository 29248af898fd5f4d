"""Download my data: the archive (the access package, package.py), sealed with the person's
data key, and the services and selectors that request, build, download and destroy it."""

import hashlib
import json
import logging
import os
import secrets
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.http import site_address
from backgroundmusic.core.mail import job_message_id
from backgroundmusic.privacy.kernel import crypto, keys
from backgroundmusic.privacy.kernel.holds import held_left, held_record_ids, unheld
from backgroundmusic.privacy.kernel.registry import Retentions
from backgroundmusic.privacy.models import DataExport
from backgroundmusic.privacy.rights.erasure import erasure_pending
from backgroundmusic.privacy.rights.package import PackageInvalid, access_package, package_validate
from backgroundmusic.privacy.rights.rows import Person, person_model

logger = logging.getLogger(__name__)

EXPORT_LINK_LIFETIME = timedelta(days=Retentions.EXPORT_FILE.days)
EXPORT_STORAGE_DIR = "privacy-exports"
_EXPORT_FILE_MAGIC = b"BMX1"  # sealed export file: magic | data key id (8 bytes) | nonce | data
_TOKEN_MAX_LENGTH = 100


def export_archive(*, subject_id: int, generated_at: datetime) -> bytes:
    """The ZIP the person downloads, in the current language: data.json (for programs, valid
    against the package's schema), one CSV per section (for spreadsheets) and index.html (to
    read; no external resources). Raises PackageInvalid when data.json breaks the schema."""
    package = access_package(subject_id=subject_id, generated_at=generated_at)
    document = package.document()
    package_validate(document)
    index = render_to_string("privacy/export_index.html", {"package": package})
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "data.json",
            json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        )
        for name, content in package.csv_files().items():
            archive.writestr(name, content)
        archive.writestr("index.html", index)
    return buffer.getvalue()


def _seal_export_file(content: bytes, *, subject_id: int, export_id: int) -> bytes:
    key_id, data_key = keys.data_key_for_subject(subject_id=subject_id)
    nonce = os.urandom(crypto.NONCE_BYTES)
    sealed = AESGCM(data_key).encrypt(nonce, content, f"data-export:{export_id}".encode())
    return _EXPORT_FILE_MAGIC + key_id.to_bytes(8, "big") + nonce + sealed


def _open_export_file(blob: bytes, *, subject_id: int, export_id: int) -> bytes:
    """Raises crypto.DataKeyDestroyed after erasure and CiphertextInvalid for a foreign file."""
    if not blob.startswith(_EXPORT_FILE_MAGIC):
        raise crypto.CiphertextInvalid("not a sealed export file")
    head = len(_EXPORT_FILE_MAGIC)
    key_id = int.from_bytes(blob[head : head + 8], "big")
    nonce = blob[head + 8 : head + 8 + crypto.NONCE_BYTES]
    owner, data_key = keys.data_key_open_with_owner(key_id=key_id)
    if owner != subject_id:
        raise crypto.CiphertextInvalid("the export file was sealed for another person")
    try:
        return AESGCM(data_key).decrypt(
            nonce, blob[head + 8 + crypto.NONCE_BYTES :], f"data-export:{export_id}".encode()
        )
    except InvalidTag as exc:
        raise crypto.CiphertextInvalid("export file failed authentication") from exc


def _new_storage_name() -> str:
    """Random, so the name says nothing about the person."""
    return f"{EXPORT_STORAGE_DIR}/{secrets.token_hex(16)}.bin"


def _storage_delete(name: str) -> int:
    if name and default_storage.exists(name):
        default_storage.delete(name)
        return 1
    return 0


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ExportNotFound(DomainError):
    code = "export_not_found"


class ExportGone(DomainError):
    """The export existed for this person but cannot be downloaded any more (410)."""

    code = "export_gone"


def _language(language: str) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def _subject_is_active(subject_id: int) -> bool:
    return person_model()._default_manager.filter(pk=subject_id, is_active=True).exists()


@transaction.atomic
def export_request(
    *, subject: Person, method: str = "preference_center", site_url: str = "", language: str = ""
) -> DataExport:
    """Queues a ZIP of everything we hold about the person and the job that builds it.

    method: how the person asked (a ConsentMethod value, e.g. "staff" for a request received by
    e-mail or letter). site_url: scheme and host for the link in the e-mail (the request's);
    without it, the first CSRF_TRUSTED_ORIGINS entry. While one export is being prepared,
    asking again returns that one.
    """
    from backgroundmusic.privacy import tasks

    if subject is None or getattr(subject, "pk", None) is None:
        raise DomainError(_("There is no account to export."), code="no_subject")
    if erasure_pending(subject_id=subject.pk):
        raise DomainError(
            _("This account is being deleted: its data can no longer be exported."),
            code="erasure_pending",
        )
    if not _subject_is_active(subject.pk):
        raise DomainError(
            _("This account is closed: its data can no longer be exported."),
            code="account_closed",
        )
    pending = (
        DataExport.objects.select_for_update()
        .filter(
            subject_id=subject.pk,
            status__in=[DataExport.Status.QUEUED, DataExport.Status.BUILDING],
        )
        .first()
    )
    if pending is not None:
        return pending
    export = DataExport.objects.create(subject_id=subject.pk, requested_at=clock.now())
    tasks.build_data_export.enqueue(
        export_id=export.pk,
        site_url=site_address(site_url=site_url),
        language=_language(language),
        method=str(method),
    )
    return export


def export_build(
    *, export_id: int, site_url: str = "", language: str = "", method: str = ""
) -> DataExport | None:
    """Builds, seals and stores the archive, then e-mails the single-use link.

    Idempotent: a finished export is left alone; a run killed mid-way is run again from the
    start over the same storage name, so no orphan file is left behind.
    """
    with transaction.atomic():
        export = DataExport.objects.select_for_update().filter(pk=export_id).first()
        if export is None or export.status not in (
            DataExport.Status.QUEUED,
            DataExport.Status.BUILDING,
        ):
            return export
        if not _subject_is_active(export.subject_id) or erasure_pending(
            subject_id=export.subject_id
        ):
            export.status = DataExport.Status.FAILED
            export.failure_reason = "account closed"
            export.save(update_fields=["status", "failure_reason"])
            return export
        export.status = DataExport.Status.BUILDING
        export.file_name = export.file_name or _new_storage_name()
        export.save(update_fields=["status", "file_name"])
    name = export.file_name
    try:
        with translation.override(_language(language)):
            archive = export_archive(subject_id=export.subject_id, generated_at=clock.now())
            blob = _seal_export_file(archive, subject_id=export.subject_id, export_id=export.pk)
            _storage_delete(name)
            stored = default_storage.save(name, ContentFile(blob))
            token = secrets.token_urlsafe(32)
            with transaction.atomic():
                current = DataExport.objects.select_for_update().filter(pk=export_id).first()
                if current is None or current.status != DataExport.Status.BUILDING:
                    # Erased or finished meanwhile: this copy must not stay behind.
                    _storage_delete(stored)
                    return current
                now = clock.now()
                current.status = DataExport.Status.READY
                current.file_name = stored
                current.ready_at = now
                current.expires_at = now + EXPORT_LINK_LIFETIME
                current.token_hash = token_hash(token)
                current.size_bytes = len(blob)
                current.save()
                _send_export_ready(export=current, token=token, site_url=site_url, method=method)
                return current
    except PackageInvalid as invalid:
        # Refused, not sent: a package that breaks its documented format is a bug to fix.
        logger.error("data export #%s: the package breaks its schema: %s", export_id, invalid)
        with transaction.atomic():
            DataExport.objects.filter(pk=export_id, status=DataExport.Status.BUILDING).update(
                status=DataExport.Status.FAILED, failure_reason="package failed validation"
            )
        _storage_delete(name)
        return DataExport.objects.filter(pk=export_id).first()
    except Exception:
        logger.exception("data export #%s failed", export_id)
        with transaction.atomic():
            DataExport.objects.filter(pk=export_id, status=DataExport.Status.BUILDING).update(
                status=DataExport.Status.FAILED, failure_reason="internal error"
            )
        _storage_delete(name)
        raise


def _send_export_ready(*, export: DataExport, token: str, site_url: str, method: str) -> None:
    user_model = person_model()
    user = user_model._default_manager.filter(pk=export.subject_id).first()
    address = getattr(user, user_model.get_email_field_name(), "") if user else ""
    if not address:
        return
    context = {
        "link": site_address(reverse("privacy:export_download", args=[token]), site_url=site_url),
        "expires_at": export.expires_at,
        "by_staff": method == "staff",
    }
    EmailMessage(
        subject=render_to_string("privacy/export_email_subject.txt", context).strip(),
        body=render_to_string("privacy/export_email.txt", context),
        to=[address],
        headers=job_message_id("data-export", export.pk),
    ).send()


@dataclass(frozen=True)
class ExportDownload:
    filename: str
    content: bytes


def _gone_message(export: DataExport) -> str:
    if export.status == DataExport.Status.DOWNLOADED:
        return _(
            "This download link was already used: each link works once. "
            "Ask for a new download in the privacy center."
        )
    if export.status in (DataExport.Status.QUEUED, DataExport.Status.BUILDING):
        return _("Your data is still being prepared. We will e-mail you when it is ready.")
    if export.status == DataExport.Status.FAILED:
        return _(
            "We could not prepare this download. Ask for a new download in the privacy center."
        )
    return _(
        "This download link has expired: links work for 7 days. "
        "Ask for a new download in the privacy center."
    )


@transaction.atomic
def export_download(
    *, subject: Person, token: str | None = None, export_id: int | None = None
) -> ExportDownload:
    """The person's archive, opened once: by the token of the e-mailed link or by its id from the
    privacy center. Marks it downloaded and deletes the stored file when the transaction commits.

    ExportNotFound when no export of this person matches (someone else's token, a made-up one);
    ExportGone when it was already downloaded, has expired or is not ready.
    """
    exports = DataExport.objects.select_for_update().filter(subject_id=subject.pk)
    if token is not None:
        if not token or len(token) > _TOKEN_MAX_LENGTH:
            raise ExportNotFound(_("There is no such download."))
        exports = exports.filter(token_hash=token_hash(token))
    elif export_id is not None:
        exports = exports.filter(pk=export_id)
    else:
        raise ExportNotFound(_("There is no such download."))
    export = exports.first()
    if export is None:
        raise ExportNotFound(_("There is no such download."))
    now = clock.now()
    if (
        export.status != DataExport.Status.READY
        or export.expires_at is None
        or export.expires_at <= now
    ):
        raise ExportGone(_gone_message(export))
    try:
        with default_storage.open(export.file_name, "rb") as stored:
            blob = stored.read()
        content = _open_export_file(blob, subject_id=subject.pk, export_id=export.pk)
    except (FileNotFoundError, crypto.CiphertextInvalid, crypto.DataKeyDestroyed):
        logger.warning("data export #%s: the stored file cannot be opened", export.pk)
        raise ExportGone(
            _("This download is no longer available. Ask for a new one in the privacy center.")
        ) from None
    export.status = DataExport.Status.DOWNLOADED
    export.downloaded_at = now
    export.save(update_fields=["status", "downloaded_at"])
    name = export.file_name
    transaction.on_commit(lambda: _storage_delete(name))
    return ExportDownload(
        filename=f"backgroundmusic-data-{export.requested_at:%Y-%m-%d}.zip", content=content
    )


@dataclass(frozen=True)
class ExportState:
    export: DataExport
    state: str  # queued | building | ready | downloaded | expired | failed
    label: str

    @property
    def downloadable(self) -> bool:
        return self.state == "ready"


def exports_of(*, subject: Person, limit: int = 5) -> list[ExportState]:
    """The person's latest exports with what the privacy center shows for each."""
    now = clock.now()
    states = []
    for export in DataExport.objects.filter(subject_id=subject.pk).order_by("-requested_at")[
        :limit
    ]:
        state = str(export.status)
        if state == DataExport.Status.READY and (
            export.expires_at is None or export.expires_at <= now
        ):
            state = DataExport.Status.EXPIRED
        states.append(
            ExportState(export=export, state=state, label=str(DataExport.Status(state).label))
        )
    return states


def exports_destroy(
    *, subject_id: int | None = None, expired_before: datetime | None = None
) -> dict[str, int]:
    """Deletes export rows and their files: every one of a person, or those past their link's
    life, except those a legal hold keeps (the rows and files are reported as held). Files are
    deleted before rows, so a run stopped half-way leaves no file unnamed."""
    exports = DataExport.objects.all()
    if subject_id is not None:
        exports = exports.filter(subject_id=subject_id)
    if expired_before is not None:
        never_ready = models.Q(expires_at__isnull=True) & models.Q(
            requested_at__lt=expired_before - EXPORT_LINK_LIFETIME
        )
        exports = exports.filter(models.Q(expires_at__lt=expired_before) | never_ready)
    held = held_record_ids(DataExport._meta.label)
    if held:
        held_left("export files", exports.filter(pk__in=held).exclude(file_name="").count())
    exports = unheld(exports)
    files = 0
    ids = []
    for export in exports.only("pk", "file_name"):
        files += _storage_delete(export.file_name)
        ids.append(export.pk)
    deleted, _counts = DataExport.objects.filter(pk__in=ids).delete()
    counts = {"privacy.DataExport": deleted, "export files": files}
    return {label: count for label, count in counts.items() if count}
