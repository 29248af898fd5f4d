"""The erasure ledger: who was erased, kept in the key store, apart from the main database and
its backups, so a restored backup can be erased again (decision 0036).

An entry holds the person's plain user id (the id every erasure step finds their rows by, in a
restored backup too), the erasure job's id and the time; never a name or an address. A keyed hash
would hide nothing more: whoever holds a backup to match it against runs the service and holds
the key as well. Entries are only ever added, one per person, and leave after
settings.BACKUP_MAX_AGE_DAYS, when no backup that could need them may be restored any more.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from backgroundmusic.core import clock
from backgroundmusic.privacy.kernel.models import ErasureLedgerEntry


@dataclass(frozen=True)
class LedgerEntry:
    position: int
    subject_id: int
    erasure_job_id: int
    recorded_at: datetime


def erasure_ledger_append(*, subject_id: int, erasure_job_id: int) -> None:
    """Records that the person's erasure was asked for or has begun; once per person, durable at
    once (the key store commits on its own, whatever the main database's transaction does
    next)."""
    if ErasureLedgerEntry.objects.filter(subject_id=subject_id).exists():
        return
    try:
        with transaction.atomic(using=settings.KEYS_DB_ALIAS):
            ErasureLedgerEntry.objects.create(
                subject_id=subject_id, erasure_job_id=erasure_job_id, recorded_at=clock.now()
            )
    except IntegrityError:
        return  # recorded a moment ago by another process


def erasure_ledger_position() -> int:
    """The position of the newest entry (0 for an empty ledger): a backup records it before it
    starts, and a restore replays every entry after it."""
    return int(ErasureLedgerEntry.objects.aggregate(last=Max("pk"))["last"] or 0)


def erasure_ledger_after(*, position: int) -> list[LedgerEntry]:
    return [
        LedgerEntry(
            position=entry.pk,
            subject_id=entry.subject_id,
            erasure_job_id=entry.erasure_job_id,
            recorded_at=entry.recorded_at,
        )
        for entry in ErasureLedgerEntry.objects.filter(pk__gt=position).order_by("pk")
    ]
