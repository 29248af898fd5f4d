"""The data map of the privacy app's own models."""

from backgroundmusic.privacy.registry import (
    Category,
    Erasure,
    LegalBasis,
    PersonalData,
    Purpose,
    Retentions,
    declare,
)

# --- Data keys (privacy/keys.py) ------------------------------------------------------------

declare(
    "privacy.DataKey",
    subject="subject",
    not_personal=["id", "subject", "master_key_id", "wrapped_key", "created_at", "rewrapped_at"],
    note="Random key material that says nothing about the person. Deleting the row is how "
    "erasure makes every sealed copy of their data unreadable, backups included.",
)

# --- Staff access log (privacy/access_log.py) --------------------------------------------------


def _staff_access(*, exportable: bool) -> PersonalData:
    # Kept for law: the log is the proof of who read whose data and why (152-FZ art. 19,
    # GDPR art. 5(2)/32). Erasure must not touch it, or the hash chain would break; the ids name
    # nobody once the user row is erased.
    return PersonalData(
        category=Category.STAFF_ACTIONS,
        purpose=Purpose.SECURITY,
        legal_basis=LegalBasis.LEGAL_OBLIGATION,
        retention=Retentions.STAFF_AUDIT,
        erasure=Erasure.KEEP_FOR_LAW,
        exportable=exportable,
    )


declare(
    "privacy.StaffAccessLogEntry",
    subject="",
    personal={
        "actor_id": _staff_access(exportable=False),
        "subject_id": _staff_access(exportable=True),
        "fields": _staff_access(exportable=True),
        "reason": _staff_access(exportable=True),
        "at": _staff_access(exportable=True),
    },
    not_personal={"id", "prev_hash", "entry_hash"},
    note=(
        "Plain integer ids, not foreign keys: a person's rows are those with subject_id equal to "
        "their user id (as the subject of a reading) or actor_id (as the staff member who read). "
        "Append-only and hash-chained, so neither erasure nor retention may rewrite or delete "
        "single rows."
    ),
)
