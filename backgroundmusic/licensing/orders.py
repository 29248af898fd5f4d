"""The cart, checkout and orders: what a person means to buy, and the order it becomes.

A cart line names a plan edition offered now (licensing/editions.py), a quantity within the
edition's limits, the track of a track-scoped plan (one the public catalogue shows) and, for a
venue or a single-track licence, what the licence is for. `order_place` turns the whole cart into
an order in one transaction: exact amounts (licensing/money.py), the buyer as the profile says at
that moment, the licence terms accepted with their evidence, and the invoice of a legal person.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.ru import inn

from backgroundmusic.accounts.models import AccountType, Profile, User
from backgroundmusic.accounts.selectors import profile_of
from backgroundmusic.audit.refusals import refusals_audited
from backgroundmusic.catalog.selectors import catalogue_tracks
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.request_info import browser_family, truncate_ip
from backgroundmusic.core.text import TextKind, check_text
from backgroundmusic.licensing import editions, invoices
from backgroundmusic.licensing.models import (
    Agreement,
    BuyerKind,
    CartLine,
    Currency,
    LicenceTermsEdition,
    Order,
    OrderLine,
    PaymentMethod,
    PlanEdition,
    PlanKind,
    Scope,
)
from backgroundmusic.licensing.money import LineAmounts, Totals, line_amounts, totals
from backgroundmusic.licensing.renewals import RENEWAL_OPENS_BEFORE, RenewalState, renewal_offer
from backgroundmusic.privacy.kernel.pseudonyms import subject_pseudonym
from backgroundmusic.staffroles.selectors import Actor, staff_may_manage_orders, staff_require

# A cart is a handful of licences; a longer one is a script, not a buyer.
CART_MAX_LINES = 20
USE_DESCRIPTION_MAX = 300
# What precedes the public id in a payment reference as a bank statement shows it ("BM <id>");
# a public id holds no space.
PAYMENT_REFERENCE_LEAD = re.compile(rf"^{invoices.PAYMENT_REFERENCE_PREFIX}\s+", re.IGNORECASE)
# Kod prichiny postanovki: four digits, two digits or capital Latin letters, three digits; ASCII
# digits only (\d would take Arabic-Indic or fullwidth digits into an invoice).
KPP = re.compile(r"[0-9]{4}[0-9A-Z]{2}[0-9]{3}")
# Plans whose licence names what it is for: the venue (name and address), or the project.
PLAN_KINDS_NAMING_USE = frozenset({PlanKind.VENUE, PlanKind.SINGLE_TRACK})
# How a payment method is paid: the provider the billing services call (licensing/payments/).
PAYMENT_PROVIDER = {PaymentMethod.BANK_TRANSFER: "bank_transfer", PaymentMethod.CARD: "yookassa"}


class CheckoutError(DomainError):
    """The cart or the checkout refused; `code` says why, the message what to do."""

    code = "checkout_refused"


def payment_methods_enabled() -> list[str]:
    """The payment methods whose provider is enabled (bank transfer always)."""
    return [
        method
        for method in PaymentMethod.values
        if PAYMENT_PROVIDER[PaymentMethod(method)] in settings.PAYMENT_PROVIDERS
    ]


def edition_title(edition: PlanEdition) -> str:
    """The edition's title in the active language."""
    return edition.title_ru if (get_language() or "en").startswith("ru") else edition.title_en


def track_for_sale(*, slug: str) -> Any:
    """The published track a track-scoped licence may be for (one the public catalogue shows to
    anyone), or None."""
    return (
        catalogue_tracks(user=AnonymousUser()).filter(slug=slug).only("pk", "title", "slug").first()
    )


def _sold_track(slug: str) -> Any:
    track = track_for_sale(slug=slug)
    if track is None:
        raise CheckoutError(
            _("There is no published track %(slug)s in the catalogue.") % {"slug": slug[:100]},
            code="track_unknown",
        )
    return track


