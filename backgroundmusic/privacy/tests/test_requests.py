"""Data-subject requests handled by staff: deadlines, extension, identity, actions, closing and
the daily digest (privacy/requests.py). Pages and authorization: test_requests_pages.py."""

from datetime import UTC, date, datetime

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django_tasks_db.models import DBTaskResult

from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.models import ScheduledRun
from backgroundmusic.core.schedule import schedule_due_jobs
from backgroundmusic.privacy import consents
from backgroundmusic.privacy import requests as dsr
from backgroundmusic.privacy.models import (
    ConsentAction,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    DataExport,
    DataSubjectRequest,
    ErasureJob,
    ProcessingRestriction,
    Recipient,
    RequestKind,
)
from backgroundmusic.privacy.tasks import send_request_deadline_digest
from backgroundmusic.recurring import RECURRING_JOBS
from backgroundmusic.staffroles.roles import StaffRole

pytestmark = pytest.mark.django_db

Status = DataSubjectRequest.Status
Identity = DataSubjectRequest.Identity
Channel = DataSubjectRequest.Channel

# 10:00 in Moscow on Monday 29 December 2025.
RECEIVED = datetime(2025, 12, 29, 7, 0, tzinfo=UTC)


def moscow_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _empty_cache(_test_settings):
    # The digest marks who got today's e-mail in the cache, and locmem caches outlive a test:
    # empty the test cache (after conftest's _test_settings has switched to it).
    cache.clear()


@pytest.fixture
def officer():
    return StaffFactory.create(role=StaffRole.PRIVACY_OFFICER, username="officer")


@pytest.fixture
def person():
    return UserFactory.create(username="person")


def log(officer, *, received_at=RECEIVED, kind=RequestKind.ACCESS, subject=None, **extra):
    with clock.frozen_at(extra.pop("now", received_at)):
        return dsr.request_log(
            actor=officer,
            kind=kind,
            channel=Channel.LETTER,
            received_at=received_at,
            subject=subject,
            requester_contact=extra.pop("contact", "Ivan Petrov, Svetlanskaya 12, Vladivostok"),
        )


def verified(officer, person, **kwargs):
    request = log(officer, subject=person, **kwargs)
    with clock.frozen_at(RECEIVED):
        return dsr.request_verify_identity(actor=officer, request=request, verified=True)


def test_logging_computes_both_deadlines_across_the_new_year(officer):
    request = log(officer)
    assert (request.due_ru, request.due_gdpr) == (date(2026, 1, 22), date(2026, 1, 29))
    assert (request.status, request.identity, request.extended_due_ru) == (
        Status.OPEN,
        Identity.UNVERIFIED,
        None,
    )
    assert request.handled_by_id == officer.pk
    assert request.requester_contact == "Ivan Petrov, Svetlanskaya 12, Vladivostok"


def test_the_day_of_receipt_is_the_moscow_date(officer):
    # 22:30 UTC on Sunday 28 December is 01:30 on Monday 29 December in Moscow.
    request = log(officer, received_at=datetime(2025, 12, 28, 22, 30, tzinfo=UTC))
    assert (request.due_ru, request.due_gdpr) == (date(2026, 1, 22), date(2026, 1, 29))


def test_logging_across_the_may_holidays_2026(officer):
    request = log(officer, received_at=moscow_noon(date(2026, 4, 29)))
    assert (request.due_ru, request.due_gdpr) == (date(2026, 5, 15), date(2026, 5, 29))


def test_logging_across_the_working_saturday(officer):
    request = log(officer, received_at=moscow_noon(date(2025, 10, 24)))
    assert (request.due_ru, request.due_gdpr) == (date(2025, 11, 10), date(2025, 11, 24))


def test_gdpr_month_from_31_january(officer):
    request = log(officer, received_at=moscow_noon(date(2026, 1, 31)))
    assert request.due_gdpr == date(2026, 2, 28)


