"""Every field of every installed model, third-party ones included, is in the data map."""

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model

from backgroundmusic.core.models import ScheduledRun
from backgroundmusic.privacy.kernel.models import DataKey
from backgroundmusic.privacy.kernel.registry import (
    SOURCE_LABELS,
    Category,
    Clock,
    Erasure,
    LegalBasis,
    PersonalData,
    Purpose,
    Registry,
    Retentions,
    Source,
    data_map,
)


def installed_models() -> list[type[Model]]:
    # A proxy shares its concrete model's table, so the concrete model's declaration covers it.
    return [model for model in apps.get_models() if not model._meta.proxy]


def field_names(model: type[Model]) -> set[str]:
    """Fields stored with the model; a reverse relation is classified where it is stored."""
    return {field.name for field in (*model._meta.concrete_fields, *model._meta.many_to_many)}


def classification_problems(registry: Registry, models: list[type[Model]]) -> list[str]:
    installed = {model._meta.label: model for model in models}
    problems = []
    for label, model in sorted(installed.items()):
        declaration = registry.models.get(label)
        if declaration is None:
            problems.append(f"{label}: not in the data map")
            continue
        problems += [
            f"{label}.{name}: not classified"
            for name in sorted(field_names(model) - declaration.classified())
        ]
    for label, declaration in sorted(registry.models.items()):
        declared_model = installed.get(label)
        if declared_model is None:
            problems.append(f"{label}: declared, but no installed model has this label")
            continue
        problems += [
            f"{label}.{name}: declared, but the model has no such field"
            for name in sorted(declaration.classified() - field_names(declared_model))
        ]
        problems += [
            f"{label}.{name}: declared both personal and not personal"
            for name in sorted(set(declaration.personal) & declaration.not_personal)
        ]
    return problems


def subject_target(model: type[Model], path: str) -> type[Model] | None:
    target = model
    for part in path.split("__"):
        try:
            field = target._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        if not field.is_relation or not isinstance(field.related_model, type):
            return None
        target = field.related_model
    return target


def test_every_field_of_every_installed_model_is_classified():
    assert classification_problems(data_map, installed_models()) == []


def test_the_walk_names_each_unclassified_unknown_and_doubly_classified_field():
    personal = PersonalData(
        category=Category.UNIQUE_ID,
        purpose=Purpose.SECURITY,
        legal_basis=LegalBasis.LEGITIMATE_INTEREST,
        retention=Retentions.SECURITY_LOG,
        erasure=Erasure.DELETE,
    )
    registry = Registry()
    registry.declare(
        "core.ScheduledRun",
        subject="",
        personal={"job": personal},
        not_personal=["id", "job", "slot", "owner"],
        clock=Clock(field="enqueued_at"),
    )
    registry.declare("core.Gone", subject="", not_personal=["id"])

    assert classification_problems(registry, [ScheduledRun, DataKey]) == [
        "core.ScheduledRun.enqueued_at: not classified",
        "core.ScheduledRun.task_result_id: not classified",
        "privacy.DataKey: not in the data map",
        "core.Gone: declared, but no installed model has this label",
        "core.ScheduledRun.owner: declared, but the model has no such field",
        "core.ScheduledRun.job: declared both personal and not personal",
    ]


def test_the_walk_covers_third_party_models_and_many_to_many_fields():
    labels = {model._meta.label for model in installed_models()}

    assert {
        "account.EmailAddress",
        "mfa.Authenticator",
        "usersessions.UserSession",
        "axes.AccessAttempt",
        "sessions.Session",
        "admin.LogEntry",
        "django_tasks_database.DBTaskResult",
    } <= labels
    assert {"groups", "user_permissions"} <= field_names(apps.get_model(settings.AUTH_USER_MODEL))


def test_every_personal_field_has_a_retention_of_whole_days():
    problems = [
        f"{declaration.label}.{name}: {data.retention!r}"
        for declaration, name, data in data_map.personal_fields()
        if not (
            isinstance(data.retention.days, int)
            and data.retention.days > 0
            and data.retention.description
        )
    ]

    assert problems == []


def test_every_personal_field_says_where_we_got_it():
    # The access package tells the person each category's source (privacy/rights/package.py).
    missing = [
        f"{declaration.label}.{name}"
        for declaration, name, data in data_map.personal_fields()
        if data.source not in set(Source)
    ]

    assert missing == []
    assert set(SOURCE_LABELS) == set(Source)


def test_every_subject_path_leads_to_the_user_model():
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    problems = []
    for label, declaration in sorted(data_map.models.items()):
        model = apps.get_model(label)
        if declaration.subject == "pk":
            leads_to_user = model is user_model
        elif declaration.subject == "":
            # Without a relation to a user, erasure and export need the note to find the rows.
            leads_to_user = not declaration.personal or bool(declaration.note)
        else:
            leads_to_user = subject_target(model, declaration.subject) is user_model
        if not leads_to_user:
            problems.append(f"{label}: subject {declaration.subject!r}")

    assert problems == []
