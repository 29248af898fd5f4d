"""Corrections you made: the audit trail's corrections of the person's own data (profile,
e-mail address, username), as the privacy center lists them. The rows name fields, never values
(accounts/services.py correction_record)."""

from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst

from backgroundmusic.audit.models import AuditAction, AuditEvent
from backgroundmusic.privacy.rights.labels import translated
from backgroundmusic.privacy.rights.rows import Person, person_model

CORRECTION_ACTIONS = (
    AuditAction.PROFILE_CORRECTED,
    AuditAction.EMAIL_ADDED,
    AuditAction.EMAIL_VERIFIED,
    AuditAction.EMAIL_CHANGED,
)
CORRECTIONS_SHOWN = 50


@dataclass(frozen=True)
class Correction:
    at: datetime
    what: str
    fields: list[str]
    by_staff: bool


def qualified_field_label(qualified: str) -> str:
    """ "accounts.Profile.full_name" → "Full name", in the current language."""
    label, _dot, name = qualified.rpartition(".")
    try:
        model_field = apps.get_model(label)._meta.get_field(name)
    except (LookupError, ValueError, FieldDoesNotExist):
        return capfirst(name.replace("_", " "))
    return capfirst(translated(getattr(model_field, "verbose_name", name)))


def corrections_of(*, subject: Person, limit: int = CORRECTIONS_SHOWN) -> list[Correction]:
    """The person's latest corrections of their own data, newest first; by_staff when someone
    else made the change for them (a rectification request)."""
    events = AuditEvent.objects.filter(
        target_type=person_model()._meta.label,
        target_id=str(subject.pk),
        action__in=CORRECTION_ACTIONS,
    ).order_by("-at", "-pk")[:limit]
    return [
        Correction(
            at=event.at,
            what=str(AuditAction(event.action).label),
            fields=[qualified_field_label(str(name)) for name in event.after.get("fields", [])],
            by_staff=event.actor_id != subject.pk,
        )
        for event in events
    ]
