"""Recording refused staff actions: a service that acts for staff is wrapped in
`refusals_audited(name)`, and each ActionRefused it raises (staffroles.selectors.staff_require)
leaves one `service.denied` row, whoever called it: a page, the API, a command.

The row is written after the service's frame, and so its own transaction, has unwound: it
survives that rollback while the refused action leaves nothing else. When one wrapped service
calls another, only the outermost writes, once, under its own name: the action the caller
asked for. A caller that wraps the call in a transaction of its own and lets the refusal roll it
back takes the row with it.
"""

from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps
from typing import ParamSpec, TypeVar

from backgroundmusic.audit.models import AuditAction
from backgroundmusic.audit.services import audit_record
from backgroundmusic.core.errors import ActionRefused

P = ParamSpec("P")
R = TypeVar("R")

# How many audited services are running in this thread: only the outermost records a refusal.
_depth: ContextVar[int] = ContextVar("refusals_audited_depth", default=0)


def _refusal_after(service: str, refusal: ActionRefused) -> dict[str, str]:
    """What the row keeps: the service and the permission question, and for a refusal with no
    person's id whether the caller was the system or a signed-out visitor. Nothing personal."""
    after = {"service": service, "permission": refusal.permission}
    if refusal.actor is None:
        after["caller"] = "system"
    elif getattr(refusal.actor, "pk", None) is None:
        after["caller"] = "anonymous"
    return after


def refusals_audited(service: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorates a service (outside its @transaction.atomic) that acts for staff. `service` is
    the name the trail keeps, "<app>.<function>", so rows stay readable when code moves."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @wraps(function)
        def audited(*args: P.args, **kwargs: P.kwargs) -> R:
            token = _depth.set(_depth.get() + 1)
            try:
                return function(*args, **kwargs)
            except ActionRefused as refusal:
                if _depth.get() == 1 and not refusal.recorded:
                    audit_record(
                        actor=refusal.actor,
                        action=AuditAction.SERVICE_DENIED,
                        after=_refusal_after(service, refusal),
                    )
                    refusal.recorded = True
                raise
            finally:
                _depth.reset(token)

        return audited

    return decorate
