import contextlib
import hashlib
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, OperationalError, connection, connections, transaction
from django.utils.log import configure_logging

from backgroundmusic.accounts.tests.factories import StaffFactory
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.models import AppendOnlyError
from backgroundmusic.privacy.kernel.access_log import (
    GENESIS_HASH,
    ChainReport,
    access_log_record,
    access_log_verify,
)
from backgroundmusic.privacy.kernel.models import (
    ENTRY_REASON_MAX_LENGTH,
    StaffAccessLogCheckpoint,
    StaffAccessLogEntry,
)
from backgroundmusic.privacy.models import DestructionRecord
from backgroundmusic.privacy.retention import retention_run
from backgroundmusic.staffroles.roles import StaffRole

# The retention run prunes analytics events too, which live in their own database when scaled out.
pytestmark = pytest.mark.django_db(databases="__all__")
# Raw SQL on purpose: tampering the way someone with database access would.
UPDATE_REASON = "UPDATE privacy_staffaccesslogentry SET reason = %s WHERE id = %s"
UPDATE_FIELDS_AND_HASH = (
    "UPDATE privacy_staffaccesslogentry SET fields = %s, entry_hash = %s WHERE id = %s"
)
UPDATE_SUBJECT = "UPDATE privacy_staffaccesslogentry SET subject_id = %s WHERE id = %s"
DELETE = "DELETE FROM privacy_staffaccesslogentry WHERE id = %s"


@pytest.fixture
def actor():
    return StaffFactory.create(role=StaffRole.PRIVACY_OFFICER)


@pytest.fixture
def three(actor) -> list[StaffAccessLogEntry]:
    return [
        access_log_record(actor=actor, subject_id=10 + n, fields=["email"], reason=f"ticket {n}")
        for n in range(3)
    ]


def verify_output() -> str:
    out = StringIO()
    call_command("verify_access_log", stdout=out)
    return out.getvalue()