@transaction.atomic
def cart_add(
    *,
    user: User,
    edition_id: int,
    quantity: int,
    track_slug: str = "",
    use_description: str = "",
) -> CartLine:
    """Adds a line to the person's cart, checked against the edition offered now."""
    edition = editions.plan_edition_on_sale(edition_id=edition_id)
    if edition is None:
        raise CheckoutError(
            _("This plan is not offered any more; choose one on the pricing page."),
            code="edition_not_offered",
        )
    if not edition.min_quantity <= quantity <= edition.max_quantity:
        raise CheckoutError(
            _("The quantity of this plan is from %(low)d to %(high)d.")
            % {"low": edition.min_quantity, "high": edition.max_quantity},
            code="quantity_out_of_range",
        )
    track = None
    if edition.scope == Scope.TRACK:
        if not track_slug:
            raise CheckoutError(
                _("This licence is for one track: choose the track."), code="track_required"
            )
        track = _sold_track(track_slug)
    use_description = check_text(use_description, TextKind.LINE).strip()
    if len(use_description) > USE_DESCRIPTION_MAX:
        raise CheckoutError(
            _("Describe the use in at most %(count)d characters.") % {"count": USE_DESCRIPTION_MAX},
            code="use_description_too_long",
        )
    if not use_description and edition.plan.kind in PLAN_KINDS_NAMING_USE:
        message = (
            _("Name the venue and its address: the licence is for that place.")
            if edition.plan.kind == PlanKind.VENUE
            else _("Name the project the track is licensed for.")
        )
        raise CheckoutError(message, code="use_description_required")
    # Locks the person's cart, so two tabs adding at once cannot pass the limits together.
    lines = list(CartLine.objects.select_for_update().filter(user=user))
    if len(lines) >= CART_MAX_LINES:
        raise CheckoutError(
            _("A cart holds at most %(count)d licences; place an order for these first.")
            % {"count": CART_MAX_LINES},
            code="cart_full",
        )
    track_id = getattr(track, "pk", None)
    for line in lines:
        if (line.plan_edition_id, line.track_id, line.use_description) == (
            edition.pk,
            track_id,
            use_description,
        ):
            raise CheckoutError(_("This licence is already in your cart."), code="already_in_cart")
    return CartLine.objects.create(
        user=user,
        plan_edition=edition,
        track_id=track_id,
        quantity=quantity,
        use_description=use_description,
        added_at=clock.now(),
    )


@transaction.atomic
def cart_remove(*, user: User, line_id: int) -> bool:
    """Removes a line of the person's own cart; False when there is no such line."""
    deleted, _by_model = CartLine.objects.filter(user=user, pk=line_id).delete()
    return bool(deleted)


def cart_lines(*, user: User) -> QuerySet[CartLine]:
    """The person's cart, oldest line first, with each line's plan and track."""
    return CartLine.objects.filter(user=user).select_related("plan_edition__plan", "track")


@dataclass(frozen=True)
class CartRow:
    line: CartLine
    amounts: LineAmounts
    # False when a newer edition of the plan replaced this one (or the plan is withdrawn): the
    # line must be added again before checkout.
    is_offered: bool


@dataclass(frozen=True)
class CartSummary:
    rows: list[CartRow]
    totals: Totals
    currency: str

    @property
    def all_offered(self) -> bool:
        return all(row.is_offered for row in self.rows)


def cart_summary(*, user: User, currency: str) -> CartSummary:
    """The cart priced in `currency`, with whether each line's edition is still offered."""
    offered = {edition.pk for edition in editions.current_plan_editions()}
    rows = [
        CartRow(
            line=line,
            amounts=line_amounts(
                edition=line.plan_edition, currency=currency, quantity=line.quantity
            ),
            is_offered=line.plan_edition_id in offered,
        )
        for line in cart_lines(user=user)
    ]
    return CartSummary(
        rows=rows,
        totals=totals((row.amounts for row in rows), currency=currency),
        currency=currency,
    )


def _profile_refusal(message: str, code: str) -> CheckoutError:
    return CheckoutError(
        _("%(problem)s Complete it in your profile (%(url)s), then place the order.")
        % {"problem": message, "url": reverse("accounts:profile")},
        code=code,
    )


def _postal_address(profile: Profile) -> str:
    parts = (
        profile.address_postcode,
        profile.address_country,
        profile.address_region,
        profile.address_city,
        profile.address_street,
    )
    return ", ".join(str(part).strip() for part in parts if str(part).strip())


@dataclass(frozen=True)
class Buyer:
    name: str
    company_name: str
    tax_id: str
    tax_registration_code: str
    address: str


