"""Licensing in the JSON API: the plans on sale and the public check of a certificate for anyone;
for the signed-in person (the session, as the site's pages) their own agreements, coverage,
orders and downloads, and registering a published work under a licence.

Thin: every answer comes from a selector of licensing (editions, agreements, certificates,
coverage, orders, invoices, downloads) and the one write goes through the coverage form and
`coverage.use_add`. A person reaches only their own rows: anyone else's agreement or order is
"not found", whatever their staff roles (staff work on the /staff/ pages, not here). Errors use
the API's one envelope (core/api_errors.py).
"""

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status
from ninja.security import django_auth
from pydantic import JsonValue, field_validator

from backgroundmusic.core import clock
from backgroundmusic.core.api_errors import ErrorOut, error_envelope
from backgroundmusic.core.http import AuthenticatedRequest
from backgroundmusic.core.ratelimits import rate_limit_hit
from backgroundmusic.licensing import (
    agreements,
    certificates,
    coverage,
    downloads,
    editions,
    invoices,
    orders,
)
from backgroundmusic.licensing.coverage_forms import UseForm
from backgroundmusic.licensing.models import (
    Agreement,
    AgreementEvent,
    BuyerKind,
    Certificate,
    CoveredChannel,
    CoveredUse,
    Currency,
    Order,
    OrderLine,
    Payment,
    PaymentMethod,
    PlanEdition,
    PlanKind,
    Platform,
    QuantityUnit,
    Scope,
    Term,
    Territory,
    Use,
)
from backgroundmusic.licensing.money import CENT, line_amounts

router = Router(tags=["licensing"])

AMOUNT_PATTERN = r"^\d+\.\d{2}$"
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_DOWNLOADS_PAGE_SIZE = 100
MAX_DOWNLOADS_PAGE = 10_000


def _enum(values: Iterable[str]) -> list[JsonValue]:
    return [str(value) for value in values]


def _choice(
    choices: type[models.TextChoices], description: str, *, blank: bool = False, default: Any = ...
) -> Any:
    """A string field whose schema lists the choices' values ("" too when `blank`); required
    unless it has a `default`."""
    values = ([""] if blank else []) + list(choices.values)
    return Field(default, description=description, json_schema_extra={"enum": _enum(values)})


def _choices(choices: type[models.TextChoices], description: str) -> Any:
    """A list of strings whose schema lists the choices' values."""
    return Field(
        description=description,
        json_schema_extra={"items": {"type": "string", "enum": _enum(choices.values)}},
    )


def _amount(description: str) -> Any:
    return Field(
        pattern=AMOUNT_PATTERN, description=f"{description}: a decimal string, two places."
    )


def _decimal(value: Decimal) -> str:
    return str(value.quantize(CENT))


class PlanPriceOut(Schema):
    currency: str = _choice(Currency, "ISO 4217 code")
    net: str = _amount("One unit for one term, VAT not included")
    vat: str = _amount("Its VAT at the edition's rate, rounded half up")
    gross: str = _amount("With VAT")


class PlanOut(Schema):
    code: str
    kind: str = _choice(PlanKind, "What kind of plan")
    version: str = Field(description="The edition on sale now.")
    title_en: str
    title_ru: str
    description_en: str = Field(description="Markdown.")
    description_ru: str = Field(description="Markdown.")
    uses: list[str] = _choices(Use, "What a licence under it lets its holder do")
    territory: str = _choice(Territory, "Where")
    scope: str = _choice(Scope, "The whole catalogue or one track")
    term: str = _choice(Term, "Monthly (renewed by paying each month) or perpetual")
    quantity_unit: str = _choice(QuantityUnit, "What a quantity counts")
    min_quantity: int = Field(ge=1)
    max_quantity: int = Field(ge=1)
    price_rub: str = _amount("A unit for a term in roubles, VAT not included")
    price_eur: str = _amount("A unit for a term in euros, VAT not included")
    vat_rate: str = _amount("VAT in percent")
    prices: list[PlanPriceOut] = Field(description="One unit in each currency, with VAT.")
    content_hash: str = Field(description="sha256 of the edition's terms.")
    effective_at: datetime
    page_url: str


