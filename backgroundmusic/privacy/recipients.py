"""The register of recipients (decision 0031): the third parties that may receive people's data,
each with its country, purposes and the data map's categories it receives. The privacy officer
keeps it under /staff/recipients/; the person who records transfers abroad keeps the register
they name (one permission question, `staff_may_manage_transfers`).

A recipient is never deleted: disclosures, consents and transfer records point to it. It is
deactivated instead: no longer offered for sharing in the privacy center nor in the disclosure
form, given no new transfer record nor research release, and flagged by `manage.py check
--deploy --database default` if a declared outbound destination still names it. The privacy
officer may reactivate it.
"""

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django_countries import countries

from backgroundmusic.audit.models import AuditAction
from backgroundmusic.audit.refusals import refusals_audited
from backgroundmusic.audit.services import audit_record
from backgroundmusic.core.errors import DomainError
from backgroundmusic.privacy.kernel.registry import Category
from backgroundmusic.privacy.models import Recipient, TransferRecord
from backgroundmusic.staffroles.selectors import staff_may_manage_transfers, staff_require

Person = Any

NAME_MAX_LENGTH = 200
PURPOSE_MAX_LENGTH = 2000


def recipients_register() -> QuerySet[Recipient]:
    """Every recipient, inactive ones too, for the privacy officer's page: active ones first."""
    return Recipient.objects.order_by("-is_active", "name")


def _name_taken(name: str) -> DomainError:
    return DomainError(
        _("A recipient named “%(name)s” is already on the register.") % {"name": name},
        code="name_taken",
    )


def _recipient_fields(
    *,
    name: str,
    country: str,
    purpose_en: str,
    purpose_ru: str,
    categories: Iterable[str],
    shared_with_consent: bool,
    existing: Recipient | None,
) -> dict[str, Any]:
    """The recipient's fields, checked and normalised; a DomainError names the first problem."""
    name = name.strip()
    if not name:
        raise DomainError(_("Give the recipient's name."), code="name_required")
    if len(name) > NAME_MAX_LENGTH:
        raise DomainError(
            _("A field is too long (at most %(max)s characters).") % {"max": NAME_MAX_LENGTH},
            code="name_too_long",
        )
    namesakes = Recipient.objects.filter(name__iexact=name)
    if existing is not None:
        namesakes = namesakes.exclude(pk=existing.pk)
    if namesakes.exists():
        raise _name_taken(name)
    country = str(country).upper()
    if country not in countries:
        raise DomainError(_("Choose the recipient's country."), code="country_required")
    purposes = {"purpose_en": purpose_en.strip(), "purpose_ru": purpose_ru.strip()}
    if not all(purposes.values()):
        raise DomainError(
            _("Describe the purpose of the transfer in both English and Russian."),
            code="purpose_required",
        )
    if any(len(purpose) > PURPOSE_MAX_LENGTH for purpose in purposes.values()):
        raise DomainError(
            _("A field is too long (at most %(max)s characters).") % {"max": PURPOSE_MAX_LENGTH},
            code="purpose_too_long",
        )
    chosen = {str(category) for category in categories}
    if not chosen:
        raise DomainError(
            _("Choose the categories of data the recipient receives."),
            code="categories_required",
        )
    known = {member.value for member in Category}
    unknown = sorted(chosen - known)
    if unknown:
        raise DomainError(
            _("Unknown data categories: %(names)s.") % {"names": ", ".join(unknown)},
            code="unknown_categories",
        )
    return {
        "name": name,
        "country": country,
        **purposes,
        # In the data map's order, so the same set is always stored and shown the same way.
        "categories": [member.value for member in Category if member.value in chosen],
        "shared_with_consent": bool(shared_with_consent),
    }


def _audited(recipient: Recipient) -> dict[str, Any]:
    return {
        "name": recipient.name,
        "country": recipient.country.code,
        "purpose_en": recipient.purpose_en,
        "purpose_ru": recipient.purpose_ru,
        "categories": list(recipient.categories),
        "shared_with_consent": recipient.shared_with_consent,
        "is_active": recipient.is_active,
    }