@pytest.mark.parametrize(
    "change, code",
    [
        ({"kind": "complaint"}, "invalid_kind"),
        ({"channel": "pigeon"}, "invalid_channel"),
        # Only the request form's own path logs a request as proven by its one-time code.
        ({"channel": Channel.WEB_FORM}, "invalid_channel"),
        ({"received_at": datetime(2025, 5, 31, 20, 59, tzinfo=UTC)}, "received_before_service"),
        ({"requester_contact": "   "}, "contact_required"),
        ({"requester_contact": "x" * 1001}, "contact_too_long"),
        ({"received_at": datetime(2025, 12, 29, 7, 1, tzinfo=UTC)}, "received_in_future"),
    ],
)
def test_logging_refuses_bad_input_and_writes_nothing(officer, change, code):
    arguments = {
        "actor": officer,
        "kind": RequestKind.ACCESS,
        "channel": Channel.EMAIL,
        "received_at": RECEIVED,
        "requester_contact": "someone@example.com",
        **change,
    }
    with clock.frozen_at(RECEIVED), pytest.raises(DomainError) as refused:
        dsr.request_log(**arguments)
    assert refused.value.code == code
    assert DataSubjectRequest.objects.count() == 0


@pytest.mark.parametrize(
    "today, ru, gdpr, flags",
    [
        # (today in Moscow, (days left, overdue, due soon) for 152-FZ, same for GDPR, request)
        (date(2026, 1, 12), (8, False, False), (17, False, False), (False, False)),
        (date(2026, 1, 19), (3, False, False), (10, False, False), (False, False)),
        (date(2026, 1, 20), (2, False, True), (9, False, False), (False, True)),
        (date(2026, 1, 22), (0, False, True), (7, False, False), (False, True)),
        (date(2026, 1, 23), (-1, True, False), (6, False, False), (True, False)),
        (date(2026, 1, 27), (-3, True, False), (2, False, True), (True, False)),
        (date(2026, 1, 30), (-6, True, False), (-1, True, False), (True, False)),
    ],
)
def test_deadline_flags_with_a_frozen_clock(officer, today, ru, gdpr, flags):
    request = log(officer)
    with clock.frozen_at(moscow_noon(today)):
        deadlines = dsr.request_deadlines(request=request)
        overdue_ids = list(dsr.requests_overdue().values_list("pk", flat=True))
    assert (deadlines.ru.days_left, deadlines.ru.overdue, deadlines.ru.due_soon) == ru
    assert (deadlines.gdpr.days_left, deadlines.gdpr.overdue, deadlines.gdpr.due_soon) == gdpr
    assert (deadlines.overdue, deadlines.due_soon) == flags
    assert overdue_ids == ([request.pk] if flags[0] else [])
    assert deadlines.ru.overdue_by == max(0, -ru[0])


def test_overdue_is_decided_on_the_moscow_date(officer):
    request = log(officer)
    with clock.frozen_at(datetime(2026, 1, 22, 20, 59, tzinfo=UTC)):  # 23:59 in Moscow
        assert dsr.request_deadlines(request=request).ru.overdue is False
    with clock.frozen_at(datetime(2026, 1, 22, 21, 0, tzinfo=UTC)):  # midnight in Moscow
        assert dsr.request_deadlines(request=request).ru.overdue is True


def test_inbox_sorts_open_requests_by_nearest_deadline_then_closed(officer, person):
    late = log(
        officer, received_at=moscow_noon(date(2026, 1, 12)), now=moscow_noon(date(2026, 2, 2))
    )
    early = log(
        officer, received_at=moscow_noon(date(2026, 1, 5)), now=moscow_noon(date(2026, 2, 2))
    )
    closed = verified(officer, person, received_at=moscow_noon(date(2026, 1, 1)))
    with clock.frozen_at(moscow_noon(date(2026, 1, 5))):
        dsr.request_close(actor=officer, request=closed, outcome="Answered", status=Status.DONE)
    with clock.frozen_at(moscow_noon(date(2026, 1, 13))):
        assert [e.request.pk for e in dsr.requests_inbox()] == [early.pk, late.pk]
        assert [e.request.pk for e in dsr.requests_inbox(include_closed=True)] == [
            early.pk,
            late.pk,
            closed.pk,
        ]