class LicensedTrackOut(Schema):
    slug: str
    title: str
    catalogue_code: str
    page_url: str


class CertificateRefOut(Schema):
    public_id: str
    verify_url: str = Field(description="The public check of the certificate.")
    licensee_display: str = _choice(Certificate.Display, "How the certificate names the licensee")


class AgreementOut(Schema):
    number: str
    status: str = _choice(Agreement.Status, "As it stands now")
    plan_code: str
    plan_version: str
    plan_title_en: str
    plan_title_ru: str
    plan_edition_hash: str
    licensee_kind: str = _choice(BuyerKind, "A private person or a company")
    scope: str = _choice(Scope, "The whole catalogue or one track")
    track: LicensedTrackOut | None = Field(description="The track of a single-track licence.")
    uses: list[str] = _choices(Use, "What the licence lets its holder do")
    territory: str = _choice(Territory, "Where")
    term: str = _choice(Term, "Monthly or perpetual")
    quantity: int
    use_description: str = Field(description="The venue, channel or project it is for.")
    starts_at: datetime
    paid_until: datetime | None = Field(description="End of the paid month; null: perpetual.")
    ended_at: datetime | None
    renewal_cancelled_at: datetime | None
    concluded_at: datetime
    document_hash: str
    certificate: CertificateRefOut
    page_url: str


class AgreementEventOut(Schema):
    at: datetime
    status_from: str = _choice(Agreement.Status, "Empty at conclusion", blank=True)
    status_to: str = _choice(Agreement.Status, "The status it moved to")
    paid_until: datetime | None
    description: str
    reason: str


class AgreementDetailOut(AgreementOut):
    terms_edition_hash: str
    history: list[AgreementEventOut]
    document_url: str
    document_pdf_url: str
    certificate_pdf_url: str
    coverage_url: str | None = Field(description="Null for a licence with nothing to register.")


class InForceOut(Schema):
    start: datetime
    end: datetime | None = Field(description="Exclusive; null: perpetual.")


class ChannelOut(Schema):
    platform: str = _choice(Platform, "The platform")
    url: str
    added_at: datetime


class CoveredWorkOut(Schema):
    platform: str = _choice(Platform, "The platform")
    url: str
    title: str
    published_on: date
    track: LicensedTrackOut | None
    covered: bool = Field(description="Published on a day the licence was in force.")
    added_at: datetime


class CoverageOut(Schema):
    number: str
    in_force: bool
    revoked: bool
    stretches: list[InForceOut] = Field(description="When the licence was in force.")
    channels: list[ChannelOut]
    works: list[CoveredWorkOut]
    letter_url: str | None = Field(description="The claim-clearing letter; null when revoked.")


class WorkIn(Schema):
    url: str = Field(description="The link to the published work, http or https.")
    published_on: date = Field(description="The day it was published, as 2026-03-05.")
    platform: str = _choice(
        Platform, "Empty: the platform of the link's site", blank=True, default=""
    )
    title: str = ""
    track: str = Field(
        "",
        description="The catalogue code of the track it uses (ignored by a single-track "
        "licence, whose works use its track).",
    )

    @field_validator("published_on", mode="before")
    @classmethod
    def day_as_written(cls, value: object) -> object:
        # As the schema says: not a number of seconds, nor a moment with its time.
        if not (isinstance(value, str) and ISO_DAY.fullmatch(value)):
            raise ValueError("a day is written as YYYY-MM-DD")
        return value


class OrderOut(Schema):
    public_id: str
    status: str = _choice(Order.Status, "The order's status")
    buyer_kind: str = _choice(BuyerKind, "A private person or a company")
    currency: str = _choice(Currency, "ISO 4217 code")
    payment_method: str = _choice(PaymentMethod, "How it is paid")
    net_total: str = _amount("Total without VAT")
    vat_total: str = _amount("Total VAT")
    gross_total: str = _amount("Total with VAT")
    created_at: datetime
    paid_at: datetime | None
    closed_at: datetime | None
    invoice_number: str | None = Field(description="A company's invoice; null otherwise.")
    page_url: str


