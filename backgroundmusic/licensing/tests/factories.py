"""Rows of licensing made directly, for tests of the rules that read them (the services that
make them in real life have their own tests)."""

import hashlib
import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from backgroundmusic.accounts.models import User
from backgroundmusic.core import clock
from backgroundmusic.licensing.models import (
    Agreement,
    BuyerKind,
    Currency,
    LicenceTermsEdition,
    Order,
    OrderLine,
    PaymentMethod,
    Plan,
    PlanEdition,
    PlanKind,
    QuantityUnit,
    Scope,
    Term,
    Territory,
    Use,
)

_serial = itertools.count(1)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def plan_edition(
    *, kind: str = PlanKind.CREATOR, uses: list[str] | None = None, **fields: Any
) -> PlanEdition:
    number = next(_serial)
    plan = Plan.objects.create(code=f"{kind}-{number}", kind=kind)
    fields.setdefault("scope", Scope.TRACK if kind == PlanKind.SINGLE_TRACK else Scope.CATALOGUE)
    fields.setdefault("term", Term.PERPETUAL if kind == PlanKind.SINGLE_TRACK else Term.MONTHLY)
    fields.setdefault("title_en", f"Plan {number}")
    fields.setdefault("title_ru", f"Тариф {number}")
    fields.setdefault("territory", Territory.WORLDWIDE)
    fields.setdefault("quantity_unit", QuantityUnit.LICENCE)
    fields.setdefault("price_rub", Decimal("990.00"))
    fields.setdefault("price_eur", Decimal("9.90"))
    fields.setdefault("vat_rate", Decimal("20.00"))
    return PlanEdition.objects.create(
        plan=plan,
        version="1",
        description_en="A plan.",
        description_ru="Тариф.",
        uses=uses or [Use.ONLINE_VIDEO, Use.PODCAST],
        content_hash=_hash(f"plan {number}"),
        effective_at=clock.now(),
        published_at=clock.now(),
        **fields,
    )


def terms_edition() -> LicenceTermsEdition:
    found = LicenceTermsEdition.objects.filter(version="test-1").first()
    return found or LicenceTermsEdition.objects.create(
        version="test-1",
        title_en="Licence terms",
        title_ru="Условия лицензии",
        body_en="Terms.",
        body_ru="Условия.",
        content_hash=_hash("terms test-1"),
        effective_at=clock.now(),
        published_at=clock.now(),
    )


def agreement(
    *,
    user: User,
    edition: PlanEdition,
    track: Any = None,
    starts_at: datetime | None = None,
    paid_until: datetime | None = None,
    status: str = Agreement.Status.ACTIVE,
) -> Agreement:
    number = next(_serial)
    now = clock.now()
    terms = terms_edition()
    order = Order.objects.create(
        public_id=f"order-{number}",
        user=user,
        subject_pseudonym=f"p-{user.pk}",
        buyer_kind=BuyerKind.NATURAL,
        buyer_name="Test Buyer",
        currency=Currency.RUB,
        payment_method=PaymentMethod.CARD,
        status=Order.Status.PAID,
        terms_edition=terms,
        terms_edition_hash=terms.content_hash,
        terms_accepted_at=now,
        net_total=Decimal("990.00"),
        vat_total=Decimal("198.00"),
        gross_total=Decimal("1188.00"),
        created_at=now,
        paid_at=now,
    )
    line = OrderLine.objects.create(
        order=order,
        position=1,
        plan_edition=edition,
        plan_edition_hash=edition.content_hash,
        track=track,
        quantity=1,
        unit_price=Decimal("990.00"),
        net_amount=Decimal("990.00"),
        vat_rate=Decimal("20.00"),
        vat_amount=Decimal("198.00"),
        gross_amount=Decimal("1188.00"),
    )
    starts = starts_at or now - timedelta(days=1)
    if paid_until is None and edition.term == Term.MONTHLY:
        paid_until = starts + timedelta(days=30)
    return Agreement.objects.create(
        number=f"A-{number}",
        order_line=line,
        user=user,
        subject_pseudonym=order.subject_pseudonym,
        licensee_kind=BuyerKind.NATURAL,
        licensee_name="Test Buyer",
        plan_edition=edition,
        plan_edition_hash=edition.content_hash,
        terms_edition=terms,
        terms_edition_hash=terms.content_hash,
        scope=edition.scope,
        track=track,
        uses=edition.uses,
        territory=edition.territory,
        quantity=1,
        starts_at=starts,
        paid_until=paid_until,
        status=status,
        document_en="<p>Agreement</p>",
        document_ru="<p>Договор</p>",
        document_hash=_hash(f"agreement {number}"),
        concluded_at=now,
    )
