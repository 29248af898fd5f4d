"""Certificates: the public face of an agreement. Anyone holding the id (on the certificate, in
its QR code) can check at /verify/<public_id>/ whether the licence is in force, what it covers
and who holds it, named only as the licensee chose; nothing else about the person is shown.

What a licensee may be shown as: a company by its name (the default for legal persons); a
natural person as "a private person" (the default) or by their full name. A natural person
cannot be shown as a company, and after erasure (the account gone, the name a pseudonym) a
natural person is shown as a private person whatever was chosen.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from backgroundmusic.accounts.models import User
from backgroundmusic.core.documents import document_pdf
from backgroundmusic.core.errors import DomainError, PermissionDenied
from backgroundmusic.core.http import site_address
from backgroundmusic.licensing.agreements import agreement_status_at
from backgroundmusic.licensing.models import (
    Agreement,
    BuyerKind,
    Certificate,
    Scope,
    Term,
    Territory,
    Use,
)

DISPLAY_CHOICES = {
    BuyerKind.LEGAL: (Certificate.Display.COMPANY,),
    BuyerKind.NATURAL: (Certificate.Display.PRIVATE_PERSON, Certificate.Display.FULL_NAME),
}


def display_choices(*, licensee_kind: str) -> tuple[str, ...]:
    """How a licensee of this kind may be shown on the certificate, the default first."""
    return DISPLAY_CHOICES[BuyerKind(licensee_kind)]


def licensee_shown(*, certificate: Certificate, agreement: Agreement) -> str:
    """The licensee as the certificate names them, in the active language."""
    display = certificate.licensee_display
    if display not in display_choices(licensee_kind=agreement.licensee_kind):
        display = display_choices(licensee_kind=agreement.licensee_kind)[0]
    if display == Certificate.Display.COMPANY:
        return agreement.licensee_name
    if display == Certificate.Display.FULL_NAME and agreement.user_id is not None:
        return agreement.licensee_name
    return gettext("A private person")


@dataclass(frozen=True)
class CertificateFacts:
    """What a certificate states, and nothing more: the /verify/ page, the owner's certificate
    page and the PDF show exactly these."""

    public_id: str
    number: str
    status: str
    status_label: str
    starts_at: datetime
    paid_until: datetime | None
    ended_at: datetime | None
    catalogue: bool
    track_title: str
    track_code: str
    plan_title: str
    uses: list[str]
    territory: str
    term: str
    monthly: bool
    licensee: str
    verify_url: str


def certificate_verify_url(public_id: str) -> str:
    """The absolute address of the certificate's /verify/ page (settings.SITE_URL)."""
    return site_address(reverse("licensing:verify", kwargs={"public_id": public_id}))


def certificate_facts(
    *, certificate: Certificate, now: datetime, language: str
) -> CertificateFacts:
    """The certificate's statements at `now`, in `language` (that language active)."""
    agreement = certificate.agreement
    edition = agreement.plan_edition
    track = agreement.track
    status = agreement_status_at(agreement, now=now)
    return CertificateFacts(
        public_id=certificate.public_id,
        number=agreement.number,
        status=status,
        status_label=str(Agreement.Status(status).label),
        starts_at=agreement.starts_at,
        paid_until=agreement.paid_until,
        ended_at=agreement.ended_at,
        catalogue=agreement.scope == Scope.CATALOGUE,
        track_title=track.title if track is not None else "",
        track_code=track.catalogue_code if track is not None else "",
        plan_title=edition.title_ru if language == "ru" else edition.title_en,
        uses=[str(Use(use).label) for use in agreement.uses],
        territory=str(Territory(agreement.territory).label),
        term=str(Term(edition.term).label),
        monthly=edition.term == Term.MONTHLY,
        licensee=licensee_shown(certificate=certificate, agreement=agreement),
        verify_url=certificate_verify_url(certificate.public_id),
    )


def certificate_by_public_id(*, public_id: str) -> Certificate | None:
    """The certificate with that public id, with what it states, in one query."""
    return (
        Certificate.objects.select_related(
            "agreement", "agreement__plan_edition", "agreement__track"
        )
        .filter(public_id=public_id)
        .first()
    )


@transaction.atomic
def certificate_display_set(*, user: User, certificate: Certificate, display: str) -> Certificate:
    """The licensee chooses how their certificate names them."""
    certificate = (
        Certificate.objects.select_for_update().select_related("agreement").get(pk=certificate.pk)
    )
    agreement = certificate.agreement
    if agreement.user_id is None or agreement.user_id != user.pk:
        raise PermissionDenied(gettext("This is not your licence."))
    if display not in display_choices(licensee_kind=agreement.licensee_kind):
        raise DomainError(
            gettext("A licence of a private person cannot name a company."),
            code="display_not_allowed",
        )
    if certificate.licensee_display != display:
        certificate.licensee_display = display
        certificate.save(update_fields=["licensee_display"])
    return certificate


def certificate_pdf(*, certificate: Certificate, now: datetime, language: str) -> bytes:
    """The certificate as a PDF in `language`, its QR code leading to the /verify/ page."""
    with translation.override(language):
        facts = certificate_facts(certificate=certificate, now=now, language=language)
    return document_pdf(
        "licensing/certificate_document.html",
        {"facts": facts, "checked_at": now},
        language=language,
    )