def test_extension_adds_five_working_days_once_with_a_reason(officer):
    request = log(officer)
    with clock.frozen_at(moscow_noon(date(2026, 1, 20))):
        extended = dsr.request_extend(
            actor=officer, request=request, reason="The archive of letters is being searched"
        )
        assert (extended.due_ru, extended.extended_due_ru) == (date(2026, 1, 22), date(2026, 1, 29))
        assert extended.extension_reason == "The archive of letters is being searched"
        with pytest.raises(DomainError) as refused:
            dsr.request_extend(actor=officer, request=extended, reason="Once more")
    assert refused.value.code == "already_extended"
    request.refresh_from_db()
    assert (request.extended_due_ru, request.extension_reason) == (
        date(2026, 1, 29),
        "The archive of letters is being searched",
    )
    with clock.frozen_at(moscow_noon(date(2026, 1, 23))):
        deadlines = dsr.request_deadlines(request=request)
    assert (deadlines.ru.due, deadlines.ru.days_left, deadlines.ru.overdue) == (
        date(2026, 1, 29),
        4,
        False,
    )


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_extension_needs_a_reason(officer, reason):
    request = log(officer)
    with clock.frozen_at(moscow_noon(date(2026, 1, 20))), pytest.raises(DomainError) as refused:
        dsr.request_extend(actor=officer, request=request, reason=reason)
    assert refused.value.code == "reason_required"
    request.refresh_from_db()
    assert (request.extended_due_ru, request.extension_reason) == (None, "")


def test_the_database_refuses_an_extension_without_a_reason(officer):
    request = log(officer)
    request.extended_due_ru = date(2026, 1, 29)
    with pytest.raises(IntegrityError), transaction.atomic():
        request.save()


def test_extension_is_refused_once_the_ten_days_have_run_out(officer):
    request = log(officer)
    with clock.frozen_at(moscow_noon(date(2026, 1, 23))), pytest.raises(DomainError) as refused:
        dsr.request_extend(actor=officer, request=request, reason="Too late")
    assert refused.value.code == "deadline_passed"
    request.refresh_from_db()
    assert request.extended_due_ru is None


def test_extension_on_the_last_day_is_allowed(officer):
    request = log(officer)
    with clock.frozen_at(moscow_noon(date(2026, 1, 22))):
        extended = dsr.request_extend(actor=officer, request=request, reason="Documents awaited")
    assert extended.extended_due_ru == date(2026, 1, 29)


def test_linking_another_account_resets_a_failed_identity_check(officer, person):
    other = UserFactory.create(username="other")
    request = log(officer, subject=other)
    with clock.frozen_at(RECEIVED):
        request = dsr.request_verify_identity(actor=officer, request=request, verified=False)
        assert request.identity == Identity.FAILED
        request = dsr.request_link_subject(actor=officer, request=request, subject=person)
    assert (request.subject_id, request.identity) == (person.pk, Identity.UNVERIFIED)


def test_a_verified_identity_is_final_and_fixes_the_account(officer, person):
    request = verified(officer, person)
    with clock.frozen_at(RECEIVED):
        with pytest.raises(DomainError) as relinked:
            dsr.request_link_subject(
                actor=officer, request=request, subject=UserFactory.create(username="x2")
            )
        with pytest.raises(DomainError) as reverified:
            dsr.request_verify_identity(actor=officer, request=request, verified=False)
    assert (relinked.value.code, reverified.value.code) == (
        "identity_already_verified",
        "identity_already_verified",
    )
    request.refresh_from_db()
    assert (request.subject_id, request.identity) == (person.pk, Identity.VERIFIED)


def test_subject_lookup_by_id_or_username(person):
    assert dsr.subject_lookup(query=str(person.pk)) == person
    assert dsr.subject_lookup(query=" PERSON ") == person
    assert dsr.subject_lookup(query="pers") is None
    assert dsr.subject_lookup(query="") is None
    assert dsr.subject_lookup(query="999999") is None


def test_no_action_before_identity_is_verified_and_an_account_is_linked(officer, person):
    unlinked = log(officer, kind=RequestKind.RESTRICTION)
    linked = log(officer, kind=RequestKind.RESTRICTION, subject=person)
    for request in (unlinked, linked):
        assert dsr.request_actions_available(request=request) == ()
        with clock.frozen_at(RECEIVED), pytest.raises(DomainError) as refused:
            dsr.request_act(actor=officer, request=request, action=dsr.RequestAction.RESTRICT)
        assert refused.value.code == "action_not_available"
    assert ProcessingRestriction.objects.count() == 0


