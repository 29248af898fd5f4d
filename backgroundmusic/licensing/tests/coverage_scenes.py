"""Licences as the licences area leaves them (an agreement with its history and its
certificate), made directly for the tests of coverage; and moves of their history."""

from datetime import UTC, datetime
from typing import Any

from backgroundmusic.accounts.models import User
from backgroundmusic.licensing.models import (
    Agreement,
    AgreementEvent,
    Certificate,
    PlanKind,
    Term,
)
from backgroundmusic.licensing.tests.factories import agreement, plan_edition

START = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
PAID_UNTIL = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)


def licence(
    *,
    user: User,
    number: str = "BM-2026-000042",
    kind: str = PlanKind.CREATOR,
    uses: list[str] | None = None,
    track: Any = None,
    term: str | None = None,
    starts_at: datetime = START,
    paid_until: datetime | None = PAID_UNTIL,
    display: str = Certificate.Display.PRIVATE_PERSON,
    licensee_name: str = "Test Buyer",
) -> Agreement:
    """An active agreement concluded at `starts_at` (perpetual when term is perpetual), with its
    conclusion event and a certificate whose public id is "cert-<number>"."""
    fields = {"term": term} if term else {}
    edition = plan_edition(kind=kind, uses=uses, **fields)
    perpetual = edition.term == Term.PERPETUAL
    made = agreement(
        user=user,
        edition=edition,
        track=track,
        starts_at=starts_at,
        paid_until=None if perpetual else paid_until,
    )
    Agreement.objects.filter(pk=made.pk).update(
        number=number, concluded_at=starts_at, licensee_name=licensee_name
    )
    made.refresh_from_db()
    AgreementEvent.objects.create(
        agreement=made,
        status_from="",
        status_to=Agreement.Status.ACTIVE,
        paid_until=made.paid_until,
        at=starts_at,
    )
    Certificate.objects.create(
        agreement=made, public_id=f"cert-{number}", licensee_display=display, created_at=starts_at
    )
    return made


def moved(
    made: Agreement, *, to: str, at: datetime, paid_until: datetime | None = None
) -> Agreement:
    """The agreement moved to status `to` at `at` (renewed to `paid_until` when `to` is active),
    as the licences area records it: the row and an event."""
    status_from = made.status
    if to == Agreement.Status.ACTIVE:
        assert paid_until is not None
        made.paid_until = paid_until
        made.ended_at = None
    else:
        made.ended_at = at
    made.status = to
    made.save(update_fields=["status", "paid_until", "ended_at"])
    AgreementEvent.objects.create(
        agreement=made,
        status_from=status_from,
        status_to=to,
        paid_until=paid_until if to == Agreement.Status.ACTIVE else None,
        at=at,
    )
    return made
