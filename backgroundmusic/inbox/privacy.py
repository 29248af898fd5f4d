"""The inbox in the data map: the record of each letter (who sent it, as a keyed digest and, for
a verified account address, the account; when; what was done) and the letter itself, sealed.

Export: the person's letters (time, to which address, outcome) through the record's account.
Erasure: the kept letters are deleted, and the records lose every link to the person (account,
request, sender digest), keeping only that a letter came and what was done. Retention: the
letter 30 days after it arrived, the record's links a year after.
"""

from backgroundmusic.privacy.kernel.registry import (
    Category,
    Clock,
    Erasure,
    LegalBasis,
    PersonalData,
    Purpose,
    Retentions,
    Source,
    Subjects,
    data_map,
    declare,
)


def _record(category: Category, *, exportable: bool = True) -> PersonalData:
    return PersonalData(
        category=category,
        purpose=Purpose.LEGAL_COMPLIANCE,
        legal_basis=LegalBasis.LEGAL_OBLIGATION,
        retention=Retentions.INBOUND_RECORD,
        erasure=Erasure.NULL,
        exportable=exportable,
        source=Source.GENERATED,
    )


# Declared before the records: erasure's data-map steps run in declaration order, and the kept
# letters are found through the record's account, which the records' step empties.
declare(
    "inbox.InboundRawMessage",
    subject="message__subject",
    subjects=(Subjects.REQUESTERS,),
    personal={
        "sealed": PersonalData(
            category=Category.CONTACT_EMAIL,
            purpose=Purpose.LEGAL_COMPLIANCE,
            legal_basis=LegalBasis.LEGAL_OBLIGATION,
            retention=Retentions.INBOUND_LETTER,
            erasure=Erasure.DELETE,
            exportable=False,
            source=Source.PERSON,
        ),
    },
    not_personal=["id", "message", "received_at", "truncated"],
    clock=Clock(field="received_at"),
    note="The letter as it arrived, sealed under the master key, for staff to read while they "
    "answer it; a letter from an address of no account is found by nobody's export and leaves "
    "with its period.",
)
declare(
    "inbox.InboundMessage",
    subject="subject",
    subjects=(Subjects.REQUESTERS,),
    personal={
        "subject": _record(Category.UNIQUE_ID),
        "request": _record(Category.CONSENT),
        "sender_digest": _record(Category.UNIQUE_ID, exportable=False),
    },
    not_personal=[
        "id",
        "received_at",
        "mailbox",
        "message_id_digest",
        "content_digest",
        "outcome",
        "rejection",
        "confirmation_mailed_at",
    ],
    clock=Clock(field="received_at"),
    note="The account is set only when the sender's address is a verified address of it; the "
    "sender digest is a keyed hash (privacy.kernel.pseudonyms.address_digest), so a sender is "
    "told apart without keeping the address. Once the links are emptied the row names nobody.",
)


def _register_resealer() -> None:
    from backgroundmusic.inbox.services import raw_letters_reseal

    data_map.register_resealer("kept letters", raw_letters_reseal)


_register_resealer()
