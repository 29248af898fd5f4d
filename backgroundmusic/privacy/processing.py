"""Records of processing (GDPR art. 30; 152-FZ art. 18.1), built from the data map alone.

Purpose → data categories → legal basis → retention, as every app declares them in its
privacy.py, and who receives the data: the recipients on the register (privacy.Recipient) and,
for the justice purpose, courts and authorities on a lawful request. `manage.py export_data_map`
prints the same map, so the page and the export cannot disagree.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from backgroundmusic.core import destinations
from backgroundmusic.privacy import transfers
from backgroundmusic.privacy.disclosures import is_cross_border
from backgroundmusic.privacy.kernel.registry import (
    DATA_CATEGORY_LABELS,
    LEGAL_BASIS_LABELS,
    PURPOSE_LABELS,
    Category,
    LegalBasis,
    Purpose,
    Retention,
    data_map,
)
from backgroundmusic.privacy.models import Recipient

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
    for _declaration, _name, data in data_map.personal_fields():
        key = (data.purpose, data.category)
        bases[key].add(data.legal_basis)
        # Keyed by period and start, never by the (translatable) description.
        retentions[key].setdefault(
            (data.retention.days, data.retention.start.value), data.retention
        )
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


def processing_transfers() -> dict[str, list[dict[str, Any]]]:
    """Transfers abroad and where the data is kept, for the records of processing (GDPR art.
    30(1)(e); 152-FZ art. 22(3)): every transfer record in force (recipient, country, adequacy
    and the list it comes from, basis, notice date, safeguards) and each data store's country
    (core.destinations, DATA_STORES)."""
    return {
        "transfers": [
            {
                "recipient": record.recipient.name,
                "country": record.country.code,
                "adequacy": record.adequacy,
                "adequacy_source": record.adequacy_source,
                "basis": record.basis,
                "authority_notified_on": record.authority_notified_on.isoformat(),
                "starts_on": record.starts_on.isoformat(),
                "safeguards": record.safeguards,
            }
            for record in transfers.transfers_in_force()
        ],
        "stores": [
            {"name": store.name, "country": store.country, "primary": store.primary}
            for store in destinations.data_stores_declared()
        ],
    }
