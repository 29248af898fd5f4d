"""Writing the audit trail. Call audit_record inside the service's own transaction, after the
change, so the row and the change commit or roll back together."""

from collections.abc import Mapping
from typing import Any

from django.db import models, transaction

from backgroundmusic.audit.models import AuditAction, AuditEvent
from backgroundmusic.core import clock


def _actor_id(actor: object) -> int | None:
    if actor is None or isinstance(actor, int):
        return actor
    actor_id = getattr(actor, "pk", None)
    return actor_id if isinstance(actor_id, int) else None


def _target(target: models.Model | tuple[str, object] | None) -> tuple[str, str]:
    if target is None:
        return "", ""
    if isinstance(target, models.Model):
        return target._meta.label, "" if target.pk is None else str(target.pk)
    label, pk = target
    return label, str(pk)


@transaction.atomic
def audit_record(
    *,
    actor: object,
    action: AuditAction | str,
    target: models.Model | tuple[str, object] | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    """Appends one row. actor: the user who acted (or their id), None for the system; target: a
    model instance or (model label, id)."""
    if action not in AuditAction.values:
        raise ValueError(f"undeclared audit action {action!r}")
    target_type, target_id = _target(target)
    return AuditEvent.objects.create(
        at=clock.now(),
        actor_id=_actor_id(actor),
        action=str(action),
        target_type=target_type,
        target_id=target_id,
        before=dict(before or {}),
        after=dict(after or {}),
        reason=reason.strip(),
    )