def buyer_from_profile(*, user: User, buyer_kind: str, tax_registration_code: str) -> Buyer:
    """The buyer's details as the profile holds them now, checked for the kind of buyer."""
    profile = profile_of(user=user)
    name = str(profile.full_name).strip()
    if not name:
        raise _profile_refusal(
            _("The licence agreement names you: your full name is missing."), "full_name_missing"
        )
    address = _postal_address(profile)
    if buyer_kind == BuyerKind.NATURAL:
        return Buyer(
            name=name, company_name="", tax_id="", tax_registration_code="", address=address
        )
    company_name = str(profile.company_name).strip()
    tax_id = str(profile.tax_id).strip()
    if profile.account_type != AccountType.LEGAL or not company_name or not tax_id:
        raise _profile_refusal(
            _("An invoice to a company needs a company account with its name and tax id."),
            "company_details_missing",
        )
    try:
        tax_id = inn.validate(tax_id)
    except StdnumValidationError:
        raise _profile_refusal(
            _(
                "The tax id in your profile is not a valid INN: 10 digits for a company, 12 for "
                "a sole proprietor, with correct check digits."
            ),
            "tax_id_invalid",
        ) from None
    if not address:
        raise _profile_refusal(
            _("An invoice to a company needs its postal address."), "address_missing"
        )
    kpp = tax_registration_code.strip().upper()
    if kpp and (len(tax_id) != 10 or not KPP.fullmatch(kpp)):
        raise CheckoutError(
            _(
                "A KPP is 9 characters (digits; the fifth and sixth may be capital Latin "
                "letters), and only companies with a 10-digit INN have one."
            ),
            code="kpp_invalid",
        )
    return Buyer(
        name=name,
        company_name=company_name,
        tax_id=tax_id,
        tax_registration_code=kpp,
        address=address,
    )


def _new_public_id() -> str:
    """128 random bits, URL-safe: an order's address cannot be guessed."""
    return secrets.token_urlsafe(16)


def _checked_choices(
    *, currency: str, buyer_kind: str, payment_method: str, accept_terms_edition_id: int
) -> LicenceTermsEdition:
    """The licence terms in force, once the buyer's choices are checked; they must be the
    edition the buyer accepted."""
    if currency not in Currency.values:
        raise CheckoutError(_("Choose roubles or euros."), code="currency_invalid")
    if buyer_kind not in BuyerKind.values:
        raise CheckoutError(
            _("Choose whether you buy as a private person or a company."),
            code="buyer_kind_invalid",
        )
    if payment_method not in payment_methods_enabled():
        raise CheckoutError(
            _("This payment method is not available; choose another."),
            code="payment_method_unavailable",
        )
    terms = editions.current_terms_edition()
    if terms is None:
        raise CheckoutError(
            _("No licence terms are published yet, so nothing can be sold."), code="no_terms"
        )
    if terms.pk != accept_terms_edition_id:
        raise CheckoutError(
            _(
                "The licence terms changed while you were on this page. Read the new edition "
                "and accept it to place the order."
            ),
            code="terms_changed",
        )
    return terms


@dataclass(frozen=True)
class LineWanted:
    edition: PlanEdition
    track_id: int | None
    quantity: int
    use_description: str
    renews: Agreement | None = None
    renews_until: datetime | None = None


def _order_create(
    *,
    user: User,
    currency: str,
    payment_method: str,
    buyer_kind: str,
    terms: LicenceTermsEdition,
    buyer: Buyer,
    ip: str,
    user_agent: str,
    wanted: list[LineWanted],
    now: datetime,
) -> Order:
    amounts = [
        line_amounts(edition=line.edition, currency=currency, quantity=line.quantity)
        for line in wanted
    ]
    total = totals(amounts, currency=currency)
    order = Order.objects.create(
        public_id=_new_public_id(),
        user=user,
        subject_pseudonym=subject_pseudonym(subject_id=user.pk),
        buyer_kind=buyer_kind,
        buyer_name=buyer.name,
        company_name=buyer.company_name,
        tax_id=buyer.tax_id,
        tax_registration_code=buyer.tax_registration_code,
        buyer_address=buyer.address,
        buyer_email=user.email,
        currency=currency,
        payment_method=payment_method,
        terms_edition=terms,
        terms_edition_hash=terms.content_hash,
        terms_accepted_at=now,
        terms_ip_truncated=truncate_ip(ip),
        terms_user_agent_family=browser_family(user_agent),
        net_total=total.net.amount,
        vat_total=total.vat.amount,
        gross_total=total.gross.amount,
        created_at=now,
        keep_until=invoices.accounting_keep_until(now),
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            position=position,
            plan_edition=line.edition,
            plan_edition_hash=line.edition.content_hash,
            track_id=line.track_id,
            quantity=line.quantity,
            use_description=line.use_description,
            unit_price=amount.unit_price.amount,
            net_amount=amount.net.amount,
            vat_rate=amount.vat_rate,
            vat_amount=amount.vat.amount,
            gross_amount=amount.gross.amount,
            renews=line.renews,
            renews_until=line.renews_until,
        )
        for position, (line, amount) in enumerate(zip(wanted, amounts, strict=True), start=1)
    )
    if buyer_kind == BuyerKind.LEGAL:
        invoices.invoice_issue(order=order, now=now)
    return order


