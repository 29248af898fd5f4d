"""Reads of the mailing app that carry a rule: who receives a newsletter now."""

from collections.abc import Iterable
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db.models import Count

from backgroundmusic.mailing.models import Campaign, MessageStatus, Suppression
from backgroundmusic.privacy.consents import subject_ids_allowed
from backgroundmusic.privacy.kernel.pseudonyms import address_digest
from backgroundmusic.privacy.models import ConsentPurpose

LANGUAGES = {code for code, _name in settings.LANGUAGES}


@dataclass(frozen=True)
class NewsletterRecipient:
    user_id: int
    address: str
    language: str


def suppressed_digests() -> set[str]:
    return set(Suppression.objects.values_list("address_digest", flat=True))


def address_is_suppressed(*, address: str) -> bool:
    return Suppression.objects.filter(address_digest=address_digest(address=address)).exists()


def newsletter_recipients(
    *, subject_ids: Iterable[int] | None = None
) -> dict[int, NewsletterRecipient]:
    """THE audience of a newsletter, asked when a campaign starts and again when each message is
    about to leave: people whose newsletter consent allows it now (privacy.consents: given, not
    withdrawn, not suspended by a new edition, processing not restricted), with an active account
    and a verified primary address that is not suppressed; each in the language of their profile.
    `subject_ids` narrows the question to these people (None: everyone)."""
    allowed = subject_ids_allowed(purpose=ConsentPurpose.NEWSLETTER, subject_ids=subject_ids)
    if not allowed:
        return {}
    addresses = EmailAddress.objects.filter(
        primary=True, verified=True, user__is_active=True
    ).values_list("user_id", "email", "user__profile__language")
    if subject_ids is not None:
        addresses = addresses.filter(user_id__in=sorted(allowed))
    suppressed = suppressed_digests()
    recipients = {}
    for user_id, address, language in addresses.order_by("user_id").iterator(chunk_size=2000):
        if user_id not in allowed or not address:
            continue
        if suppressed and address_digest(address=address) in suppressed:
            continue
        recipients[user_id] = NewsletterRecipient(
            user_id=user_id,
            address=address,
            language=language if language in LANGUAGES else settings.LANGUAGE_CODE,
        )
    return recipients


def campaign_counts(*, campaign: Campaign) -> dict[str, int]:
    """How many of the campaign's messages are in each status (every status named, 0 or more)."""
    counts = dict.fromkeys(MessageStatus.values, 0)
    rows = campaign.messages.values_list("status").annotate(n=Count("pk")).order_by()
    counts.update(dict(rows))
    return counts
