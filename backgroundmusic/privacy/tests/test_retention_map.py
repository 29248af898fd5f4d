"""Every period the data map declares is enforced by a retention step (issue 10 §5).

The walk fails for a declared model whose clock names no step, and each row-shaped period is run
for real: one row just past its period and one just inside it, and exactly the old one goes.
"""

import hashlib
import itertools
from collections.abc import Callable
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress, EmailConfirmation
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django_tasks_db.models import DBTaskResult

from backgroundmusic.accounts.models import BreakGlassEnd, BreakGlassGrant, User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.audit.models import AuditAction, AuditEvent
from backgroundmusic.catalog.models import Track
from backgroundmusic.core import clock
from backgroundmusic.inbox.models import InboundMessage
from backgroundmusic.mailing.models import Campaign, CampaignMessage, MessageStatus
from backgroundmusic.media.models import Download, Master
from backgroundmusic.privacy import cookies
from backgroundmusic.privacy.kernel.models import ErasureLedgerEntry
from backgroundmusic.privacy.kernel.registry import (
    Clock,
    Erasure,
    Registry,
    RetentionStart,
    data_map,
)
from backgroundmusic.privacy.models import (
    ConsentConfirmation,
    ConsentMethod,
    ConsentPurpose,
    DestructionRecord,
    VisitorCookieChoice,
)
from backgroundmusic.privacy.retention import retention_run
from backgroundmusic.staffroles.roles import StaffRole

# The retention run prunes analytics events too, which live in their own database when scaled out.
pytestmark = pytest.mark.django_db(databases="__all__")

SECOND = timedelta(seconds=1)
_serial = itertools.count(1)


def retention_problems(registry: Registry) -> list[str]:
    """What no step enforces: each declared model holding personal data names its clock, and
    the clock is either one of the row's timestamps (the generic step) or a registered handler
    that lists the model (or the account's erasure, for periods counted from the account's end).
    """
    problems = []
    for declaration in registry.models.values():
        if not declaration.personal:
            continue
        retention = declaration.retention()
        clock_ = declaration.clock
        if retention is None or clock_ is None:
            problems.append(f"{declaration.label}: no clock")
            continue
        claimed_by = [
            name
            for name, handler in registry.retention_handlers.items()
            if declaration.label in handler.models
        ]
        if clock_.field:
            model = apps.get_model(declaration.label)
            field = model._meta.get_field(clock_.field)
            if not isinstance(field, models.DateTimeField):
                problems.append(f"{declaration.label}: clock {clock_.field} is not a timestamp")
            strategies = {data.erasure for data in declaration.personal.values()}
            if Erasure.NULL in strategies and (
                strategies != {Erasure.NULL}
                or not all(model._meta.get_field(name).null for name in declaration.personal)
            ):
                problems.append(f"{declaration.label}: the generic step cannot empty its fields")
            if claimed_by:
                problems.append(f"{declaration.label}: generic, and also handled by {claimed_by}")
        elif clock_.rule in registry.erasure_due:
            if retention.start != RetentionStart.ACCOUNT_CLOSED or claimed_by:
                problems.append(f"{declaration.label}: {clock_.rule} does not fit {retention}")
        elif claimed_by != [clock_.rule]:
            problems.append(
                f"{declaration.label}: clock names {clock_.rule!r}, handled by {claimed_by}"
            )
    for name, handler in registry.retention_handlers.items():
        for label in handler.models:
            declared = registry.models.get(label)
            if declared is None or declared.clock is None or declared.clock.rule != name:
                problems.append(f"{name}: handles {label}, whose clock does not name it")
    return problems


def test_every_declared_period_names_its_clock_and_a_step_that_enforces_it():
    assert retention_problems(data_map) == []


def test_a_period_no_step_enforces_is_named():
    registry = Registry()
    exports = data_map.models["privacy.DataExport"]
    registry.declare(
        exports.label, subject="subject", personal=exports.personal, clock=Clock(rule="nobody")
    )
    master = data_map.models["media.Master"]
    registry.declare(
        master.label, subject="", personal=master.personal, clock=Clock(field="finished_at")
    )
    registry.declare(
        "accounts.Profile",
        subject="user",
        personal=data_map.models["accounts.Profile"].personal,
        clock=Clock(rule="account closed"),
    )
    registry.register_retention("stale", lambda *, now: {}, models=["media.Master"])
    with pytest.raises(ValueError, match="declare the clock"):
        registry.declare("axes.AccessLog", subject="", personal=master.personal)

    assert retention_problems(registry) == [
        "privacy.DataExport: clock names 'nobody', handled by []",
        "media.Master: generic, and also handled by ['stale']",
        "accounts.Profile: clock names 'account closed', handled by []",
        "stale: handles media.Master, whose clock does not name it",
    ]


