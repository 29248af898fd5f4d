"""The data map of licensing (licensing/models.py).

Orders, invoices, payments and agreements are accounting and contract records: erasure replaces
the person in them (the user link goes, a name becomes the pseudonym) and keeps the document until
its keep_until, which the licensing services write from the period the law sets
(Retentions.ACCOUNTING_RECORDS, Retentions.LICENCE_AGREEMENTS); the "licensing records" retention
handler (licensing/retention.py) deletes them after it.
"""

from backgroundmusic.licensing import retention
from backgroundmusic.privacy.kernel.registry import (
    Category,
    Clock,
    Erasure,
    ErasureSubject,
    LegalBasis,
    PersonalData,
    Purpose,
    Retention,
    Retentions,
    Source,
    Subjects,
    data_map,
    declare,
)


def _record(
    category: Category,
    retention: Retention,
    erasure: Erasure = Erasure.KEEP_FOR_LAW,
    *,
    basis: LegalBasis = LegalBasis.LEGAL_OBLIGATION,
    source: Source | None = None,
) -> PersonalData:
    """source: by default the person typed who they are and how to reach them, and we wrote the
    rest of the document."""
    return PersonalData(
        category=category,
        purpose=Purpose.CONTRACT,
        legal_basis=basis,
        retention=retention,
        erasure=erasure,
        source=source or (Source.PERSON if category in _TYPED else Source.GENERATED),
    )


_TYPED = frozenset(
    {
        Category.NAME,
        Category.ORGANIZATION,
        Category.GOVERNMENT_ID,
        Category.CONTACT_ADDRESS,
        Category.CONTACT_EMAIL,
        Category.SOCIAL,
    }
)


ACCOUNTING = Retentions.ACCOUNTING_RECORDS
AGREEMENTS = Retentions.LICENCE_AGREEMENTS
RECORDS = Clock(rule="licensing records")

