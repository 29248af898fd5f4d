"""Legal holds, placed and lifted by the privacy officer (issue 13, "Rights").

A hold keeps one record (a model the data map declares, by primary key) or a whole person
(every row the data map links to them) from retention and erasure until its end date, for a
reason (litigation, an authority's preservation order). Retention and erasure leave what it
keeps and report it (privacy.kernel.holds, which they read); once the hold ends or is lifted,
the next daily retention run destroys what is past its period and resumes the erasures it held.

Not the disclosure's `legal_hold_until`, which only hides a disclosure from the person (a gag
order; privacy/disclosures.py).

Both services act for a staff member, `actor`, allowed by
staffroles.selectors.staff_may_place_legal_holds, and write their audit row in their
transaction; a refusal writes only `service.denied`.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from backgroundmusic.audit.models import AuditAction
from backgroundmusic.audit.refusals import refusals_audited
from backgroundmusic.audit.services import audit_record
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.privacy.calendar import controller_today
from backgroundmusic.privacy.kernel.holds import holds_in_force
from backgroundmusic.privacy.kernel.models import LegalHold
from backgroundmusic.privacy.kernel.registry import data_map
from backgroundmusic.staffroles.selectors import staff_may_place_legal_holds, staff_require

# A user of the AUTH_USER_MODEL; typed loosely because the privacy app imports no other app.
Person = Any

REASON_MAX_LENGTH = 2000


def holdable_labels() -> list[str]:
    """The models a hold may name: every model the data map declares as holding personal data."""
    return sorted(label for label, d in data_map.models.items() if d.personal)


def _reason(value: str, *, code: str) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(_("Give the reason for the legal hold."), code=code)
    if len(value) > REASON_MAX_LENGTH:
        raise DomainError(
            _("The reason is too long (at most %(max)s characters).") % {"max": REASON_MAX_LENGTH},
            code=f"{code}_too_long",
        )
    return value


def _record_target(target_label: str, target_id: str) -> tuple[str, str]:
    label, row_id = target_label.strip(), str(target_id).strip()
    if label not in holdable_labels():
        raise DomainError(
            _("No kind of record “%(label)s” holds personal data.") % {"label": label},
            code="unknown_target_model",
        )
    model = apps.get_model(label)
    try:
        exists = models.QuerySet(model=model).filter(pk=row_id).exists()
    except (ValidationError, ValueError, TypeError):
        exists = False
    if not row_id or not exists:
        raise DomainError(
            _("There is no %(label)s record with id “%(id)s”.") % {"label": label, "id": row_id},
            code="unknown_target",
        )
    return label, row_id


@refusals_audited("privacy.legal_hold_place")
@transaction.atomic
def legal_hold_place(
    *,
    actor: Person,
    reason: str,
    ends_on: date | None,
    subject: Person | None = None,
    target_label: str = "",
    target_id: str = "",
) -> LegalHold:
    """Places a hold on a person (`subject`) or on one record (`target_label`, `target_id`),
    in force until the start of `ends_on` (a day after today, Moscow time)."""
    actor_id = staff_require(actor=actor, may=staff_may_place_legal_holds).pk
    reason = _reason(reason, code="reason_required")
    if ends_on is None or ends_on <= controller_today():
        raise DomainError(_("The hold must end on a day after today."), code="ends_on_not_future")
    has_subject = subject is not None
    has_record = bool(str(target_label).strip() or str(target_id).strip())
    if has_subject == has_record:
        raise DomainError(
            _("Hold either a person or one record."),
            code="target_required",
        )
    label, row_id, subject_id = "", "", None
    if has_subject:
        subject_id = getattr(subject, "pk", None)
        if (
            subject_id is None
            or not get_user_model()._default_manager.filter(pk=subject_id).exists()
        ):
            raise DomainError(_("There is no such account."), code="unknown_subject")
    else:
        label, row_id = _record_target(target_label, target_id)
    hold = LegalHold.objects.create(
        target_label=label,
        target_id=row_id,
        subject_id=subject_id,
        reason=reason,
        placed_by_id=actor_id,
        placed_at=clock.now(),
        ends_on=ends_on,
    )
    audit_record(
        actor=actor,
        action=AuditAction.LEGAL_HOLD_PLACED,
        target=hold,
        after={
            "holds": "person" if has_subject else label,
            "ends_on": ends_on.isoformat(),
        },
    )
    return hold


@refusals_audited("privacy.legal_hold_lift")
@transaction.atomic
def legal_hold_lift(*, actor: Person, hold: LegalHold, reason: str) -> LegalHold:
    """Lifts a hold in force before its end date; what it kept is destroyed by the next
    retention run when past its period."""
    actor_id = staff_require(actor=actor, may=staff_may_place_legal_holds).pk
    reason = _reason(reason, code="lift_reason_required")
    hold_id = getattr(hold, "pk", None)
    locked = (
        LegalHold.objects.select_for_update().filter(pk=hold_id).first()
        if hold_id is not None
        else None
    )
    if locked is None:
        raise DomainError(_("There is no such legal hold."), code="unknown_hold")
    if locked.lifted_at is not None:
        raise DomainError(_("This legal hold was already lifted."), code="already_lifted")
    if locked.ends_on <= controller_today():
        raise DomainError(_("This legal hold has already ended."), code="already_ended")
    locked.lifted_at = clock.now()
    locked.lifted_by_id = actor_id
    locked.lift_reason = reason
    locked.save(update_fields=["lifted_at", "lifted_by_id", "lift_reason"])
    audit_record(
        actor=actor,
        action=AuditAction.LEGAL_HOLD_LIFTED,
        target=locked,
        before={"ends_on": locked.ends_on.isoformat()},
        after={"lifted": True},
    )
    return locked


@dataclass(frozen=True)
class HoldLists:
    in_force: list[LegalHold]
    ended: list[LegalHold]


@refusals_audited("privacy.legal_holds_for_staff")
def legal_holds_for_staff(*, actor: Person, ended_limit: int = 100) -> HoldLists:
    """The holds in force (ending soonest first) and the latest that ended or were lifted."""
    staff_require(actor=actor, may=staff_may_place_legal_holds)
    in_force = holds_in_force(on=controller_today())
    return HoldLists(
        in_force=list(in_force.order_by("ends_on", "pk")),
        ended=list(
            LegalHold.objects.exclude(pk__in=in_force.values("pk")).order_by("-placed_at", "-pk")[
                :ended_limit
            ]
        ),
    )


def legal_hold_by_id(*, hold_id: int) -> LegalHold | None:
    return LegalHold.objects.filter(pk=hold_id).first()
