"""Transfers abroad (152-FZ art. 12; decision 0031): the transfer records the privacy officer
keeps, and the one answer to "may data go to this recipient in this country now".

A transfer record names a recipient on the register and a country outside Russia, whether the
country protects personal data adequately (read from privacy/adequacy.toml, kept on the record
with the list it came from), the basis, the safeguards and the date the authority was notified.
It is in force from `starts_on` (the notice date for an adequate country, 10 working days later
for another) until it is ended. Without one in force:
- `transfer_record_require` refuses a disclosure abroad (privacy/disclosures.py) and a research
  release to a recipient abroad (analytics/research.py);
- every outbound client refuses a declared destination abroad: `destination_transfer_check`,
  registered with core.destinations when the app loads, raises DestinationRefused.
"""

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django_countries import countries

from backgroundmusic.audit.models import AuditAction
from backgroundmusic.audit.refusals import refusals_audited
from backgroundmusic.audit.services import audit_record
from backgroundmusic.core import clock
from backgroundmusic.core.destinations import (
    Destination,
    DestinationRefused,
    destinations_declared,
)
from backgroundmusic.core.errors import DomainError
from backgroundmusic.privacy.calendar import add_working_days, controller_today
from backgroundmusic.privacy.models import Adequacy, Recipient, TransferBasis, TransferRecord
from backgroundmusic.staffroles.selectors import staff_may_manage_transfers, staff_require

Person = Any

# The controller is established in Russia: a transfer to any other country is cross-border
# (152-FZ art. 12).
CONTROLLER_COUNTRY = "RU"
ADEQUACY_FILE = Path(__file__).with_name("adequacy.toml")
# The authority may forbid a transfer to a country without adequate protection within this many
# working days of the notice (152-FZ art. 12(10)-(11)); until then it does not start.
NOT_ADEQUATE_WAIT_WORKING_DAYS = 10
SAFEGUARDS_MAX_LENGTH = 2000
RECIPIENTS_PAGE = "/staff/recipients/"
TRANSFERS_PAGE = "/staff/transfers/"


@cache
def _adequacy_lists() -> dict[str, Any]:
    with ADEQUACY_FILE.open("rb") as handle:
        return tomllib.load(handle)


def country_adequacy(country: str) -> tuple[Adequacy, str]:
    """How adequate `country`'s protection is under 152-FZ art. 12, and the list saying so."""
    lists = _adequacy_lists()
    code = country.upper()
    for adequacy in (Adequacy.CONVENTION_108, Adequacy.AUTHORITY_LIST):
        if code in lists[adequacy.value]["countries"]:
            return adequacy, str(lists[adequacy.value]["source"])
    return Adequacy.NOT_ADEQUATE, ""


def transfers_in_force(*, on: date | None = None) -> QuerySet[TransferRecord]:
    """The transfer records in force on `on` (today, Moscow time)."""
    day = on or controller_today()
    return (
        TransferRecord.objects.select_related("recipient")
        .filter(ended_at__isnull=True, starts_on__lte=day)
        .order_by("recipient__name", "country")
    )


def transfer_in_force(
    *, recipient_name: str, country: str, on: date | None = None
) -> TransferRecord | None:
    """The record under which data may go to this recipient in this country on `on`, or None."""
    return (
        transfers_in_force(on=on)
        .filter(recipient__name=recipient_name, country=country.upper())
        .first()
    )


def is_cross_border(country_code: str) -> bool:
    return str(country_code).upper() != CONTROLLER_COUNTRY


def transfer_record_require(*, recipient: Recipient | None, country: str, on: date) -> None:
    """Refuses data going to `country` abroad on `on` unless the recipient is on the register
    with a transfer record in force for that country then: a disclosure (privacy/disclosures.py)
    and a research release (analytics/research.py) ask it."""
    if not is_cross_border(country):
        return
    if (
        recipient is None
        or transfer_in_force(recipient_name=recipient.name, country=country, on=on) is None
    ):
        raise DomainError(
            _(
                "A disclosure abroad needs a transfer record in force for its recipient on the "
                "register and its country on the date of the disclosure (Transfers abroad)."
            ),
            code="transfer_record_required",
        )