def raw_sql(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_entry_hashes_its_canonical_json_and_the_previous_hash(actor):
    moment = datetime(2026, 3, 29, 1, 30, 5, 123456, tzinfo=timezone(timedelta(hours=3)))
    with clock.frozen_at(moment):
        first = access_log_record(
            actor=actor, subject_id=42, fields=["email", "full_name"], reason="  Заявка №7  "
        )
    canonical = (
        f'{{"actor_id":{actor.pk},"at":"2026-03-28T22:30:05.123456+00:00",'
        f'"fields":["email","full_name"],"prev_hash":"{"0" * 64}","reason":"Заявка №7",'
        f'"subject_id":42}}'
    )
    first.refresh_from_db()
    assert (first.actor_id, first.subject_id, first.fields, first.reason) == (
        actor.pk,
        42,
        ["email", "full_name"],
        "Заявка №7",
    )
    assert first.at == datetime(2026, 3, 28, 22, 30, 5, 123456, tzinfo=UTC)
    assert first.prev_hash == GENESIS_HASH
    assert first.entry_hash == hashlib.sha256(canonical.encode()).hexdigest()

    second = access_log_record(actor=actor, subject_id=43, fields=[], reason="ticket 8")
    assert second.prev_hash == first.entry_hash


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_a_reading_without_a_reason_is_refused(actor, reason):
    with pytest.raises(DomainError) as refused:
        access_log_record(actor=actor, subject_id=1, fields=["email"], reason=reason)
    assert refused.value.code == "reason_required"
    assert StaffAccessLogEntry.objects.count() == 0


def test_a_reason_longer_than_an_entry_holds_is_refused(actor):
    longest = access_log_record(
        actor=actor, subject_id=1, fields=["email"], reason="T" * ENTRY_REASON_MAX_LENGTH
    )
    with pytest.raises(DomainError) as refused:
        access_log_record(
            actor=actor, subject_id=1, fields=["email"], reason="T" * (ENTRY_REASON_MAX_LENGTH + 1)
        )
    assert refused.value.code == "reason_too_long"
    assert str(refused.value.message) == "The reason is too long (at most 600 characters)."
    assert list(StaffAccessLogEntry.objects.values_list("pk", flat=True)) == [longest.pk]


def test_an_anonymous_actor_is_refused():
    with pytest.raises(DomainError):
        access_log_record(actor=AnonymousUser(), subject_id=1, fields=["email"], reason="x")
    assert StaffAccessLogEntry.objects.count() == 0


def test_verify_an_empty_log():
    assert verify_output() == f"access log intact: 0 entries\nhead: {GENESIS_HASH}\n"


def test_verify_an_intact_log(three):
    assert verify_output() == f"access log intact: 3 entries\nhead: {three[2].entry_hash}\n"


def test_a_changed_entry_is_named(three):
    raw_sql(UPDATE_REASON, ["ticket 99", three[1].pk])
    with pytest.raises(CommandError) as broken:
        verify_output()
    assert str(broken.value) == (
        f"access log broken at entry #{three[1].pk}: its content does not match its hash: "
        "the entry was changed (1 entries before it verified)"
    )


def test_a_changed_entry_with_a_recomputed_hash_breaks_the_next_link(three):
    forged = hashlib.sha256(b"forged").hexdigest()
    raw_sql(
        UPDATE_FIELDS_AND_HASH,
        ['["tax_id"]', forged, three[0].pk],
    )
    with pytest.raises(CommandError) as broken:
        verify_output()
    # The forged entry's own hash check fails first.
    assert str(broken.value).startswith(f"access log broken at entry #{three[0].pk}: its content")


def test_a_removed_middle_entry_is_named_by_the_entry_after_it(three):
    raw_sql(DELETE, [three[1].pk])
    with pytest.raises(CommandError) as broken:
        verify_output()
    assert str(broken.value) == (
        f"access log broken at entry #{three[2].pk}: its link to the previous entry is broken: "
        "an entry before it was changed or removed (1 entries before it verified)"
    )


def test_a_removed_first_entry_is_named_by_the_entry_after_it(three):
    raw_sql(DELETE, [three[0].pk])
    report = access_log_verify()
    assert (report.intact, report.broken_entry_id, report.entries) == (False, three[1].pk, 0)


def test_the_command_exits_non_zero_when_broken(three, capsys):
    raw_sql(UPDATE_SUBJECT, [999, three[2].pk])
    try:
        with pytest.raises(SystemExit) as exited:
            ManagementUtility(["manage.py", "verify_access_log"]).execute()
    finally:
        # execute() runs django.setup() again, binding log handlers to pytest's capture stream,
        # which is closed after this test; bind them to the real stderr again.
        with contextlib.redirect_stderr(sys.__stderr__):
            configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    assert exited.value.code == 1
    assert capsys.readouterr().err == (
        f"CommandError: access log broken at entry #{three[2].pk}: its content does not match "
        "its hash: the entry was changed (2 entries before it verified)\n"
    )


def test_the_orm_cannot_change_or_remove_entries(three):
    entry = StaffAccessLogEntry.objects.get(pk=three[0].pk)
    entry.reason = "changed"
    attempts: list[Callable[[], object]] = [
        entry.save,
        entry.delete,
        lambda: StaffAccessLogEntry.objects.filter(pk=entry.pk).update(reason="changed"),
        lambda: StaffAccessLogEntry.objects.filter(pk=entry.pk).delete(),
        lambda: StaffAccessLogEntry.objects.all().delete(),
        lambda: StaffAccessLogEntry.objects.bulk_update([entry], ["reason"]),
        lambda: StaffAccessLogEntry.objects.bulk_create([StaffAccessLogEntry(actor_id=1)]),
    ]
    for attempt in attempts:
        with pytest.raises(AppendOnlyError):
            attempt()
    assert list(StaffAccessLogEntry.objects.values_list("reason", flat=True)) == [
        "ticket 0",
        "ticket 1",
        "ticket 2",
    ]
    assert access_log_verify().intact


def test_two_entries_cannot_link_to_the_same_predecessor(three):
    # The unique prev_hash is the database's own guard against a forked chain.
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffAccessLogEntry.objects.create(
            actor_id=1,
            subject_id=1,
            fields=[],
            reason="fork",
            at=clock.now(),
            prev_hash=three[1].prev_hash,
            entry_hash="f" * 64,
        )


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_chain():
    actor = StaffFactory.create(role=StaffRole.SUPPORT)
    writers, per_writer = 4, 5
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(per_writer):
                while True:
                    try:
                        access_log_record(
                            actor=actor,
                            subject_id=n,
                            fields=["email"],
                            reason=f"writer {n} read {i}",
                        )
                        break
                    except OperationalError as error:
                        # The SQLite test database is in memory with a shared cache, where a
                        # second writer fails at once instead of waiting (files wait up to the
                        # timeout). Retry that only; a forked chain would be an IntegrityError.
                        if str(error) != "database table is locked":
                            raise
                        time.sleep(0.001)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = access_log_verify()
    assert (report.intact, report.entries) == (True, writers * per_writer)


YEAR = timedelta(days=365)
SECOND_ = timedelta(seconds=1)
DAY_ = timedelta(days=1)
NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)


def recorded(actor, *ages: timedelta) -> list[StaffAccessLogEntry]:
    """One entry per age, appended in this order, each read `age` before NOW."""
    entries = []
    for n, age in enumerate(ages):
        with clock.frozen_at(NOW - age):
            entries.append(
                access_log_record(actor=actor, subject_id=20 + n, fields=["email"], reason="t")
            )
    return entries


