"""Records of processing (GDPR art. 30(1); 152-FZ art. 18.1 and 22(3)), built from the data map.

Purpose → data categories → legal basis → retention → whom it is about, as every app declares
them in its privacy.py, and who receives the data: the recipients on the register
(privacy.Recipient) and, for the justice purpose, courts and authorities on a lawful request.
The controller, its representative and officer come from the configuration (core/operator.py).
`manage.py export_data_map --format json` writes the same records, so the page and the export
cannot disagree; docs/records-of-processing.json is its committed snapshot.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from backgroundmusic.core import destinations
from backgroundmusic.core.operator import OperatorDetails, operator_details
from backgroundmusic.privacy import transfers
from backgroundmusic.privacy.kernel.registry import (
    DATA_CATEGORY_LABELS,
    LEGAL_BASIS_LABELS,
    PURPOSE_LABELS,
    SUBJECTS_LABELS,
    Category,
    LegalBasis,
    Purpose,
    Retention,
    Subjects,
    data_map,
)
from backgroundmusic.privacy.models import Recipient
from backgroundmusic.privacy.transfers import is_cross_border

AUTHORITIES = _("Courts, law-enforcement and other authorities, on a lawful request")
# Purposes whose data goes to authorities when they lawfully ask (policy clause 6.2).
PURPOSES_FOR_AUTHORITIES = frozenset({Purpose.JUSTICE})
# A recipient on the register that is not a consent-based sharing receives data to perform the
# agreements with the person (policy clauses 2.2, 6.4): it serves this purpose.
PURPOSE_OF_CONTRACT_RECIPIENTS = Purpose.CONTRACT


@dataclass(frozen=True)
class RetentionEntry:
    days: int
    start: str
    description: str | Promise


@dataclass
class CategoryEntry:
    category: Category
    label: str | Promise
    legal_bases: list[LegalBasis] = field(default_factory=list)
    retentions: list[RetentionEntry] = field(default_factory=list)

    @property
    def legal_basis_labels(self) -> list[tuple[str, str | Promise]]:
        return [(basis.value, LEGAL_BASIS_LABELS[basis]) for basis in self.legal_bases]


@dataclass
class PurposeRecord:
    purpose: Purpose
    label: str | Promise
    categories: list[CategoryEntry]
    to_authorities: bool
    # Names of the recipients on the register that receive data for this purpose.
    recipients: list[str] = field(default_factory=list)
    subjects: list[Subjects] = field(default_factory=list)

    @property
    def subject_labels(self) -> list[tuple[str, str | Promise]]:
        return [(subjects.value, SUBJECTS_LABELS[subjects]) for subjects in self.subjects]

    @property
    def legal_bases(self) -> list[LegalBasis]:
        found = {basis for entry in self.categories for basis in entry.legal_bases}
        return [basis for basis in LegalBasis if basis in found]

    @property
    def retention_days(self) -> list[int]:
        return sorted({r.days for entry in self.categories for r in entry.retentions})


@dataclass(frozen=True)
class RecipientRecord:
    name: str
    country: str
    country_name: str
    cross_border: bool
    purpose: str
    legal_basis: LegalBasis
    categories: list[tuple[str, str | Promise]]

    @property
    def legal_basis_label(self) -> str | Promise:
        return LEGAL_BASIS_LABELS[self.legal_basis]


def _retention_entry(retention: Retention) -> RetentionEntry:
    return RetentionEntry(
        days=retention.days, start=retention.start.value, description=retention.description
    )


def records_of_processing() -> list[PurposeRecord]:
    """Every purpose that some declared personal field serves, in the order of registry.Purpose,
    each with its categories (in the order of registry.Category), their legal bases and their
    retention periods (shortest first)."""
    bases: dict[tuple[Purpose, Category], set[LegalBasis]] = defaultdict(set)
    retentions: dict[tuple[Purpose, Category], dict[tuple[int, str], Retention]] = defaultdict(dict)
    subjects: dict[Purpose, set[Subjects]] = defaultdict(set)
    for declaration, _name, data in data_map.personal_fields():
        for use in data.uses():
            key = (use.purpose, data.category)
            bases[key].add(use.legal_basis)
            # Keyed by period and start, never by the (translatable) description.
            retentions[key].setdefault(
                (data.retention.days, data.retention.start.value), data.retention
            )
            subjects[use.purpose].update(declaration.subjects)
    contract_recipients = list(
        _active_recipients().filter(shared_with_consent=False).values_list("name", flat=True)
    )
    records = []
    for purpose in Purpose:
        categories = [
            CategoryEntry(
                category=category,
                label=DATA_CATEGORY_LABELS.get(category, category.value),
                legal_bases=[basis for basis in LegalBasis if basis in bases[(purpose, category)]],
                retentions=[
                    _retention_entry(retention)
                    for _key, retention in sorted(retentions[(purpose, category)].items())
                ],
            )
            for category in Category
            if (purpose, category) in bases
        ]
        if categories:
            records.append(
                PurposeRecord(
                    purpose=purpose,
                    label=PURPOSE_LABELS.get(purpose, purpose.value),
                    categories=categories,
                    to_authorities=purpose in PURPOSES_FOR_AUTHORITIES,
                    recipients=contract_recipients
                    if purpose == PURPOSE_OF_CONTRACT_RECIPIENTS
                    else [],
                    subjects=[member for member in Subjects if member in subjects[purpose]],
                )
            )
    return records


def _active_recipients() -> QuerySet[Recipient]:
    return Recipient.objects.filter(is_active=True).order_by("name")


def recipients_of_processing() -> list[RecipientRecord]:
    """The active recipients on the register, each with its own purpose in the current language,
    its country (cross-border when not Russia), its legal basis and the categories it receives."""
    russian = (get_language() or "").startswith("ru")
    known = {member.value: member for member in Category}
    return [
        RecipientRecord(
            name=recipient.name,
            country=str(recipient.country.code),
            country_name=str(recipient.country.name),
            cross_border=is_cross_border(str(recipient.country.code)),
            purpose=recipient.purpose_ru if russian else recipient.purpose_en,
            legal_basis=LegalBasis.CONSENT
            if recipient.shared_with_consent
            else LegalBasis.CONTRACT,
            categories=[
                (
                    str(value),
                    DATA_CATEGORY_LABELS.get(known[value], value) if value in known else value,
                )
                for value in recipient.categories
            ],
        )
        for recipient in _active_recipients()
    ]


# What the code does to keep personal data safe (GDPR art. 32; 152-FZ art. 18.1 and 19).
SECURITY_MEASURES = (
    _(
        "Personal fields not used for look-ups (names, addresses, phone numbers, tax ids, social "
        "links) are encrypted at rest with AES-GCM under a data key of each person, wrapped by a "
        "master key kept outside the database; erasing the person destroys the data key."
    ),
    _(
        "Staff act through roles with least privilege; every staff read of a person's data is "
        "written to an append-only, hash-chained access log, and every staff action to an "
        "append-only audit trail."
    ),
    _("Staff must sign in with two-factor authentication (TOTP)."),
    _("Repeated failed sign-ins are locked out for a time."),
    _(
        "Connections are encrypted with TLS when the service runs over HTTPS, with HSTS and "
        "secure cookies."
    ),
    _("Logs mask e-mail addresses and names before they are written."),
    _(
        "Analytics rows carry a pseudonymous id, never an account, and without consent a daily "
        "key deleted within 48 hours."
    ),
    _(
        "Data past its retention period is deleted or depersonalized by a daily job, and each "
        "erasure leaves a destruction record that holds no values."
    ),
)
# 152-FZ art. 3(3): the actions the operator performs with personal data.
ACTIONS = (
    _("collection"),
    _("recording"),
    _("systematization"),
    _("accumulation"),
    _("storage"),
    _("clarification (updating, changing)"),
    _("extraction"),
    _("use"),
    _("transfer (provision, access)"),
    _("depersonalization"),
    _("blocking"),
    _("deletion"),
    _("destruction"),
)
PROCESSING_METHODS = _(
    "Mixed processing: automated, with transmission over the internet, and by staff handling "
    "requests and documents."
)
PROCESSING_END = _(
    "Until the purposes of processing are achieved, within the retention period of each "
    "category, or until the operator is liquidated."
)
GOVERNMENT_REQUIREMENTS = _(
    "The measures above implement the requirements for the protection of personal data in "
    "information systems (Government Decree No. 1119 of 1 November 2012): access to the data "
    "limited to the staff who need it, registration of their access, encryption, and "
    "destruction of data no longer needed."
)
# 152-FZ art. 6(1): the clause of each legal basis, for the notification to the authority.
LEGAL_BASIS_152FZ = {
    LegalBasis.CONSENT: "152-FZ art. 6(1)(1)",
    LegalBasis.LEGAL_OBLIGATION: "152-FZ art. 6(1)(2)",
    LegalBasis.CONTRACT: "152-FZ art. 6(1)(5)",
    LegalBasis.LEGITIMATE_INTEREST: "152-FZ art. 6(1)(7)",
}


@dataclass(frozen=True)
class TransferAbroad:
    """A recipient outside Russia, and the transfer record in force that allows it (privacy/
    transfers.py), if there is one: without it nothing is sent there."""

    recipient: str
    country: str
    adequacy: str
    basis: str
    authority_notified_on: str
    starts_on: str
    safeguards: str


def transfers_abroad(recipients: list[RecipientRecord]) -> list[TransferAbroad]:
    """Every active recipient outside Russia, with its transfer record in force."""
    in_force = {
        (record.recipient.name, record.country.code): record
        for record in transfers.transfers_in_force()
    }
    found = []
    for recipient in recipients:
        if not recipient.cross_border:
            continue
        record = in_force.get((recipient.name, recipient.country))
        found.append(
            TransferAbroad(
                recipient=recipient.name,
                country=recipient.country,
                adequacy=record.adequacy if record else "",
                basis=record.basis if record else "",
                authority_notified_on=record.authority_notified_on.isoformat() if record else "",
                starts_on=record.starts_on.isoformat() if record else "",
                safeguards=record.safeguards if record else "",
            )
        )
    return found


def database_countries() -> list[str]:
    """ISO codes of the countries of the primary stores of personal data (DATA_STORES)."""
    return sorted(
        {store.country for store in destinations.data_stores_declared() if store.primary} - {""}
    )


def _country(code: str) -> dict[str, str]:
    return {"code": code, "name": str(countries.name(code))}


def _controller(details: OperatorDetails, language: str) -> dict[str, Any]:
    return {
        "name": details.name(language),
        "address": details.address(language),
        "ogrn": details.ogrn,
        "inn": details.inn,
        "rkn_register_number": details.rkn_register_number,
        "contact_email": str(settings.PRIVACY_ADDRESS),
        "demonstration": details.demonstration,
    }


def records_export(
    *,
    language: str,
    records: list[PurposeRecord] | None = None,
    recipients: list[RecipientRecord] | None = None,
) -> dict[str, Any]:
    """Every record of processing as JSON-ready data, in the active language (call it with
    `language` active): GDPR art. 30(1) and the notification to Roskomnadzor (152-FZ
    art. 22(3)). Ordered by the registry's enums and recipients' names, so it is stable.
    records, recipients: already read by the caller (the page), else read here."""
    details = operator_details()
    records = records_of_processing() if records is None else records
    recipients = recipients_of_processing() if recipients is None else recipients
    transfers = transfers_abroad(recipients)
    officer = {"name": details.dpo_name, "email": details.dpo_email, "phone": details.dpo_phone}
    started = details.processing_started.isoformat() if details.processing_started else ""
    used_bases = [b for b in LegalBasis if any(b in r.legal_bases for r in records)]
    used_categories = [
        c for c in Category if any(entry.category == c for r in records for entry in r.categories)
    ]
    used_subjects = [s for s in Subjects if any(s in r.subjects for r in records)]
    security = [str(measure) for measure in SECURITY_MEASURES]
    return {
        "controller": _controller(details, language),
        "representative": details.representative,
        "data_protection_officer": officer,
        "purposes": [
            {
                "purpose": record.purpose.value,
                "label": str(record.label),
                "subjects": [
                    {"key": key, "label": str(label)} for key, label in record.subject_labels
                ],
                "legal_bases": [basis.value for basis in record.legal_bases],
                "categories": [
                    {
                        "category": entry.category.value,
                        "label": str(entry.label),
                        "legal_bases": [basis.value for basis in entry.legal_bases],
                        "retention": [
                            {
                                "days": retention.days,
                                "start": retention.start,
                                "description": str(retention.description),
                            }
                            for retention in entry.retentions
                        ],
                    }
                    for entry in record.categories
                ],
                "recipients": record.recipients,
                "to_authorities": record.to_authorities,
            }
            for record in records
        ],
        "recipients": [
            {
                "name": recipient.name,
                "country": _country(recipient.country),
                "cross_border": recipient.cross_border,
                "purpose": recipient.purpose,
                "legal_basis": recipient.legal_basis.value,
                "categories": [value for value, _label in recipient.categories],
            }
            for recipient in recipients
        ],
        "authorities": str(AUTHORITIES),
        "transfers": [
            {
                "recipient": transfer.recipient,
                "country": _country(transfer.country),
                "adequacy": transfer.adequacy,
                "basis": transfer.basis,
                "authority_notified_on": transfer.authority_notified_on,
                "starts_on": transfer.starts_on,
                "safeguards": transfer.safeguards,
            }
            for transfer in transfers
        ],
        "security_measures": security,
        "notification_152fz": {
            "operator_name": details.name(language),
            "operator_address": details.address(language),
            "purposes": [str(record.label) for record in records],
            "legal_bases": [
                {
                    "basis": basis.value,
                    "label": str(LEGAL_BASIS_LABELS[basis]),
                    "law": LEGAL_BASIS_152FZ[basis],
                }
                for basis in used_bases
            ],
            "data_categories": [str(DATA_CATEGORY_LABELS[c]) for c in used_categories],
            "subject_categories": [str(SUBJECTS_LABELS[s]) for s in used_subjects],
            "actions": [str(action) for action in ACTIONS],
            "processing_methods": str(PROCESSING_METHODS),
            "security_measures": security,
            "responsible_person": officer,
            "processing_started": started,
            "processing_end": str(PROCESSING_END),
            "cross_border_transfer": bool(transfers),
            "cross_border_countries": sorted({t.country for t in transfers}),
            "database_countries": [_country(code) for code in database_countries()],
            "security_under_government_requirements": str(GOVERNMENT_REQUIREMENTS),
        },
    }
