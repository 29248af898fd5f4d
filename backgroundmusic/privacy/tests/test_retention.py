"""Retention: the daily job destroys what is past its period, with a frozen clock."""

from datetime import UTC, date, datetime, timedelta

import pytest
from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.usersessions.models import UserSession
from axes.models import AccessAttempt, AccessLog
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.files.storage import default_storage
from django.test import Client
from django_tasks_db.models import DBTaskResult

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.core import clock
from backgroundmusic.core.models import ScheduledRun
from backgroundmusic.core.schedule import schedule_due_jobs
from backgroundmusic.licensing.agreements import agreements_conclude
from backgroundmusic.licensing.models import Agreement, Order, PlanKind
from backgroundmusic.licensing.tests.checkout_scene import plan_edition
from backgroundmusic.licensing.tests.paid_orders import paid_order
from backgroundmusic.privacy.kernel.pseudonyms import subject_pseudonym
from backgroundmusic.privacy.models import (
    AcceptanceAction,
    DataExport,
    DataSubjectRequest,
    DestructionRecord,
    Disclosure,
    ErasureJob,
    LegalBasisForDisclosure,
    PolicyAcceptance,
)
from backgroundmusic.privacy.retention import retention_run
from backgroundmusic.privacy.rights.erasure import erasure_request
from backgroundmusic.privacy.tasks import apply_retention
from backgroundmusic.privacy.tests.test_erasure import edition
from backgroundmusic.privacy.tests.test_export import (
    make_owner,
    queued,
    ready_export,
    run_queued,
)
from backgroundmusic.recurring import RECURRING_JOBS
from backgroundmusic.staffroles.roles import StaffRole

# The retention run prunes analytics events too, which live in their own database when scaled out.
pytestmark = pytest.mark.django_db(databases="__all__")

T = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


def records() -> list[tuple[str, list[str], dict[str, int], str, str, datetime]]:
    return [
        (r.subject_pseudonym, r.categories, r.counts, r.method, r.reason, r.at)
        for r in DestructionRecord.objects.order_by("pk")
    ]


def joined_at(user: User, when: datetime, *, verified: bool = True) -> User:
    User.objects.filter(pk=user.pk).update(date_joined=when)
    EmailAddress.objects.filter(user=user).update(verified=verified)
    user.refresh_from_db()
    return user


def attempt(username: str, when: datetime) -> AccessAttempt:
    row = AccessAttempt.objects.create(
        username=username,
        ip_address="192.0.2.0",
        user_agent=f"Firefox {when:%Y%m%d%H%M%S}",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=1,
    )
    AccessAttempt.objects.filter(pk=row.pk).update(attempt_time=when)
    return row


def test_the_daily_job_is_declared_and_scheduled_once_per_day():
    [job] = [job for job in RECURRING_JOBS if job.name == "privacy_retention"]
    assert (job.cron, job.task) == ("41 2 * * *", "backgroundmusic.privacy.tasks.apply_retention")
    with clock.frozen_at(T):
        schedule_due_jobs(jobs=[job])
        schedule_due_jobs(jobs=[job])
    assert list(ScheduledRun.objects.values_list("job", "slot")) == [
        ("privacy_retention", datetime(2026, 3, 10, 2, 41, tzinfo=UTC))
    ]
    assert len(queued("apply_retention")) == 1


def test_a_run_with_nothing_due_writes_nothing():
    make_owner()
    with clock.frozen_at(T):
        report = apply_retention.call()
    assert report == {"erasure jobs resumed": 0}
    assert DestructionRecord.objects.count() == 0
    assert ErasureJob.objects.count() == 0


def test_unverified_signups_are_erased_after_7_days():
    due = joined_at(UserFactory.create(username="late"), T - 7 * DAY - SECOND, verified=False)
    young = joined_at(UserFactory.create(username="young"), T - 7 * DAY + SECOND, verified=False)
    verified = joined_at(UserFactory.create(username="verified"), T - 30 * DAY)
    staff = StaffFactory.create(username="staff", role=StaffRole.SUPPORT)
    joined_at(staff, T - 30 * DAY, verified=False)

    with clock.frozen_at(T):
        report = retention_run()
    assert report.erasures == {"unverified sign-up": 1}
    job = ErasureJob.objects.get()
    assert (job.subject_id, job.reason) == (due.pk, "retention: unverified sign-up")

    with clock.frozen_at(T):
        assert run_queued("erase_account") == ["done"]
    assert User.objects.get(pk=due.pk).username == subject_pseudonym(subject_id=due.pk)
    for kept in (young, verified, staff):
        assert User.objects.get(pk=kept.pk).username == kept.username
    [record] = DestructionRecord.objects.all()
    assert (record.reason, record.method) == ("retention: unverified sign-up", "erasure")

    with clock.frozen_at(T + DAY):  # the shell is not erased again
        assert retention_run().erasures == {"unverified sign-up": 1}
    assert ErasureJob.objects.filter(subject_id=due.pk).count() == 1
    assert ErasureJob.objects.get(subject_id=young.pk).reason == "retention: unverified sign-up"


