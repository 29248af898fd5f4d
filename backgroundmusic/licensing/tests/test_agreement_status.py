"""Every change of an agreement's status: revocation (staff, or the system on a refund),
renewal, the licensee cancelling renewal, and the recurring job that suspends and expires
subscriptions. Each writes its event; a staff revocation its audit row too; a refusal nothing
but, for a staff action, its `service.denied` row.
What the licensee may play and download follows (media.streaming.playable_tracks)."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.audit.models import AuditEvent
from backgroundmusic.audit.tests.refusals import service_denial, service_denials
from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.core import clock
from backgroundmusic.core.errors import ActionRefused, DomainError, PermissionDenied
from backgroundmusic.core.models import ScheduledRun
from backgroundmusic.core.schedule import schedule_due_jobs
from backgroundmusic.core.text import TextRejected
from backgroundmusic.licensing import agreements
from backgroundmusic.licensing.models import Agreement, AgreementEvent, PlanKind, Use
from backgroundmusic.licensing.tasks import lapse_agreements
from backgroundmusic.licensing.tests.factories import plan_edition
from backgroundmusic.licensing.tests.paid_orders import paid_order
from backgroundmusic.media.models import Rendition
from backgroundmusic.media.streaming import playable_tracks
from backgroundmusic.recurring import RECURRING_JOBS
from backgroundmusic.staffroles.roles import StaffRole
from tests.callers import expected_by_caller

pytestmark = pytest.mark.django_db

PAID = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
PAID_UNTIL = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)
MAY_REVOKE = expected_by_caller({"licensing_manager"}, allowed_outcome=True, refused_outcome=False)
Status = Agreement.Status


@pytest.fixture
def owner() -> User:
    return UserFactory.create(username="owner", email="owner@example.com")


@pytest.fixture
def subscription(owner) -> Agreement:
    [agreement] = agreements.agreements_conclude(
        order=paid_order(user=owner, lines=[{"edition": plan_edition()}], paid_at=PAID), now=PAID
    )
    return agreement


@pytest.fixture
def perpetual(owner) -> Agreement:
    edition = plan_edition(kind=PlanKind.SINGLE_TRACK, uses=[Use.PROJECT])
    [agreement] = agreements.agreements_conclude(
        order=paid_order(
            user=owner, lines=[{"edition": edition, "track": ready_track()}], paid_at=PAID
        ),
        now=PAID,
    )
    return agreement


@pytest.fixture
def manager() -> User:
    return StaffFactory.create(role=StaffRole.LICENSING_MANAGER, username="arranging-manager")


def events(agreement: Agreement) -> list[tuple[Any, ...]]:
    return list(
        AgreementEvent.objects.filter(agreement=agreement)
        .order_by("pk")
        .values_list("status_from", "status_to", "paid_until", "reason", "actor_id", "at")
    )


def state(agreement: Agreement) -> tuple[Any, ...]:
    agreement.refresh_from_db()
    return (
        agreement.status,
        agreement.paid_until,
        agreement.ended_at,
        agreement.keep_until,
        agreement.renewal_cancelled_at,
    )


def acting(caller_for: Callable[..., Any], kind: str) -> Any:
    user = caller_for(kind).user
    return AnonymousUser() if user is None else user


@pytest.mark.parametrize(("kind", "allowed"), MAY_REVOKE.items())
def test_only_a_licensing_manager_revokes(caller_for, kind, allowed, subscription):
    actor = acting(caller_for, kind)
    revoked_at = PAID + timedelta(days=3)
    if not allowed:
        with pytest.raises(ActionRefused):
            agreements.agreement_revoke(
                actor=actor, agreement=subscription, reason="Chargeback", now=revoked_at
            )
        assert state(subscription) == (Status.ACTIVE, PAID_UNTIL, None, None, None)
        assert len(events(subscription)) == 1
        assert not AuditEvent.objects.filter(action="agreement.revoked").exists()
        assert service_denials() == [
            service_denial(
                actor,
                service="licensing.agreement_revoke",
                permission="staff_may_manage_agreements",
            )
        ]
        return

    with clock.frozen_at(revoked_at):
        agreements.agreement_revoke(
            actor=actor, agreement=subscription, reason=" Chargeback\n", now=revoked_at
        )

    assert state(subscription) == (Status.REVOKED, PAID_UNTIL, revoked_at, date(2031, 12, 31), None)
    assert events(subscription)[1:] == [
        (Status.ACTIVE, Status.REVOKED, PAID_UNTIL, "Chargeback", actor.pk, revoked_at)
    ]
    audit = AuditEvent.objects.get(action="agreement.revoked")
    assert (
        audit.actor_id,
        audit.target_type,
        audit.target_id,
        audit.before,
        audit.after,
        audit.reason,
        audit.at,
    ) == (
        actor.pk,
        "licensing.Agreement",
        str(subscription.pk),
        {"status": "active"},
        {"status": "revoked"},
        "Chargeback",
        revoked_at,
    )
    assert service_denials() == []


def test_the_system_revokes_on_a_refund_once(subscription):
    refunded = PAID + timedelta(days=1)
    agreements.agreement_revoke(
        actor=None, agreement=subscription, reason="order refunded", now=refunded
    )
    agreements.agreement_revoke(
        actor=None, agreement=subscription, reason="order refunded", now=refunded
    )

    assert state(subscription) == (Status.REVOKED, PAID_UNTIL, refunded, date(2031, 12, 31), None)
    assert events(subscription)[1:] == [
        (Status.ACTIVE, Status.REVOKED, PAID_UNTIL, "order refunded", None, refunded)
    ]
    audit = AuditEvent.objects.get(action="agreement.revoked")
    assert (audit.actor_id, audit.reason) == (None, "order refunded")


@pytest.mark.parametrize(("reason", "code"), [("   ", "reason_required"), ("bad\x00reason", "nul")])
def test_a_revocation_needs_a_reason_under_the_text_rules(manager, subscription, reason, code):
    with pytest.raises((DomainError, TextRejected)) as refused:
        agreements.agreement_revoke(actor=manager, agreement=subscription, reason=reason, now=PAID)
    assert refused.value.code == code
    assert state(subscription)[0] == Status.ACTIVE
    assert len(events(subscription)) == 1
    assert not AuditEvent.objects.filter(action="agreement.revoked").exists()


def test_revoking_an_expired_agreement_keeps_when_it_ended(manager, subscription):
    ended = PAID_UNTIL + timedelta(days=30)
    agreements.agreements_lapse(now=PAID_UNTIL)
    agreements.agreements_lapse(now=ended)
    assert state(subscription)[:3] == (Status.EXPIRED, PAID_UNTIL, ended)

    agreements.agreement_revoke(
        actor=manager, agreement=subscription, reason="fraud", now=ended + timedelta(days=400)
    )

    assert state(subscription) == (Status.REVOKED, PAID_UNTIL, ended, date(2031, 12, 31), None)


def test_the_job_suspends_at_the_end_of_the_paid_month_and_expires_thirty_days_later(
    subscription,
):
    assert agreements.agreements_lapse(now=PAID_UNTIL - timedelta(seconds=1)) == {}
    assert state(subscription)[0] == Status.ACTIVE

    assert agreements.agreements_lapse(now=PAID_UNTIL) == {"suspended": 1}
    assert state(subscription) == (Status.SUSPENDED, PAID_UNTIL, None, None, None)

    assert agreements.agreements_lapse(now=PAID_UNTIL + timedelta(days=29, hours=23)) == {}
    expired_at = PAID_UNTIL + timedelta(days=30)
    assert agreements.agreements_lapse(now=expired_at + timedelta(hours=5)) == {"expired": 1}
    assert state(subscription) == (
        Status.EXPIRED,
        PAID_UNTIL,
        expired_at,
        date(2031, 12, 31),
        None,
    )
    assert agreements.agreements_lapse(now=expired_at + timedelta(days=400)) == {}
    assert events(subscription)[1:] == [
        (Status.ACTIVE, Status.SUSPENDED, PAID_UNTIL, "", None, PAID_UNTIL),
        (
            Status.SUSPENDED,
            Status.EXPIRED,
            PAID_UNTIL,
            "",
            None,
            expired_at + timedelta(hours=5),
        ),
    ]


def test_a_perpetual_licence_never_lapses(perpetual):
    assert agreements.agreements_lapse(now=PAID + timedelta(days=3650)) == {}
    assert state(perpetual)[0] == Status.ACTIVE


def test_the_recurring_job_runs_hourly_once_per_slot(subscription):
    jobs = [job for job in RECURRING_JOBS if job.name == "lapse_agreements"]
    assert [job.task for job in jobs] == ["backgroundmusic.licensing.tasks.lapse_agreements"]
    with time_machine.travel(PAID_UNTIL + timedelta(minutes=20), tick=False):
        first = schedule_due_jobs(jobs=jobs)
        again = schedule_due_jobs(jobs=jobs)
    assert [run.slot for run in first] == [datetime(2026, 4, 10, 12, 11, tzinfo=UTC)]
    assert again == []
    assert ScheduledRun.objects.filter(job="lapse_agreements").count() == 1

    with time_machine.travel(PAID_UNTIL + timedelta(minutes=20), tick=False):
        assert lapse_agreements.call() == {"suspended": 1}
    assert state(subscription)[0] == Status.SUSPENDED


def test_cancelling_renewal_lets_the_paid_month_run_then_expires_without_suspension(
    owner, subscription
):
    cancelled = PAID + timedelta(days=5)
    agreements.agreement_cancel_renewal(user=owner, agreement=subscription, now=cancelled)
    agreements.agreement_cancel_renewal(user=owner, agreement=subscription, now=cancelled)

    assert state(subscription) == (Status.ACTIVE, PAID_UNTIL, None, None, cancelled)
    assert agreements.agreement_status_at(subscription, now=PAID_UNTIL) == Status.EXPIRED
    assert agreements.agreements_lapse(now=PAID_UNTIL + timedelta(minutes=11)) == {"expired": 1}
    assert state(subscription) == (
        Status.EXPIRED,
        PAID_UNTIL,
        PAID_UNTIL,
        date(2031, 12, 31),
        cancelled,
    )
    assert events(subscription)[1:] == [
        (
            Status.ACTIVE,
            Status.ACTIVE,
            PAID_UNTIL,
            agreements.RENEWAL_CANCELLED,
            owner.pk,
            cancelled,
        ),
        (
            Status.ACTIVE,
            Status.EXPIRED,
            PAID_UNTIL,
            "",
            None,
            PAID_UNTIL + timedelta(minutes=11),
        ),
    ]
    descriptions = [
        agreements.agreement_event_description(event)
        for event in agreements.agreement_history(agreement=subscription)
    ]
    assert descriptions == [
        "Concluded",
        "Renewal cancelled by the licensee: ends when the paid month ends",
        "Expired at the end of the paid month",
    ]


def test_cancelling_renewal_of_a_suspended_subscription_expires_it_now(owner, subscription):
    agreements.agreements_lapse(now=PAID_UNTIL)
    cancelled = PAID_UNTIL + timedelta(days=2)

    agreements.agreement_cancel_renewal(user=owner, agreement=subscription, now=cancelled)

    assert state(subscription) == (
        Status.EXPIRED,
        PAID_UNTIL,
        cancelled,
        date(2031, 12, 31),
        None,
    )
    assert events(subscription)[-1] == (
        Status.SUSPENDED,
        Status.EXPIRED,
        PAID_UNTIL,
        agreements.RENEWAL_CANCELLED,
        owner.pk,
        cancelled,
    )


def test_only_the_owner_cancels_renewal_and_only_of_a_subscription(owner, subscription, perpetual):
    other = UserFactory.create(username="other")
    with pytest.raises(PermissionDenied):
        agreements.agreement_cancel_renewal(user=other, agreement=subscription, now=PAID)
    with pytest.raises(DomainError) as refused:
        agreements.agreement_cancel_renewal(user=owner, agreement=perpetual, now=PAID)
    assert refused.value.code == "agreement_perpetual"
    agreements.agreement_revoke(actor=None, agreement=subscription, reason="refund", now=PAID)
    with pytest.raises(DomainError) as ended:
        agreements.agreement_cancel_renewal(user=owner, agreement=subscription, now=PAID)
    assert ended.value.code == "agreement_ended"
    assert state(subscription)[4] is None
    assert len(events(perpetual)) == 1


@pytest.mark.parametrize("lapsed_days", [0, 1, 31])
def test_a_paid_renewal_brings_a_lapsed_subscription_back(subscription, lapsed_days):
    agreements.agreements_lapse(now=PAID_UNTIL)
    agreements.agreements_lapse(now=PAID_UNTIL + timedelta(days=lapsed_days))
    renewed_at = PAID_UNTIL + timedelta(days=lapsed_days, hours=1)
    status_before = state(subscription)[0]
    until = agreements.agreement_renewal_until(agreement=subscription, now=renewed_at)

    agreements.agreement_extend(agreement=subscription, paid_until=until, now=renewed_at)
    agreements.agreement_extend(agreement=subscription, paid_until=until, now=renewed_at)

    assert state(subscription) == (Status.ACTIVE, until, None, None, None)
    assert events(subscription)[-1] == (status_before, Status.ACTIVE, until, "", None, renewed_at)
    assert [e[1] for e in events(subscription)].count(Status.ACTIVE) == 2


def test_a_revoked_or_perpetual_licence_is_not_extended(subscription, perpetual):
    agreements.agreement_revoke(actor=None, agreement=subscription, reason="refund", now=PAID)
    with pytest.raises(DomainError) as revoked:
        agreements.agreement_extend(
            agreement=subscription, paid_until=PAID_UNTIL + timedelta(days=30), now=PAID
        )
    assert revoked.value.code == "agreement_revoked"
    with pytest.raises(DomainError) as unending:
        agreements.agreement_extend(agreement=perpetual, paid_until=PAID_UNTIL, now=PAID)
    assert unending.value.code == "agreement_perpetual"
    assert state(subscription)[:2] == (Status.REVOKED, PAID_UNTIL)


def titles(user: User, kind: str) -> set[str]:
    return set(playable_tracks(user=user, kind=kind).values_list("title", flat=True))


def test_revocation_and_suspension_stop_full_tracks_and_downloads(owner, subscription):
    ready_track(title="One")
    with time_machine.travel(PAID + timedelta(days=1), tick=False):
        assert titles(owner, Rendition.Kind.OPUS) == {"One"}
        assert titles(owner, Rendition.Kind.MP3_320) == {"One"}
    with time_machine.travel(PAID_UNTIL + timedelta(minutes=1), tick=False):
        agreements.agreements_lapse(now=clock.now())
        assert state(subscription)[0] == Status.SUSPENDED
        assert titles(owner, Rendition.Kind.OPUS) == set()
        assert titles(owner, Rendition.Kind.MP3_320) == set()
        assert titles(owner, Rendition.Kind.PREVIEW) == {"One"}
        until = agreements.agreement_renewal_until(agreement=subscription, now=clock.now())
        agreements.agreement_extend(agreement=subscription, paid_until=until, now=clock.now())
        assert titles(owner, Rendition.Kind.OPUS) == {"One"}
        agreements.agreement_revoke(
            actor=None, agreement=subscription, reason="refund", now=clock.now()
        )
        assert titles(owner, Rendition.Kind.OPUS) == set()
        assert titles(owner, Rendition.Kind.MP3_320) == set()
