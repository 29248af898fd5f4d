"""Promotional text messages to the person's contact phone: a consent of its own (policy clause
3.2, apart from the newsletter by e-mail), which needs a phone in the profile, stops when the
phone is removed, and without which nothing is sent.

Here, in the center, because each of the three is a consent rule: the phone lives in accounts
(below the center), the sending in core.sms (below everything). A campaign, whatever composes it,
sends through `promotional_sms_send`, from its task, never within a request.
"""

from collections.abc import Mapping

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.selectors import contact_phone_of, has_contact_phone
from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.sms import send_sms
from backgroundmusic.privacy import consents
from backgroundmusic.privacy.models import ConsentMethod, ConsentPurpose, ConsentRecord


@transaction.atomic
def promotional_sms_consent_give(
    *, subject: AbstractBaseUser, method: str, evidence: Mapping[str, str] | None = None
) -> ConsentRecord:
    """Records the consent to promotional text messages; refused while the profile holds no
    contact phone to send them to."""
    if not has_contact_phone(user_id=subject.pk):
        raise DomainError(
            _("Add a contact phone to your profile first: text messages need a number to go to."),
            code="needs_phone",
        )
    return consents.consent_give(
        subject=subject, purpose=ConsentPurpose.PROMOTIONAL_SMS, method=method, evidence=evidence
    )


def promotional_sms_phone_missing(*, subject: AbstractBaseUser) -> bool:
    """Whether the consent cannot be given now for want of a contact phone."""
    return not has_contact_phone(user_id=subject.pk)


def promotional_sms_phone_removed(*, subject_id: int) -> None:
    """The person removed their contact phone from the profile form: the consent to text
    messages to it ends with it (the data map's contact listener, in the profile's
    transaction)."""
    subject = User.objects.filter(pk=subject_id).first()
    if subject is not None:
        consents.consent_withdraw(
            subject=subject,
            purpose=ConsentPurpose.PROMOTIONAL_SMS,
            method=ConsentMethod.FORM,
            evidence=consents.consent_evidence(reason=consents.REASON_PHONE_REMOVED),
        )


def promotional_sms_send(*, recipient: AbstractBaseUser, body: str) -> bool:
    """Sends one promotional text message to the person's contact phone if, now, they allow it
    (consents.consent_allows: given, not withdrawn, suspended or restricted) and have a phone.
    Returns whether it was sent; a refusal sends nothing and is not an error."""
    if not getattr(recipient, "is_active", False):
        return False
    if not consents.consent_allows(subject=recipient, purpose=ConsentPurpose.PROMOTIONAL_SMS):
        return False
    phone = contact_phone_of(user_id=recipient.pk)
    if not phone:
        return False
    send_sms(to=phone, body=body)
    return True