declare("licensing.Plan", subject="", not_personal=["id", "code", "kind", "position", "is_offered"])
declare(
    "licensing.PlanEdition",
    subject="",
    not_personal=[
        "id",
        "plan",
        "version",
        "title_en",
        "title_ru",
        "description_en",
        "description_ru",
        "uses",
        "territory",
        "scope",
        "term",
        "quantity_unit",
        "min_quantity",
        "max_quantity",
        "price_rub",
        "price_eur",
        "vat_rate",
        "content_hash",
        "effective_at",
        "published_at",
        "published_by_id",
    ],
    note="published_by_id names a staff member; the audit trail holds the same fact.",
)
declare(
    "licensing.LicenceTermsEdition",
    subject="",
    not_personal=[
        "id",
        "version",
        "title_en",
        "title_ru",
        "body_en",
        "body_ru",
        "content_hash",
        "effective_at",
        "published_at",
        "published_by_id",
    ],
)
declare("licensing.InvoiceYear", subject="", not_personal=["year", "last_number"])
declare(
    "licensing.CartLine",
    subject="user",
    subjects=(Subjects.CUSTOMERS,),
    personal={
        "user": PersonalData(
            category=Category.CONTRACT,
            purpose=Purpose.CONTRACT,
            legal_basis=LegalBasis.CONTRACT,
            retention=Retentions.ACCOUNT,
            erasure=Erasure.DELETE,
            source=Source.GENERATED,
        ),
        "use_description": PersonalData(
            category=Category.CONTRACT,
            purpose=Purpose.CONTRACT,
            legal_basis=LegalBasis.CONTRACT,
            retention=Retentions.ACCOUNT,
            erasure=Erasure.DELETE,
            source=Source.PERSON,
        ),
    },
    not_personal=["id", "plan_edition", "track", "quantity", "added_at"],
    clock=Clock(rule="account closed"),
    note="What a person means to buy; it goes with the account.",
)
declare(
    "licensing.Order",
    subject="user",
    subjects=(Subjects.CUSTOMERS,),
    personal={
        "user": _record(Category.CONTRACT, ACCOUNTING, Erasure.NULL),
        "subject_pseudonym": _record(Category.UNIQUE_ID, ACCOUNTING),
        "buyer_name": _record(Category.NAME, ACCOUNTING, Erasure.PSEUDONYMIZE),
        "company_name": _record(Category.ORGANIZATION, ACCOUNTING),
        "tax_id": _record(Category.GOVERNMENT_ID, ACCOUNTING),
        "tax_registration_code": _record(Category.ORGANIZATION, ACCOUNTING),
        "buyer_address": _record(Category.CONTACT_ADDRESS, ACCOUNTING),
        "buyer_email": _record(Category.CONTACT_EMAIL, ACCOUNTING, Erasure.NULL),
        "terms_accepted_at": _record(Category.CONTRACT, ACCOUNTING),
        "terms_ip_truncated": _record(Category.NETWORK, ACCOUNTING, Erasure.NULL),
        "terms_user_agent_family": _record(Category.DEVICE, ACCOUNTING, Erasure.NULL),
        "created_at": _record(Category.CONTRACT, ACCOUNTING),
        "paid_at": _record(Category.CONTRACT, ACCOUNTING),
    },
    not_personal=[
        "id",
        "public_id",
        "buyer_kind",
        "currency",
        "payment_method",
        "status",
        "terms_edition",
        "terms_edition_hash",
        "net_total",
        "vat_total",
        "gross_total",
        "closed_at",
        "keep_until",
    ],
    clock=RECORDS,
    note="An accounting record: the invoice shows the buyer's requisites for as long as the law "
    "keeps it. Erasure drops the account link, the e-mail address and the network details, and "
    "puts the pseudonym in place of the name; a company's requisites and address stay.",
)
declare(
    "licensing.OrderLine",
    subject="order__user",
    subjects=(Subjects.CUSTOMERS,),
    personal={"use_description": _record(Category.CONTRACT, ACCOUNTING, source=Source.PERSON)},
    not_personal=[
        "id",
        "order",
        "position",
        "plan_edition",
        "plan_edition_hash",
        "track",
        "quantity",
        "unit_price",
        "net_amount",
        "vat_rate",
        "vat_amount",
        "gross_amount",
        "renews",
        "renews_until",
    ],
    clock=RECORDS,
)
declare(
    "licensing.Invoice",
    subject="order__user",
    subjects=(Subjects.CUSTOMERS,),
    personal={"issued_at": _record(Category.CONTRACT, ACCOUNTING)},
    not_personal=["id", "order", "year", "number"],
    clock=RECORDS,
)
declare(
    "licensing.Payment",
    subject="order__user",
    subjects=(Subjects.CUSTOMERS,),
    personal={
        "amount": _record(Category.CONTRACT, ACCOUNTING),
        "created_at": _record(Category.CONTRACT, ACCOUNTING),
    },
    not_personal=[
        "id",
        "order",
        "provider",
        "provider_payment_id",
        "idempotency_key",
        "status",
        "currency",
        "confirmation_url",
        "updated_at",
        "confirmed_by_id",
    ],
    clock=RECORDS,
)
declare(
    "licensing.Refund",
    subject="payment__order__user",
    subjects=(Subjects.CUSTOMERS,),
    personal={
        "amount": _record(Category.CONTRACT, ACCOUNTING),
        "reason": _record(Category.CONTRACT, ACCOUNTING),
        "created_at": _record(Category.CONTRACT, ACCOUNTING),
    },
    not_personal=[
        "id",
        "payment",
        "provider_refund_id",
        "idempotency_key",
        "status",
        "actor_id",
        "updated_at",
    ],
    clock=RECORDS,
)
declare(
    "licensing.PaymentNotification",
    subject="",
    not_personal=["id", "provider", "event", "object_id", "received_at", "outcome"],
    note="Only the provider's event name and object id; the payment it names holds the rest.",
)
declare(
    "licensing.Agreement",
    subject="user",
    subjects=(Subjects.CUSTOMERS,),
    personal={
        "user": _record(Category.CONTRACT, AGREEMENTS, Erasure.NULL),
        "subject_pseudonym": _record(Category.UNIQUE_ID, AGREEMENTS),
        "licensee_name": _record(Category.NAME, AGREEMENTS, Erasure.PSEUDONYMIZE),
        "use_description": _record(Category.CONTRACT, AGREEMENTS, source=Source.PERSON),
        "document_en": _record(Category.CONTRACT, AGREEMENTS),
        "document_ru": _record(Category.CONTRACT, AGREEMENTS),
        "starts_at": _record(Category.CONTRACT, AGREEMENTS),
        "concluded_at": _record(Category.CONTRACT, AGREEMENTS),
        "renewal_cancelled_at": _record(Category.CONTRACT, AGREEMENTS),
    },
    not_personal=[
        "id",
        "number",
        "order_line",
        "licensee_kind",
        "plan_edition",
        "plan_edition_hash",
        "terms_edition",
        "terms_edition_hash",
        "scope",
        "track",
        "uses",
        "territory",
        "quantity",
        "paid_until",
        "ended_at",
        "status",
        "document_hash",
        "keep_until",
    ],
    clock=RECORDS,
    note="The concluded document is kept whole for the term the law sets (it names the "
    "parties); erasure drops the account link and the name shown elsewhere.",
)
declare(
    "licensing.AgreementEvent",
    subject="agreement__user",
    subjects=(Subjects.CUSTOMERS,),
    personal={
        "reason": _record(Category.CONTRACT, AGREEMENTS),
        "at": _record(Category.CONTRACT, AGREEMENTS),
    },
    not_personal=["id", "agreement", "status_from", "status_to", "paid_until", "actor_id"],
    clock=RECORDS,
)
declare(
    "licensing.Certificate",
    subject="agreement__user",
    subjects=(Subjects.CUSTOMERS,),
    personal={
        "licensee_display": _record(
            Category.ACCOUNT_SETTINGS, AGREEMENTS, basis=LegalBasis.CONTRACT, source=Source.PERSON
        )
    },
    not_personal=["id", "agreement", "public_id", "created_at"],
    clock=RECORDS,
)
COVERAGE_NOTE = (
    "What a licence covers, evidence for platform claims; kept with the agreement. The links "
    "lead to the person's own channels and works, and a work's title and date describe what "
    "they published."
)
declare(
    "licensing.CoveredChannel",
    subject="agreement__user",
    subjects=(Subjects.CUSTOMERS,),
    personal={
        "url": _record(Category.SOCIAL, AGREEMENTS, basis=LegalBasis.CONTRACT),
        "added_at": _record(Category.CONTRACT, AGREEMENTS, basis=LegalBasis.CONTRACT),
    },
    not_personal=["id", "agreement", "platform"],
    clock=RECORDS,
    note=COVERAGE_NOTE,
)
declare(
    "licensing.CoveredUse",
    subject="agreement__user",
    subjects=(Subjects.CUSTOMERS,),
    personal={
        "url": _record(Category.SOCIAL, AGREEMENTS, basis=LegalBasis.CONTRACT),
        "title": _record(
            Category.CONTRACT, AGREEMENTS, basis=LegalBasis.CONTRACT, source=Source.PERSON
        ),
        "published_on": _record(
            Category.CONTRACT, AGREEMENTS, basis=LegalBasis.CONTRACT, source=Source.PERSON
        ),
        "added_at": _record(Category.CONTRACT, AGREEMENTS, basis=LegalBasis.CONTRACT),
    },
    not_personal=["id", "agreement", "track", "platform"],
    clock=RECORDS,
    note=COVERAGE_NOTE,
)
declare(
    "licensing.Notice",
    subject="order__user",
    subjects=(Subjects.CUSTOMERS,),
    personal={
        name: _record(Category.CONTRACT, ACCOUNTING, Erasure.DELETE, basis=LegalBasis.CONTRACT)
        for name in ("kind", "queued_at", "sent_at")
    },
    not_personal=["id", "order", "event"],
    clock=RECORDS,
    note="That we wrote to the buyer about an order or a licence, and when; the letter itself is "
    "in the mail outbox, whose erasure step removes it.",
)

data_map.register_retention(
    "licensing records",
    retention.licensing_records_prune,
    models=[
        "licensing.Order",
        "licensing.OrderLine",
        "licensing.Invoice",
        "licensing.Payment",
        "licensing.Refund",
        "licensing.Agreement",
        "licensing.AgreementEvent",
        "licensing.Certificate",
        "licensing.CoveredChannel",
        "licensing.CoveredUse",
        "licensing.Notice",
    ],
)


def erase_orders_awaiting_payment(*, subject: ErasureSubject) -> dict[str, int]:
    """Before the data map's steps take the person out of their orders (billing.py)."""
    from backgroundmusic.licensing.billing import orders_cancel_for_erasure

    cancelled = orders_cancel_for_erasure(subject_id=subject.subject_id)
    return {"licensing: orders awaiting payment, cancelled": cancelled} if cancelled else {}


data_map.register_eraser(
    "licensing: orders awaiting payment", erase_orders_awaiting_payment, order=32
)