@refusals_audited("privacy.recipient_add")
@transaction.atomic
def recipient_add(
    *,
    actor: Person,
    name: str,
    country: str,
    purpose_en: str,
    purpose_ru: str,
    categories: Iterable[str],
    shared_with_consent: bool = False,
) -> Recipient:
    """Puts a recipient on the register, active."""
    staff_require(actor=actor, may=staff_may_manage_transfers)
    fields = _recipient_fields(
        name=name,
        country=country,
        purpose_en=purpose_en,
        purpose_ru=purpose_ru,
        categories=categories,
        shared_with_consent=shared_with_consent,
        existing=None,
    )
    try:
        with transaction.atomic():
            recipient = Recipient.objects.create(**fields, is_active=True)
    except IntegrityError:
        raise _name_taken(fields["name"]) from None
    recipient.refresh_from_db()
    audit_record(
        actor=actor, action=AuditAction.RECIPIENT_ADDED, target=recipient, after=_audited(recipient)
    )
    return recipient


@refusals_audited("privacy.recipient_update")
@transaction.atomic
def recipient_update(
    *,
    actor: Person,
    recipient: Recipient,
    name: str,
    country: str,
    purpose_en: str,
    purpose_ru: str,
    categories: Iterable[str],
    shared_with_consent: bool,
) -> Recipient:
    """Changes a recipient's entry; the audit row holds the changed fields before and after, and
    a change that changes nothing writes nothing. Its country cannot change while a transfer
    record for it is not ended: the record names the old country."""
    staff_require(actor=actor, may=staff_may_manage_transfers)
    current = Recipient.objects.select_for_update().get(pk=recipient.pk)
    fields = _recipient_fields(
        name=name,
        country=country,
        purpose_en=purpose_en,
        purpose_ru=purpose_ru,
        categories=categories,
        shared_with_consent=shared_with_consent,
        existing=current,
    )
    before = _audited(current)
    changed = {key: value for key, value in fields.items() if before[key] != value}
    if not changed:
        return current
    if (
        "country" in changed
        and TransferRecord.objects.filter(recipient=current, ended_at__isnull=True).exists()
    ):
        raise DomainError(
            _(
                "This recipient has a transfer record in force: end it under Transfers abroad "
                "before changing the recipient's country."
            ),
            code="transfer_in_force",
        )
    try:
        with transaction.atomic():
            Recipient.objects.filter(pk=current.pk).update(**changed)
    except IntegrityError:
        raise _name_taken(fields["name"]) from None
    current.refresh_from_db()
    after = _audited(current)
    audit_record(
        actor=actor,
        action=AuditAction.RECIPIENT_UPDATED,
        target=current,
        before={key: before[key] for key in changed},
        after={key: after[key] for key in changed},
    )
    return current


@refusals_audited("privacy.recipient_deactivate")
@transaction.atomic
def recipient_deactivate(*, actor: Person, recipient: Recipient) -> Recipient:
    """Takes a recipient off active use: it stays on the register for the records that name it,
    and is no longer offered for sharing in the privacy center."""
    staff_require(actor=actor, may=staff_may_manage_transfers)
    updated = Recipient.objects.filter(pk=recipient.pk, is_active=True).update(is_active=False)
    if not updated:
        raise DomainError(
            _("This recipient has already been deactivated."), code="already_inactive"
        )
    recipient.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditAction.RECIPIENT_DEACTIVATED,
        target=recipient,
        before={"is_active": True},
        after={"name": recipient.name, "is_active": False},
    )
    return recipient


@refusals_audited("privacy.recipient_reactivate")
@transaction.atomic
def recipient_reactivate(*, actor: Person, recipient: Recipient) -> Recipient:
    """Puts a deactivated recipient back into active use (offered again for disclosures, sharing
    and transfer records)."""
    staff_require(actor=actor, may=staff_may_manage_transfers)
    updated = Recipient.objects.filter(pk=recipient.pk, is_active=False).update(is_active=True)
    if not updated:
        raise DomainError(_("This recipient is already active."), code="already_active")
    recipient.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditAction.RECIPIENT_REACTIVATED,
        target=recipient,
        before={"is_active": False},
        after={"name": recipient.name, "is_active": True},
    )
    return recipient