@pytest.mark.parametrize(
    "kind, actions",
    [
        (RequestKind.ACCESS, ("export",)),
        (RequestKind.RECTIFICATION, ()),
        (RequestKind.ERASURE, ("erase",)),
        (RequestKind.RESTRICTION, ("restrict",)),
        (RequestKind.OBJECTION, ("restrict", "withdraw_consent")),
        (RequestKind.CONSENT_WITHDRAWAL, ("withdraw_consent",)),
    ],
)
def test_actions_by_kind_once_verified(officer, person, kind, actions):
    request = verified(officer, person, kind=kind)
    assert dsr.request_actions_available(request=request) == actions


def test_restriction_runs_the_self_service_restriction_as_staff(officer, person):
    request = verified(officer, person, kind=RequestKind.RESTRICTION)
    with clock.frozen_at(moscow_noon(date(2026, 1, 5))):
        dsr.request_act(actor=officer, request=request, action=dsr.RequestAction.RESTRICT)
    restriction = ProcessingRestriction.objects.get()
    assert (restriction.subject_id, restriction.started_method, restriction.lifted_at) == (
        person.pk,
        ConsentMethod.STAFF,
        None,
    )
    assert consents.subject_is_restricted(subject=person) is True


def test_consent_withdrawal_runs_the_self_service_withdrawal_as_staff(officer, person):
    with clock.frozen_at(moscow_noon(date(2025, 12, 1))):
        consents.consent_give(
            subject=person, purpose=ConsentPurpose.NEWSLETTER, method=ConsentMethod.FORM
        )
    request = verified(officer, person, kind=RequestKind.CONSENT_WITHDRAWAL)
    with clock.frozen_at(moscow_noon(date(2026, 1, 5))):
        dsr.request_act(
            actor=officer,
            request=request,
            action=dsr.RequestAction.WITHDRAW_CONSENT,
            purpose=ConsentPurpose.NEWSLETTER,
        )
    assert list(
        ConsentRecord.objects.filter(subject=person)
        .order_by("at", "pk")
        .values_list("purpose", "action", "method")
    ) == [
        (ConsentPurpose.NEWSLETTER, ConsentAction.GIVEN, ConsentMethod.FORM),
        (ConsentPurpose.NEWSLETTER, ConsentAction.WITHDRAWN, ConsentMethod.STAFF),
    ]
    assert consents.consent_allows(subject=person, purpose=ConsentPurpose.NEWSLETTER) is False


def test_access_runs_the_self_service_export_as_staff(officer, person):
    request = verified(officer, person, kind=RequestKind.ACCESS)
    with clock.frozen_at(moscow_noon(date(2026, 1, 5))):
        export = dsr.request_act(
            actor=officer,
            request=request,
            action=dsr.RequestAction.EXPORT,
            site_url="https://music.example",
        )
    assert isinstance(export, DataExport)
    assert list(DataExport.objects.values_list("subject_id", "status", "requested_at")) == [
        (person.pk, DataExport.Status.QUEUED, moscow_noon(date(2026, 1, 5)))
    ]
    job = DBTaskResult.objects.get(task_path="backgroundmusic.privacy.tasks.build_data_export")
    assert job.args_kwargs["kwargs"]["method"] == ConsentMethod.STAFF
    assert job.args_kwargs["kwargs"]["site_url"] == "https://music.example"


def test_erasure_runs_the_self_service_erasure_with_the_request_as_reason(officer, person):
    request = verified(officer, person, kind=RequestKind.ERASURE)
    with clock.frozen_at(moscow_noon(date(2026, 1, 5))):
        job = dsr.request_act(actor=officer, request=request, action=dsr.RequestAction.ERASE)
    assert isinstance(job, ErasureJob)
    assert list(ErasureJob.objects.values_list("subject_id", "reason", "status")) == [
        (person.pk, f"request #{request.pk}", ErasureJob.Status.QUEUED)
    ]
    assert (
        DBTaskResult.objects.filter(task_path="backgroundmusic.privacy.tasks.erase_account").count()
        == 1
    )


