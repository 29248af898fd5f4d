"""Licence agreements: concluded when an order is paid, then only their status and paid period
change, each change written to AgreementEvent (docs/architecture.md "Licensing").

Conclusion freezes the agreement: the plan edition and licence terms by hash, and the document
rendered at that moment in English and Russian (licensing/agreement_document.html) with its own
hash, so what was agreed can always be shown and checked whatever templates or translations say
later.
"""

import hashlib
import json
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta  # type: ignore[import-untyped]
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext

from backgroundmusic.accounts.models import User
from backgroundmusic.audit.models import AuditAction
from backgroundmusic.audit.refusals import refusals_audited
from backgroundmusic.audit.services import audit_record
from backgroundmusic.core.documents import document_pdf
from backgroundmusic.core.errors import DomainError, PermissionDenied
from backgroundmusic.core.text import TextKind, check_text
from backgroundmusic.licensing import notices
from backgroundmusic.licensing.models import (
    SUSPENDED_DAYS_BEFORE_EXPIRY,
    Agreement,
    AgreementEvent,
    BuyerKind,
    Certificate,
    Order,
    OrderLine,
    QuantityUnit,
    Scope,
    Term,
    Territory,
    Use,
)
from backgroundmusic.licensing.money import money_display
from backgroundmusic.privacy.kernel.access_log import access_log_record
from backgroundmusic.staffroles.selectors import Actor, staff_may_manage_agreements, staff_require

DOCUMENT_LANGUAGES = ("en", "ru")
# A subscription is paid a calendar month at a time (31 January + 1 month = 28 February).
MONTH = relativedelta(months=1)
# Agreements are kept five years after the end of the year in which they end (privacy.py).
KEEP_YEARS_AFTER_END = 5
# The reason of the event written when the licensee cancels renewal (an active → active event).
RENEWAL_CANCELLED = "renewal cancelled by the licensee"
# The start of the reason of the event that ends an agreement continued by a new one, which the
# number of the new agreement follows (a renewal paid on a newer edition of the plan).
CONTINUED_BY = "continued by agreement"
_DATETIME_FORMATS = {"en": "j F Y, H:i", "ru": "j E Y, H:i"}
_DATE_FORMATS = {"en": "j F Y", "ru": "j E Y"}


def agreement_number(*, line: OrderLine, concluded_at: datetime) -> str:
    """ "BM-2026-000123": the year of conclusion and the order line's id, which is unique, so the
    number is too, and it is known before the row is written."""
    return f"BM-{concluded_at.year}-{line.pk:06d}"


def agreement_keep_until(*, ended_at: datetime) -> date:
    """The last day the law keeps an agreement that ended at `ended_at`: the end of the fifth
    year after the year it ended."""
    return date(ended_at.year + KEEP_YEARS_AFTER_END, 12, 31)