@transaction.atomic
def order_place(
    *,
    user: User,
    currency: str,
    payment_method: str,
    buyer_kind: str,
    accept_terms_edition_id: int,
    ip: str,
    user_agent: str,
    tax_registration_code: str = "",
) -> Order:
    """The cart becomes an order awaiting payment, in one transaction: lines with exact amounts,
    the buyer's details from the profile, the accepted licence terms with the evidence of
    acceptance (time, truncated address, browser family), an invoice for a legal person; the
    cart is emptied. Nothing changes when it refuses."""
    terms = _checked_choices(
        currency=currency,
        buyer_kind=buyer_kind,
        payment_method=payment_method,
        accept_terms_edition_id=accept_terms_edition_id,
    )
    buyer = buyer_from_profile(
        user=user, buyer_kind=buyer_kind, tax_registration_code=tax_registration_code
    )
    # Locks the cart: a second checkout from another tab waits, then finds it empty.
    lines = list(
        CartLine.objects.select_for_update()
        .filter(user=user)
        .select_related("plan_edition__plan")
        .order_by("added_at", "pk")
    )
    if not lines:
        raise CheckoutError(_("Your cart is empty."), code="cart_empty")
    offered = {edition.pk for edition in editions.current_plan_editions()}
    for line in lines:
        if line.plan_edition_id not in offered:
            raise CheckoutError(
                _(
                    "The terms of %(plan)s changed since you added it to your cart. Remove it "
                    "and add it again from the pricing page."
                )
                % {"plan": edition_title(line.plan_edition)},
                code="edition_changed",
            )
    order = _order_create(
        user=user,
        currency=currency,
        payment_method=payment_method,
        buyer_kind=buyer_kind,
        terms=terms,
        buyer=buyer,
        ip=ip,
        user_agent=user_agent,
        wanted=[
            LineWanted(
                edition=line.plan_edition,
                track_id=line.track_id,
                quantity=line.quantity,
                use_description=line.use_description,
            )
            for line in lines
        ],
        now=clock.now(),
    )
    CartLine.objects.filter(pk__in=[line.pk for line in lines]).delete()
    return order


@dataclass(frozen=True)
class RenewalPlaced:
    order: Order
    # False: a renewal order of this agreement was already waiting for payment, and is `order`.
    created: bool


def _renewal_refused(state: RenewalState) -> CheckoutError:
    """Why a renewal cannot be placed in `state` (renewals.py)."""
    if state == RenewalState.PERPETUAL:
        return CheckoutError(
            _("A perpetual licence has nothing to renew."), code="agreement_perpetual"
        )
    if state == RenewalState.NOT_OFFERED:
        return CheckoutError(
            _("This plan is no longer offered, so the licence cannot be renewed."),
            code="plan_not_offered",
        )
    if state == RenewalState.NOT_YET:
        return CheckoutError(
            _("Renewal opens %(days)d days before the paid month ends.")
            % {"days": RENEWAL_OPENS_BEFORE.days},
            code="renewal_not_open",
        )
    return CheckoutError(
        _("This licence has ended. Choose a plan on the pricing page to license the music again."),
        code="agreement_ended",
    )


