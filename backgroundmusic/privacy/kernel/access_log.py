"""The append-only, hash-chained log of staff reads of personal data (DESIGN.md §4).

Each entry's hash covers its content and the previous entry's hash, so changing an entry breaks
its own hash and removing one breaks the link of the entry after it. verify_access_log walks the
chain. Removing the newest entries leaves a shorter chain that still verifies: compare the head
hash the command prints with one kept elsewhere to detect that.

Retention removes entries past their period (Retentions.STAFF_AUDIT) oldest first, and only
there: access_log_prune deletes a prefix of the chain and writes a checkpoint holding the hash of
the last entry removed, from which verification then starts. A legal hold ends the prefix at the
first entry it keeps.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.privacy.kernel.holds import held_left, held_persons, held_record_ids
from backgroundmusic.privacy.kernel.models import (
    ENTRY_REASON_MAX_LENGTH,
    StaffAccessLogCheckpoint,
    StaffAccessLogEntry,
)
from backgroundmusic.privacy.kernel.registry import Retentions

GENESIS_HASH = "0" * 64
# Key of the PostgreSQL advisory lock that serialises appends ("ALOG" in ASCII).
_POSTGRES_LOCK_KEY = 0x414C4F47


def entry_hash(
    *,
    actor_id: int,
    subject_id: int,
    fields: Sequence[str],
    reason: str,
    at: datetime,
    prev_hash: str,
) -> str:
    """sha256 over a canonical JSON of the entry and the previous entry's hash."""
    canonical = json.dumps(
        {
            "actor_id": actor_id,
            "subject_id": subject_id,
            "fields": list(fields),
            "reason": reason,
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _stored_hash(entry: StaffAccessLogEntry) -> str:
    return entry_hash(
        actor_id=entry.actor_id,
        subject_id=entry.subject_id,
        fields=entry.fields,
        reason=entry.reason,
        at=entry.at,
        prev_hash=entry.prev_hash,
    )


def _lock_chain() -> None:
    """Serialises appends so each one links to the entry committed just before it.

    PostgreSQL: a transaction-scoped advisory lock, taken before the last entry is read. (Locking
    the last row with SELECT … FOR UPDATE is not enough under READ COMMITTED: a waiter wakes up
    holding the row it read before the other append committed and would fork the chain.)
    SQLite: transactions begin IMMEDIATE (settings.DATABASES), so writers are already serialised.
    Elsewhere the unique prev_hash refuses a second entry linking to the same predecessor.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_POSTGRES_LOCK_KEY])


@transaction.atomic
def access_log_record(
    *, actor: object, subject_id: int, fields: Sequence[str], reason: str
) -> StaffAccessLogEntry:
    """Appends one entry: `actor` (a user) read `fields` of the person `subject_id` for `reason`.

    Call it in the same transaction as the read, before the data is shown.
    """
    actor_id = getattr(actor, "pk", None)
    if not isinstance(actor_id, int):
        raise DomainError(_("Only a signed-in staff member can read personal data."))
    reason = reason.strip()
    if not reason:
        raise DomainError(
            _("A reason is required to read a person's data."), code="reason_required"
        )
    if len(reason) > ENTRY_REASON_MAX_LENGTH:
        raise DomainError(
            _("The reason is too long (at most %(max)s characters).")
            % {"max": ENTRY_REASON_MAX_LENGTH},
            code="reason_too_long",
        )
    _lock_chain()
    last = StaffAccessLogEntry.objects.order_by("-pk").values_list("entry_hash", flat=True).first()
    prev_hash = last or GENESIS_HASH
    at = clock.now().astimezone(UTC)
    fields = list(fields)
    return StaffAccessLogEntry.objects.create(
        actor_id=actor_id,
        subject_id=subject_id,
        fields=fields,
        reason=reason,
        at=at,
        prev_hash=prev_hash,
        entry_hash=entry_hash(
            actor_id=actor_id,
            subject_id=subject_id,
            fields=fields,
            reason=reason,
            at=at,
            prev_hash=prev_hash,
        ),
    )


def access_log_entries() -> QuerySet[StaffAccessLogEntry]:
    """Entries newest first, for the access-log page."""
    return StaffAccessLogEntry.objects.order_by("-pk")


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head: str
    broken_entry_id: int | None = None
    problem: str = ""
    # The id of the last entry retention removed (0 when the chain starts from genesis).
    starts_after_entry: int = 0

    @property
    def intact(self) -> bool:
        return self.broken_entry_id is None


@transaction.atomic
def access_log_prune(*, now: datetime) -> dict[str, int]:
    """Removes the entries past Retentions.STAFF_AUDIT, counted from the read, and writes the
    checkpoint the chain then starts from. Only a prefix of the chain goes: an entry past its
    period that follows a younger one (a clock set back) waits for it.

    A legal hold on an entry, or on a person it names (the staff member who read or the person
    read about), stops the pruning at that entry: it and every entry after it stay, so the chain
    is still whole, and the run reports the expired entries it left as held."""
    _lock_chain()
    cutoff = now - timedelta(days=Retentions.STAFF_AUDIT.days)
    label = StaffAccessLogEntry._meta.label
    first_kept = (
        StaffAccessLogEntry.objects.filter(at__gte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    expired = StaffAccessLogEntry.objects.all()
    if first_kept is not None:
        expired = expired.filter(pk__lt=first_kept)
    persons = held_persons()
    held = expired.filter(
        models.Q(pk__in=[int(pk) for pk in held_record_ids(label) if pk.isdigit()])
        | models.Q(actor_id__in=persons)
        | models.Q(subject_id__in=persons)
    )
    first_held = held.order_by("pk").values_list("pk", flat=True).first()
    if first_held is not None:
        left = expired.filter(pk__gte=first_held).count()
        held_left(label, left)
        expired = expired.filter(pk__lt=first_held)
    last = expired.order_by("-pk").values_list("pk", "entry_hash").first()
    if last is None:
        return {}
    last_id, last_hash = last
    # A plain QuerySet: the append-only manager refuses deletes; this is the one way entries go.
    deleted, _by_model = models.QuerySet(model=StaffAccessLogEntry).filter(pk__lte=last_id).delete()
    StaffAccessLogCheckpoint.objects.create(
        last_pruned_id=last_id, last_pruned_hash=last_hash, entries_pruned=deleted, at=now
    )
    return {label: deleted}


def access_log_verify() -> ChainReport:
    """Walks the chain from the latest checkpoint (or the first entry when retention has removed
    none) and reports the first entry that does not hold."""
    prev_hash = GENESIS_HASH
    starts_after = 0
    entries = StaffAccessLogEntry.objects.order_by("pk")
    checkpoint = StaffAccessLogCheckpoint.objects.order_by("-last_pruned_id").first()
    if checkpoint is not None:
        prev_hash = checkpoint.last_pruned_hash
        starts_after = checkpoint.last_pruned_id
        left_behind = entries.filter(pk__lte=starts_after).values_list("pk", flat=True).first()
        if left_behind is not None:
            return ChainReport(
                entries=0,
                head=prev_hash,
                broken_entry_id=left_behind,
                starts_after_entry=starts_after,
                problem=_(
                    "it precedes the retention checkpoint: the checkpoint was not written "
                    "by retention"
                ),
            )
        entries = entries.filter(pk__gt=starts_after)
    count = 0
    for entry in entries.iterator(chunk_size=2000):
        if entry.prev_hash != prev_hash:
            return ChainReport(
                entries=count,
                head=prev_hash,
                broken_entry_id=entry.pk,
                starts_after_entry=starts_after,
                problem=_(
                    "its link to the previous entry is broken: "
                    "an entry before it was changed or removed"
                ),
            )
        if _stored_hash(entry) != entry.entry_hash:
            return ChainReport(
                entries=count,
                head=prev_hash,
                broken_entry_id=entry.pk,
                starts_after_entry=starts_after,
                problem=_("its content does not match its hash: the entry was changed"),
            )
        prev_hash = entry.entry_hash
        count += 1
    return ChainReport(entries=count, head=prev_hash, starts_after_entry=starts_after)