def test_closed_accounts_are_erased_30_days_after_their_last_use():
    closed = joined_at(UserFactory.create(username="closed"), T - 100 * DAY)
    User.objects.filter(pk=closed.pk).update(is_active=False, last_login=T - 30 * DAY - SECOND)
    recent = joined_at(UserFactory.create(username="recent"), T - 100 * DAY)
    User.objects.filter(pk=recent.pk).update(is_active=False, last_login=T - 30 * DAY + SECOND)
    never_used = joined_at(UserFactory.create(username="never"), T - 31 * DAY)
    User.objects.filter(pk=never_used.pk).update(is_active=False, last_login=None)
    active = joined_at(UserFactory.create(username="active"), T - 100 * DAY)

    with clock.frozen_at(T):
        report = retention_run()
    assert report.erasures == {"account closed": 2}
    assert sorted(ErasureJob.objects.values_list("subject_id", "reason")) == [
        (closed.pk, "retention: account closed"),
        (never_used.pk, "retention: account closed"),
    ]
    with clock.frozen_at(T):
        assert run_queued("erase_account") == ["done", "done"]
    assert User.objects.get(pk=recent.pk).username == "recent"
    assert User.objects.get(pk=active.pk).username == "active"

    # Years later, with the erasure jobs themselves past their period, a shell stays a shell.
    with clock.frozen_at(T + 4 * 365 * DAY):
        retention_run()
    assert ErasureJob.objects.filter(subject_id__in=[closed.pk, never_used.pk]).count() == 0
    assert User.objects.get(pk=closed.pk).username == subject_pseudonym(subject_id=closed.pk)