class OrderLineOut(Schema):
    position: int
    plan_code: str
    plan_version: str
    plan_title_en: str
    plan_title_ru: str
    plan_edition_hash: str
    track: LicensedTrackOut | None
    quantity: int
    use_description: str
    unit_price: str = _amount("One unit")
    net_amount: str = _amount("Without VAT")
    vat_rate: str = _amount("VAT in percent")
    vat_amount: str = _amount("VAT")
    gross_amount: str = _amount("With VAT")
    renews: str | None = Field(description="The number of the subscription a renewal extends.")
    renews_until: datetime | None


class PaymentOut(Schema):
    provider: str
    status: str = _choice(Payment.Status, "The payment's status")
    amount: str = _amount("Amount")
    currency: str = _choice(Currency, "ISO 4217 code")
    created_at: datetime


class OrderDetailOut(OrderOut):
    terms_edition_hash: str
    terms_accepted_at: datetime
    payment_reference: str = Field(description="What a bank transfer's purpose says.")
    invoice_pdf_url: str | None
    lines: list[OrderLineOut]
    payments: list[PaymentOut]


class DownloadOut(Schema):
    at: datetime
    kind: str = Field(
        description="The file kept.", json_schema_extra={"enum": _enum(downloads.DOWNLOADED_KINDS)}
    )
    track: LicensedTrackOut | None = Field(description="Null once the track is gone.")
    agreement_number: str | None = Field(description="The licence it was made under.")


class DownloadPageOut(Schema):
    items: list[DownloadOut]
    total: int
    page: int
    page_size: int


class DownloadsQuery(Schema):
    page: int = Field(1, ge=1, le=MAX_DOWNLOADS_PAGE)
    page_size: int = Field(50, ge=1, le=MAX_DOWNLOADS_PAGE_SIZE)


class CertificateCheckOut(Schema):
    public_id: str
    number: str
    status: str = _choice(Agreement.Status, "As it stands now")
    status_label: str
    starts_at: datetime
    paid_until: datetime | None
    ended_at: datetime | None
    catalogue: bool = Field(description="The whole catalogue; false: one track.")
    track_title: str
    track_code: str
    plan_title: str
    uses: list[str] = Field(description="What it lets its holder do, in words.")
    territory: str
    term: str
    monthly: bool
    licensee: str = Field(description="As the licensee chose to be named.")
    verify_url: str
    checked_at: datetime


