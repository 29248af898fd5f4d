"""The data map of the audit trail (audit/models.py); the generic retention step enforces it."""

from backgroundmusic.privacy.kernel.registry import (
    Category,
    Clock,
    Erasure,
    LegalBasis,
    PersonalData,
    Purpose,
    Retentions,
    declare,
)


def _staff_action(*, exportable: bool) -> PersonalData:
    # Kept for law, like the staff access log: the trail is the proof of who did what
    # (152-FZ art. 19, GDPR art. 5(2)/32), so erasure leaves it whole: the ids then lead to the
    # erased account, which holds only the person's pseudonym, and rows carry no personal values.
    return PersonalData(
        category=Category.STAFF_ACTIONS,
        purpose=Purpose.SECURITY,
        legal_basis=LegalBasis.LEGAL_OBLIGATION,
        retention=Retentions.STAFF_AUDIT,
        erasure=Erasure.KEEP_FOR_LAW,
        exportable=exportable,
    )


declare(
    "audit.AuditEvent",
    subject="",
    personal={
        "actor_id": _staff_action(exportable=False),
        "target_id": _staff_action(exportable=False),
        "reason": _staff_action(exportable=False),
        "at": _staff_action(exportable=False),
    },
    not_personal={"id", "action", "target_type", "before", "after"},
    clock=Clock(field="at"),
    note=(
        "Plain ids, not foreign keys: a person's rows are those whose actor_id is their user id "
        "(as the staff member who acted) or whose target is their user row (a role change). "
        "before/after hold field names and non-personal values only (audit/services.py). "
        "Append-only: erasure leaves the rows; retention deletes them a year after the action."
    ),
)
