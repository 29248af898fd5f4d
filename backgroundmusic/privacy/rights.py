"""The person's rights over their data: see what we hold, download it, erase it.

Everything here is driven by the data map (registry.py) and imports no other app of the project:
the generic code walks every declared model that has a subject path, and apps add what no
subject path finds through handlers they register in their own privacy.py (exporters, erasers,
cache keys). The person is the user model (`get_user_model()`), named by id.

- The data we hold: `data_held` counts, per data category, the person's rows and names the
  fields and why we hold them.
- Download my data: `export_request` → task `build_data_export` → `export_build` writes a ZIP
  (data.json + index.html) sealed with the person's data key under a random storage name and
  e-mails a single-use link → `export_download` opens it once, then deletes the file.
- Delete my account: `erasure_request` → task `erase_account` → `erasure_run` runs every step of
  `erasure_steps()` in order, each in its own transaction and recorded in
  ErasureJob.completed_steps, so a killed run started again finishes without redoing a step; the
  last transaction writes one DestructionRecord (docs/decisions/0005-erasure.md).
"""

import email
import email.policy
import hashlib
import json
import logging
import os
import secrets
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import getaddresses
from functools import partial
from io import BytesIO
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models.deletion import Collector
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.privacy.kernel import crypto, keys
from backgroundmusic.privacy.kernel.pseudonyms import subject_pseudonym, username_digest
from backgroundmusic.privacy.kernel.registry import (
    DATA_CATEGORY_LABELS,
    LEGAL_BASIS_LABELS,
    PURPOSE_LABELS,
    Category,
    Erasure,
    ErasureSubject,
    ModelDeclaration,
    PersonalData,
    Retentions,
    data_map,
)
from backgroundmusic.privacy.models import (
    DataExport,
    DestructionRecord,
    ErasedProfileTombstone,
    ErasureJob,
)

logger = logging.getLogger(__name__)

# A user of the AUTH_USER_MODEL; typed loosely because the privacy app imports no other app.
Person = Any

EXPORT_FORMAT = "backgroundmusic.data-export/1"
EXPORT_LINK_LIFETIME = timedelta(days=Retentions.EXPORT_FILE.days)
EXPORT_STORAGE_DIR = "privacy-exports"
_EXPORT_FILE_MAGIC = b"BMX1"  # sealed export file: magic | data key id (8 bytes) | nonce | data
_TOKEN_MAX_LENGTH = 100

# Erasure: registered erasers take any order; the generic data-map steps run at DATA_MAP_ORDER
# (after the steps that still need the person's e-mail and username, before the data key goes),
# and the user row itself last.
DATA_MAP_ORDER = 500
DATA_KEY_ORDER = 800
USER_ROW_ORDER = 900
ERASURE_METHOD = "erasure"
SELF_SERVICE_REASON = "privacy center"
REASON_MAX_LENGTH = 64  # ErasureJob.reason and DestructionRecord.reason
# Stores that are not models, in destruction records: what they hold.
STORE_CATEGORIES = {
    "mail outbox": [Category.CONTACT_EMAIL.value],
    "export files": [Category.ACCOUNT_SETTINGS.value],
    "cache": [],
}


# ---------------------------------------------------------------------------------------------
# The data map, read generically


def _user_model() -> Any:
    """The user model (typed loosely: the privacy app knows only Django's auth contract)."""
    return get_user_model()


def _model_of(declaration: ModelDeclaration) -> type[models.Model]:
    return apps.get_model(declaration.label)


def _subject_rows(declaration: ModelDeclaration, subject_id: int) -> models.QuerySet[Any]:
    """The person's rows of a declared model, through its subject path.

    A plain QuerySet, not the model's manager: erasure must also remove or empty rows of
    append-only models, which leave only with their subject (core.models.AppendOnlyQuerySet).
    """
    model = _model_of(declaration)
    lookup = "pk" if declaration.subject == "pk" else declaration.subject
    return models.QuerySet(model=model).filter(**{lookup: subject_id})


def _declarations_with_subject() -> list[ModelDeclaration]:
    return [declaration for declaration in data_map.models.values() if declaration.subject]