def pruned(actor) -> list[StaffAccessLogEntry]:
    """Three entries past the year and two inside it, after a retention run at NOW."""
    entries = recorded(actor, 2 * YEAR, YEAR + SECOND_, YEAR + SECOND_, YEAR - SECOND_, DAY_)
    with clock.frozen_at(NOW):
        assert retention_run().destroyed == {"privacy.StaffAccessLogEntry": 3}
    return entries


def test_retention_removes_entries_past_a_year_and_the_chain_still_verifies(actor):
    entries = pruned(actor)

    assert list(StaffAccessLogEntry.objects.values_list("pk", flat=True)) == [
        entries[3].pk,
        entries[4].pk,
    ]
    checkpoint = StaffAccessLogCheckpoint.objects.get()
    assert (
        checkpoint.last_pruned_id,
        checkpoint.last_pruned_hash,
        checkpoint.entries_pruned,
        checkpoint.at,
    ) == (entries[2].pk, entries[2].entry_hash, 3, NOW)
    assert verify_output() == (
        f"access log intact: 2 entries\nstarts after entry #{entries[2].pk} (older entries "
        f"removed by retention, checkpoint verified)\nhead: {entries[4].entry_hash}\n"
    )
    record = DestructionRecord.objects.get()
    assert (record.counts, record.method, record.reason, record.subject_pseudonym) == (
        {"privacy.StaffAccessLogEntry": 3},
        "delete",
        "retention: staff access log",
        "",
    )
    # Appends go on from the head; a second run removes nothing and writes no checkpoint.
    later = access_log_record(actor=actor, subject_id=30, fields=["email"], reason="later")
    assert later.prev_hash == entries[4].entry_hash
    with clock.frozen_at(NOW):
        assert retention_run().destroyed == {}
    assert StaffAccessLogCheckpoint.objects.count() == 1
    assert access_log_verify() == ChainReport(
        entries=3, head=later.entry_hash, starts_after_entry=entries[2].pk
    )


def test_a_second_pruning_starts_from_the_latest_checkpoint(actor):
    entries = pruned(actor)
    with clock.frozen_at(NOW + 2 * DAY_):
        assert retention_run().destroyed == {"privacy.StaffAccessLogEntry": 1}
    assert list(StaffAccessLogEntry.objects.values_list("pk", flat=True)) == [entries[4].pk]
    assert list(
        StaffAccessLogCheckpoint.objects.values_list("last_pruned_id", "entries_pruned")
    ) == [(entries[2].pk, 3), (entries[3].pk, 1)]
    assert access_log_verify() == ChainReport(
        entries=1, head=entries[4].entry_hash, starts_after_entry=entries[3].pk
    )


def test_removing_the_first_entry_kept_after_pruning_is_detected(actor):
    entries = pruned(actor)
    raw_sql(DELETE, [entries[3].pk])
    with pytest.raises(CommandError) as broken:
        verify_output()
    assert str(broken.value) == (
        f"access log broken at entry #{entries[4].pk}: its link to the previous entry is broken: "
        "an entry before it was changed or removed (0 entries before it verified)"
    )


def test_changing_an_entry_kept_after_pruning_is_detected(actor):
    entries = pruned(actor)
    raw_sql(UPDATE_REASON, ["changed", entries[4].pk])
    report = access_log_verify()
    assert (report.intact, report.broken_entry_id, report.entries) == (False, entries[4].pk, 1)


def test_a_checkpoint_written_without_pruning_is_named(actor):
    entries = recorded(actor, DAY_, DAY_, DAY_)
    StaffAccessLogCheckpoint.objects.create(
        last_pruned_id=entries[1].pk,
        last_pruned_hash=entries[1].entry_hash,
        entries_pruned=2,
        at=NOW,
    )
    report = access_log_verify()
    assert (report.intact, report.broken_entry_id, report.problem) == (
        False,
        entries[0].pk,
        "it precedes the retention checkpoint: the checkpoint was not written by retention",
    )


def test_an_expired_entry_after_a_younger_one_waits_for_it(actor):
    # A clock set back: only a prefix of the chain may go, or the chain would have a hole.
    entries = recorded(actor, 2 * YEAR, DAY_, 2 * YEAR)
    with clock.frozen_at(NOW):
        assert retention_run().destroyed == {"privacy.StaffAccessLogEntry": 1}
    assert list(StaffAccessLogEntry.objects.values_list("pk", flat=True)) == [
        entries[1].pk,
        entries[2].pk,
    ]
    assert access_log_verify().intact


def test_checkpoints_are_append_only(actor):
    pruned(actor)
    checkpoint = StaffAccessLogCheckpoint.objects.get()
    with pytest.raises(AppendOnlyError):
        StaffAccessLogCheckpoint.objects.update(entries_pruned=0)
    with pytest.raises(AppendOnlyError):
        checkpoint.delete()
    assert StaffAccessLogCheckpoint.objects.get().entries_pruned == 3
