"""Paid orders made directly, as checkout leaves them, for the tests of what payment starts
(agreements, certificates, the licence pages)."""

import itertools
from datetime import datetime
from typing import Any

from backgroundmusic.accounts.models import User
from backgroundmusic.licensing.models import (
    BuyerKind,
    Currency,
    Order,
    OrderLine,
    PaymentMethod,
    PlanEdition,
)
from backgroundmusic.licensing.money import line_amounts, totals
from backgroundmusic.licensing.tests.factories import terms_edition

_serial = itertools.count(1)


def paid_order(
    *,
    user: User | None,
    lines: list[dict[str, Any]],
    paid_at: datetime,
    buyer_kind: str = BuyerKind.NATURAL,
    currency: str = Currency.RUB,
    **buyer: Any,
) -> Order:
    """An order paid at `paid_at`; each of `lines` names its `edition` and optionally `track`,
    `quantity`, `use_description`, `renews` and `renews_until`."""
    number = next(_serial)
    terms = terms_edition()
    legal = buyer_kind == BuyerKind.LEGAL
    buyer.setdefault("buyer_name", "Anna Petrova")
    if legal:
        buyer.setdefault("company_name", "Cafe Aroma LLC")
        buyer.setdefault("tax_id", "7701234567")
        buyer.setdefault("tax_registration_code", "770101001")
        buyer.setdefault("buyer_address", "1 Tverskaya St, Moscow")
    amounts = [
        line_amounts(edition=line["edition"], currency=currency, quantity=line.get("quantity", 1))
        for line in lines
    ]
    total = totals(amounts, currency=currency)
    order = Order.objects.create(
        public_id=f"paid-order-{number}",
        user=user,
        subject_pseudonym=f"pseudonym-{number}",
        buyer_kind=buyer_kind,
        currency=currency,
        payment_method=PaymentMethod.BANK_TRANSFER if legal else PaymentMethod.CARD,
        status=Order.Status.PAID,
        terms_edition=terms,
        terms_edition_hash=terms.content_hash,
        terms_accepted_at=paid_at,
        net_total=total.net.amount,
        vat_total=total.vat.amount,
        gross_total=total.gross.amount,
        created_at=paid_at,
        paid_at=paid_at,
        **buyer,
    )
    for position, (line, amount) in enumerate(zip(lines, amounts, strict=True), start=1):
        edition: PlanEdition = line["edition"]
        OrderLine.objects.create(
            order=order,
            position=position,
            plan_edition=edition,
            plan_edition_hash=edition.content_hash,
            track=line.get("track"),
            quantity=amount.quantity,
            use_description=line.get("use_description", ""),
            unit_price=amount.unit_price.amount,
            net_amount=amount.net.amount,
            vat_rate=amount.vat_rate,
            vat_amount=amount.vat.amount,
            gross_amount=amount.gross.amount,
            renews=line.get("renews"),
            renews_until=line.get("renews_until"),
        )
    return order
