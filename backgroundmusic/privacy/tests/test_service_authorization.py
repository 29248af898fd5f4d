"""The privacy services that act for staff check their actor themselves, whoever calls them (a
page, the API, a command): every caller kind calls each service directly. The allowed caller
gets the exact result and its audit row; every other one gets ActionRefused, one
`service.denied` row naming it and the service, and nothing else changes."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.audit.models import AuditEvent
from backgroundmusic.audit.tests.refusals import service_denial, service_denials
from backgroundmusic.core import clock
from backgroundmusic.core.errors import ActionRefused
from backgroundmusic.privacy import disclosures, policies
from backgroundmusic.privacy import requests as dsr
from backgroundmusic.privacy.models import (
    DataSubjectRequest,
    Disclosure,
    DocumentKind,
    PolicyEdition,
    ProcessingRestriction,
    RequestKind,
)
from backgroundmusic.staffroles.roles import StaffRole
from tests.callers import expected_by_caller

pytestmark = pytest.mark.django_db

Status = DataSubjectRequest.Status
Identity = DataSubjectRequest.Identity
RECEIVED = datetime(2025, 12, 29, 7, 0, tzinfo=UTC)  # 10:00 in Moscow, Monday
# Whether each caller kind may do the privacy officer's work.
MAY_ACT = expected_by_caller({"privacy_officer"}, allowed_outcome=True, refused_outcome=False)


@pytest.fixture
def officer() -> User:
    """The privacy officer who arranged the scene; the caller is another person."""
    return StaffFactory.create(role=StaffRole.PRIVACY_OFFICER, username="arranging-officer")


@pytest.fixture
def person() -> User:
    return UserFactory.create(username="person")


def acting(caller_for: Callable[..., Any], kind: str) -> Any:
    """The actor a page or an API endpoint would pass: the signed-in user, or AnonymousUser."""
    user = caller_for(kind).user
    return AnonymousUser() if user is None else user


def request_rows() -> list[tuple[Any, ...]]:
    return list(
        DataSubjectRequest.objects.order_by("pk").values_list(
            "kind",
            "subject_id",
            "identity",
            "status",
            "extended_due_ru",
            "extension_reason",
            "outcome",
            "closed_at",
            "handled_by_id",
        )
    )


def audit_rows() -> list[tuple[Any, ...]]:
    """Every audit row but the refusals, which service_denials() reads."""
    return list(
        AuditEvent.objects.exclude(action="service.denied")
        .order_by("pk")
        .values_list("actor_id", "action", "target_type", "target_id", "before", "after")
    )


def logged(officer: User, *, subject: User | None, kind: str = RequestKind.RESTRICTION) -> Any:
    with clock.frozen_at(RECEIVED):
        return dsr.request_log(
            actor=officer,
            kind=kind,
            channel=DataSubjectRequest.Channel.EMAIL,
            received_at=RECEIVED,
            subject=subject,
            requester_contact="petrov@example.org",
        )


def verified(officer: User, subject: User) -> Any:
    request = logged(officer, subject=subject)
    with clock.frozen_at(RECEIVED):
        return dsr.request_verify_identity(actor=officer, request=request, verified=True)


def _log(actor: Any, officer: User, person: User) -> tuple[Callable[[], Any], Any]:
    def call() -> Any:
        with clock.frozen_at(RECEIVED):
            return dsr.request_log(
                actor=actor,
                kind=RequestKind.ACCESS,
                channel=DataSubjectRequest.Channel.LETTER,
                received_at=RECEIVED,
                subject=person,
                requester_contact="Ivan Petrov, Svetlanskaya 12",
            )

    return call, (
        RequestKind.ACCESS,
        person.pk,
        Identity.UNVERIFIED,
        Status.OPEN,
        None,
        "",
        "",
        None,
        getattr(actor, "pk", None),
    )


def _link(actor: Any, officer: User, person: User) -> tuple[Callable[[], Any], Any]:
    request = logged(officer, subject=None)

    def call() -> Any:
        with clock.frozen_at(RECEIVED):
            return dsr.request_link_subject(actor=actor, request=request, subject=person)

    return call, (
        RequestKind.RESTRICTION,
        person.pk,
        Identity.UNVERIFIED,
        Status.OPEN,
        None,
        "",
        "",
        None,
        getattr(actor, "pk", None),
    )


def _verify(actor: Any, officer: User, person: User) -> tuple[Callable[[], Any], Any]:
    request = logged(officer, subject=person)

    def call() -> Any:
        with clock.frozen_at(RECEIVED):
            return dsr.request_verify_identity(actor=actor, request=request, verified=True)

    return call, (
        RequestKind.RESTRICTION,
        person.pk,
        Identity.VERIFIED,
        Status.OPEN,
        None,
        "",
        "",
        None,
        getattr(actor, "pk", None),
    )


def _extend(actor: Any, officer: User, person: User) -> tuple[Callable[[], Any], Any]:
    request = logged(officer, subject=person)

    def call() -> Any:
        with clock.frozen_at(RECEIVED):
            return dsr.request_extend(actor=actor, request=request, reason="Documents awaited.")

    return call, (
        RequestKind.RESTRICTION,
        person.pk,
        Identity.UNVERIFIED,
        Status.OPEN,
        date(2026, 1, 29),
        "Documents awaited.",
        "",
        None,
        getattr(actor, "pk", None),
    )


def _close(actor: Any, officer: User, person: User) -> tuple[Callable[[], Any], Any]:
    request = verified(officer, person)

    def call() -> Any:
        with clock.frozen_at(RECEIVED):
            return dsr.request_close(
                actor=actor, request=request, outcome="Restricted.", status=Status.DONE
            )

    return call, (
        RequestKind.RESTRICTION,
        person.pk,
        Identity.VERIFIED,
        Status.DONE,
        None,
        "",
        "Restricted.",
        RECEIVED,
        getattr(actor, "pk", None),
    )


def _act(actor: Any, officer: User, person: User) -> tuple[Callable[[], Any], Any]:
    request = verified(officer, person)

    def call() -> Any:
        with clock.frozen_at(RECEIVED):
            return dsr.request_act(actor=actor, request=request, action=dsr.RequestAction.RESTRICT)

    # Acting records no handler on the request: the row stays as the verification left it.
    return call, (
        RequestKind.RESTRICTION,
        person.pk,
        Identity.VERIFIED,
        Status.OPEN,
        None,
        "",
        "",
        None,
        officer.pk,
    )


REQUEST_STEPS = {
    "request_log": (_log, "request.logged"),
    "request_link_subject": (_link, "request.subject_linked"),
    "request_verify_identity": (_verify, "request.identity_verified"),
    "request_extend": (_extend, "request.extended"),
    "request_close": (_close, "request.closed"),
    "request_act": (_act, "request.acted"),
}


@pytest.mark.parametrize(("kind", "allowed"), MAY_ACT.items())
@pytest.mark.parametrize("step", REQUEST_STEPS)
def test_request_steps_are_for_privacy_officers_only(
    step, kind, allowed, caller_for, officer, person
):
    arrange, action = REQUEST_STEPS[step]
    actor = acting(caller_for, kind)
    call, expected_row = arrange(actor, officer, person)
    requests_before, audit_before = request_rows(), audit_rows()
    restrictions_before = ProcessingRestriction.objects.count()
    if allowed:
        result = call()
        changed = request_rows()
        assert changed[-1] == expected_row
        assert changed[:-1] == requests_before[: len(changed) - 1]
        new_audit = audit_rows()[len(audit_before) :]
        assert [(row[0], row[1]) for row in new_audit] == [(actor.pk, action)]
        if step == "request_act":
            assert isinstance(result, ProcessingRestriction)
            assert (result.subject_id, result.started_method, result.lifted_at) == (
                person.pk,
                "staff",
                None,
            )
            assert ProcessingRestriction.objects.count() == restrictions_before + 1
        assert service_denials() == []
    else:
        with pytest.raises(ActionRefused) as refused:
            call()
        assert (refused.value.code, refused.value.message) == (
            "permission_denied",
            "You may not handle data-subject requests.",
        )
        assert (request_rows(), audit_rows()) == (requests_before, audit_before)
        assert ProcessingRestriction.objects.count() == restrictions_before
        assert service_denials() == [
            service_denial(actor, service=f"privacy.{step}", permission="staff_may_handle_requests")
        ]


def test_the_system_handles_no_request(officer, person):
    request = logged(officer, subject=person)
    before = (request_rows(), audit_rows())
    with pytest.raises(ActionRefused):
        dsr.request_verify_identity(actor=None, request=request, verified=True)
    with pytest.raises(ActionRefused):
        logged(None, subject=person)  # type: ignore[arg-type]
    assert (request_rows(), audit_rows()) == before
    assert service_denials() == [
        service_denial(None, service=service, permission="staff_may_handle_requests")
        for service in ("privacy.request_verify_identity", "privacy.request_log")
    ]


def record(actor: Any, subject: User) -> Disclosure:
    with clock.frozen_at(datetime(2026, 2, 10, 9, 0, tzinfo=UTC)):
        return disclosures.disclosure_record(
            actor=actor,
            subject=subject,
            recipient_name="Investigative Committee, Vladivostok",
            country="RU",
            legal_basis="court_decision",
            categories=["user.name", "user.contact.email"],
            reference_document="Court decision No. 2-117/2026",
            disclosed_on=date(2026, 2, 5),
        )


def disclosure_rows() -> list[tuple[Any, ...]]:
    return list(
        Disclosure.objects.order_by("pk").values_list(
            "subject_id", "recipient_name", "categories", "recorded_by_id"
        )
    )


@pytest.mark.parametrize(("kind", "allowed"), MAY_ACT.items())
def test_recording_a_disclosure_is_for_privacy_officers_only(kind, allowed, caller_for, person):
    actor = acting(caller_for, kind)
    audit_before = audit_rows()
    if allowed:
        disclosure = record(actor, person)
        assert disclosure_rows() == [
            (
                person.pk,
                "Investigative Committee, Vladivostok",
                ["user.contact.email", "user.name"],
                actor.pk,
            )
        ]
        assert audit_rows()[len(audit_before) :] == [
            (
                actor.pk,
                "disclosure.recorded",
                "privacy.Disclosure",
                str(disclosure.pk),
                {},
                {
                    "country": "RU",
                    "legal_basis": "court_decision",
                    "categories": ["user.contact.email", "user.name"],
                    "legal_hold": False,
                },
            )
        ]
        assert service_denials() == []
    else:
        with pytest.raises(ActionRefused):
            record(actor, person)
        assert (disclosure_rows(), audit_rows()) == ([], audit_before)
        assert service_denials() == [
            service_denial(
                actor,
                service="privacy.disclosure_record",
                permission="staff_may_record_disclosures",
            )
        ]


def test_the_system_records_no_disclosure(person):
    audit_before = audit_rows()
    with pytest.raises(ActionRefused):
        record(None, person)
    assert (disclosure_rows(), audit_rows()) == ([], audit_before)
    assert service_denials() == [
        service_denial(
            None, service="privacy.disclosure_record", permission="staff_may_record_disclosures"
        )
    ]


T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def publish(actor: Any) -> PolicyEdition:
    with clock.frozen_at(T0):
        return policies.edition_publish(
            actor=actor,
            kind=DocumentKind.PRIVACY_POLICY,
            version="2026-03-02",
            title_en="Privacy policy",
            title_ru="Политика конфиденциальности",
            body_en="## 1. Who we are",
            body_ru="## 1. Кто мы",
            change_summary_en="",
            change_summary_ru="",
            effective_at=None,
            material_purposes=[],
        )


def edition_rows() -> list[tuple[Any, ...]]:
    return list(
        PolicyEdition.objects.order_by("pk").values_list(
            "kind", "version", "published_at", "effective_at", "published_by_id"
        )
    )


@pytest.mark.parametrize(("kind", "allowed"), MAY_ACT.items())
def test_publishing_an_edition_is_for_privacy_officers_only(kind, allowed, caller_for):
    actor = acting(caller_for, kind)
    audit_before = audit_rows()
    if allowed:
        edition = publish(actor)
        assert edition_rows() == [("privacy_policy", "2026-03-02", T0, T0, actor.pk)]
        assert audit_rows()[len(audit_before) :] == [
            (
                actor.pk,
                "policy.edition_published",
                "privacy.PolicyEdition",
                str(edition.pk),
                {},
                {
                    "kind": "privacy_policy",
                    "version": "2026-03-02",
                    "effective_at": "2026-03-02T09:00:00+00:00",
                    "material_purposes": [],
                },
            )
        ]
        assert service_denials() == []
    else:
        with pytest.raises(ActionRefused):
            publish(actor)
        assert (edition_rows(), audit_rows()) == ([], audit_before)
        assert service_denials() == [
            service_denial(
                actor, service="privacy.edition_publish", permission="staff_may_publish_policy"
            )
        ]


def test_the_system_publishes_editions_as_seeded():
    edition = publish(None)
    assert edition_rows() == [("privacy_policy", "2026-03-02", T0, T0, None)]
    assert audit_rows() == [
        (
            None,
            "policy.edition_published",
            "privacy.PolicyEdition",
            str(edition.pk),
            {},
            {
                "kind": "privacy_policy",
                "version": "2026-03-02",
                "effective_at": "2026-03-02T09:00:00+00:00",
                "material_purposes": [],
            },
        )
    ]
