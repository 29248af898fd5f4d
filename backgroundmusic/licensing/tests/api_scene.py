"""The scene of the licensing API's tests: a licensee with a creator subscription paid on
10 March 2026 (with a registered work), a single-track licence, a company order awaiting
payment with its invoice, and downloads made under the licences and outside them."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from backgroundmusic.accounts.models import User
from backgroundmusic.catalog.models import Track
from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.core import clock
from backgroundmusic.licensing import agreements, coverage, orders
from backgroundmusic.licensing.models import (
    Agreement,
    BuyerKind,
    Order,
    PlanEdition,
    PlanKind,
    Use,
)
from backgroundmusic.licensing.tests.checkout_scene import COMPANY_INN, place, profile_set
from backgroundmusic.licensing.tests.factories import plan_edition, terms_edition
from backgroundmusic.licensing.tests.paid_orders import paid_order
from backgroundmusic.media.models import Download

PAID = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
NOW = PAID + timedelta(days=2)


@dataclass(frozen=True)
class Licensee:
    user: User
    subscription: Agreement
    single: Agreement
    order: Order
    track: Track
    other_track: Track


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def download(user: User, track: Track | None, at: datetime, kind: str = "mp3_320") -> Download:
    return Download.objects.create(
        user=user, track=track, kind=kind, token_sha256=_sha(f"{user.pk} {at} {kind}"), at=at
    )


def creator_edition() -> PlanEdition:
    return plan_edition(
        kind=PlanKind.CREATOR,
        title_en="Creator",
        title_ru="Автор",
        price_rub=Decimal("990.00"),
        price_eur=Decimal("9.90"),
    )


def licensee_scene(user: User) -> Licensee:
    """Made with the clock at PAID; the agreements concluded then."""
    with clock.frozen_at(PAID):
        track = ready_track(title="Morning Light", slug="morning-light", catalogue_code="BM-0001")
        other_track = ready_track(title="City Run", slug="city-run", catalogue_code="BM-0002")
        subscription, single = agreements.agreements_conclude(
            order=paid_order(
                user=user,
                lines=[
                    {"edition": creator_edition(), "use_description": "youtube.com/@anna"},
                    {
                        "edition": plan_edition(kind=PlanKind.SINGLE_TRACK, uses=[Use.PROJECT]),
                        "track": track,
                        "use_description": "A film",
                    },
                ],
                paid_at=PAID,
            ),
            now=PAID,
        )
        coverage.use_add(
            user=user,
            agreement=subscription,
            platform="",
            url="https://youtu.be/abc",
            published_on=date(2026, 3, 10),
            title="Spring vlog",
            track=None,
        )
        profile_set(
            user,
            account_type="legal",
            company_name="Cafe Aroma LLC",
            tax_id=COMPANY_INN,
        )
        venue = plan_edition(kind=PlanKind.VENUE, uses=[Use.PUBLIC_PERFORMANCE], max_quantity=5)
        orders.cart_add(user=user, edition_id=venue.pk, quantity=2, use_description="Cafe, Moscow")
        order = place(user, terms_edition(), buyer_kind=BuyerKind.LEGAL)
    download(user, track, PAID + timedelta(hours=1), kind="flac")
    download(user, other_track, PAID + timedelta(hours=2))
    # Before any licence: a download no licence allowed (as a content manager's).
    download(user, other_track, PAID - timedelta(days=1))
    return Licensee(
        user=user,
        subscription=subscription,
        single=single,
        order=order,
        track=track,
        other_track=other_track,
    )