def _covered_labels(handlers: Iterable[Any]) -> set[str]:
    return {label for handler in handlers for label in handler.models}


def subject_values(*, subject_id: int, category: Category) -> set[str]:
    """Every value of one data category held about the person in rows found by a subject path
    (e.g. each e-mail address: the account's and every allauth address)."""
    values: set[str] = set()
    for declaration in _declarations_with_subject():
        names = [n for n, data in declaration.personal.items() if data.category == category]
        if not names:
            continue
        for row in _subject_rows(declaration, subject_id).values_list(*names):
            values.update(str(value) for value in row if value)
    return values


def categories_of(labels: Iterable[str]) -> list[str]:
    """The data categories the data map declares for these models (and non-model stores)."""
    found: set[str] = set()
    for label in labels:
        declaration = data_map.models.get(label)
        if declaration is not None:
            found.update(data.category.value for data in declaration.personal.values())
        else:
            found.update(STORE_CATEGORIES.get(label, []))
    return sorted(found)


def _verbose(value: Any) -> str:
    return str(value) if value else ""


# ---------------------------------------------------------------------------------------------
# The data we hold, by category (privacy center)


@dataclass(frozen=True)
class HeldRecords:
    label: str
    title: str
    fields: list[str]
    count: int


@dataclass
class HeldCategory:
    category: str
    label: str
    purposes: list[str] = field(default_factory=list)
    legal_bases: list[str] = field(default_factory=list)
    retention: list[str] = field(default_factory=list)
    records: list[HeldRecords] = field(default_factory=list)


def _exported_rows(subject_id: int) -> dict[str, list[models.Model]]:
    """Rows the registered exporters find for the person (those no subject path leads to)."""
    rows: dict[str, list[models.Model]] = {}
    for handler in sorted(data_map.exporters.values(), key=lambda h: h.order):
        for label, found in handler.run(subject_id=subject_id).items():
            rows.setdefault(label, []).extend(found)
    return rows


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _held_values(subject_id: int) -> dict[str, tuple[int, set[str]]]:
    """Per declared model: how many rows of the person, and which personal fields hold a value
    in at least one of them."""
    held: dict[str, tuple[int, set[str]]] = {}
    covered = _covered_labels(data_map.exporters.values())
    for declaration in _declarations_with_subject():
        names = list(declaration.personal)
        if not names or declaration.label in covered:
            continue
        rows = list(_subject_rows(declaration, subject_id).values_list(*names))
        filled = {n for i, n in enumerate(names) if any(not _is_empty(r[i]) for r in rows)}
        held[declaration.label] = (len(rows), filled)
    for label, instances in _exported_rows(subject_id).items():
        declaration = data_map.models[label]
        model = _model_of(declaration)
        attnames = {
            n: getattr(model._meta.get_field(n), "attname", n) for n in declaration.personal
        }
        filled = {
            name
            for name, attname in attnames.items()
            if any(not _is_empty(getattr(row, attname)) for row in instances)
        }
        count, before = held.get(label, (0, set()))
        held[label] = (count + len(instances), before | filled)
    return held


def data_held(*, subject: Person) -> list[HeldCategory]:
    """What we hold about the person, per data category of the data map: in which records, how
    many, which fields hold a value, and why (purpose, legal basis, retention)."""
    held: dict[str, HeldCategory] = {}
    for label, (count, filled) in _held_values(subject.pk).items():
        if not count:
            continue
        declaration = data_map.models[label]
        model = _model_of(declaration)
        by_category: dict[str, list[str]] = {}
        for name, data in declaration.personal.items():
            if name not in filled:
                continue
            entry = held.setdefault(
                data.category.value,
                HeldCategory(
                    category=data.category.value,
                    label=_verbose(DATA_CATEGORY_LABELS.get(data.category)) or data.category.value,
                ),
            )
            for bucket, text in (
                (entry.purposes, _verbose(PURPOSE_LABELS.get(data.purpose))),
                (entry.legal_bases, _verbose(LEGAL_BASIS_LABELS.get(data.legal_basis))),
                (entry.retention, str(data.retention)),
            ):
                if text and text not in bucket:
                    bucket.append(text)
            by_category.setdefault(data.category.value, []).append(
                _verbose(getattr(model._meta.get_field(name), "verbose_name", name))
            )
        for category, field_names in by_category.items():
            held[category].records.append(
                HeldRecords(
                    label=label,
                    title=_verbose(model._meta.verbose_name_plural),
                    fields=field_names,
                    count=count,
                )
            )
    return list(held.values())


