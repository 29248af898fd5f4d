"""The data we hold, by category (privacy center)."""

from dataclasses import dataclass, field
from typing import Any

from backgroundmusic.privacy.kernel.registry import (
    DATA_CATEGORY_LABELS,
    LEGAL_BASIS_LABELS,
    PURPOSE_LABELS,
    data_map,
)
from backgroundmusic.privacy.rights.labels import translated
from backgroundmusic.privacy.rights.rows import (
    Person,
    covered_labels,
    declarations_with_subject,
    exported_rows,
    model_of,
    subject_rows,
    verbose,
)


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


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _held_values(subject_id: int) -> dict[str, tuple[int, set[str]]]:
    """Per declared model: how many rows of the person, and which personal fields hold a value
    in at least one of them."""
    held: dict[str, tuple[int, set[str]]] = {}
    covered = covered_labels(data_map.exporters.values())
    for declaration in declarations_with_subject():
        names = list(declaration.personal)
        if not names or declaration.label in covered:
            continue
        rows = list(subject_rows(declaration, subject_id).values_list(*names))
        filled = {n for i, n in enumerate(names) if any(not _is_empty(r[i]) for r in rows)}
        held[declaration.label] = (len(rows), filled)
    for label, instances in exported_rows(subject_id).items():
        declaration = data_map.models[label]
        model = model_of(declaration)
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
        model = model_of(declaration)
        by_category: dict[str, list[str]] = {}
        for name, data in declaration.personal.items():
            if name not in filled:
                continue
            entry = held.setdefault(
                data.category.value,
                HeldCategory(
                    category=data.category.value,
                    label=verbose(DATA_CATEGORY_LABELS.get(data.category)) or data.category.value,
                ),
            )
            for bucket, text in (
                (entry.purposes, verbose(PURPOSE_LABELS.get(data.purpose))),
                (entry.legal_bases, verbose(LEGAL_BASIS_LABELS.get(data.legal_basis))),
                (entry.retention, str(data.retention)),
            ):
                if text and text not in bucket:
                    bucket.append(text)
            by_category.setdefault(data.category.value, []).append(
                translated(getattr(model._meta.get_field(name), "verbose_name", name))
            )
        for category, field_names in by_category.items():
            held[category].records.append(
                HeldRecords(
                    label=label,
                    title=translated(model._meta.verbose_name_plural),
                    fields=field_names,
                    count=count,
                )
            )
    return list(held.values())
