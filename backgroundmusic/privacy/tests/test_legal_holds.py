"""Legal holds: placed and lifted by the privacy officer; retention and erasure leave what a hold
keeps and report it, and the first run after the hold ends destroys it."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from axes.models import AccessAttempt
from django.contrib.auth.models import AnonymousUser

from backgroundmusic.accounts.models import Profile, SocialLink, User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.audit.models import AuditEvent
from backgroundmusic.audit.tests.refusals import service_denial, service_denials
from backgroundmusic.core import clock
from backgroundmusic.core.errors import ActionRefused, DomainError
from backgroundmusic.privacy import holds
from backgroundmusic.privacy.kernel.pseudonyms import subject_pseudonym
from backgroundmusic.privacy.models import DataKey, DestructionRecord, ErasureJob, LegalHold
from backgroundmusic.privacy.retention import retention_run
from backgroundmusic.privacy.rights.erasure import erasure_request
from backgroundmusic.privacy.tests.test_export import make_owner, queued, run_queued
from backgroundmusic.privacy.tests.test_retention import attempt
from backgroundmusic.staffroles.roles import StaffRole
from tests.callers import CALLERS, expected_by_caller

pytestmark = pytest.mark.django_db(databases="__all__")

T = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 15:00 in Moscow
DAY = timedelta(days=1)
ENDS = date(2026, 6, 1)
MAY_ACT = expected_by_caller({"privacy_officer"}, allowed_outcome=True, refused_outcome=False)


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(T):
        yield


@pytest.fixture
def officer() -> User:
    return StaffFactory.create(role=StaffRole.PRIVACY_OFFICER, username="officer")


def acting(caller_for: Callable[..., Any], kind: str) -> Any:
    user = caller_for(kind).user
    return AnonymousUser() if user is None else user


def audit_rows() -> list[tuple[Any, ...]]:
    return list(
        AuditEvent.objects.filter(action__startswith="legal_hold.")
        .order_by("pk")
        .values_list("actor_id", "action", "target_type", "target_id", "before", "after")
    )


def hold_rows() -> list[tuple[Any, ...]]:
    return list(
        LegalHold.objects.order_by("pk").values_list(
            "target_label", "target_id", "subject_id", "reason", "ends_on", "lifted_at"
        )
    )


@pytest.mark.parametrize(("kind", "allowed"), MAY_ACT.items())
def test_placing_a_hold_by_every_caller(kind, allowed, caller_for):
    person = UserFactory.create(username="held")
    actor = acting(caller_for, kind)
    call = lambda: holds.legal_hold_place(  # noqa: E731
        actor=actor, reason="Claim 2-117/2026", ends_on=ENDS, subject=person
    )
    if allowed:
        hold = call()
        assert hold_rows() == [("", "", person.pk, "Claim 2-117/2026", ENDS, None)]
        assert audit_rows() == [
            (
                actor.pk,
                "legal_hold.placed",
                "privacy.LegalHold",
                str(hold.pk),
                {},
                {"holds": "person", "ends_on": "2026-06-01"},
            )
        ]
        assert service_denials() == []
    else:
        with pytest.raises(ActionRefused):
            call()
        assert hold_rows() == []
        assert audit_rows() == []
        assert service_denials() == [
            service_denial(
                actor,
                service="privacy.legal_hold_place",
                permission="staff_may_place_legal_holds",
            )
        ]


@pytest.mark.parametrize(("kind", "allowed"), MAY_ACT.items())
def test_lifting_a_hold_by_every_caller(kind, allowed, caller_for, officer):
    person = UserFactory.create(username="held")
    hold = holds.legal_hold_place(actor=officer, reason="Claim", ends_on=ENDS, subject=person)
    before = audit_rows()
    actor = acting(caller_for, kind)
    call = lambda: holds.legal_hold_lift(actor=actor, hold=hold, reason="Settled")  # noqa: E731
    if allowed:
        call()
        hold.refresh_from_db()
        assert (hold.lifted_at, hold.lifted_by_id, hold.lift_reason) == (T, actor.pk, "Settled")
        assert audit_rows()[len(before) :] == [
            (
                actor.pk,
                "legal_hold.lifted",
                "privacy.LegalHold",
                str(hold.pk),
                {"ends_on": "2026-06-01"},
                {"lifted": True},
            )
        ]
    else:
        with pytest.raises(ActionRefused):
            call()
        hold.refresh_from_db()
        assert (hold.lifted_at, hold.lifted_by_id, hold.lift_reason) == (None, None, "")
        assert audit_rows() == before
        assert service_denials() == [
            service_denial(
                actor, service="privacy.legal_hold_lift", permission="staff_may_place_legal_holds"
            )
        ]


BAD_INPUT: dict[str, tuple[dict[str, Any], str]] = {
    "end date today": (dict(ends_on=date(2026, 3, 10)), "ends_on_not_future"),
    "end date past": (dict(ends_on=date(2026, 3, 1)), "ends_on_not_future"),
    "no end date": (dict(ends_on=None), "ends_on_not_future"),
    "empty reason": (dict(reason="  "), "reason_required"),
    "reason too long": (dict(reason="x" * 2001), "reason_required_too_long"),
    "unknown model": (
        dict(subject=None, target_label="licensing.Nothing", target_id="1"),
        "unknown_target_model",
    ),
    "model without personal data": (
        dict(subject=None, target_label="privacy.StaffAccessLogCheckpoint", target_id="1"),
        "unknown_target_model",
    ),
    "unknown row": (
        dict(subject=None, target_label="axes.AccessAttempt", target_id="999999"),
        "unknown_target",
    ),
    "id of the wrong type": (
        dict(subject=None, target_label="axes.AccessAttempt", target_id="abc"),
        "unknown_target",
    ),
    "both a person and a record": (
        dict(target_label="axes.AccessAttempt", target_id="1"),
        "target_required",
    ),
    "neither": (dict(subject=None), "target_required"),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_is_refused_and_writes_nothing(case, officer):
    changes, code = BAD_INPUT[case]
    person = UserFactory.create(username="held")
    arguments: dict[str, Any] = {
        "actor": officer,
        "reason": "Claim",
        "ends_on": ENDS,
        "subject": person,
        **changes,
    }
    with pytest.raises(DomainError) as refused:
        holds.legal_hold_place(**arguments)
    assert refused.value.code == code
    assert hold_rows() == []
    assert audit_rows() == []


def test_a_hold_cannot_be_lifted_twice_or_after_it_ended(officer):
    person = UserFactory.create(username="held")
    hold = holds.legal_hold_place(actor=officer, reason="Claim", ends_on=ENDS, subject=person)
    holds.legal_hold_lift(actor=officer, hold=hold, reason="Settled")
    with pytest.raises(DomainError) as refused:
        holds.legal_hold_lift(actor=officer, hold=hold, reason="Again")
    assert refused.value.code == "already_lifted"
    other = holds.legal_hold_place(actor=officer, reason="Claim", ends_on=ENDS, subject=person)
    with clock.frozen_at(datetime(2026, 5, 31, 21, 0, tzinfo=UTC)), pytest.raises(DomainError) as e:
        holds.legal_hold_lift(actor=officer, hold=other, reason="Late")
    assert e.value.code == "already_ended"
    assert [row[1] for row in audit_rows()] == [
        "legal_hold.placed",
        "legal_hold.lifted",
        "legal_hold.placed",
    ]


def test_retention_leaves_a_held_row_reports_it_and_removes_it_after_the_hold(officer):
    held = attempt("someone", T - 100 * DAY)
    free = attempt("someone", T - 101 * DAY)
    hold = holds.legal_hold_place(
        actor=officer,
        reason="Fraud inquiry 44",
        ends_on=ENDS,
        target_label="axes.AccessAttempt",
        target_id=str(held.pk),
    )
    report = retention_run()
    assert report.destroyed["axes.AccessAttempt"] == 1
    assert report.held == {"axes.AccessAttempt": 1}
    assert report.as_counts()["held axes.AccessAttempt"] == 1
    assert list(AccessAttempt.objects.values_list("pk", flat=True)) == [held.pk]
    assert free.pk != held.pk
    [record] = DestructionRecord.objects.filter(reason="retention: axes.AccessAttempt")
    assert (record.counts, record.held) == ({"axes.AccessAttempt": 1}, {"axes.AccessAttempt": 1})

    # Still held the next day: nothing destroyed, the record says it is held.
    with clock.frozen_at(T + DAY):
        report = retention_run()
    assert report.held == {"axes.AccessAttempt": 1}
    assert AccessAttempt.objects.count() == 1

    # The day the hold ends (00:00 in Moscow) the row goes.
    with clock.frozen_at(datetime(2026, 5, 31, 21, 0, tzinfo=UTC)):
        report = retention_run()
    assert report.held == {}
    assert report.destroyed["axes.AccessAttempt"] == 1
    assert AccessAttempt.objects.count() == 0
    hold.refresh_from_db()
    assert hold.lifted_at is None


def test_a_lifted_hold_no_longer_keeps_the_row(officer):
    held = attempt("someone", T - 100 * DAY)
    hold = holds.legal_hold_place(
        actor=officer,
        reason="Fraud inquiry 44",
        ends_on=ENDS,
        target_label="axes.AccessAttempt",
        target_id=str(held.pk),
    )
    holds.legal_hold_lift(actor=officer, hold=hold, reason="Closed")
    report = retention_run()
    assert report.held == {}
    assert AccessAttempt.objects.count() == 0


def person_state(user: User) -> tuple[Any, ...]:
    row = User.objects.filter(pk=user.pk).values_list("username", "email", "is_active").first()
    return (
        row,
        EmailAddress.objects.filter(user_id=user.pk).count(),
        Profile.objects.filter(user_id=user.pk).count(),
        SocialLink.objects.filter(profile__user_id=user.pk).count(),
        DataKey.objects.filter(subject_id=user.pk).count(),
    )


def test_a_hold_on_a_person_stops_their_erasure_until_it_ends(officer):
    person = make_owner("heldperson")
    before = person_state(person)
    assert before[1:] == (1, 1, 1, 1)
    holds.legal_hold_place(actor=officer, reason="Litigation 7", ends_on=ENDS, subject=person)
    job = erasure_request(subject=person, reason="privacy center")
    assert run_queued("erase_account") == ["held"]
    job.refresh_from_db()
    assert job.status == ErasureJob.Status.HELD
    assert person_state(person) == before
    assert job.held["rows"]["accounts.User"] == 1
    assert job.held["rows"]["account.EmailAddress"] == 1
    assert "privacy: data key" in job.held["steps"]
    [record] = DestructionRecord.objects.filter(method="erasure")
    assert (record.subject_pseudonym, record.counts, record.held) == (
        subject_pseudonym(subject_id=person.pk),
        {},
        job.held,
    )

    # The daily run while the hold lasts leaves the job alone.
    with clock.frozen_at(T + DAY):
        assert retention_run().released == 0
    assert queued("erase_account") == []

    # After the end date the daily run sends the erasure back, and it finishes.
    with clock.frozen_at(datetime(2026, 6, 1, 3, 0, tzinfo=UTC)):
        assert retention_run().released == 1
        assert run_queued("erase_account") == ["done"]
    job.refresh_from_db()
    assert (job.status, job.held) == (ErasureJob.Status.DONE, {})
    username, email, is_active = person_state(person)[0]
    assert (username, email, is_active) == (subject_pseudonym(subject_id=person.pk), "", False)
    assert person_state(person)[1:] == (0, 0, 0, 0)
    first, second = DestructionRecord.objects.filter(method="erasure").order_by("pk")
    assert second.held == {}
    assert second.counts["account.EmailAddress"] == 1
    assert "account.EmailAddress" not in first.counts


def test_a_hold_on_one_record_of_a_person_keeps_only_that_record(officer):
    person = make_owner("partlyheld")
    kept = EmailAddress.objects.create(user=person, email="second@example.org", verified=True)
    holds.legal_hold_place(
        actor=officer,
        reason="Evidence",
        ends_on=ENDS,
        target_label="account.EmailAddress",
        target_id=str(kept.pk),
    )
    job = erasure_request(subject=person, reason="privacy center")
    assert run_queued("erase_account") == ["held"]
    job.refresh_from_db()
    assert list(EmailAddress.objects.filter(user_id=person.pk).values_list("pk", flat=True)) == [
        kept.pk
    ]
    assert SocialLink.objects.filter(profile__user_id=person.pk).count() == 0
    assert job.held["rows"] == {"account.EmailAddress": 1, "accounts.User": 1}
    # The row kept needs its account and the data key that opens the account's sealed values.
    assert DataKey.objects.filter(subject_id=person.pk).count() == 1
    assert User.objects.filter(pk=person.pk).exists()


@pytest.mark.parametrize(
    ("kind", "expected"),
    expected_by_caller(
        {"privacy_officer"}, allowed_outcome=200, refused_outcome=403, kinds=CALLERS, anonymous=302
    ).items(),
)
def test_the_staff_page_by_every_caller(kind, expected, caller_for):
    assert caller_for(kind).client.get("/staff/legal-holds/").status_code == expected


def test_the_staff_page_places_lists_and_lifts_holds(client, officer):
    person = UserFactory.create(username="held")
    client.force_login(officer)
    form = {
        "target": "person",
        "subject": "held",
        "reason": "Claim 2-117/2026",
        "ends_on": "2026-06-01",
    }
    response = client.post("/staff/legal-holds/", form)
    assert response.status_code == 302
    [hold] = LegalHold.objects.all()
    assert (hold.subject_id, hold.reason, hold.ends_on) == (person.pk, "Claim 2-117/2026", ENDS)
    page = client.get("/staff/legal-holds/").content.decode()
    assert f"every record of person #{person.pk}" in page

    # A past end date: refused, and the form keeps what was typed.
    response = client.post("/staff/legal-holds/", form | {"ends_on": "2026-03-01"})
    assert response.status_code == 400
    assert "The hold must end on a day after today." in response.content.decode()
    assert "Claim 2-117/2026" in response.content.decode()
    assert LegalHold.objects.count() == 1

    response = client.post(f"/staff/legal-holds/{hold.pk}/lift/", {f"lift-{hold.pk}-reason": ""})
    assert response.status_code == 400
    response = client.post(
        f"/staff/legal-holds/{hold.pk}/lift/", {f"lift-{hold.pk}-reason": "Settled"}
    )
    assert response.status_code == 302
    hold.refresh_from_db()
    assert (hold.lifted_by_id, hold.lift_reason) == (officer.pk, "Settled")