# ---------------------------------------------------------------------------------------------
# Download my data: the archive


@dataclass(frozen=True)
class ExportColumn:
    name: str
    title: str
    data: PersonalData | None  # None: not personal data, carried for context

    @property
    def category_label(self) -> str:
        return _verbose(DATA_CATEGORY_LABELS.get(self.data.category)) if self.data else ""

    def describe(self) -> dict[str, Any]:
        """The field in data.json: its title and, for personal data, what the data map says."""
        described: dict[str, Any] = {"title": self.title, "personal": self.data is not None}
        if self.data is not None:
            described |= {
                "category": self.data.category.value,
                "purpose": self.data.purpose.value,
                "legal_basis": self.data.legal_basis.value,
                "retention": str(self.data.retention),
            }
        return described


@dataclass(frozen=True)
class ExportSection:
    label: str
    title: str
    columns: list[ExportColumn]
    rows: list[dict[str, Any]]

    def _labels(self, labels: Mapping[Any, Any], attribute: str) -> list[str]:
        found: list[str] = []
        for column in self.columns:
            if column.data is not None:
                text = _verbose(labels.get(getattr(column.data, attribute)))
                if text and text not in found:
                    found.append(text)
        return found

    def purposes(self) -> list[str]:
        return self._labels(PURPOSE_LABELS, "purpose")

    def legal_bases(self) -> list[str]:
        return self._labels(LEGAL_BASIS_LABELS, "legal_basis")

    def retention(self) -> list[str]:
        found: list[str] = []
        for column in self.columns:
            if column.data is not None and str(column.data.retention) not in found:
                found.append(str(column.data.retention))
        return found

    def cells(self) -> list[list[str]]:
        """Rows as display strings in column order (for index.html)."""
        return [[_display(row.get(column.name)) for column in self.columns] for row in self.rows]


def _display(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)


def _export_field_names(declaration: ModelDeclaration) -> list[str]:
    """The fields an export carries: exportable personal fields, and the row's other fields for
    context (accounts/privacy.py); none when the model has no exportable personal field."""
    if not any(data.exportable for data in declaration.personal.values()):
        return []
    allowed = {n for n, data in declaration.personal.items() if data.exportable}
    allowed |= set(declaration.not_personal)
    model = _model_of(declaration)
    pk_name = model._meta.pk.name if model._meta.pk else ""
    fields = (*model._meta.concrete_fields, *model._meta.many_to_many)
    return [f.name for f in fields if f.name in allowed and f.name != pk_name]


def _export_section(declaration: ModelDeclaration, rows: Iterable[models.Model]) -> ExportSection:
    model = _model_of(declaration)
    names = _export_field_names(declaration)
    columns = [
        ExportColumn(
            name=name,
            title=_verbose(getattr(model._meta.get_field(name), "verbose_name", name)),
            data=declaration.personal.get(name),
        )
        for name in names
    ]
    serialized = serializers.serialize("python", rows, fields=names)
    plain = json.loads(json.dumps(serialized, cls=DjangoJSONEncoder))
    return ExportSection(
        label=declaration.label,
        title=_verbose(model._meta.verbose_name_plural),
        columns=[ExportColumn(name="id", title="id", data=None), *columns],
        rows=[{"id": item["pk"], **item["fields"]} for item in plain],
    )