@transaction.atomic
def renewal_order_place(
    *,
    user: User,
    agreement: Agreement,
    currency: str,
    payment_method: str,
    accept_terms_edition_id: int,
    ip: str,
    user_agent: str,
    tax_registration_code: str = "",
) -> RenewalPlaced:
    """An order for one more month of the person's subscription, on the plan's edition on sale
    now (renewals.py): its one line names the agreement and where the paid period will reach
    (agreements.agreement_renewal_until); paying it extends the agreement, or concludes one on
    the newer edition that continues it (agreements.agreements_conclude). Placed like any order
    (terms, buyer as the agreement's licensee kind, invoice). While a renewal order of the
    agreement waits for payment, that order is given back and nothing is written: the agreement
    is locked first, so two clicks at once make one order."""
    locked = (
        Agreement.objects.select_for_update(of=("self",))
        .select_related("plan_edition")
        .filter(pk=agreement.pk, user_id=user.pk)
        .first()
    )
    if locked is None or locked.status == Agreement.Status.REVOKED:
        raise CheckoutError(
            _("You have no licence with this number to renew."), code="agreement_not_renewable"
        )
    agreement = locked
    now = clock.now()
    offer = renewal_offer(agreement=agreement, now=now)
    if offer.pending_order is not None:
        return RenewalPlaced(order=offer.pending_order, created=False)
    if offer.state != RenewalState.OPEN or offer.edition is None:
        raise _renewal_refused(offer.state)
    edition = offer.edition
    if not edition.min_quantity <= agreement.quantity <= edition.max_quantity:
        raise CheckoutError(
            _(
                "The plan's current edition is sold from %(low)d to %(high)d at a time; choose "
                "it on the pricing page."
            )
            % {"low": edition.min_quantity, "high": edition.max_quantity},
            code="quantity_out_of_range",
        )
    buyer_kind = agreement.licensee_kind
    terms = _checked_choices(
        currency=currency,
        buyer_kind=buyer_kind,
        payment_method=payment_method,
        accept_terms_edition_id=accept_terms_edition_id,
    )
    buyer = buyer_from_profile(
        user=user, buyer_kind=buyer_kind, tax_registration_code=tax_registration_code
    )
    order = _order_create(
        user=user,
        currency=currency,
        payment_method=payment_method,
        buyer_kind=buyer_kind,
        terms=terms,
        buyer=buyer,
        ip=ip,
        user_agent=user_agent,
        wanted=[
            LineWanted(
                edition=edition,
                track_id=agreement.track_id,
                quantity=agreement.quantity,
                use_description=agreement.use_description,
                renews=agreement,
                renews_until=offer.renews_until,
            )
        ],
        now=now,
    )
    return RenewalPlaced(order=order, created=True)


def orders_of(*, user: User) -> QuerySet[Order]:
    """The person's orders, newest first."""
    return Order.objects.filter(user=user).select_related("invoice")


def order_of(*, user: User, public_id: str) -> Order | None:
    """The person's own order by its public id, with its lines (each with its plan, track and
    the subscription it renews), payments and invoice."""
    lines = OrderLine.objects.select_related("plan_edition__plan", "track", "renews")
    return (
        Order.objects.filter(user=user, public_id=public_id)
        .select_related("invoice")
        .prefetch_related(Prefetch("lines", queryset=lines), "payments")
        .first()
    )


@refusals_audited("licensing.orders_for_staff")
def orders_for_staff(*, actor: Actor, status: str = "", public_id: str = "") -> QuerySet[Order]:
    """Every order, newest first, for the staff who manage orders; only what the list shows,
    no buyer's details. `public_id`: its start, or the payment reference as a statement shows it."""
    staff_require(actor=actor, may=staff_may_manage_orders)
    found = Order.objects.only(
        "public_id",
        "status",
        "buyer_kind",
        "currency",
        "payment_method",
        "gross_total",
        "created_at",
        "paid_at",
    )
    if status in Order.Status.values:
        found = found.filter(status=status)
    wanted = PAYMENT_REFERENCE_LEAD.sub("", public_id.strip())
    if wanted:
        found = found.filter(public_id__startswith=wanted)
    return found


@refusals_audited("licensing.order_for_staff")
def order_for_staff(*, actor: Actor, public_id: str) -> Order | None:
    """An order with its lines and payments (and their refunds) for the staff who manage orders;
    no buyer's details are shown from it."""
    staff_require(actor=actor, may=staff_may_manage_orders)
    return (
        Order.objects.filter(public_id=public_id)
        .select_related("invoice")
        .prefetch_related("lines__plan_edition", "lines__track", "payments__refunds")
        .first()
    )