def transfers_register() -> QuerySet[TransferRecord]:
    """Every transfer record, ended ones too, for the privacy officer's page."""
    return TransferRecord.objects.select_related("recipient").order_by(
        "recipient__name", "country", "-recorded_at"
    )


def destination_transfer_check(destination: Destination) -> None:
    """Registered with core.destinations: a declared destination abroad is refused unless its
    recipient has a transfer record in force for its country."""
    if transfer_in_force(recipient_name=destination.recipient, country=destination.country):
        return
    raise DestinationRefused(
        f"Outbound connection to {destination.describe()} refused: it is a transfer to "
        f"{destination.recipient} in {destination.country}, abroad, and no transfer record is "
        "in force for it (the privacy officer records one under /staff/transfers/).",
        host=destination.host,
        port=destination.port,
        code="no_transfer_record",
    )


@refusals_audited("privacy.transfer_record_add")
@transaction.atomic
def transfer_record_add(
    *,
    actor: Person,
    recipient: Recipient | None,
    country: str,
    basis: str,
    safeguards: str,
    authority_notified_on: date | None,
) -> TransferRecord:
    """Records a transfer abroad. Its adequacy is read from the lists, never typed."""
    actor_id = staff_require(actor=actor, may=staff_may_manage_transfers).pk
    if recipient is None:
        raise DomainError(_("Choose the recipient on the register."), code="recipient_required")
    if not recipient.is_active:
        raise DomainError(
            _("This recipient has been deactivated: no new transfer to it is recorded."),
            code="recipient_inactive",
        )
    country = str(country).upper()
    if country not in countries:
        raise DomainError(_("Choose the recipient's country."), code="country_required")
    if not is_cross_border(country):
        raise DomainError(
            _("A transfer within Russia is not a transfer abroad: it needs no transfer record."),
            code="not_abroad",
        )
    if basis not in TransferBasis.values:
        raise DomainError(_("Choose the basis of the transfer."), code="basis_required")
    safeguards = safeguards.strip()
    if not safeguards:
        raise DomainError(
            _("Describe the safeguards (e.g. the contract clauses, encryption in transit)."),
            code="safeguards_required",
        )
    if len(safeguards) > SAFEGUARDS_MAX_LENGTH:
        raise DomainError(
            _("A field is too long (at most %(max)s characters).") % {"max": SAFEGUARDS_MAX_LENGTH},
            code="safeguards_too_long",
        )
    if authority_notified_on is None:
        raise DomainError(
            _("Give the date the authority (Roskomnadzor) was notified of the transfer."),
            code="notice_required",
        )
    if authority_notified_on > controller_today():
        raise DomainError(
            _("The date of the notice cannot be in the future."), code="notice_in_future"
        )
    adequacy, source = country_adequacy(country)
    starts_on = (
        authority_notified_on
        if adequacy != Adequacy.NOT_ADEQUATE
        else add_working_days(authority_notified_on, NOT_ADEQUATE_WAIT_WORKING_DAYS)
    )
    try:
        with transaction.atomic():
            record = TransferRecord.objects.create(
                recipient=recipient,
                country=country,
                adequacy=adequacy,
                adequacy_source=source,
                basis=basis,
                safeguards=safeguards,
                authority_notified_on=authority_notified_on,
                starts_on=starts_on,
                recorded_at=clock.now(),
                recorded_by_id=actor_id,
            )
    except IntegrityError:
        raise DomainError(
            _(
                "A transfer record for this recipient and country is already in force: end it "
                "first."
            ),
            code="already_in_force",
        ) from None
    audit_record(
        actor=actor,
        action=AuditAction.TRANSFER_RECORDED,
        target=record,
        after={
            "recipient": recipient.name,
            "country": country,
            "adequacy": adequacy.value,
            "basis": basis,
            "starts_on": starts_on.isoformat(),
        },
    )
    return record


