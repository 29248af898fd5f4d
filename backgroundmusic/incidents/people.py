"""Who and what an incident affects, read from the data map: the people are found through each
declared model's subject path (as privacy/rights/rows.py finds a person's rows), the categories
from what each model declares."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.db import models

from backgroundmusic.privacy.kernel.registry import (
    DATA_CATEGORY_LABELS,
    Category,
    ModelDeclaration,
    data_map,
)


@dataclass(frozen=True)
class AffectedPeople:
    categories: list[str]
    subject_ids: list[int]
    # Affected models whose rows lead to no account: their people are not in the count.
    unlinked_models: list[str]


def personal_models() -> list[ModelDeclaration]:
    """The declared models that hold personal data, by label."""
    return sorted(
        (declaration for declaration in data_map.models.values() if declaration.personal),
        key=lambda declaration: declaration.label,
    )


def model_label_text(label: str) -> str:
    """ "E-mail addresses (account.EmailAddress)": the model's plural name and its label."""
    model = apps.get_model(label)
    return f"{str(model._meta.verbose_name_plural).capitalize()} ({label})"


def category_labels(keys: Iterable[str]) -> list[str]:
    """The human labels of data categories (in the active language), in the given order."""
    return [str(DATA_CATEGORY_LABELS[Category(key)]) for key in keys]


def _declarations_holding(categories: set[str]) -> list[ModelDeclaration]:
    return [
        declaration
        for declaration in personal_models()
        if {data.category.value for data in declaration.personal.values()} & categories
    ]


def _subject_ids(
    declaration: ModelDeclaration, occurred_from: datetime | None, occurred_until: datetime | None
) -> set[int]:
    """The ids of the people the model's rows are about; with a window, only rows whose retention
    clock timestamp falls in it (a model whose clock is a rule is taken whole)."""
    # A plain QuerySet, as the erasure reads rows: append-only models' managers change nothing
    # here, and no manager may hide rows.
    rows: models.QuerySet[models.Model] = models.QuerySet(model=apps.get_model(declaration.label))
    clock_field = declaration.clock.field if declaration.clock else ""
    if clock_field and occurred_from is not None:
        rows = rows.filter(**{f"{clock_field}__gte": occurred_from})
    if clock_field and occurred_until is not None:
        rows = rows.filter(**{f"{clock_field}__lte": occurred_until})
    path = "pk" if declaration.subject == "pk" else declaration.subject
    found = rows.exclude(**{f"{path}__isnull": True}).values_list(path, flat=True).distinct()
    return {int(subject_id) for subject_id in found.order_by()}


def affected_people(
    *,
    model_labels: Iterable[str],
    categories: Iterable[str],
    occurred_from: datetime | None = None,
    occurred_until: datetime | None = None,
) -> AffectedPeople:
    """The people and categories a breach of these models and categories affects.

    A model named is affected whole: every category it declares. A category named affects every
    declared model holding it. The people are those any affected model's rows are about."""
    named = set(model_labels)
    chosen_categories = set(categories)
    declarations = {declaration.label: declaration for declaration in personal_models()}
    affected = {label: declarations[label] for label in named if label in declarations}
    for declaration in _declarations_holding(chosen_categories):
        affected.setdefault(declaration.label, declaration)
    found_categories = set(chosen_categories)
    for label in named & set(declarations):
        found_categories.update(
            data.category.value for data in declarations[label].personal.values()
        )
    subject_ids: set[int] = set()
    unlinked = []
    for label in sorted(affected):
        declaration = affected[label]
        if not declaration.subject:
            unlinked.append(label)
            continue
        subject_ids |= _subject_ids(declaration, occurred_from, occurred_until)
    order = [category.value for category in Category]
    return AffectedPeople(
        categories=sorted(found_categories, key=order.index),
        subject_ids=sorted(subject_ids),
        unlinked_models=unlinked,
    )