def export_sections(*, subject_id: int) -> list[ExportSection]:
    """Every exportable field of every declared model about the person: rows found by subject
    paths, then the rows registered exporters find. Models without rows are left out."""
    covered = _covered_labels(data_map.exporters.values())
    sections = []
    for declaration in _declarations_with_subject():
        if declaration.label in covered or not _export_field_names(declaration):
            continue
        found = _subject_rows(declaration, subject_id).order_by("pk")
        if found.exists():
            sections.append(_export_section(declaration, found))
    for label, rows in _exported_rows(subject_id).items():
        declaration = data_map.models[label]
        if rows and _export_field_names(declaration):
            sections.append(_export_section(declaration, rows))
    return sections


def export_archive(*, subject_id: int, generated_at: datetime) -> bytes:
    """The ZIP the person downloads: data.json (machine-readable) and index.html (readable, no
    external resources)."""
    sections = export_sections(subject_id=subject_id)
    document = {
        "format": EXPORT_FORMAT,
        "generated_at": generated_at.isoformat(),
        "subject_id": subject_id,
        "records": {
            section.label: {
                "title": section.title,
                "fields": {column.name: column.describe() for column in section.columns},
                "rows": section.rows,
            }
            for section in sections
        },
    }
    index = render_to_string(
        "privacy/export_index.html",
        {"sections": sections, "generated_at": generated_at, "subject_id": subject_id},
    )
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "data.json",
            json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        )
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


# ---------------------------------------------------------------------------------------------
# Download my data: services and selectors


class ExportNotFound(DomainError):
    code = "export_not_found"


class ExportGone(DomainError):
    """The export existed for this person but cannot be downloaded any more (410)."""

    code = "export_gone"


def _site_url(site_url: str) -> str:
    if site_url:
        return site_url.rstrip("/")
    return str(settings.SITE_URL).rstrip("/")


def _language(language: str) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def _subject_is_active(subject_id: int) -> bool:
    return _user_model()._default_manager.filter(pk=subject_id, is_active=True).exists()


def erasure_pending(*, subject_id: int) -> bool:
    return ErasureJob.objects.filter(subject_id=subject_id).exists()


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
        site_url=_site_url(site_url),
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
    except Exception:
        logger.exception("data export #%s failed", export_id)
        with transaction.atomic():
            DataExport.objects.filter(pk=export_id, status=DataExport.Status.BUILDING).update(
                status=DataExport.Status.FAILED, failure_reason="internal error"
            )
        _storage_delete(name)
        raise


