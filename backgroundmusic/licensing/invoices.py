"""Invoices: numbers without gaps per year, and the invoice as a document (HTML and PDF).

Numbering is a database guarantee: issuing locks the year's InvoiceYear row (SELECT ... FOR
UPDATE on PostgreSQL; SQLite lets one writer in at a time), takes the next number and writes the
invoice in the same transaction, so a rollback gives the number back and two orders placed at
once never share one. The year's row is made on first use with INSERT ... ON CONFLICT DO NOTHING
(bulk_create with ignore_conflicts), which two first invoices of a year can run at once: the
second waits for the first's row and then locks it, where get_or_create would fail one of them
with an IntegrityError.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils.translation import get_language

from backgroundmusic.core.documents import document_html, document_pdf
from backgroundmusic.licensing.models import Invoice, InvoiceYear, Order, OrderLine
from backgroundmusic.licensing.money import money_display
from backgroundmusic.privacy.kernel.access_log import access_log_record
from backgroundmusic.staffroles.selectors import Actor, staff_may_manage_orders

INVOICE_TEMPLATE = "licensing/invoice_document.html"
# The operator's books are kept in Moscow time: an order placed at 23:30 UTC on 31 December is
# in the next reporting year there.
REPORTING_TIME_ZONE = ZoneInfo("Europe/Moscow")
# The years the law keeps an accounting record after its reporting year (402-FZ art. 29).
ACCOUNTING_YEARS = 5


def reporting_year(moment: datetime) -> int:
    return moment.astimezone(REPORTING_TIME_ZONE).year


def accounting_keep_until(moment: datetime) -> date:
    """The last day the law keeps an accounting record of `moment`'s reporting year."""
    return date(reporting_year(moment) + ACCOUNTING_YEARS, 12, 31)


@transaction.atomic
def invoice_issue(*, order: Order, now: datetime) -> Invoice:
    """The order's invoice, numbered next in `now`'s reporting year; the existing one when the
    order has one already."""
    existing = Invoice.objects.filter(order=order).first()
    if existing is not None:
        return existing
    year = reporting_year(now)
    InvoiceYear.objects.bulk_create([InvoiceYear(year=year)], ignore_conflicts=True)
    counter = InvoiceYear.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return Invoice.objects.create(order=order, year=year, number=counter.last_number, issued_at=now)


def invoice_number(invoice: Invoice) -> str:
    """How the invoice's number is written: "2026-000042"."""
    return f"{invoice.year}-{invoice.number:06d}"


@dataclass(frozen=True)
class InvoiceLine:
    position: int
    title: str
    detail: str
    quantity: int
    unit_price: str
    net: str
    vat_rate: Decimal
    vat: str
    gross: str


def _line_title(line: OrderLine, language: str) -> str:
    edition = line.plan_edition
    return edition.title_ru if language.startswith("ru") else edition.title_en


def _line_detail(line: OrderLine) -> str:
    parts = []
    if line.track is not None:
        parts.append(f"{line.track.title} ({line.track.catalogue_code})")
    if line.use_description:
        parts.append(line.use_description)
    return "; ".join(parts)


def operator_details(language: str) -> dict[str, str]:
    """The seller as its documents name it (settings.OPERATOR_DETAILS, OPERATOR_BANK_DETAILS)."""
    names = settings.OPERATOR_DETAILS["ru" if language.startswith("ru") else "en"]
    return {
        "name": names["name"],
        "address": names["address"],
        "registration": settings.OPERATOR_DETAILS["registration"],
        **settings.OPERATOR_BANK_DETAILS,
    }


def invoice_context(*, invoice: Invoice, language: str) -> dict[str, object]:
    order = invoice.order
    lines = list(order.lines.select_related("plan_edition", "track").order_by("position"))

    def shown(amount: Decimal) -> str:
        return money_display(amount, order.currency, language=language)

    return {
        "invoice": invoice,
        "number": invoice_number(invoice),
        "order": order,
        "seller": operator_details(language),
        "lines": [
            InvoiceLine(
                position=line.position,
                title=_line_title(line, language),
                detail=_line_detail(line),
                quantity=line.quantity,
                unit_price=shown(line.unit_price),
                net=shown(line.net_amount),
                vat_rate=line.vat_rate.normalize(),
                vat=shown(line.vat_amount),
                gross=shown(line.gross_amount),
            )
            for line in lines
        ],
        "net_total": shown(order.net_total),
        "vat_total": shown(order.vat_total),
        "gross_total": shown(order.gross_total),
        "payment_reference": payment_reference(order),
    }


PAYMENT_REFERENCE_PREFIX = "BM"


def payment_reference(order: Order) -> str:
    """What the buyer writes in the transfer's purpose, so staff can match it to the order."""
    return f"{PAYMENT_REFERENCE_PREFIX} {order.public_id}"


def invoice_html(*, invoice: Invoice, language: str | None = None) -> str:
    language = language or get_language() or settings.LANGUAGE_CODE
    context = invoice_context(invoice=invoice, language=language)
    return document_html(INVOICE_TEMPLATE, context, language=language)


def invoice_pdf(*, invoice: Invoice, language: str | None = None) -> bytes:
    language = language or get_language() or settings.LANGUAGE_CODE
    context = invoice_context(invoice=invoice, language=language)
    return document_pdf(INVOICE_TEMPLATE, context, language=language)


# What a staff member reads of the buyer in an invoice (the access log's fields).
STAFF_READ_FIELDS = (
    "buyer_name",
    "company_name",
    "tax_id",
    "tax_registration_code",
    "buyer_address",
)


@transaction.atomic
def invoice_for_reader(*, actor: Actor, public_id: str) -> Invoice | None:
    """The order's invoice for its buyer, or for the staff who manage orders (the reading is
    written to the staff access log); None for anyone else, or when there is none."""
    invoice = Invoice.objects.select_related("order").filter(order__public_id=public_id).first()
    if invoice is None or not actor.is_authenticated:
        return None
    if invoice.order.user_id == actor.pk:
        return invoice
    if not staff_may_manage_orders(actor=actor):
        return None
    if invoice.order.user_id is not None:
        access_log_record(
            actor=actor,
            subject_id=invoice.order.user_id,
            fields=STAFF_READ_FIELDS,
            reason=f"invoice {invoice_number(invoice)} of order {public_id}",
        )
    return invoice
