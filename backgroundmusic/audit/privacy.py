"""The data map of the audit trail (audit/models.py); the generic retention step enforces it."""

from backgroundmusic.privacy.kernel.registry import Clock, Subjects, declare, staff_record

declare(
    "audit.AuditEvent",
    subject="",
    subjects=(Subjects.STAFF, Subjects.USERS),
    personal={
        "actor_id": staff_record(exportable=False),
        "target_id": staff_record(exportable=False),
        "reason": staff_record(exportable=False),
        "at": staff_record(exportable=False),
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
