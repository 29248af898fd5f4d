"""The `service.denied` rows a test expects, and those written (audit/refusals.py)."""

from typing import Any

from backgroundmusic.audit.models import AuditAction, AuditEvent

Denial = tuple[int | None, dict[str, str]]


def service_denial(actor: Any, *, service: str, permission: str) -> Denial:
    """(actor id, after) of the row a refusal of `actor` by `service` writes: a signed-out
    visitor and the system have no id, so the row says which it was."""
    after = {"service": service, "permission": permission}
    if actor is None:
        return None, after | {"caller": "system"}
    if actor.pk is None:
        return None, after | {"caller": "anonymous"}
    return actor.pk, after


def service_denials() -> list[Denial]:
    """(actor id, after) of every `service.denied` row, oldest first."""
    return [
        (event.actor_id, event.after)
        for event in AuditEvent.objects.filter(action=AuditAction.SERVICE_DENIED).order_by("pk")
    ]


def rows_but_denials() -> list[int]:
    """The ids of every other audit row: what a refusal must leave as it was."""
    return list(
        AuditEvent.objects.exclude(action=AuditAction.SERVICE_DENIED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