def agreement_document_hash(*, document_en: str, document_ru: str) -> str:
    """sha256 over a canonical JSON (sorted keys, no whitespace, UTF-8) of both texts."""
    canonical = json.dumps(
        {"en": document_en, "ru": document_ru},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def agreement_document_hash_matches(*, agreement: Agreement) -> bool:
    """Whether the stored texts are still what was concluded (False: changed behind our back)."""
    return agreement.document_hash == agreement_document_hash(
        document_en=agreement.document_en, document_ru=agreement.document_ru
    )


def moment_display(moment: datetime, *, language: str) -> str:
    """A moment as documents show it, in UTC: "4 December 2026, 08:44 UTC"."""
    utc = moment.astimezone(UTC)
    return f"{formats.date_format(utc, _DATETIME_FORMATS[language])} UTC"


def day_display(day: date, *, language: str) -> str:
    return formats.date_format(day, _DATE_FORMATS[language])


def quantity_display(quantity: int, unit: str) -> str:
    """ "3 locations", "1 licence", in the active language."""
    if unit == QuantityUnit.LOCATION:
        return ngettext("%(count)s location", "%(count)s locations", quantity) % {"count": quantity}
    return ngettext("%(count)s licence", "%(count)s licences", quantity) % {"count": quantity}


def _document_context(
    *, order: Order, line: OrderLine, agreement: Agreement, language: str
) -> dict[str, Any]:
    """What the document says, in `language` (called with that language active)."""
    edition = line.plan_edition
    terms = order.terms_edition
    operator = settings.OPERATOR_DETAILS
    legal = order.buyer_kind == BuyerKind.LEGAL
    track = line.track
    return {
        "language": language,
        "number": agreement.number,
        "concluded_at": moment_display(agreement.concluded_at, language=language),
        "licensor": {
            "name": operator[language]["name"],
            "address": operator[language]["address"],
            "registration": operator["registration"],
        },
        "licensee": {
            "legal": legal,
            "name": agreement.licensee_name,
            "representative": order.buyer_name if legal else "",
            "tax_id": order.tax_id,
            "tax_registration_code": order.tax_registration_code,
            "address": order.buyer_address,
        },
        "plan_title": edition.title_ru if language == "ru" else edition.title_en,
        "plan_version": edition.version,
        "plan_edition_hash": agreement.plan_edition_hash,
        "terms_title": terms.title_ru if language == "ru" else terms.title_en,
        "terms_version": terms.version,
        "terms_edition_hash": agreement.terms_edition_hash,
        "terms_accepted_at": moment_display(order.terms_accepted_at, language=language),
        "catalogue": agreement.scope == Scope.CATALOGUE,
        "track_title": track.title if track is not None else "",
        "track_code": track.catalogue_code if track is not None else "",
        "uses": [str(Use(use).label) for use in agreement.uses],
        "territory": str(Territory(agreement.territory).label),
        "monthly": edition.term == Term.MONTHLY,
        "starts_at": moment_display(agreement.starts_at, language=language),
        "paid_until": (
            moment_display(agreement.paid_until, language=language)
            if agreement.paid_until is not None
            else ""
        ),
        "quantity": quantity_display(line.quantity, edition.quantity_unit),
        "use_description": agreement.use_description,
        "unit_price": money_display(line.unit_price, order.currency, language=language),
        "net_amount": money_display(line.net_amount, order.currency, language=language),
        "vat_rate": formats.number_format(line.vat_rate, decimal_pos=2),
        "vat_amount": money_display(line.vat_amount, order.currency, language=language),
        "gross_amount": money_display(line.gross_amount, order.currency, language=language),
    }


def agreement_document_render(
    *, order: Order, line: OrderLine, agreement: Agreement, language: str
) -> str:
    """The agreement's document in `language`, as an HTML fragment (the pages and the PDF put
    it in their frame)."""
    with translation.override(language):
        context = _document_context(order=order, line=line, agreement=agreement, language=language)
        return render_to_string("licensing/agreement_document.html", context).strip()


def agreement_pdf(*, agreement: Agreement, language: str) -> bytes:
    """The concluded document in `language` as a PDF: the frozen text, with its number and hash."""
    document = agreement.document_ru if language == "ru" else agreement.document_en
    return document_pdf(
        "licensing/agreement_pdf.html",
        # Rendered and escaped at conclusion, frozen since.
        {"agreement": agreement, "document": mark_safe(document)},  # noqa: S308
        language=language,
    )


def _conclude(
    *, order: Order, line: OrderLine, now: datetime, paid_until: datetime | None = None
) -> Agreement:
    """A new agreement for `line`, in force from `now`; a subscription is paid a month ahead,
    or until `paid_until` when given (a renewal carrying over what was already paid)."""
    edition = line.plan_edition
    legal = order.buyer_kind == BuyerKind.LEGAL
    agreement = Agreement(
        number=agreement_number(line=line, concluded_at=now),
        order_line=line,
        user_id=order.user_id,
        subject_pseudonym=order.subject_pseudonym,
        licensee_kind=order.buyer_kind,
        licensee_name=order.company_name if legal else order.buyer_name,
        plan_edition=edition,
        plan_edition_hash=line.plan_edition_hash,
        terms_edition=order.terms_edition,
        terms_edition_hash=order.terms_edition_hash,
        scope=edition.scope,
        track=line.track,
        uses=list(edition.uses),
        territory=edition.territory,
        quantity=line.quantity,
        use_description=line.use_description,
        starts_at=now,
        paid_until=(paid_until or now + MONTH) if edition.term == Term.MONTHLY else None,
        status=Agreement.Status.ACTIVE,
        concluded_at=now,
    )
    documents = {
        language: agreement_document_render(
            order=order, line=line, agreement=agreement, language=language
        )
        for language in DOCUMENT_LANGUAGES
    }
    agreement.document_en = documents["en"]
    agreement.document_ru = documents["ru"]
    agreement.document_hash = agreement_document_hash(
        document_en=agreement.document_en, document_ru=agreement.document_ru
    )
    agreement.save(force_insert=True)
    AgreementEvent.objects.create(
        agreement=agreement,
        status_from="",
        status_to=Agreement.Status.ACTIVE,
        paid_until=agreement.paid_until,
        at=now,
    )
    Certificate.objects.create(
        agreement=agreement,
        public_id=secrets.token_urlsafe(16),
        licensee_display=(
            Certificate.Display.COMPANY if legal else Certificate.Display.PRIVATE_PERSON
        ),
        created_at=now,
    )
    return agreement


@transaction.atomic
def agreements_conclude(*, order: Order, now: datetime) -> list[Agreement]:
    """One agreement per line of a paid order, in the order of its lines. Idempotent: a line
    already concluded gives its agreement back unchanged. A line renewing a subscription on the
    edition it was concluded on extends that agreement (agreement_extend) and gives it back; on
    a newer edition it concludes a new agreement that continues it (_continue_on)."""
    order = Order.objects.select_for_update().select_related("terms_edition").get(pk=order.pk)
    if order.status != Order.Status.PAID:
        raise DomainError(
            gettext("Only a paid order concludes licence agreements."), code="order_not_paid"
        )
    lines = order.lines.select_related("plan_edition", "track", "renews").order_by("position")
    concluded = {
        agreement.order_line_id: agreement
        for agreement in Agreement.objects.filter(order_line__order=order)
    }
    agreements = []
    for line in lines:
        if line.pk in concluded:
            agreements.append(concluded[line.pk])
        elif line.renews is not None and line.renews_until is not None:
            if line.plan_edition_id == line.renews.plan_edition_id:
                agreements.append(
                    agreement_extend(agreement=line.renews, paid_until=line.renews_until, now=now)
                )
            else:
                agreements.append(_continue_on(order=order, line=line, now=now))
        else:
            agreements.append(_conclude(order=order, line=line, now=now))
    return agreements


def _continue_on(*, order: Order, line: OrderLine, now: datetime) -> Agreement:
    """A renewal paid on a newer edition of the plan than the agreement's: the agreement's terms
    are frozen, so a new agreement on that edition continues it from `now`, paid until the
    line's renews_until (what the old one had paid ahead carries over) and at least a month,
    and naming the licensee as the old certificate did. The old agreement, if still active or
    suspended, expires now; a revoked one stays as it is."""
    assert line.renews_id is not None and line.renews_until is not None
    successor = _conclude(
        order=order, line=line, now=now, paid_until=max(line.renews_until, now + MONTH)
    )
    # Only the agreement's row is locked: PostgreSQL locks no row on the nullable side of the
    # certificate's outer join.
    previous = (
        Agreement.objects.select_for_update(of=("self",))
        .select_related("certificate")
        .get(pk=line.renews_id)
    )
    Certificate.objects.filter(agreement=successor).update(
        licensee_display=previous.certificate.licensee_display
    )
    if previous.status in (Agreement.Status.ACTIVE, Agreement.Status.SUSPENDED):
        status_from = previous.status
        _end(previous, status=Agreement.Status.EXPIRED, ended_at=now)
        AgreementEvent.objects.create(
            agreement=previous,
            status_from=status_from,
            status_to=Agreement.Status.EXPIRED,
            paid_until=previous.paid_until,
            reason=f"{CONTINUED_BY} {successor.number}",
            at=now,
        )
    return successor


def agreement_renewal_until(*, agreement: Agreement, now: datetime) -> datetime:
    """Where a renewal bought at `now` takes a subscription's paid period (checkout writes it on
    the renewal line as renews_until): a month past the paid period, or past `now` when that
    has already ended (the unpaid gap is not charged)."""
    if agreement.paid_until is None:
        raise DomainError(
            gettext("A perpetual licence has nothing to renew."), code="agreement_perpetual"
        )
    return max(agreement.paid_until, now) + MONTH


@transaction.atomic
def agreement_extend(*, agreement: Agreement, paid_until: datetime, now: datetime) -> Agreement:
    """A renewal was paid: the subscription is paid until `paid_until` and active again (also
    when it had been suspended, or had expired, for want of payment). Idempotent: a paid_until
    the agreement already reaches changes nothing. A revoked agreement is never revived."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.paid_until is None:
        raise DomainError(
            gettext("A perpetual licence has nothing to renew."), code="agreement_perpetual"
        )
    if agreement.status == Agreement.Status.REVOKED:
        raise DomainError(gettext("A revoked licence cannot be renewed."), code="agreement_revoked")
    if paid_until <= agreement.paid_until:
        return agreement
    status_from = agreement.status
    agreement.paid_until = paid_until
    agreement.status = Agreement.Status.ACTIVE
    agreement.ended_at = None
    agreement.keep_until = None
    agreement.renewal_cancelled_at = None
    agreement.save(
        update_fields=["paid_until", "status", "ended_at", "keep_until", "renewal_cancelled_at"]
    )
    AgreementEvent.objects.create(
        agreement=agreement,
        status_from=status_from,
        status_to=Agreement.Status.ACTIVE,
        paid_until=paid_until,
        at=now,
    )
    return agreement


def _end(agreement: Agreement, *, status: str, ended_at: datetime) -> None:
    agreement.status = status
    agreement.ended_at = ended_at
    agreement.keep_until = agreement_keep_until(ended_at=ended_at)
    agreement.save(update_fields=["status", "ended_at", "keep_until"])


@refusals_audited("licensing.agreement_revoke")
@transaction.atomic
def agreement_revoke(
    *, actor: Actor | None, agreement: Agreement, reason: str, now: datetime
) -> Agreement:
    """Ends the agreement as revoked, for `reason`: a licensing manager's decision, or the
    system's (actor None) when the order is refunded or cancelled. Idempotent: a revoked
    agreement stays as it is."""
    if actor is not None:
        staff_require(actor=actor, may=staff_may_manage_agreements)
    reason = check_text(reason.strip(), TextKind.TEXT)
    if not reason:
        raise DomainError(
            gettext("Give the reason for revoking the agreement."), code="reason_required"
        )
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.status == Agreement.Status.REVOKED:
        return agreement
    status_from = agreement.status
    _end(agreement, status=Agreement.Status.REVOKED, ended_at=agreement.ended_at or now)
    actor_id = None if actor is None else actor.pk
    AgreementEvent.objects.create(
        agreement=agreement,
        status_from=status_from,
        status_to=Agreement.Status.REVOKED,
        paid_until=agreement.paid_until,
        reason=reason,
        actor_id=actor_id,
        at=now,
    )
    audit_record(
        actor=actor_id,
        action=AuditAction.AGREEMENT_REVOKED,
        target=agreement,
        before={"status": status_from},
        after={"status": Agreement.Status.REVOKED},
        reason=reason,
    )
    return agreement


@transaction.atomic
def agreement_cancel_renewal(*, user: User, agreement: Agreement, now: datetime) -> Agreement:
    """The licensee ends their subscription: it stays in force to the end of the paid month and
    then expires (a suspended one, whose month has already ended, expires now)."""
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.user_id is None or agreement.user_id != user.pk:
        raise PermissionDenied(gettext("This is not your licence."))
    if agreement.paid_until is None:
        raise DomainError(
            gettext("A perpetual licence has no renewal to cancel."), code="agreement_perpetual"
        )
    if agreement.status == Agreement.Status.SUSPENDED:
        _end(agreement, status=Agreement.Status.EXPIRED, ended_at=now)
        AgreementEvent.objects.create(
            agreement=agreement,
            status_from=Agreement.Status.SUSPENDED,
            status_to=Agreement.Status.EXPIRED,
            paid_until=agreement.paid_until,
            reason=RENEWAL_CANCELLED,
            actor_id=user.pk,
            at=now,
        )
        return agreement
    if agreement.status != Agreement.Status.ACTIVE:
        raise DomainError(gettext("This licence has already ended."), code="agreement_ended")
    if agreement.renewal_cancelled_at is not None:
        return agreement
    agreement.renewal_cancelled_at = now
    agreement.save(update_fields=["renewal_cancelled_at"])
    AgreementEvent.objects.create(
        agreement=agreement,
        status_from=Agreement.Status.ACTIVE,
        status_to=Agreement.Status.ACTIVE,
        paid_until=agreement.paid_until,
        reason=RENEWAL_CANCELLED,
        actor_id=user.pk,
        at=now,
    )
    return agreement


def _lapse(agreement: Agreement, *, now: datetime) -> str | None:
    """The status a subscription's unpaid time takes it to at `now` (changed and recorded), or
    None when it stays as it is."""
    if agreement.paid_until is None or agreement.paid_until > now:
        return None
    status_from = agreement.status
    if status_from == Agreement.Status.ACTIVE and agreement.renewal_cancelled_at is not None:
        _end(agreement, status=Agreement.Status.EXPIRED, ended_at=agreement.paid_until)
    elif status_from == Agreement.Status.ACTIVE:
        agreement.status = Agreement.Status.SUSPENDED
        agreement.save(update_fields=["status"])
    elif status_from == Agreement.Status.SUSPENDED:
        expires_at = agreement.paid_until + timedelta(days=SUSPENDED_DAYS_BEFORE_EXPIRY)
        if expires_at > now:
            return None
        _end(agreement, status=Agreement.Status.EXPIRED, ended_at=expires_at)
    else:
        return None
    event = AgreementEvent.objects.create(
        agreement=agreement,
        status_from=status_from,
        status_to=agreement.status,
        paid_until=agreement.paid_until,
        at=now,
    )
    notices.notice_queue_for_event(event=event)
    return agreement.status


def agreements_lapse(*, now: datetime) -> dict[str, int]:
    """The recurring job's work: subscriptions whose paid month has ended are suspended, or
    expire when the licensee cancelled renewal; those suspended for
    SUSPENDED_DAYS_BEFORE_EXPIRY days expire. One transaction per agreement, each locked and
    looked at again, so a renewal paid meanwhile wins. Returns how many went to each status."""
    counts: dict[str, int] = {}
    due = Agreement.objects.filter(
        status__in=[Agreement.Status.ACTIVE, Agreement.Status.SUSPENDED],
        paid_until__lte=now,
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            agreement = Agreement.objects.select_for_update().get(pk=pk)
            status = _lapse(agreement, now=now)
        if status is not None:
            counts[status] = counts.get(status, 0) + 1
    return counts


def agreements_of(*, user: User) -> QuerySet[Agreement]:
    """The person's agreements, newest first, with what their list shows."""
    return Agreement.objects.filter(user_id=user.pk).select_related(
        "plan_edition__plan", "track", "certificate"
    )


def agreement_of(*, user: User, number: str) -> Agreement | None:
    """The person's agreement of that number; None for anyone else's."""
    return agreements_of(user=user).filter(number=number).first()


def agreement_status_at(agreement: Agreement, *, now: datetime) -> str:
    """The agreement's status as it stands at `now`: what the recurring job will write, before
    it runs (a subscription past its paid month is suspended, or expired when renewal was
    cancelled)."""
    if (
        agreement.status == Agreement.Status.ACTIVE
        and agreement.paid_until is not None
        and agreement.paid_until <= now
    ):
        if agreement.renewal_cancelled_at is not None:
            return Agreement.Status.EXPIRED
        return Agreement.Status.SUSPENDED
    return agreement.status


def agreement_event_description(event: AgreementEvent) -> str:
    """What an event of the history means, in the active language."""
    status_from, status_to = event.status_from, event.status_to
    if not status_from:
        return gettext("Concluded")
    if status_to == Agreement.Status.REVOKED:
        return gettext("Revoked")
    if event.reason.startswith(CONTINUED_BY):
        return gettext("Continued by agreement %(number)s on the plan's current edition") % {
            "number": event.reason.removeprefix(CONTINUED_BY).strip()
        }
    if event.reason == RENEWAL_CANCELLED:
        if status_to == Agreement.Status.EXPIRED:
            return gettext("Renewal cancelled by the licensee: expired")
        return gettext("Renewal cancelled by the licensee: ends when the paid month ends")
    if status_to == Agreement.Status.ACTIVE:
        return gettext("Renewal paid")
    if status_to == Agreement.Status.SUSPENDED:
        return gettext("Suspended: the renewal is unpaid")
    if status_from == Agreement.Status.SUSPENDED:
        return gettext("Expired: the renewal stayed unpaid")
    return gettext("Expired at the end of the paid month")


def agreement_history(*, agreement: Agreement) -> QuerySet[AgreementEvent]:
    return agreement.events.order_by("at", "pk")


@refusals_audited("licensing.agreements_for_staff")
def agreements_for_staff(*, actor: Actor, status: str = "", number: str = "") -> QuerySet:
    """Every agreement, newest first, for the licensing staff, narrowed to a status and to
    numbers containing `number`; only what the list shows, no person's data."""
    staff_require(actor=actor, may=staff_may_manage_agreements)
    agreements = Agreement.objects.select_related("plan_edition").only(
        "number",
        "status",
        "licensee_kind",
        "scope",
        "starts_at",
        "paid_until",
        "ended_at",
        "concluded_at",
        "renewal_cancelled_at",
        "plan_edition__title_en",
        "plan_edition__title_ru",
        "plan_edition__version",
    )
    if status:
        agreements = agreements.filter(status=status)
    if number.strip():
        agreements = agreements.filter(number__icontains=number.strip())
    return agreements


@refusals_audited("licensing.agreement_for_staff")
def agreement_for_staff(*, actor: Actor, number: str) -> Agreement | None:
    """The agreement of that number for the licensing staff (what its page shows before a
    logged read: no person's data is looked at)."""
    staff_require(actor=actor, may=staff_may_manage_agreements)
    return Agreement.objects.select_related("plan_edition", "track").filter(number=number).first()


# What a staff member reads of the licensee, written to the access log by agreement_staff_read.
STAFF_READ_FIELDS = ("licensee_name", "use_description", "document", "event_reasons")


@refusals_audited("licensing.agreement_staff_read")
@transaction.atomic
def agreement_staff_read(*, actor: Actor, agreement: Agreement, reason: str) -> Agreement:
    """Opens the licensee's data of the agreement (their name, the identified venue, channel or
    project, the document and the reasons in its history) to a licensing manager, after writing
    the reading to the staff access log (subject 0: an erased person's agreement)."""
    staff_require(actor=actor, may=staff_may_manage_agreements)
    reason = check_text(reason.strip())
    if not reason:
        raise DomainError(
            gettext("A reason is required to read a person's data."), code="reason_required"
        )
    access_log_record(
        actor=actor,
        subject_id=agreement.user_id or 0,
        fields=list(STAFF_READ_FIELDS),
        reason=f"Agreement {agreement.number}: {reason}",
    )
    return agreement