def _send_export_ready(*, export: DataExport, token: str, site_url: str, method: str) -> None:
    user_model = _user_model()
    user = user_model._default_manager.filter(pk=export.subject_id).first()
    address = getattr(user, user_model.get_email_field_name(), "") if user else ""
    if not address:
        return
    context = {
        "link": _site_url(site_url) + reverse("privacy:export_download", args=[token]),
        "expires_at": export.expires_at,
        "by_staff": method == "staff",
    }
    send_mail(
        subject=render_to_string("privacy/export_email_subject.txt", context).strip(),
        message=render_to_string("privacy/export_email.txt", context),
        from_email=None,
        recipient_list=[address],
    )


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
    life. Files are deleted before rows, so a run stopped half-way leaves no file unnamed."""
    exports = DataExport.objects.all()
    if subject_id is not None:
        exports = exports.filter(subject_id=subject_id)
    if expired_before is not None:
        never_ready = models.Q(expires_at__isnull=True) & models.Q(
            requested_at__lt=expired_before - EXPORT_LINK_LIFETIME
        )
        exports = exports.filter(models.Q(expires_at__lt=expired_before) | never_ready)
    files = 0
    ids = []
    for export in exports.only("pk", "file_name"):
        files += _storage_delete(export.file_name)
        ids.append(export.pk)
    deleted, _counts = DataExport.objects.filter(pk__in=ids).delete()
    counts = {"privacy.DataExport": deleted, "export files": files}
    return {label: count for label, count in counts.items() if count}


# ---------------------------------------------------------------------------------------------
# Delete my account


def profile_was_erased(*, username: str) -> bool:
    """Whether /u/<username>/ belonged to an erased account (and nobody holds the name now)."""
    user_model = _user_model()
    if user_model._default_manager.filter(
        **{f"{user_model.USERNAME_FIELD}__iexact": username}
    ).exists():
        return False
    return ErasedProfileTombstone.objects.filter(
        username_digest=username_digest(username=username)
    ).exists()


def erasure_of(*, subject: Person) -> ErasureJob | None:
    return ErasureJob.objects.filter(subject_id=subject.pk).order_by("-requested_at").first()


@transaction.atomic
def erasure_request(*, subject: Person, reason: str = SELF_SERVICE_REASON) -> ErasureJob:
    """Queues the erasure of the person's account and the job that runs it.

    reason: why, as written in the destruction record ("privacy center", "request #12",
    "retention: unverified sign-up"): never personal data, at most 64 characters. Asking again
    returns the job already asked for (queued, running or done).
    """
    from backgroundmusic.privacy import tasks

    if subject is None or getattr(subject, "pk", None) is None:
        raise DomainError(_("There is no account to delete."), code="no_subject")
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX_LENGTH:
        raise DomainError(_("Give a short reason for the erasure."), code="reason_invalid")
    existing = (
        ErasureJob.objects.select_for_update()
        .filter(subject_id=subject.pk)
        .order_by("-requested_at")
        .first()
    )
    if existing is not None:
        return existing
    job = ErasureJob.objects.create(
        subject_id=subject.pk,
        subject_pseudonym=subject_pseudonym(subject_id=subject.pk),
        reason=reason,
        requested_at=clock.now(),
    )
    tasks.erase_account.enqueue(job_id=job.pk)
    return job


@dataclass(frozen=True)
class ErasureStep:
    name: str
    order: int
    run: Callable[..., Mapping[str, int]]


def erasure_steps() -> list[ErasureStep]:
    """Every step of an erasure in the order it runs: the registered erasers by their order,
    one generic step per declared model with a subject path that no eraser covers (at
    DATA_MAP_ORDER, in declaration order), and the user row last."""
    handlers = list(data_map.erasers.values())
    covered = _covered_labels(handlers)
    steps = [ErasureStep(name=h.name, order=h.order, run=h.run) for h in handlers]
    for declaration in _declarations_with_subject():
        if declaration.label in covered or not _erasure_changes(declaration):
            continue
        steps.append(
            ErasureStep(
                name=f"data map: {declaration.label}",
                order=USER_ROW_ORDER if declaration.subject == "pk" else DATA_MAP_ORDER,
                run=partial(_erase_declared, declaration),
            )
        )
    return sorted(steps, key=lambda step: step.order)


def _erasure_changes(declaration: ModelDeclaration) -> set[Erasure]:
    return {data.erasure for data in declaration.personal.values()} - {Erasure.KEEP_FOR_LAW}


def erased_value(model: type[models.Model], name: str, erasure: Erasure, pseudonym: str) -> Any:
    """What an erased field holds afterwards: empty (NULL when the column allows it, else "")
    or the pseudonym."""
    model_field = model._meta.get_field(name)
    if erasure == Erasure.PSEUDONYMIZE:
        return pseudonym
    if getattr(model_field, "null", False):
        return None
    if isinstance(model_field, models.CharField | models.TextField):
        return ""
    raise ImproperlyConfigured(
        f"{model._meta.label}.{name}: Erasure.NULL needs a nullable column or a text column"
    )


def delete_rows(rows: models.QuerySet[Any]) -> dict[str, int]:
    """Deletes rows with Django's collector (cascades included) and returns counts per model.

    The collector deletes by primary key without going through QuerySet.delete(), so rows of
    append-only models leave with their subject; only primary keys are loaded, so sealed values
    are never opened.
    """
    rows = rows.only(rows.model._meta.pk.name)
    collector = Collector(using=rows.db, origin=rows)
    collector.collect(rows)  # type: ignore[arg-type]  # a QuerySet is what Django passes too
    _total, counts = collector.delete()
    return {label: count for label, count in counts.items() if count}


def _erase_declared(declaration: ModelDeclaration, *, subject: ErasureSubject) -> dict[str, int]:
    """The data map's own erasure of one model: rows with a DELETE field go; otherwise fields
    marked NULL are emptied and PSEUDONYMIZE fields get the pseudonym; KEEP_FOR_LAW stays."""
    rows = _subject_rows(declaration, subject.subject_id)
    strategies = {name: data.erasure for name, data in declaration.personal.items()}
    if Erasure.DELETE in strategies.values():
        return delete_rows(rows)
    model = _model_of(declaration)
    changes = {
        name: erased_value(model, name, erasure, subject.pseudonym)
        for name, erasure in strategies.items()
        if erasure in (Erasure.NULL, Erasure.PSEUDONYMIZE)
    }
    changed = rows.update(**changes) if changes else 0
    return {declaration.label: changed} if changed else {}


def _completed(job: ErasureJob) -> set[str]:
    return {entry["step"] for entry in job.completed_steps}


def erasure_completed_steps(*, job: ErasureJob) -> list[str]:
    """Names of the steps done so far, in the order they finished."""
    return [entry["step"] for entry in job.completed_steps]


def erasure_run(*, job_id: int) -> ErasureJob | None:
    """Runs the steps of an erasure job that are not done yet, each in its own transaction with
    its record in completed_steps; then writes the destruction record and marks the job done, in
    one transaction. Safe to run again at any point: done steps are skipped, a done job is left
    alone, and a step interrupted half-way rolls back and runs again."""
    job = ErasureJob.objects.filter(pk=job_id).first()
    if job is None or job.status == ErasureJob.Status.DONE:
        return job
    subject = ErasureSubject(
        subject_id=job.subject_id, pseudonym=job.subject_pseudonym, reason=job.reason
    )
    for step in erasure_steps():
        with transaction.atomic():
            locked = ErasureJob.objects.select_for_update().get(pk=job_id)
            if locked.status == ErasureJob.Status.DONE or step.name in _completed(locked):
                continue
            counts = {label: int(n) for label, n in step.run(subject=subject).items() if n}
            locked.completed_steps = [
                *locked.completed_steps,
                {"step": step.name, "counts": counts},
            ]
            locked.status = ErasureJob.Status.RUNNING
            locked.save(update_fields=["completed_steps", "status"])
    with transaction.atomic():
        locked = ErasureJob.objects.select_for_update().get(pk=job_id)
        if locked.status == ErasureJob.Status.DONE:
            return locked
        totals: Counter[str] = Counter()
        for entry in locked.completed_steps:
            totals.update(entry["counts"])
        now = clock.now()
        DestructionRecord.objects.create(
            subject_pseudonym=locked.subject_pseudonym,
            categories=categories_of(totals),
            counts=dict(sorted(totals.items())),
            method=ERASURE_METHOD,
            reason=locked.reason,
            at=now,
        )
        locked.status = ErasureJob.Status.DONE
        locked.finished_at = now
        locked.save(update_fields=["status", "finished_at"])
    logger.info("erasure job #%s done", job_id)
    return locked


def erasure_resume_stalled(*, older_than: timedelta = timedelta(hours=1)) -> int:
    """Enqueues again the erasure jobs not done an hour after they were asked for (a worker
    killed mid-way leaves its job behind); running one twice is harmless."""
    from backgroundmusic.privacy import tasks

    stalled = list(
        ErasureJob.objects.exclude(status=ErasureJob.Status.DONE)
        .filter(requested_at__lt=clock.now() - older_than)
        .values_list("pk", flat=True)
    )
    for job_id in stalled:
        tasks.erase_account.enqueue(job_id=job_id)
    return len(stalled)


# ---------------------------------------------------------------------------------------------
# The privacy app's own erasers and exporters (registered in privacy/privacy.py)


def erase_tombstone(*, subject: ErasureSubject) -> dict[str, int]:
    """Remembers a keyed digest of the username, so /u/<username>/ answers 410 Gone."""
    user_model = _user_model()
    username = (
        user_model._default_manager.filter(pk=subject.subject_id)
        .values_list(user_model.USERNAME_FIELD, flat=True)
        .first()
    )
    if username and username != subject.pseudonym:
        ErasedProfileTombstone.objects.get_or_create(
            username_digest=username_digest(username=username),
            defaults={"erased_at": clock.now()},
        )
    return {}


_MAIL_SEPARATOR = b"-" * 79 + b"\n"


def _mail_mentions(message: bytes, addresses: set[str]) -> bool:
    parsed = email.message_from_bytes(message, policy=email.policy.default)
    headers = [str(value) for name in ("To", "Cc", "Bcc") for value in parsed.get_all(name, [])]
    if {address.lower() for _name, address in getaddresses(headers)} & addresses:
        return True
    texts = [message.decode("utf-8", "replace")]
    for part in parsed.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            texts.append(payload.decode("utf-8", "replace"))
    lowered = "\n".join(texts).lower()
    return any(address in lowered for address in addresses)


def erase_mail_outbox(*, subject: ErasureSubject) -> dict[str, int]:
    """Removes the messages to or about the person's e-mail addresses from the files Django's
    file e-mail backend writes (the embedded default: var/mail/). Messages already handed to an
    SMTP server are beyond reach (docs/decisions/0005-erasure.md)."""
    backend = str(getattr(settings, "EMAIL_BACKEND", ""))
    directory = getattr(settings, "EMAIL_FILE_PATH", None)
    if not backend.endswith("filebased.EmailBackend") or not directory:
        return {}
    addresses = {
        value.lower()
        for value in subject_values(subject_id=subject.subject_id, category=Category.CONTACT_EMAIL)
    }
    path = Path(directory)
    if not addresses or not path.is_dir():
        return {}
    removed = 0
    for mail_file in sorted(p for p in path.iterdir() if p.is_file()):
        content = mail_file.read_bytes()
        messages = [m for m in content.split(_MAIL_SEPARATOR) if m.strip()]
        kept = [m for m in messages if not _mail_mentions(m, addresses)]
        if len(kept) == len(messages):
            continue
        removed += len(messages) - len(kept)
        if not kept:
            mail_file.unlink(missing_ok=True)
            continue
        with tempfile.NamedTemporaryFile(dir=path, delete=False) as rewritten:
            rewritten.write(b"".join(m + _MAIL_SEPARATOR for m in kept))
        os.replace(rewritten.name, mail_file)
    return {"mail outbox": removed} if removed else {}


def erase_exports(*, subject: ErasureSubject) -> dict[str, int]:
    return exports_destroy(subject_id=subject.subject_id)


def erase_cached_values(*, subject: ErasureSubject) -> dict[str, int]:
    """Deletes the cache keys apps register as holding the person's values."""
    names = [
        str(key)
        for handler in data_map.cache_keys.values()
        for key in handler.run(subject_id=subject.subject_id)
    ]
    if not names:
        return {}
    present = len(cache.get_many(names))
    cache.delete_many(names)
    return {"cache": present} if present else {}


def erase_data_key(*, subject: ErasureSubject) -> dict[str, int]:
    """After this, every sealed copy of the person's values (backups included) is unreadable."""
    destroyed = keys.data_key_destroy(subject_id=subject.subject_id)
    return {"privacy.DataKey": destroyed} if destroyed else {}


def export_staff_access_log(*, subject_id: int) -> dict[str, list[models.Model]]:
    """Staff readings of the person's data (found by plain id, the log keeps no foreign key)."""
    from backgroundmusic.privacy.kernel.models import StaffAccessLogEntry

    return {
        "privacy.StaffAccessLogEntry": list(
            StaffAccessLogEntry.objects.filter(subject_id=subject_id).order_by("pk")
        )
    }


def export_disclosures(*, subject_id: int) -> dict[str, list[models.Model]]:
    """Disclosures about the person, except those a legal hold keeps from them for now."""
    from backgroundmusic.privacy.disclosures import disclosures_visible_to

    person = _user_model()._default_manager.filter(pk=subject_id).first()
    if person is None:
        return {}
    return {"privacy.Disclosure": list(disclosures_visible_to(subject=person).order_by("pk"))}