def _staff() -> User:
    return StaffFactory.create(role=StaffRole.CONTENT_MANAGER)


def _axes(model: type[models.Model]) -> Callable[[], models.Model]:
    def make() -> models.Model:
        fields: dict[str, object] = {
            "username": "someone",
            "ip_address": "192.0.2.0",
            "user_agent": f"Firefox {next(_serial)}",
            "http_accept": "*/*",
            "path_info": "/accounts/login/",
        }
        if model is AccessAttempt:
            fields |= {"get_data": "", "post_data": "", "failures_since_start": 1}
        return model._default_manager.create(**fields)

    return make


def _email_confirmation() -> models.Model:
    user = UserFactory.create()
    address = EmailAddress.objects.get_or_create(user=user, email=user.email)[0]
    return EmailConfirmation.objects.create(email_address=address, key=f"key-{next(_serial)}")


def _admin_log_entry() -> models.Model:
    user = _staff()
    return LogEntry.objects.create(
        user=user,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(user.pk),
        object_repr="someone",
        action_flag=CHANGE,
        change_message="",
    )


def _break_glass_grant() -> BreakGlassGrant:
    now = clock.now()
    return BreakGlassGrant.objects.create(
        user=_staff(),
        reason="incident 1",
        operator="ops",
        was_staff=True,
        granted_at=now,
        expires_at=now + timedelta(hours=1),
    )


def _break_glass_end() -> models.Model:
    return BreakGlassEnd.objects.create(
        grant=_break_glass_grant(), how="revoked", reason="done", operator="ops", at=clock.now()
    )


def _audit_event() -> models.Model:
    return AuditEvent.objects.create(
        at=clock.now(),
        actor_id=_staff().pk,
        action=AuditAction.REQUEST_LOGGED,
        target_type="privacy.DataSubjectRequest",
        target_id="1",
        reason="ticket",
    )


def _master() -> models.Model:
    number = next(_serial)
    track = Track.objects.create(
        title=f"Retention {number}", slug=f"retention-{number}", catalogue_code=f"RET-{number:04d}"
    )
    return Master.objects.create(
        track=track,
        sha256=hashlib.sha256(f"retention {number}".encode()).hexdigest(),
        storage_key=f"masters/retention-{number}.wav",
        uploaded_at=clock.now(),
        uploaded_by_id=_staff().pk,
    )


def _download() -> models.Model:
    return Download.objects.create(
        user=UserFactory.create(),
        kind="mp3_320",
        token_sha256=hashlib.sha256(f"retention {next(_serial)}".encode()).hexdigest(),
        at=clock.now(),
    )


def _campaign(created_by_id: int | None = None) -> Campaign:
    now = clock.now()
    return Campaign.objects.create(
        subject_en="News",
        subject_ru="Новости",
        body_en="Hello.",
        body_ru="Привет.",
        created_by_id=created_by_id,
        created_at=now,
        updated_at=now,
    )


def _campaign_message() -> models.Model:
    return CampaignMessage.objects.create(
        campaign=_campaign(),
        recipient=UserFactory.create(),
        language="en",
        subject="News",
        status=MessageStatus.CANCELLED,
        queued_at=clock.now(),
    )


def _task_result() -> models.Model:
    now = clock.now()
    return DBTaskResult.objects.create(
        status="SUCCEEDED",
        enqueued_at=now,
        started_at=now,
        finished_at=now,
        args_kwargs={"args": [], "kwargs": {"subject_id": 1}},
        task_path="backgroundmusic.privacy.tasks.apply_retention",
        backend_name="default",
        run_after=now,
        exception_class_path="",
        traceback="",
    )


def _outbox_job() -> models.Model:
    from backgroundmusic.core.models import OutboxJob

    return OutboxJob.objects.create(
        job_id=f"outbox-{next(_serial)}",
        task_path="backgroundmusic.privacy.tasks.apply_retention",
        queue_name="default",
        priority=0,
        args_kwargs={"args": [], "kwargs": {"subject_id": 1}},
        created_at=clock.now(),
    )


def _inbound_message() -> InboundMessage:
    from backgroundmusic.inbox.models import Mailbox, Outcome

    number = next(_serial)
    return InboundMessage.objects.create(
        received_at=clock.now(),
        mailbox=Mailbox.UNSUBSCRIBE,
        sender_digest=f"{number:064x}",
        message_id_digest=f"{number:064x}",
        content_digest=f"{number:064x}",
        outcome=Outcome.UNSUBSCRIBED,
        subject=UserFactory.create(),
    )


def _inbound_raw_message() -> models.Model:
    from backgroundmusic.inbox.models import InboundRawMessage

    return InboundRawMessage.objects.create(
        message=_inbound_message(), received_at=clock.now(), sealed="mk1:x:y"
    )


