"""The data map, read generically: the person's rows of every declared model, found by its
subject path or by the exporters apps register."""

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models

from backgroundmusic.privacy.kernel.registry import Category, ModelDeclaration, data_map

# A user of the AUTH_USER_MODEL; typed loosely because the privacy app imports no other app.
Person = Any

# Stores that are not models, in destruction records: what they hold.
STORE_CATEGORIES = {
    "mail outbox": [Category.CONTACT_EMAIL.value],
    "sms outbox": [Category.CONTACT_PHONE.value],
    "export files": [Category.ACCOUNT_SETTINGS.value],
    "cache": [],
}


def person_model() -> Any:
    """The user model (typed loosely: the privacy app knows only Django's auth contract)."""
    return get_user_model()


def model_of(declaration: ModelDeclaration) -> type[models.Model]:
    return apps.get_model(declaration.label)


def subject_rows(declaration: ModelDeclaration, subject_id: int) -> models.QuerySet[Any]:
    """The person's rows of a declared model, through its subject path.

    A plain QuerySet, not the model's manager: erasure must also remove or empty rows of
    append-only models, which leave only with their subject (core.models.AppendOnlyQuerySet).
    """
    model = model_of(declaration)
    lookup = "pk" if declaration.subject == "pk" else declaration.subject
    return models.QuerySet(model=model).filter(**{lookup: subject_id})


def declarations_with_subject() -> list[ModelDeclaration]:
    return [declaration for declaration in data_map.models.values() if declaration.subject]


def covered_labels(handlers: Iterable[Any]) -> set[str]:
    return {label for handler in handlers for label in handler.models}


def subject_values(*, subject_id: int, category: Category) -> set[str]:
    """Every value of one data category held about the person in rows found by a subject path
    (e.g. each e-mail address: the account's and every allauth address)."""
    values: set[str] = set()
    for declaration in declarations_with_subject():
        names = [n for n, data in declaration.personal.items() if data.category == category]
        if not names:
            continue
        for row in subject_rows(declaration, subject_id).values_list(*names):
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


def verbose(value: Any) -> str:
    return str(value) if value else ""


def exported_rows(subject_id: int) -> dict[str, list[models.Model]]:
    """Rows the registered exporters find for the person (those no subject path leads to)."""
    rows: dict[str, list[models.Model]] = {}
    for handler in sorted(data_map.exporters.values(), key=lambda h: h.order):
        for label, found in handler.run(subject_id=subject_id).items():
            rows.setdefault(label, []).extend(found)
    return rows