@pytest.mark.parametrize(
    "purpose, with_recipient, code",
    [
        (None, False, "purpose_required"),
        ("everything", False, "purpose_required"),
        (ConsentPurpose.SHARING, False, "recipient_mismatch"),
        (ConsentPurpose.NEWSLETTER, True, "recipient_mismatch"),
    ],
)
def test_consent_withdrawal_needs_a_purpose_and_a_recipient_only_for_sharing(
    officer, person, purpose, with_recipient, code
):
    recipient = Recipient.objects.create(
        name="Partner", country="DE", purpose_en="x", purpose_ru="x", shared_with_consent=True
    )
    request = verified(officer, person, kind=RequestKind.CONSENT_WITHDRAWAL)
    before = ConsentRecord.objects.count()
    with clock.frozen_at(RECEIVED), pytest.raises(DomainError) as refused:
        dsr.request_act(
            actor=officer,
            request=request,
            action=dsr.RequestAction.WITHDRAW_CONSENT,
            purpose=purpose,
            recipient=recipient if with_recipient else None,
        )
    assert refused.value.code == code
    assert ConsentRecord.objects.count() == before


def test_an_action_that_does_not_answer_the_kind_is_refused(officer, person):
    request = verified(officer, person, kind=RequestKind.ACCESS)
    with clock.frozen_at(RECEIVED), pytest.raises(DomainError) as refused:
        dsr.request_act(actor=officer, request=request, action=dsr.RequestAction.RESTRICT)
    assert refused.value.code == "action_not_available"
    assert ProcessingRestriction.objects.count() == 0


def test_closing_in_time_keeps_the_outcome_as_written(officer, person):
    request = verified(officer, person)
    closing = moscow_noon(date(2026, 1, 22))
    with clock.frozen_at(closing):
        closed = dsr.request_close(
            actor=officer, request=request, outcome="  Export sent.  ", status=Status.DONE
        )
    assert (closed.status, closed.outcome, closed.closed_at) == (
        Status.DONE,
        "Export sent.",
        closing,
    )
    with clock.frozen_at(moscow_noon(date(2026, 3, 1))):
        deadlines = dsr.request_deadlines(request=closed)
    assert (deadlines.on, deadlines.overdue) == (date(2026, 1, 22), False)


def test_closing_after_a_deadline_needs_an_explanation_kept_with_the_outcome(officer, person):
    request = verified(officer, person)
    with clock.frozen_at(moscow_noon(date(2026, 1, 23))):
        with pytest.raises(DomainError) as refused:
            dsr.request_close(
                actor=officer, request=request, outcome="Export sent.", status=Status.DONE
            )
        assert refused.value.code == "delay_explanation_required"
        request.refresh_from_db()
        assert (request.status, request.outcome, request.closed_at) == (Status.OPEN, "", None)
        closed = dsr.request_close(
            actor=officer,
            request=request,
            outcome="Export sent.",
            status=Status.DONE,
            delay_explanation="The letter was forwarded to us late",
        )
    assert closed.outcome == (
        "Export sent.\n\nAnswered after the deadline because: The letter was forwarded to us late"
    )
    with clock.frozen_at(moscow_noon(date(2026, 3, 1))):
        assert dsr.request_deadlines(request=closed).ru.overdue is True


def test_done_needs_a_verified_identity_refused_does_not(officer, person):
    request = log(officer, subject=person)
    with clock.frozen_at(RECEIVED):
        with pytest.raises(DomainError) as refused:
            dsr.request_close(actor=officer, request=request, outcome="Done", status=Status.DONE)
        assert refused.value.code == "identity_not_verified"
        closed = dsr.request_close(
            actor=officer,
            request=request,
            outcome="The requester could not prove who they are",
            status=Status.REFUSED,
        )
    assert closed.status == Status.REFUSED


@pytest.mark.parametrize(
    "outcome, status, code",
    [
        ("", Status.DONE, "outcome_required"),
        ("Fine", Status.OPEN, "bad_status"),
        ("x" * 2001, Status.DONE, "outcome_too_long"),
    ],
)
def test_closing_needs_an_outcome_and_a_final_status(officer, person, outcome, status, code):
    request = verified(officer, person)
    with clock.frozen_at(RECEIVED), pytest.raises(DomainError) as refused:
        dsr.request_close(actor=officer, request=request, outcome=outcome, status=status)
    assert refused.value.code == code
    request.refresh_from_db()
    assert request.status == Status.OPEN