@refusals_audited("privacy.transfer_record_end")
@transaction.atomic
def transfer_record_end(*, actor: Person, record: TransferRecord) -> TransferRecord:
    """Ends a transfer record: from now on the transfer is refused."""
    actor_id = staff_require(actor=actor, may=staff_may_manage_transfers).pk
    updated = TransferRecord.objects.filter(pk=record.pk, ended_at__isnull=True).update(
        ended_at=clock.now(), ended_by_id=actor_id
    )
    if not updated:
        raise DomainError(_("This transfer record has already ended."), code="already_ended")
    record.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditAction.TRANSFER_ENDED,
        target=record,
        after={"recipient": record.recipient.name, "country": record.country.code},
    )
    return record


@dataclass(frozen=True)
class TransferShown:
    """One transfer abroad as the person sees it in the privacy center."""

    recipient: str
    country: str
    country_name: str
    adequacy: str
    basis: str
    safeguards: str


def transfers_of(*, subject: Person) -> list[TransferShown]:
    """The transfers abroad in force that carry the person's data: to every declared outbound
    destination's recipient (mail, storage, payments: everyone's data passes there), and to
    recipients of a disclosure about the person."""
    if subject is None or getattr(subject, "pk", None) is None:
        return []
    everyone = {destination.recipient for destination in destinations_declared()}
    records = transfers_in_force().filter(
        Q(recipient__name__in=everyone) | Q(recipient__disclosures__subject_id=subject.pk)
    )
    return [
        TransferShown(
            recipient=record.recipient.name,
            country=record.country.code,
            country_name=str(record.country.name),
            adequacy=str(record.get_adequacy_display()),
            basis=str(record.get_basis_display()),
            safeguards=record.safeguards,
        )
        for record in records.distinct()
    ]


def register_agrees_check(
    app_configs: Sequence[AppConfig] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> Sequence[checks.CheckMessage]:
    """`manage.py check --deploy --database default`: every declared outbound destination names
    an active recipient on the register in the same country, and one abroad has a transfer
    record in force; each error's hint names the staff page that puts it right. Reads the
    database, so only when a database is named."""
    if not databases or "default" not in databases:
        return []
    problems: list[checks.CheckMessage] = []
    registered = {r.name: r for r in Recipient.objects.all()}
    for destination in destinations_declared():
        recipient = registered.get(destination.recipient)
        if recipient is None:
            problems.append(
                checks.Error(
                    f"The destination {destination.describe()} names the recipient "
                    f"{destination.recipient!r}, which is not on the privacy register.",
                    hint=f"The privacy officer adds {destination.recipient!r} in "
                    f"{destination.country} under {RECIPIENTS_PAGE}.",
                    obj=destination.host,
                    id="privacy.E031",
                )
            )
        elif recipient.country.code != destination.country:
            problems.append(
                checks.Error(
                    f"The destination {destination.describe()} is declared in "
                    f"{destination.country}, but its recipient {destination.recipient!r} is "
                    f"registered in {recipient.country.code}.",
                    hint="Correct the destination's country in OUTBOUND_DESTINATIONS, or the "
                    f"recipient's country under {RECIPIENTS_PAGE}.",
                    obj=destination.host,
                    id="privacy.E032",
                )
            )
        elif not recipient.is_active:
            problems.append(
                checks.Error(
                    f"The destination {destination.describe()} names the recipient "
                    f"{destination.recipient!r}, which has been deactivated on the privacy "
                    "register.",
                    hint="Stop using the destination (remove it from OUTBOUND_DESTINATIONS), "
                    f"or name an active recipient on the register under {RECIPIENTS_PAGE}.",
                    obj=destination.host,
                    id="privacy.E034",
                )
            )
        elif destination.abroad and not transfer_in_force(
            recipient_name=destination.recipient, country=destination.country
        ):
            problems.append(
                checks.Error(
                    f"The destination {destination.describe()} is abroad "
                    f"({destination.country}) and no transfer record is in force for it.",
                    hint=f"The privacy officer records one under {TRANSFERS_PAGE}.",
                    obj=destination.host,
                    id="privacy.E033",
                )
            )
    return problems
