"""Renewing a subscription: when it may be renewed, on what, and what a renewal already placed
waits for (docs/decisions/0026-renewal-on-the-current-edition.md).

A subscription is paid a month at a time, and nothing charges the licensee by itself: they
renew. Renewal opens RENEWAL_OPENS_BEFORE the paid month ends and stays open while the
subscription is suspended for want of payment. A renewal is sold on the plan's edition on sale
now (at its price): when that is the edition the agreement was concluded on, paying it extends
the agreement (agreements.agreement_extend); when the plan has a newer edition, paying it
concludes a new agreement on it that continues this one, which then ends (agreements
_continue_on), because an agreement's terms are frozen at conclusion. One renewal order at a
time: while one waits for payment, it is what "Renew" leads to (orders.renewal_order_place).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.db.models import Q

from backgroundmusic.licensing import agreements, editions
from backgroundmusic.licensing.models import Agreement, Order, OrderLine, PlanEdition

# How long before the paid month ends a subscription may be renewed: long enough to pay by
# bank transfer, which staff confirm from the statement.
RENEWAL_OPENS_BEFORE = timedelta(days=7)


class RenewalState(StrEnum):
    PERPETUAL = "perpetual"  # nothing to renew
    NOT_YET = "not_yet"  # paid for more than RENEWAL_OPENS_BEFORE ahead
    OPEN = "open"  # ending soon, or suspended: a renewal may be placed now
    AWAITING_PAYMENT = "awaiting_payment"  # a renewal order waits for payment
    NOT_OFFERED = "not_offered"  # the plan is withdrawn: nothing to renew it on
    ENDED = "ended"  # expired or revoked: a new licence is bought from the pricing page


@dataclass(frozen=True)
class RenewalOffer:
    """Where an agreement stands for renewal at a moment, as its pages show it."""

    state: RenewalState
    # The agreement's status at that moment (agreements.agreement_status_at).
    status: str
    # What a renewal buys: the plan's edition on sale (None when the plan is withdrawn).
    edition: PlanEdition | None
    # The edition on sale is not the one the agreement was concluded on: paying the renewal
    # concludes a new agreement that continues this one.
    edition_changed: bool
    # When renewal opens (NOT_YET).
    opens_at: datetime | None
    # A suspended subscription expires then unless renewed.
    expires_at: datetime | None
    # Where the paid period reaches if renewed now.
    renews_until: datetime | None
    # The renewal order waiting for payment (AWAITING_PAYMENT).
    pending_order: Order | None


def _state(
    agreement: Agreement,
    *,
    status: str,
    edition: PlanEdition | None,
    pending: Order | None,
    now: datetime,
) -> RenewalState:
    if agreement.paid_until is None:
        return RenewalState.PERPETUAL
    if status not in (Agreement.Status.ACTIVE, Agreement.Status.SUSPENDED):
        return RenewalState.ENDED
    if pending is not None:
        return RenewalState.AWAITING_PAYMENT
    if edition is None:
        return RenewalState.NOT_OFFERED
    if status == Agreement.Status.ACTIVE and agreement.paid_until - now > RENEWAL_OPENS_BEFORE:
        return RenewalState.NOT_YET
    return RenewalState.OPEN


def renewal_offers(
    *, agreements_shown: Sequence[Agreement], now: datetime
) -> dict[int, RenewalOffer]:
    """Each agreement's RenewalOffer at `now`, by id. Two queries however many agreements (the
    editions on sale, the renewal orders waiting for payment), none for perpetual licences.
    Each agreement's plan_edition must be loaded."""
    subscriptions = [agreement for agreement in agreements_shown if agreement.paid_until]
    on_sale: dict[int, PlanEdition] = {}
    pending: dict[int, Order] = {}
    if subscriptions:
        on_sale = {edition.plan_id: edition for edition in editions.current_plan_editions()}
        waiting = OrderLine.objects.filter(
            renews__in=[agreement.pk for agreement in subscriptions],
            order__status=Order.Status.AWAITING_PAYMENT,
        ).select_related("order")
        pending = {line.renews_id: line.order for line in waiting if line.renews_id}
    offers = {}
    for agreement in agreements_shown:
        status = agreements.agreement_status_at(agreement, now=now)
        edition = on_sale.get(agreement.plan_edition.plan_id)
        order = pending.get(agreement.pk)
        state = _state(agreement, status=status, edition=edition, pending=order, now=now)
        paid_until = agreement.paid_until
        offers[agreement.pk] = RenewalOffer(
            state=state,
            status=status,
            edition=edition,
            edition_changed=edition is not None and edition.pk != agreement.plan_edition_id,
            opens_at=(
                paid_until - RENEWAL_OPENS_BEFORE
                if paid_until is not None and state == RenewalState.NOT_YET
                else None
            ),
            expires_at=(
                paid_until + timedelta(days=agreements.SUSPENDED_DAYS_BEFORE_EXPIRY)
                if paid_until is not None and status == Agreement.Status.SUSPENDED
                else None
            ),
            renews_until=(
                agreements.agreement_renewal_until(agreement=agreement, now=now)
                if state == RenewalState.OPEN
                else None
            ),
            pending_order=order,
        )
    return offers


def renewal_offer(*, agreement: Agreement, now: datetime) -> RenewalOffer:
    """One agreement's RenewalOffer at `now` (renewal_offers)."""
    return renewal_offers(agreements_shown=[agreement], now=now)[agreement.pk]


@dataclass(frozen=True)
class Continuation:
    """The agreements on either side of a renewal on a new edition, by number."""

    continues: str  # the agreement this one continues
    continued_by: str  # the agreement that continues this one


def continuation_of(*, agreement: Agreement) -> Continuation:
    """Which agreement this one continues and which continues it ("" for none): one query. A
    successor's order line renews this agreement; the predecessor is the one this agreement's
    own order line renews."""
    found = Agreement.objects.filter(
        Q(renewals=agreement.order_line_id) | Q(order_line__renews=agreement)
    ).values_list("number", "order_line__renews")
    continues = continued_by = ""
    for number, renewed in found:
        if renewed == agreement.pk:
            continued_by = number
        else:
            continues = number
    return Continuation(continues=continues, continued_by=continued_by)
