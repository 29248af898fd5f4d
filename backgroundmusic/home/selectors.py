"""What a signed-in person could do next, as far as cheap reads can tell: confirm the e-mail
address, complete the profile a licence names them by, get a first licence, renew one that is
ending. (A new edition of the user agreement or the privacy policy waiting for them is the
notice every page shows: privacy/policies_context.py.)"""

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.selectors import profile_incomplete, verified_primary_address
from backgroundmusic.licensing.models import Agreement
from backgroundmusic.licensing.renewals import RenewalState, renewal_offers


@dataclass(frozen=True)
class NextStep:
    kind: str  # "verify_email" | "profile" | "first_licence" | "renew"
    text: str
    url: str
    action: str  # the link's text


def next_steps(*, user: User, now: datetime) -> list[NextStep]:
    """The person's next steps, most pressing first. Three queries, five with a subscription."""
    steps: list[NextStep] = []
    current = list(
        Agreement.objects.filter(
            user_id=user.pk,
            status__in=[Agreement.Status.ACTIVE, Agreement.Status.SUSPENDED],
        )
        .select_related("plan_edition")
        .order_by("paid_until", "pk")
    )
    offers = renewal_offers(agreements_shown=current, now=now)
    for agreement in current:
        if offers[agreement.pk].state != RenewalState.OPEN or agreement.paid_until is None:
            continue
        steps.append(
            NextStep(
                kind="renew",
                text=_("Your licence %(number)s is paid until %(date)s.")
                % {
                    "number": agreement.number,
                    "date": date_format(localtime(agreement.paid_until), "DATE_FORMAT"),
                },
                url=reverse("licensing:licence", args=[agreement.number]),
                action=_("Renew it"),
            )
        )
    if verified_primary_address(user_id=user.pk) is None:
        steps.append(
            NextStep(
                kind="verify_email",
                text=_("Your e-mail address is not confirmed yet: we send licences there."),
                url=reverse("account_email"),
                action=_("Confirm the address"),
            )
        )
    if profile_incomplete(user_id=user.pk):
        steps.append(
            NextStep(
                kind="profile",
                text=_("Your profile has no name to put on a licence agreement yet."),
                url=reverse("accounts:profile"),
                action=_("Complete the profile"),
            )
        )
    if not current:
        steps.append(
            NextStep(
                kind="first_licence",
                text=_("You have no licence in force: choose a plan to play and use the tracks."),
                url=reverse("licensing:pricing"),
                action=_("See the plans"),
            )
        )
    return steps
