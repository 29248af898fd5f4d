"""The access package: what the person downloads from "Download my data", built from the data map.

Three views of one content, all in the person's language: data.json for programs (validated
against access_package.schema.json before it leaves), one CSV per section for spreadsheets
(core/csv_export.py), and index.html to read. Everything a person reads is a label: columns are
titled by the models' verbose names, choices show their labels, lists of field names and data
categories show theirs, and an edition shows its name and date, never its fingerprint. Raw
identifiers appear only in the JSON's `key` properties, for programs (docs/access-package.md).
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from io import StringIO
from pathlib import Path
from typing import Any
from uuid import UUID

import jsonschema
from django.db import models
from django.utils.text import capfirst, slugify
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from backgroundmusic.core.csv_export import CsvWriter
from backgroundmusic.core.errors import DomainError
from backgroundmusic.privacy.consents import evidence_described
from backgroundmusic.privacy.kernel.registry import (
    DATA_CATEGORY_LABELS,
    LEGAL_BASIS_LABELS,
    PURPOSE_LABELS,
    SOURCE_LABELS,
    Category,
    ModelDeclaration,
    PersonalData,
    data_map,
)
from backgroundmusic.privacy.models import (
    ConsentAction,
    ConsentPurpose,
    ConsentRecord,
    PolicyEdition,
    Recipient,
)
from backgroundmusic.privacy.processing import AUTHORITIES, PURPOSES_FOR_AUTHORITIES
from backgroundmusic.privacy.rights.labels import translated
from backgroundmusic.privacy.rights.rows import (
    covered_labels,
    declarations_with_subject,
    exported_rows,
    model_of,
    subject_rows,
    verbose,
)

PACKAGE_FORMAT = "backgroundmusic.data-export/2"
SCHEMA_PATH = Path(__file__).with_name("access_package.schema.json")
# Context columns holding a fingerprint (an edition's hash, a token's digest): a machine's proof
# that nobody can read, left out; the edition itself is shown beside them by its name and date.
FINGERPRINT_SUFFIXES = ("_hash", "_digest", "_sha256")
# A spreadsheet takes UTF-8 for the file's encoding only after this mark.
CSV_BYTE_ORDER_MARK = "\ufeff"

Cell = str | int | float | list[str] | None


class PackageInvalid(DomainError):
    code = "package_invalid"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    model_field: models.Field[Any, Any] | None  # None: the record number
    data: PersonalData | None  # None: not personal data, carried for context

    def labels(self) -> dict[str, str | None]:
        data = self.data
        return {
            "category": verbose(DATA_CATEGORY_LABELS.get(data.category)) if data else None,
            "source": verbose(SOURCE_LABELS.get(data.source)) if data and data.source else None,
            "purpose": verbose(PURPOSE_LABELS.get(data.purpose)) if data else None,
            "legal_basis": verbose(LEGAL_BASIS_LABELS.get(data.legal_basis)) if data else None,
            "retention": str(data.retention) if data else None,
        }

    @property
    def category_label(self) -> str:
        return self.labels()["category"] or ""


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    number: int
    columns: list[Column]
    rows: list[list[Cell]]

    @property
    def csv_name(self) -> str:
        return f"csv/{self.number:02d}-{slugify(self.title, allow_unicode=True)}.csv"

    @property
    def anchor(self) -> str:
        return f"section-{self.number}"

    def _distinct(self, name: str) -> list[str]:
        found: list[str] = []
        for column in self.columns:
            text = column.labels()[name]
            if text and text not in found:
                found.append(text)
        return found

    def purposes(self) -> list[str]:
        return self._distinct("purpose")

    def legal_bases(self) -> list[str]:
        return self._distinct("legal_basis")

    def retention(self) -> list[str]:
        return self._distinct("retention")

    def sources(self) -> list[str]:
        return self._distinct("source")

    def records(self) -> list[dict[str, Cell]]:
        """Rows keyed by their columns' keys, as programs read data.json."""
        keys = [column.key for column in self.columns]
        return [dict(zip(keys, row, strict=True)) for row in self.rows]

    def cells(self) -> list[list[str]]:
        """Rows as display text (index.html)."""
        return [[cell_text(cell) or "—" for cell in row] for row in self.rows]


@dataclass(frozen=True)
class RecipientShown:
    name: str
    country: str | None


@dataclass
class CategorySummary:
    key: str
    label: str
    sources: list[str] = field(default_factory=list)
    purposes: list[str] = field(default_factory=list)
    legal_bases: list[str] = field(default_factory=list)
    retention: list[str] = field(default_factory=list)
    recipients: list[RecipientShown] = field(default_factory=list)