def test_expired_exports_lose_their_files_and_rows():
    owner = make_owner()
    with clock.frozen_at(T):
        expiring, _link = ready_export(owner)
    with clock.frozen_at(T + DAY):
        fresh, _link = ready_export(owner)
    stuck = DataExport.objects.create(subject=owner, requested_at=T)  # its job was lost
    assert default_storage.exists(expiring.file_name)

    with clock.frozen_at(T + 7 * DAY):  # the link works until then
        assert retention_run().destroyed == {}
    with clock.frozen_at(T + 7 * DAY + SECOND):
        report = retention_run()
    assert report.destroyed == {"privacy.DataExport": 2, "export files": 1}
    assert list(DataExport.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not default_storage.exists(expiring.file_name)
    assert default_storage.exists(fresh.file_name)
    assert stuck.pk not in DataExport.objects.values_list("pk", flat=True)
    assert records() == [
        ("", ["user.account.settings"], {"export files": 1}, "delete", "retention: data exports",
         T + 7 * DAY + SECOND),
        ("", ["user.account.settings"], {"privacy.DataExport": 2}, "delete",
         "retention: data exports", T + 7 * DAY + SECOND),
    ]  # fmt: skip


def test_sign_in_records_go_after_90_days():
    old = attempt("someone", T - 90 * DAY - SECOND)
    recent = attempt("someone", T - 90 * DAY + SECOND)
    log = AccessLog.objects.create(
        username="someone", ip_address="192.0.2.0", user_agent="x", http_accept="*/*"
    )
    AccessLog.objects.filter(pk=log.pk).update(attempt_time=T - 200 * DAY)
    with clock.frozen_at(T):
        report = retention_run()
    assert report.destroyed == {"axes.AccessAttempt": 1, "axes.AccessLog": 1}
    assert list(AccessAttempt.objects.values_list("pk", flat=True)) == [recent.pk]
    assert AccessLog.objects.count() == 0
    assert old.pk not in AccessAttempt.objects.values_list("pk", flat=True)
    [attempts_record] = [r for r in records() if "axes.AccessAttempt" in r[2]]
    assert attempts_record == (
        "",
        sorted(["user.behavior", "user.device", "user.device.ip_address", "user.account.username"]),
        {"axes.AccessAttempt": 1},
        "delete",
        "retention: axes.AccessAttempt",
        T,
    )


def test_sessions_go_when_expired_or_unused_for_14_days():
    owner = make_owner()
    stale, current = Client(), Client()
    for client in (stale, current):
        client.force_login(owner)
        client.get("/account/profile/")
    stale_key = stale.session.session_key
    UserSession.objects.filter(session_key=stale_key).update(last_seen_at=T - 14 * DAY - SECOND)
    UserSession.objects.filter(session_key=current.session.session_key).update(last_seen_at=T)
    Session.objects.filter(session_key=current.session.session_key).update(expire_date=T + DAY)
    Session.objects.create(session_key="expired0session", session_data="", expire_date=T - SECOND)
    with clock.frozen_at(T):
        report = retention_run()
    assert report.destroyed == {"sessions.Session": 2, "usersessions.UserSession": 1}
    assert list(UserSession.objects.values_list("session_key", flat=True)) == [
        current.session.session_key
    ]
    assert not Session.objects.filter(session_key__in=[stale_key, "expired0session"]).exists()


def test_email_confirmations_and_admin_log_entries_past_their_period():
    user = UserFactory.create(username="someone")
    address = EmailAddress.objects.get(user=user)
    old = EmailConfirmation.objects.create(email_address=address, key="a" * 64)
    EmailConfirmation.objects.filter(pk=old.pk).update(created=T - 3 * DAY - SECOND)
    fresh = EmailConfirmation.objects.create(email_address=address, key="b" * 64)
    EmailConfirmation.objects.filter(pk=fresh.pk).update(created=T - DAY)
    for age in (365 * DAY + SECOND, 364 * DAY):
        entry = LogEntry.objects.create(
            user=user,
            content_type=ContentType.objects.get_for_model(User),
            object_id=str(user.pk),
            object_repr="x",
            action_flag=CHANGE,
        )
        LogEntry.objects.filter(pk=entry.pk).update(action_time=T - age)
    with clock.frozen_at(T):
        report = retention_run()
    assert report.destroyed == {"account.EmailConfirmation": 1, "admin.LogEntry": 1}
    assert list(EmailConfirmation.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert LogEntry.objects.count() == 1


def test_finished_job_rows_go_14_days_after_they_finish_and_unfinished_ones_stay():
    # The retention run is the one step that deletes them (core/privacy.py declares the period;
    # core's own job prunes schedule slots only).
    old, recent, waiting = (apply_retention.enqueue() for _ in range(3))
    DBTaskResult.objects.filter(pk=old.id).update(
        status="SUCCESSFUL", finished_at=T - 14 * DAY - SECOND
    )
    DBTaskResult.objects.filter(pk=recent.id).update(
        status="FAILED", finished_at=T - 14 * DAY + SECOND
    )
    DBTaskResult.objects.filter(pk=waiting.id).update(enqueued_at=T - 30 * DAY)
    with clock.frozen_at(T):
        report = retention_run()
    assert report.destroyed == {"django_tasks_database.DBTaskResult": 1}
    assert {str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)} == {
        recent.id,
        waiting.id,
    }
    assert records() == [
        ("", ["user.unique_id"], {"django_tasks_database.DBTaskResult": 1}, "delete",
         "retention: django_tasks_database.DBTaskResult", T),
    ]  # fmt: skip


def test_request_records_go_and_registers_lose_the_person_after_3_years():
    three_years = 3 * 365 * DAY
    recorder = StaffFactory.create(username="officer", role=StaffRole.PRIVACY_OFFICER)
    person = make_owner("person")
    old_request = DataSubjectRequest.objects.create(
        kind="access",
        channel="letter",
        received_at=T - 4 * 365 * DAY,
        requester_contact="Somewhere 1",
        due_ru=date(2022, 1, 1),
        due_gdpr=date(2022, 1, 1),
        status=DataSubjectRequest.Status.DONE,
        closed_at=T - three_years - SECOND,
    )
    recent_request = DataSubjectRequest.objects.create(
        kind="access",
        channel="letter",
        received_at=T - 4 * 365 * DAY,
        due_ru=date(2022, 1, 1),
        due_gdpr=date(2022, 1, 1),
        status=DataSubjectRequest.Status.DONE,
        closed_at=T - three_years + SECOND,
    )
    open_request = DataSubjectRequest.objects.create(
        kind="access",
        channel="letter",
        received_at=T - 4 * 365 * DAY,
        due_ru=date(2022, 1, 1),
        due_gdpr=date(2022, 1, 1),
    )

    def disclosure(on: date, hold: date | None = None) -> Disclosure:
        return Disclosure.objects.create(
            subject=person,
            subject_pseudonym=subject_pseudonym(subject_id=person.pk),
            recipient_name="Court",
            country="RU",
            legal_basis=LegalBasisForDisclosure.COURT_DECISION,
            categories=["user.name"],
            reference_document="Case 1",
            disclosed_on=on,
            recorded_at=T,
            recorded_by_id=recorder.pk,
            legal_hold_until=hold,
            legal_hold_reason="Order" if hold else "",
        )

    old_disclosure = disclosure(date(2023, 3, 1))
    held_disclosure = disclosure(date(2023, 3, 1), hold=date(2026, 12, 31))
    recent_disclosure = disclosure(date(2023, 3, 20))

    erased = make_owner("erased")
    PolicyAcceptance.objects.create(
        user=erased,
        subject_pseudonym=subject_pseudonym(subject_id=erased.pk),
        edition=edition(),
        edition_hash="f" * 64,
        action=AcceptanceAction.ACCEPTED,
        at=T - 5 * 365 * DAY,
    )
    with clock.frozen_at(T - three_years - SECOND):
        erasure_request(subject=erased, reason="privacy center")
        run_queued("erase_account")

    with clock.frozen_at(T):
        report = retention_run()
    assert report.destroyed == {
        "privacy.DataSubjectRequest": 1,
        "privacy.Disclosure": 1,
        "privacy.DestructionRecord": 1,
        "privacy.ErasureJob": 1,
        # The erasure's ledger entry, kept only as long as a backup may be restored.
        "privacy.ErasureLedgerEntry": 1,
        "privacy.PolicyAcceptance": 1,
    }
    assert sorted(DataSubjectRequest.objects.values_list("pk", flat=True)) == [
        recent_request.pk,
        open_request.pk,
    ]
    assert old_request.pk not in DataSubjectRequest.objects.values_list("pk", flat=True)
    assert ErasureJob.objects.count() == 0
    assert PolicyAcceptance.objects.count() == 0
    anonymous = Disclosure.objects.get(pk=old_disclosure.pk)
    assert (anonymous.subject_id, anonymous.subject_pseudonym) == (None, "")
    for kept in (held_disclosure, recent_disclosure):
        assert Disclosure.objects.get(pk=kept.pk).subject_id == person.pk
    [erasure_record] = [r for r in DestructionRecord.objects.all() if r.method == "erasure"]
    assert erasure_record.subject_pseudonym == ""
    depersonalized = [r for r in records() if r[3] == "depersonalize"]
    assert depersonalized == [
        ("", ["user.unique_id"], {"privacy.DestructionRecord": 1}, "depersonalize",
         "retention: old registers", T),
        ("", ["user.privacy_preferences", "user.unique_id"], {"privacy.Disclosure": 1},
         "depersonalize", "retention: old registers", T),
    ]  # fmt: skip


def test_a_second_run_destroys_nothing_more():
    owner = make_owner()
    with clock.frozen_at(T):
        ready_export(owner)
    attempt("someone", T - 100 * DAY)
    with clock.frozen_at(T + 8 * DAY):
        first = retention_run()
        written = DestructionRecord.objects.count()
        second = retention_run()
    assert first.destroyed and not second.destroyed
    assert DestructionRecord.objects.count() == written


def test_the_task_returns_counts_only():
    attempt("someone", T - 100 * DAY)
    with clock.frozen_at(T):
        assert apply_retention.call() == {
            "destroyed axes.AccessAttempt": 1,
            "erasure jobs resumed": 0,
        }


def test_licensing_records_go_after_their_keep_until_and_an_order_waits_for_its_agreement():
    # The "licensing records" step (licensing/retention.py), run by the retention run.
    buyer = make_owner("buyer")
    edition = plan_edition(kind=PlanKind.CREATOR)
    order = paid_order(user=buyer, lines=[{"edition": edition}], paid_at=T - 6 * 365 * DAY)
    [agreement] = agreements_conclude(order=order, now=T - 6 * 365 * DAY)
    kept = paid_order(user=buyer, lines=[{"edition": edition}], paid_at=T - DAY)
    Order.objects.filter(pk=order.pk).update(keep_until=T.date() - DAY)
    Order.objects.filter(pk=kept.pk).update(keep_until=T.date())
    Agreement.objects.filter(pk=agreement.pk).update(keep_until=T.date())
    with clock.frozen_at(T):
        assert retention_run().destroyed == {}
    Agreement.objects.filter(pk=agreement.pk).update(keep_until=T.date() - DAY)
    with clock.frozen_at(T):
        report = retention_run()
    assert report.destroyed == {
        "licensing.Agreement": 1,
        "licensing.AgreementEvent": 1,
        "licensing.Certificate": 1,
        "licensing.Order": 1,
        "licensing.OrderLine": 1,
    }
    assert list(Order.objects.values_list("pk", flat=True)) == [kept.pk]
    assert {reason for *_rest, reason, _at in records()} == {"retention: licensing records"}
