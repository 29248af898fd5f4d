"""The kernel's models: data keys and the erasure ledger (in the key store), the staff access
log and its retention checkpoints, the tombstones of erased public profiles.

They belong to the privacy app (app label "privacy"; tables privacy_staffaccesslogentry,
privacy_erasedprofiletombstone, ..., and keystore_datakey, keystore_erasureledgerentry in the key
store): Django gives a model the label of the installed app whose package contains its module.
privacy/models.py imports them so they load with the app.
"""

from typing import Any, ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from backgroundmusic.core.models import AppendOnlyError, AppendOnlyModel, AppendOnlyQuerySet


class DataKey(models.Model):
    """A person's data key, wrapped by a master key. Deleting it makes their data unreadable.

    Kept in the key store (settings.KEYS_DB_ALIAS, kernel/routers.py), never in the main database,
    so no backup of the main database holds a key. subject_id is a plain id, not a foreign key:
    the user lives in another database.
    """

    subject_id = models.PositiveBigIntegerField(unique=True)
    master_key_id = models.CharField(max_length=32)
    wrapped_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    rewrapped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "keystore_datakey"

    def __str__(self) -> str:
        return f"data key #{self.pk}"


class ErasureLedgerEntry(AppendOnlyModel):
    """One erasure, as a restore needs it: whose (the plain user id, which finds the person's rows
    in a restored backup), which job, when it started. Kept in the key store, apart from the main
    database and its backups; the entry's id is the ledger position a backup's manifest records
    (kernel/ledger.py, decision 0036)."""

    subject_id = models.PositiveBigIntegerField(unique=True)
    erasure_job_id = models.PositiveBigIntegerField()
    recorded_at = models.DateTimeField()

    class Meta:
        db_table = "keystore_erasureledgerentry"
        ordering = ["pk"]
        default_permissions = ()
        verbose_name = _("erasure ledger entry")
        verbose_name_plural = _("erasure ledger entries")

    def __str__(self) -> str:
        return f"erasure ledger entry #{self.pk}"


class StaffAccessLogQuerySet(AppendOnlyQuerySet):
    """Entries are added one at a time by access_log.access_log_record(), which keeps the chain."""

    def bulk_create(self, *args: object, **kwargs: object) -> list["StaffAccessLogEntry"]:
        raise AppendOnlyError("append entries with access_log.access_log_record()")


# What a staff member may type as the reason for reading a person's data (every form that asks
# for one), and what an entry holds: that reason after the few words the service puts before it
# ("Agreement A-12: ", "Request #7: ").
ACCESS_REASON_MAX_LENGTH = 500
ENTRY_REASON_MAX_LENGTH = 600


class StaffAccessLogEntry(AppendOnlyModel):
    """One staff read of a person's data: who, whose, which fields, why, when (DESIGN.md §4).

    Hash-chained: entry_hash = sha256(canonical JSON of the entry and prev_hash), so a changed or
    removed entry breaks the chain (manage.py verify_access_log). actor_id and subject_id are plain
    integers, not foreign keys: deleting or erasing a user must neither cascade into the log nor
    rewrite it (that would break the chain), and an id alone names nobody once the user is gone.
    The unique prev_hash keeps the chain linear even if two appends race.
    """

    actor_id = models.PositiveBigIntegerField()
    subject_id = models.PositiveBigIntegerField()
    fields = models.JSONField()
    reason = models.CharField(max_length=ENTRY_REASON_MAX_LENGTH)
    at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64, unique=True)
    entry_hash = models.CharField(max_length=64, unique=True)

    objects: ClassVar[models.Manager[Any]] = StaffAccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        default_permissions = ()
        permissions = [("view_access_log", "Can view the staff access log")]
        verbose_name = _("staff access log entry")
        verbose_name_plural = _("staff access log entries")

    def __str__(self) -> str:
        return f"access log entry #{self.pk}"


class StaffAccessLogCheckpoint(AppendOnlyModel):
    """Where the chain starts after retention removed its oldest entries (access_log_prune).

    It records the hash and id of the last entry removed: the first entry kept must link to that
    hash, so verification starts here and a removal or change after the checkpoint still breaks
    the chain. Written in the same transaction as the removal; never changed.
    """

    last_pruned_id = models.PositiveBigIntegerField(unique=True)
    last_pruned_hash = models.CharField(max_length=64, unique=True)
    entries_pruned = models.PositiveIntegerField()
    at = models.DateTimeField()

    class Meta:
        ordering = ["last_pruned_id"]
        default_permissions = ()
        verbose_name = _("staff access log checkpoint")
        verbose_name_plural = _("staff access log checkpoints")

    def __str__(self) -> str:
        return f"access log checkpoint after entry #{self.last_pruned_id}"


class ErasedProfileTombstone(models.Model):
    """Lets /u/<username>/ answer 410 Gone after erasure without keeping the username
    (tombstones.py)."""

    username_digest = models.CharField(max_length=64, unique=True)
    erased_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"tombstone #{self.pk}"


class LegalHold(models.Model):
    """A legal hold: one record (a declared model's label and the row's primary key) or a whole
    person (a user id: every row the data map links to them) kept from retention and erasure
    until the hold ends or is lifted (holds.py; placed and lifted by privacy/holds.py).

    Plain integer ids, not foreign keys, like the access log: the hold outlives the rows and the
    account it keeps, and deleting them must not cascade into it. It is in force from when it
    is placed until the start of `ends_on` (Moscow time), unless lifted before.
    """

    target_label = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    subject_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    reason = models.TextField()
    placed_by_id = models.PositiveBigIntegerField()
    placed_at = models.DateTimeField()
    ends_on = models.DateField()
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by_id = models.PositiveBigIntegerField(null=True, blank=True)
    lift_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-placed_at", "-pk"]
        default_permissions = ()
        permissions = [("place_legalhold", "Can place and lift legal holds")]
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        constraints = [
            models.CheckConstraint(
                name="legal_hold_one_target",
                condition=(
                    models.Q(subject_id__isnull=True)
                    & ~models.Q(target_label="")
                    & ~models.Q(target_id="")
                )
                | (models.Q(subject_id__isnull=False) & models.Q(target_label="", target_id="")),
            ),
            models.CheckConstraint(
                name="legal_hold_lifted_by_someone",
                condition=models.Q(lifted_at__isnull=True, lifted_by_id__isnull=True)
                | models.Q(lifted_at__isnull=False, lifted_by_id__isnull=False),
            ),
            models.CheckConstraint(name="legal_hold_has_reason", condition=~models.Q(reason="")),
        ]

    def __str__(self) -> str:
        return f"legal hold #{self.pk}"
