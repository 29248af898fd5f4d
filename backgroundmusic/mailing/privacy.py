"""The data map of the mailing app (mailing/models.py), its erasure and export, and the consent
listener that stops a person's queued newsletters."""

from backgroundmusic.privacy.kernel.registry import (
    Category,
    Clock,
    Erasure,
    ErasureSubject,
    LegalBasis,
    PersonalData,
    Purpose,
    Retentions,
    Source,
    Subjects,
    data_map,
    declare,
)

declare(
    "mailing.Campaign",
    subject="",
    subjects=(Subjects.STAFF,),
    personal={
        "created_by_id": PersonalData(
            category=Category.STAFF_ACTIONS,
            purpose=Purpose.NEWSLETTER,
            legal_basis=LegalBasis.LEGITIMATE_INTEREST,
            retention=Retentions.STAFF_AUDIT,
            erasure=Erasure.NULL,
            exportable=False,
            source=Source.GENERATED,
        )
    },
    not_personal=[
        "id",
        "subject_en",
        "subject_ru",
        "body_en",
        "body_ru",
        "status",
        "scheduled_for",
        "created_at",
        "updated_at",
        "started_at",
        "finished_at",
    ],
    clock=Clock(field="created_at"),
    note="The id of the newsletter editor who wrote the campaign (who did what is in the audit "
    "trail); emptied if they are erased, and a year after the campaign was created.",
)
declare(
    "mailing.CampaignMessage",
    subject="recipient",
    subjects=(Subjects.NEWSLETTER_SUBSCRIBERS,),
    personal={
        "recipient": PersonalData(
            category=Category.CONSENT,
            purpose=Purpose.NEWSLETTER,
            legal_basis=LegalBasis.CONSENT,
            retention=Retentions.NEWSLETTER_MESSAGES,
            erasure=Erasure.NULL,
            source=Source.GENERATED,
        )
    },
    not_personal=[
        "id",
        "campaign",
        "language",
        "subject",
        "status",
        "attempts",
        "claimed_at",
        "queued_at",
        "sent_at",
        "error",
    ],
    clock=Clock(field="queued_at"),
    note="Which newsletter went to the person, in which language, and whether it left; no "
    "address is stored (it is read from the account when the message is sent). Erasure and "
    "retention empty the recipient; the row then only counts a message of the campaign.",
)
declare(
    "mailing.UnsubscribeToken",
    subject="user",
    subjects=(Subjects.NEWSLETTER_SUBSCRIBERS,),
    personal={
        name: PersonalData(
            category=Category.UNIQUE_ID,
            purpose=Purpose.NEWSLETTER,
            legal_basis=LegalBasis.CONSENT,
            retention=Retentions.ACCOUNT,
            erasure=Erasure.DELETE,
            exportable=False,
            source=Source.GENERATED,
        )
        for name in ("user", "seed", "token_sha256", "created_at")
    },
    not_personal=["id"],
    clock=Clock(rule="account closed"),
    note="The person's one unsubscribe token (its seed and the SHA-256 it is found by), deleted "
    "with the account.",
)
declare(
    "mailing.Suppression",
    subject="",
    not_personal=["id", "address_digest", "reason", "at"],
    note="Addresses that bounced hard or complained, kept only as a keyed digest "
    "(privacy.kernel.pseudonyms.address_digest): it names nobody and cannot be turned back into "
    "the address, so it stays after erasure and the address is still never mailed again.",
)


def erase_campaign_author(*, subject: ErasureSubject) -> dict[str, int]:
    """Campaigns a newsletter editor wrote stay, no longer naming them."""
    from backgroundmusic.mailing.models import Campaign

    emptied = Campaign.objects.filter(created_by_id=subject.subject_id).update(created_by_id=None)
    return {"mailing.Campaign": emptied} if emptied else {}


def newsletter_consent_stopped(*, subject_id: int) -> None:
    from backgroundmusic.mailing.services import messages_cancel_for

    messages_cancel_for(subject_id=subject_id)


data_map.register_eraser(
    "mailing: author of campaigns", erase_campaign_author, order=67, models=["mailing.Campaign"]
)
data_map.register_consent_listener("newsletter", newsletter_consent_stopped)