def test_a_closed_request_cannot_be_changed(officer, person):
    request = verified(officer, person, kind=RequestKind.RESTRICTION)
    with clock.frozen_at(RECEIVED):
        dsr.request_close(actor=officer, request=request, outcome="Done", status=Status.DONE)
        attempts = [
            lambda: dsr.request_extend(actor=officer, request=request, reason="More time"),
            lambda: dsr.request_link_subject(actor=officer, request=request, subject=person),
            lambda: dsr.request_verify_identity(actor=officer, request=request, verified=True),
            lambda: dsr.request_close(
                actor=officer, request=request, outcome="Again", status=Status.REFUSED
            ),
            lambda: dsr.request_act(
                actor=officer, request=request, action=dsr.RequestAction.RESTRICT
            ),
        ]
        for attempt in attempts:
            with pytest.raises(DomainError) as refused:
                attempt()
            assert refused.value.code == "request_closed"
    request.refresh_from_db()
    assert (request.status, request.outcome) == (Status.DONE, "Done")
    assert ProcessingRestriction.objects.count() == 0


def test_the_digest_is_a_recurring_job():
    assert [job.task for job in RECURRING_JOBS if job.name == "request_deadline_digest"] == [
        "backgroundmusic.privacy.tasks.send_request_deadline_digest"
    ]
    with clock.frozen_at(datetime(2026, 1, 20, 5, 30, tzinfo=UTC)):
        runs = schedule_due_jobs()
    assert "request_deadline_digest" in [run.job for run in runs]
    assert ScheduledRun.objects.get(job="request_deadline_digest").slot == datetime(
        2026, 1, 20, 5, 0, tzinfo=UTC
    )


def test_the_digest_goes_to_privacy_officers_only_without_personal_data(officer, person):
    StaffFactory.create(role=StaffRole.SUPPORT, username="support")
    StaffFactory.create(role=StaffRole.ADMINISTRATOR, username="admin1")
    StaffFactory.create(role=StaffRole.CONTENT_MANAGER, username="content")
    second = StaffFactory.create(role=StaffRole.PRIVACY_OFFICER, username="officer2")
    overdue = log(officer, subject=person, contact="petrov@example.org")
    soon = log(officer, received_at=moscow_noon(date(2026, 1, 8)), kind=RequestKind.ERASURE)
    log(officer, received_at=moscow_noon(date(2026, 1, 19)))  # due 2 February: not yet
    with clock.frozen_at(moscow_noon(date(2026, 1, 23))):
        assert send_request_deadline_digest.call() == 2
    assert sorted(message.to[0] for message in mail.outbox) == sorted([officer.email, second.email])
    message = mail.outbox[0]
    assert message.subject == ("Data-subject requests: 1 overdue, 1 due within two working days")
    assert message.body == (
        "Open requests that need an answer soon, nearest deadline first:\n"
        "\n"
        f"#{overdue.pk} Access (OVERDUE): 152-FZ deadline 2026-01-22, GDPR deadline "
        f"2026-01-29. /staff/requests/{overdue.pk}/\n"
        f"#{soon.pk} Erasure (due soon): 152-FZ deadline 2026-01-23, GDPR deadline "
        f"2026-02-08. /staff/requests/{soon.pk}/\n"
        "\n"
        "The inbox: /staff/requests/\n"
    )
    assert "petrov" not in message.body
    assert "person" not in message.body


def test_the_digest_is_sent_once_a_day_and_not_when_nothing_is_due(officer):
    with clock.frozen_at(moscow_noon(date(2026, 1, 23))):
        assert send_request_deadline_digest.call() == 0
    log(officer)
    with clock.frozen_at(moscow_noon(date(2026, 1, 23))):
        assert send_request_deadline_digest.call() == 1
        assert send_request_deadline_digest.call() == 0
    with clock.frozen_at(moscow_noon(date(2026, 1, 26))):
        assert send_request_deadline_digest.call() == 1
    assert len(mail.outbox) == 2