@dataclass(frozen=True)
class Package:
    subject_id: int
    generated_at: datetime
    language: str
    categories: list[CategorySummary]
    sections: list[Section]

    def document(self) -> dict[str, Any]:
        """data.json."""
        return {
            "format": PACKAGE_FORMAT,
            "generated_at": self.generated_at.isoformat(),
            "language": self.language,
            "account_id": self.subject_id,
            "categories": [
                {
                    "key": summary.key,
                    "label": summary.label,
                    "sources": summary.sources,
                    "purposes": summary.purposes,
                    "legal_bases": summary.legal_bases,
                    "retention": summary.retention,
                    "recipients": [
                        {"name": shown.name, "country": shown.country}
                        for shown in summary.recipients
                    ],
                }
                for summary in self.categories
            ],
            "sections": [
                {
                    "key": section.key,
                    "title": section.title,
                    "csv": section.csv_name,
                    "columns": [
                        {
                            "key": column.key,
                            "label": column.label,
                            "personal": column.data is not None,
                            **column.labels(),
                        }
                        for column in section.columns
                    ],
                    "rows": section.rows,
                }
                for section in self.sections
            ],
        }

    def csv_files(self) -> dict[str, str]:
        """One CSV per section: a header of column labels, then one line per record."""
        files = {}
        for section in self.sections:
            sink = StringIO()
            sink.write(CSV_BYTE_ORDER_MARK)
            writer = CsvWriter(sink)
            writer.writerow(column.label for column in section.columns)
            writer.writerows([cell_text(cell) for cell in row] for row in section.rows)
            files[section.csv_name] = sink.getvalue()
        return files


def field_label(model_field: Any) -> str:
    return capfirst(translated(model_field.verbose_name))


def cell_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, list):
        return "; ".join(cell)
    return str(cell)


@cache
def package_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def package_problems(document: Any) -> list[str]:
    """Where the document breaks the schema, one line each; empty when it validates."""
    validator = jsonschema.Draft202012Validator(package_schema())
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    ]


def package_validate(document: Any) -> None:
    """Raises PackageInvalid when the document breaks the schema: such a package is not sent."""
    problems = package_problems(document)
    if problems:
        raise PackageInvalid("; ".join(problems[:5]))


class Vocabulary:
    """Labels of the identifiers that lists and mappings in JSON fields hold: data categories,
    purposes, consent purposes and the field names of the data map's models."""

    def __init__(self) -> None:
        self.labels: dict[str, str] = {}
        for mapping in (DATA_CATEGORY_LABELS, PURPOSE_LABELS):
            for member, label in mapping.items():
                self.labels[str(member)] = str(label)
        for value, label in ConsentPurpose.choices:
            self.labels[value] = str(label)
        for declaration in declarations_with_subject():
            model = model_of(declaration)
            for model_field in model._meta.get_fields():
                name = getattr(model_field, "name", "")
                if name and name not in self.labels and hasattr(model_field, "verbose_name"):
                    self.labels[name] = field_label(model_field)

    def word(self, identifier: str) -> str:
        if identifier in self.labels:
            return self.labels[identifier]
        return capfirst(identifier.replace("_", " ").replace(".", " "))

    def text(self, value: Any) -> Cell:
        if isinstance(value, list):
            return [self.word(item) if isinstance(item, str) else str(item) for item in value]
        if isinstance(value, dict):
            return "; ".join(f"{self.word(str(k))}: {plain(v)}" for k, v in value.items())
        return plain(value)


def plain(value: Any) -> Cell:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def edition_title(edition: PolicyEdition) -> str:
    return f"{edition} ({edition.effective_at:%Y-%m-%d})"


class CellReader:
    """A record's value of one column, as the person reads it."""

    def __init__(self) -> None:
        self.vocabulary = Vocabulary()
        self._editions: dict[str, str] = {}
        self.own_records = {declaration.label for declaration in declarations_with_subject()}

    def edition_by_hash(self, content_hash: str) -> str | None:
        if not content_hash:
            return None
        if content_hash not in self._editions:
            edition = PolicyEdition.objects.filter(content_hash=content_hash).first()
            self._editions[content_hash] = edition_title(edition) if edition else _("Unknown")
        return self._editions[content_hash]

    def read(self, row: models.Model, column: Column) -> Cell:
        model_field = column.model_field
        if model_field is None:
            return row.pk if isinstance(row.pk, int) else str(row.pk)
        if model_field.many_to_many:
            return [str(related) for related in getattr(row, model_field.name).all()]
        if model_field.is_relation:
            related_model = model_field.related_model
            if isinstance(related_model, type) and related_model._meta.label in self.own_records:
                # Another of the person's records: its record number in its own section.
                return plain(model_field.value_from_object(row))
            related = getattr(row, model_field.name)
            if related is None:
                return None
            return edition_title(related) if isinstance(related, PolicyEdition) else str(related)
        value = model_field.value_from_object(row)
        if column.key.endswith("edition_hash"):
            return self.edition_by_hash(value)
        choices = dict(model_field.flatchoices) if model_field.choices else {}
        if choices and value in choices:
            return str(choices[value])
        if isinstance(row, ConsentRecord) and model_field.name == "evidence":
            # The same sentences the privacy center shows: labels, never the raw keys or hashes.
            return "; ".join(evidence_described(value, method=row.method)) or None
        if isinstance(model_field, models.JSONField):
            return self.vocabulary.text(value)
        return plain(value)


