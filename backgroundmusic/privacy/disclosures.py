"""The disclosure register: every transfer of a person's data to a third party (policy clauses
2.2 and 6.2-6.4), and what the person is shown of it.

The person sees each disclosure about them in the privacy center, except while a legal hold
forbids it (e.g. a court's order not to tell the person about an investigation): the hold has an
end date and a reason, and from that date on the disclosure is shown.

disclosure_record acts for a staff member, `actor`, and refuses (core.errors.ActionRefused,
recorded as `service.denied`) anyone staffroles.selectors.staff_may_record_disclosures does not
allow. A disclosure abroad needs a transfer record in force for its recipient on the register
and its country (privacy/transfers.py). The system records no disclosure through it (a research
export writes its own, analytics/research.py).
"""

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django_countries import countries

from backgroundmusic.audit.models import AuditAction
from backgroundmusic.audit.refusals import refusals_audited
from backgroundmusic.audit.services import audit_record
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.privacy.calendar import controller_today
from backgroundmusic.privacy.kernel.pseudonyms import subject_pseudonym
from backgroundmusic.privacy.kernel.registry import Category
from backgroundmusic.privacy.models import Disclosure, LegalBasisForDisclosure, Recipient
from backgroundmusic.privacy.transfers import transfer_record_require
from backgroundmusic.staffroles.selectors import staff_may_record_disclosures, staff_require

# A user of the AUTH_USER_MODEL; typed loosely because the privacy app imports no other app.
Person = Any

TEXT_MAX_LENGTH = 2000


def disclosures_register() -> QuerySet[Disclosure]:
    """Every disclosure, newest first, for the privacy officer's register."""
    return Disclosure.objects.select_related("subject", "recipient").order_by(
        "-disclosed_on", "-pk"
    )


def disclosures_visible_to(*, subject: Person) -> QuerySet[Disclosure]:
    """The disclosures about `subject` the person may be shown now: all of them except those
    under a legal hold that has not ended yet (the hold ends at the start of its date, Moscow
    time)."""
    if subject is None or getattr(subject, "pk", None) is None:
        return Disclosure.objects.none()
    return (
        Disclosure.objects.select_related("recipient")
        .filter(subject_id=subject.pk)
        .filter(Q(legal_hold_until__isnull=True) | Q(legal_hold_until__lte=controller_today()))
        .order_by("-disclosed_on", "-pk")
    )


def _clean_categories(categories: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(str(c) for c in categories))
    if not chosen:
        raise DomainError(_("Choose the categories of data disclosed."), code="categories_required")
    unknown = [c for c in chosen if c not in {member.value for member in Category}]
    if unknown:
        raise DomainError(
            _("Unknown data categories: %(names)s.") % {"names": ", ".join(unknown)},
            code="unknown_categories",
        )
    # In the data map's order, so the same set is always shown the same way.
    return [member.value for member in Category if member.value in chosen]


def _required_text(value: str, message: str, code: str, max_length: int) -> str:
    value = value.strip()
    if not value:
        raise DomainError(message, code=code)
    if len(value) > max_length:
        raise DomainError(
            _("A field is too long (at most %(max)s characters).") % {"max": max_length},
            code=f"{code}_too_long",
        )
    return value


@refusals_audited("privacy.disclosure_record")
@transaction.atomic
def disclosure_record(
    *,
    actor: Person,
    subject: Person,
    recipient_name: str,
    recipient: Recipient | None = None,
    country: str,
    legal_basis: str,
    categories: Iterable[str],
    reference_document: str,
    disclosed_on: date,
    legal_hold_until: date | None = None,
    legal_hold_reason: str = "",
) -> Disclosure:
    """Writes one disclosure to the register. The person is kept as an account link (emptied when
    the account is erased) and as a pseudonym (kept)."""
    actor_id = staff_require(actor=actor, may=staff_may_record_disclosures).pk
    if subject is None or getattr(subject, "pk", None) is None:
        raise DomainError(_("Choose the person whose data was disclosed."), code="subject_required")
    if recipient is not None and not recipient_name.strip():
        recipient_name = recipient.name
    recipient_name = _required_text(
        recipient_name, _("Name the recipient."), "recipient_required", 200
    )
    country = str(country).upper()
    if country not in countries:
        raise DomainError(_("Choose the recipient's country."), code="country_required")
    if legal_basis not in LegalBasisForDisclosure.values:
        raise DomainError(
            _("Choose the legal basis of the disclosure."), code="legal_basis_required"
        )
    reference_document = _required_text(
        reference_document,
        _("Name the document the disclosure rests on (court decision, request, contract)."),
        "reference_required",
        300,
    )
    if disclosed_on > controller_today():
        raise DomainError(
            _("The disclosure date cannot be in the future."), code="disclosed_in_future"
        )
    legal_hold_reason = legal_hold_reason.strip()
    if legal_hold_until is None and legal_hold_reason:
        raise DomainError(
            _("Give the date the legal hold ends, or leave its reason empty."),
            code="hold_date_required",
        )
    if legal_hold_until is not None:
        legal_hold_reason = _required_text(
            legal_hold_reason,
            _(
                "Give the reason for the legal hold (e.g. the order that forbids telling the "
                "person)."
            ),
            "hold_reason_required",
            TEXT_MAX_LENGTH,
        )
        if legal_hold_until <= disclosed_on:
            raise DomainError(
                _("The legal hold must end after the disclosure date."), code="hold_ends_early"
            )
    transfer_record_require(recipient=recipient, country=country, on=disclosed_on)
    disclosure = Disclosure.objects.create(
        subject=subject,
        subject_pseudonym=subject_pseudonym(subject_id=subject.pk),
        recipient=recipient,
        recipient_name=recipient_name,
        country=country,
        legal_basis=legal_basis,
        categories=_clean_categories(categories),
        reference_document=reference_document,
        disclosed_on=disclosed_on,
        recorded_at=clock.now(),
        recorded_by_id=actor_id,
        legal_hold_until=legal_hold_until,
        legal_hold_reason=legal_hold_reason,
    )
    audit_record(
        actor=actor,
        action=AuditAction.DISCLOSURE_RECORDED,
        target=disclosure,
        after={
            "country": country,
            "legal_basis": legal_basis,
            "categories": disclosure.categories,
            "legal_hold": legal_hold_until is not None,
        },
    )
    return disclosure


def disclosure_hold_active(*, disclosure: Disclosure) -> bool:
    """Whether a legal hold still hides this disclosure from the person."""
    return (
        disclosure.legal_hold_until is not None and disclosure.legal_hold_until > controller_today()
    )