def _errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The error answers of an operation, in the envelope: the ones it names, 400 (a path,
    parameter or header the text rules refuse, core/middleware.py and api/api.py) and 429
    (every call counts against the API's rate limit)."""
    return dict.fromkeys(sorted({*statuses, 400, 429}), ErrorOut)


def _language() -> str:
    return "ru" if (get_language() or "").startswith("ru") else "en"


def _not_found(message: str) -> Status[dict[str, object]]:
    return Status(404, error_envelope("not_found", message))


def _track(track: Any) -> dict[str, str] | None:
    if track is None:
        return None
    return {
        "slug": track.slug,
        "title": track.title,
        "catalogue_code": track.catalogue_code,
        "page_url": reverse("catalog:track", args=[track.slug]),
    }


def _plan(edition: PlanEdition) -> dict[str, Any]:
    prices = []
    for currency in Currency.values:
        amounts = line_amounts(edition=edition, currency=currency, quantity=1)
        prices.append(
            {
                "currency": currency,
                "net": _decimal(amounts.net.amount),
                "vat": _decimal(amounts.vat.amount),
                "gross": _decimal(amounts.gross.amount),
            }
        )
    return {
        "code": edition.plan.code,
        "kind": edition.plan.kind,
        "version": edition.version,
        "title_en": edition.title_en,
        "title_ru": edition.title_ru,
        "description_en": edition.description_en,
        "description_ru": edition.description_ru,
        "uses": list(edition.uses),
        "territory": edition.territory,
        "scope": edition.scope,
        "term": edition.term,
        "quantity_unit": edition.quantity_unit,
        "min_quantity": edition.min_quantity,
        "max_quantity": edition.max_quantity,
        "price_rub": _decimal(edition.price_rub),
        "price_eur": _decimal(edition.price_eur),
        "vat_rate": _decimal(edition.vat_rate),
        "prices": prices,
        "content_hash": edition.content_hash,
        "effective_at": edition.effective_at,
        "page_url": reverse("licensing:pricing_plan", args=[edition.plan.code]),
    }


@router.get("/plans", response={200: list[PlanOut], **_errors()}, summary="The plans on sale")
def plans(request: HttpRequest) -> Any:
    """Each offered plan's edition in effect now, in the pricing page's order."""
    return [_plan(edition) for edition in editions.current_plan_editions()]


@router.get(
    "/plans/{code}", response={200: PlanOut, **_errors(404)}, summary="A plan on sale, by its code"
)
def plan(request: HttpRequest, code: str) -> Any:
    edition = editions.current_plan_edition(code=code)
    if edition is None:
        return _not_found(_("No plan with this code is on sale."))
    return Status(200, _plan(edition))


@router.get(
    "/certificates/{public_id}",
    response={200: CertificateCheckOut, **_errors(404)},
    summary="Check a licence certificate",
)
def certificate_check(request: HttpRequest, public_id: str, response: HttpResponse) -> Any:
    """What the certificate's /verify/ page states, in the request's language. Counted with
    that page's checks (per address and person), so ids cannot be tried by the thousand."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    refusal = rate_limit_hit(request, scope="certificate_verify")
    if refusal is not None:
        response["Retry-After"] = str(refusal.retry_after)
        return Status(
            429,
            error_envelope(
                "rate_limited",
                _("Too many checks: try again after the number of seconds in Retry-After."),
                {"retry_after": refusal.retry_after},
            ),
        )
    found = certificates.certificate_by_public_id(public_id=public_id)
    if found is None:
        return _not_found(_("There is no certificate with this id."))
    now = clock.now()
    facts = certificates.certificate_facts(certificate=found, now=now, language=_language())
    return Status(200, {**vars(facts), "checked_at": now})


def _agreement(agreement: Agreement, *, now: datetime) -> dict[str, Any]:
    edition = agreement.plan_edition
    certificate = agreement.certificate
    return {
        "number": agreement.number,
        "status": agreements.agreement_status_at(agreement, now=now),
        "plan_code": edition.plan.code,
        "plan_version": edition.version,
        "plan_title_en": edition.title_en,
        "plan_title_ru": edition.title_ru,
        "plan_edition_hash": agreement.plan_edition_hash,
        "licensee_kind": agreement.licensee_kind,
        "scope": agreement.scope,
        "track": _track(agreement.track),
        "uses": list(agreement.uses),
        "territory": agreement.territory,
        "term": edition.term,
        "quantity": agreement.quantity,
        "use_description": agreement.use_description,
        "starts_at": agreement.starts_at,
        "paid_until": agreement.paid_until,
        "ended_at": agreement.ended_at,
        "renewal_cancelled_at": agreement.renewal_cancelled_at,
        "concluded_at": agreement.concluded_at,
        "document_hash": agreement.document_hash,
        "certificate": {
            "public_id": certificate.public_id,
            "verify_url": certificates.certificate_verify_url(certificate.public_id),
            "licensee_display": certificate.licensee_display,
        },
        "page_url": reverse("licensing:licence", args=[agreement.number]),
    }


def _event(event: AgreementEvent) -> dict[str, Any]:
    return {
        "at": event.at,
        "status_from": event.status_from,
        "status_to": event.status_to,
        "paid_until": event.paid_until,
        "description": agreements.agreement_event_description(event),
        "reason": event.reason,
    }


@router.get(
    "/me/agreements",
    auth=django_auth,
    response={200: list[AgreementOut], **_errors(401)},
    summary="My licence agreements",
)
def my_agreements(request: AuthenticatedRequest) -> Any:
    """The signed-in person's agreements, newest first, each with its status as it stands now
    and its certificate."""
    now = clock.now()
    return [_agreement(found, now=now) for found in agreements.agreements_of(user=request.user)]


@router.get(
    "/me/agreements/{number}",
    auth=django_auth,
    response={200: AgreementDetailOut, **_errors(401, 404)},
    summary="One of my licence agreements",
)
def my_agreement(request: AuthenticatedRequest, number: str) -> Any:
    found = agreements.agreement_of(user=request.user, number=number)
    if found is None:
        return _not_found(_("You have no licence with this number."))
    return Status(
        200,
        {
            **_agreement(found, now=clock.now()),
            "terms_edition_hash": found.terms_edition_hash,
            "history": [_event(event) for event in agreements.agreement_history(agreement=found)],
            "document_url": reverse("licensing:agreement", args=[found.number]),
            "document_pdf_url": reverse("licensing:agreement_pdf", args=[found.number]),
            "certificate_pdf_url": reverse("licensing:certificate_pdf", args=[found.number]),
            "coverage_url": (
                reverse("licensing:coverage", args=[found.number])
                if coverage.agreement_is_coverable(found)
                else None
            ),
        },
    )


def _channel(channel: CoveredChannel) -> dict[str, Any]:
    return {"platform": channel.platform, "url": channel.url, "added_at": channel.added_at}


def _work(work: CoveredUse, *, covered: bool) -> dict[str, Any]:
    return {
        "platform": work.platform,
        "url": work.url,
        "title": work.title,
        "published_on": work.published_on,
        "track": _track(work.track),
        "covered": covered,
        "added_at": work.added_at,
    }


@router.get(
    "/me/agreements/{number}/coverage",
    auth=django_auth,
    response={200: CoverageOut, **_errors(401, 404)},
    summary="What one of my licences covers",
)
def my_coverage(request: AuthenticatedRequest, number: str) -> Any:
    """The channels and published works registered under a licence for making works, and
    which of the works it covers; a venue's licence has none (404)."""
    try:
        found = coverage.coverage_agreement_get(user=request.user, number=number)
    except coverage.CoverageNotFound as missing:
        return _not_found(missing.message)
    shown = coverage.coverage_of(agreement=found, now=clock.now())
    return Status(
        200,
        {
            "number": found.number,
            "in_force": shown.in_force,
            "revoked": shown.revoked,
            "stretches": [{"start": s.start, "end": s.end} for s in shown.stretches],
            "channels": [_channel(channel) for channel in shown.channels],
            "works": [_work(work, covered=shown.covers(work.published_on)) for work in shown.uses],
            "letter_url": (
                None if shown.revoked else reverse("licensing:coverage_letter", args=[found.number])
            ),
        },
    )


@router.post(
    "/me/agreements/{number}/works",
    auth=django_auth,
    response={201: CoveredWorkOut, **_errors(401, 403, 404, 422)},
    summary="Register a work published under one of my licences",
)
def my_work_add(request: AuthenticatedRequest, number: str, work: WorkIn) -> Any:
    """As the coverage page's form: a link on its platform's site, published on a day the
    licence was in force. Send the CSRF token (cookie csrftoken, header X-CSRFToken) as the
    site's forms do. A refusal (400) names its code and the field in details.field, and
    changes nothing."""
    try:
        found = coverage.coverage_agreement_get(user=request.user, number=number)
    except coverage.CoverageNotFound as missing:
        return _not_found(missing.message)
    form = UseForm(
        {
            "platform": work.platform,
            "url": work.url,
            "published_on": work.published_on.isoformat(),
            "title": work.title,
            "track": work.track,
        },
        track_fixed=found.scope == Scope.TRACK,
    )
    if not form.is_valid():
        return Status(
            400,
            error_envelope(
                "invalid_work",
                _("The work is not valid: see details."),
                {
                    name: [str(message) for message in errors]
                    for name, errors in form.errors.items()
                },
            ),
        )
    data = form.cleaned_data
    try:
        code = data.get("track", "")
        added = coverage.use_add(
            user=request.user,
            agreement=found,
            platform=data["platform"],
            url=data["url"],
            published_on=data["published_on"],
            title=data["title"],
            track=coverage.track_by_code(code=code) if code else None,
        )
    except coverage.CoverageRefused as refused:
        return Status(400, error_envelope(refused.code, refused.message, {"field": refused.field}))
    return Status(201, _work(added, covered=True))


def _order(order: Order) -> dict[str, Any]:
    invoice = getattr(order, "invoice", None)
    return {
        "public_id": order.public_id,
        "status": order.status,
        "buyer_kind": order.buyer_kind,
        "currency": order.currency,
        "payment_method": order.payment_method,
        "net_total": _decimal(order.net_total),
        "vat_total": _decimal(order.vat_total),
        "gross_total": _decimal(order.gross_total),
        "created_at": order.created_at,
        "paid_at": order.paid_at,
        "closed_at": order.closed_at,
        "invoice_number": invoices.invoice_number(invoice) if invoice is not None else None,
        "page_url": reverse("licensing:order", args=[order.public_id]),
    }


def _line(line: OrderLine) -> dict[str, Any]:
    edition = line.plan_edition
    return {
        "position": line.position,
        "plan_code": edition.plan.code,
        "plan_version": edition.version,
        "plan_title_en": edition.title_en,
        "plan_title_ru": edition.title_ru,
        "plan_edition_hash": line.plan_edition_hash,
        "track": _track(line.track),
        "quantity": line.quantity,
        "use_description": line.use_description,
        "unit_price": _decimal(line.unit_price),
        "net_amount": _decimal(line.net_amount),
        "vat_rate": _decimal(line.vat_rate),
        "vat_amount": _decimal(line.vat_amount),
        "gross_amount": _decimal(line.gross_amount),
        "renews": line.renews.number if line.renews is not None else None,
        "renews_until": line.renews_until,
    }


def _payment(payment: Payment) -> dict[str, Any]:
    return {
        "provider": payment.provider,
        "status": payment.status,
        "amount": _decimal(payment.amount),
        "currency": payment.currency,
        "created_at": payment.created_at,
    }


@router.get(
    "/me/orders",
    auth=django_auth,
    response={200: list[OrderOut], **_errors(401)},
    summary="My orders",
)
def my_orders(request: AuthenticatedRequest) -> Any:
    """The signed-in person's orders, newest first."""
    return [_order(order) for order in orders.orders_of(user=request.user)]


@router.get(
    "/me/orders/{public_id}",
    auth=django_auth,
    response={200: OrderDetailOut, **_errors(401, 404)},
    summary="One of my orders",
)
def my_order(request: AuthenticatedRequest, public_id: str) -> Any:
    found = orders.order_of(user=request.user, public_id=public_id)
    if found is None:
        return _not_found(_("You have no order with this number."))
    has_invoice = getattr(found, "invoice", None) is not None
    return Status(
        200,
        {
            **_order(found),
            "terms_edition_hash": found.terms_edition_hash,
            "terms_accepted_at": found.terms_accepted_at,
            "payment_reference": invoices.payment_reference(found),
            "invoice_pdf_url": (
                reverse("licensing:order_invoice", args=[found.public_id]) if has_invoice else None
            ),
            "lines": [_line(line) for line in found.lines.all()],
            "payments": [_payment(payment) for payment in found.payments.all()],
        },
    )


@router.get(
    "/me/downloads",
    auth=django_auth,
    response={200: DownloadPageOut, **_errors(401, 422)},
    summary="My downloads",
)
def my_downloads(request: AuthenticatedRequest, query: Query[DownloadsQuery]) -> Any:
    """The files the signed-in person downloaded, newest first, each with the licence it was
    made under."""
    found = downloads.downloads_under_licences(
        user=request.user,
        offset=(query.page - 1) * query.page_size,
        limit=query.page_size,
    )
    return {
        "items": [
            {
                "at": item.download.at,
                "kind": item.download.kind,
                "track": _track(item.download.track),
                "agreement_number": item.agreement.number if item.agreement else None,
            }
            for item in found.items
        ],
        "total": found.total,
        "page": query.page,
        "page_size": query.page_size,
    }