def _columns(declaration: ModelDeclaration) -> list[Column]:
    """Exportable personal fields, and the row's other fields for context (accounts/privacy.py)
    but fingerprints; none when the model has no exportable personal field."""
    if not any(data.exportable for data in declaration.personal.values()):
        return []
    model = model_of(declaration)
    pk_name = model._meta.pk.name if model._meta.pk else ""
    columns = [Column(key="id", label=_("Record number"), model_field=None, data=None)]
    for model_field in (*model._meta.concrete_fields, *model._meta.many_to_many):
        name = model_field.name
        data = declaration.personal.get(name)
        if name == pk_name or (data is not None and not data.exportable):
            continue
        if data is None and (
            name not in declaration.not_personal or name.endswith(FINGERPRINT_SUFFIXES)
        ):
            continue
        columns.append(
            Column(
                key=name,
                label=field_label(model_field),
                model_field=model_field,
                data=data,
            )
        )
    return columns


def _section(
    declaration: ModelDeclaration, rows: Iterable[models.Model], number: int, reader: CellReader
) -> Section:
    columns = _columns(declaration)
    return Section(
        key=declaration.label,
        title=capfirst(translated(model_of(declaration)._meta.verbose_name_plural)),
        number=number,
        columns=columns,
        rows=[[reader.read(row, column) for column in columns] for row in rows],
    )


def package_sections(*, subject_id: int) -> list[Section]:
    """Every exportable field of every declared model about the person: rows found by subject
    paths, then the rows registered exporters find. Models without rows are left out."""
    reader = CellReader()
    covered = covered_labels(data_map.exporters.values())
    found: list[tuple[ModelDeclaration, list[models.Model]]] = []
    for declaration in declarations_with_subject():
        if declaration.label in covered or not _columns(declaration):
            continue
        rows = list(subject_rows(declaration, subject_id).order_by("pk"))
        if rows:
            found.append((declaration, rows))
    for label, rows in exported_rows(subject_id).items():
        declaration = data_map.models[label]
        if rows and _columns(declaration):
            found.append((declaration, list(rows)))
    return [
        _section(declaration, rows, number, reader)
        for number, (declaration, rows) in enumerate(found, start=1)
    ]


def _sharing_consented(subject_id: int) -> set[int]:
    """Recipients the person currently lets us share with (their latest sharing consent)."""
    latest: dict[int, str] = {}
    for recipient_id, action in (
        ConsentRecord.objects.filter(subject_id=subject_id, purpose=ConsentPurpose.SHARING)
        .order_by("-at", "-pk")
        .values_list("recipient_id", "action")
    ):
        latest.setdefault(recipient_id, action)
    return {pk for pk, action in latest.items() if action == ConsentAction.GIVEN}


def category_recipients(*, subject_id: int) -> dict[str, list[RecipientShown]]:
    """Who receives each data category of this person: the register's recipients of the
    category that serve the agreements, those the person agreed to share with, and authorities
    for the categories kept to answer lawful requests."""
    shared = _sharing_consented(subject_id)
    found: dict[str, list[RecipientShown]] = {}
    for recipient in Recipient.objects.filter(is_active=True).order_by("name"):
        if recipient.shared_with_consent and recipient.pk not in shared:
            continue
        shown = RecipientShown(name=recipient.name, country=str(recipient.country.name) or None)
        for key in recipient.categories:
            found.setdefault(str(key), []).append(shown)
    justice = {
        data.category.value
        for _declaration, _name, data in data_map.personal_fields()
        if any(use.purpose in PURPOSES_FOR_AUTHORITIES for use in data.uses())
    }
    for key in justice:
        found.setdefault(key, []).append(RecipientShown(name=str(AUTHORITIES), country=None))
    return found


def _summaries(sections: list[Section], subject_id: int) -> list[CategorySummary]:
    recipients = category_recipients(subject_id=subject_id)
    summaries: dict[str, CategorySummary] = {}
    for section in sections:
        for column in section.columns:
            if column.data is None:
                continue
            key = column.data.category.value
            labels = column.labels()
            summary = summaries.setdefault(
                key, CategorySummary(key=key, label=labels["category"] or "")
            )
            for bucket, text in (
                (summary.sources, labels["source"]),
                (summary.purposes, labels["purpose"]),
                (summary.legal_bases, labels["legal_basis"]),
                (summary.retention, labels["retention"]),
            ):
                if text and text not in bucket:
                    bucket.append(text)
    order = {member.value: position for position, member in enumerate(Category)}
    ordered = sorted(summaries.values(), key=lambda summary: order.get(summary.key, len(order)))
    for summary in ordered:
        summary.recipients = recipients.get(summary.key, [])
    return ordered


def access_package(*, subject_id: int, generated_at: datetime) -> Package:
    """The person's package in the current language."""
    sections = package_sections(subject_id=subject_id)
    return Package(
        subject_id=subject_id,
        generated_at=generated_at,
        language=get_language() or "",
        categories=_summaries(sections, subject_id),
        sections=sections,
    )