def _consent_confirmation() -> models.Model:
    now = clock.now()
    return ConsentConfirmation.objects.create(
        subject=UserFactory.create(),
        purpose=ConsentPurpose.NEWSLETTER,
        requested_via=ConsentMethod.PREFERENCE_CENTER,
        requested_at=now,
        address_hash="0" * 64,
        expires_at=now + timedelta(days=7),
        sent_at=now,
    )


def _pending_request() -> models.Model:
    from backgroundmusic.privacy.requests_public import pending_request_start

    return pending_request_start(
        address="someone@example.org", kind="access", details="", language="en"
    )


def _erasure_ledger_entry() -> models.Model:
    return ErasureLedgerEntry.objects.create(
        subject_id=next(_serial), erasure_job_id=1, recorded_at=clock.now()
    )


def _visitor_cookie_choice() -> models.Model:
    return VisitorCookieChoice.objects.create(
        choice_id=cookies.new_choice_id(),
        analytics=False,
        method=VisitorCookieChoice.Method.BANNER,
        language="en",
        wording=str(cookies.BANNER_WORDING),
        wording_sha256="0" * 64,
        ip_truncated="203.0.113.0",
        browser_family="Chrome 126",
        at=clock.now(),
    )


# One maker per row-shaped period: a new one fails test_each_row_shaped_period_has_a_maker
# until it is proven here.
MAKERS: dict[str, Callable[[], models.Model]] = {
    "axes.AccessAttempt": _axes(AccessAttempt),
    "axes.AccessLog": _axes(AccessLog),
    "axes.AccessFailureLog": _axes(AccessFailureLog),
    "account.EmailConfirmation": _email_confirmation,
    "admin.LogEntry": _admin_log_entry,
    "accounts.BreakGlassGrant": _break_glass_grant,
    "accounts.BreakGlassEnd": _break_glass_end,
    "audit.AuditEvent": _audit_event,
    "media.Master": _master,
    "media.Download": _download,
    "mailing.Campaign": lambda: _campaign(created_by_id=_staff().pk),
    "mailing.CampaignMessage": _campaign_message,
    "django_tasks_database.DBTaskResult": _task_result,
    "core.OutboxJob": _outbox_job,
    "inbox.InboundMessage": _inbound_message,
    "inbox.InboundRawMessage": _inbound_raw_message,
    "privacy.ConsentConfirmation": _consent_confirmation,
    "privacy.PendingRequest": _pending_request,
    "privacy.ErasureLedgerEntry": _erasure_ledger_entry,
    "privacy.VisitorCookieChoice": _visitor_cookie_choice,
}


def test_each_row_shaped_period_has_a_maker():
    assert sorted(declaration.label for declaration, _r, _f in data_map.row_retentions()) == (
        sorted(MAKERS)
    )


@pytest.mark.parametrize("label", sorted(MAKERS))
def test_a_row_shaped_period_removes_exactly_the_row_past_it(label):
    [(declaration, retention, clock_field)] = [
        row for row in data_map.row_retentions() if row[0].label == label
    ]
    model = apps.get_model(label)
    now = clock.now()
    old, recent = MAKERS[label](), MAKERS[label]()
    period = timedelta(days=retention.days)
    # A plain QuerySet: append-only models refuse updates through their manager.
    for row, when in ((old, now - period - SECOND), (recent, now - period + SECOND)):
        moved = {clock_field: when}
        if model is BreakGlassGrant:
            moved["granted_at"] = when - timedelta(hours=1)
        models.QuerySet(model=model).filter(pk=row.pk).update(**moved)
    personal = sorted(model._meta.get_field(name).attname for name in declaration.personal)
    before = list(
        models.QuerySet(model=model).filter(pk=recent.pk).values_list(*personal, clock_field)
    )

    with clock.frozen_at(now):
        report = retention_run()

    assert report.destroyed == {label: 1}
    kept: models.QuerySet[models.Model] = models.QuerySet(model=model).filter(
        pk__in=[old.pk, recent.pk]
    )
    assert list(kept.filter(pk=recent.pk).values_list(*personal, clock_field)) == before
    emptied = all(data.erasure == Erasure.NULL for data in declaration.personal.values())
    if emptied:
        assert list(kept.filter(pk=old.pk).values_list(*personal)) == [(None,) * len(personal)]
    else:
        assert not kept.filter(pk=old.pk).exists()
    record = DestructionRecord.objects.get()
    assert (record.counts, record.method, record.reason, record.subject_pseudonym) == (
        {label: 1},
        "empty" if emptied else "delete",
        f"retention: {label}",
        "",
    )
    with clock.frozen_at(now):
        assert retention_run().destroyed == {}
