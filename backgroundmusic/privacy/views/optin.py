"""The page of the link that confirms the newsletter (privacy/optin.py): GET shows it and changes
nothing (mail scanners open links), its button POSTs the confirmation. No sign-in: the signed
token is the proof, and it acts for its own person whoever is signed in."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from backgroundmusic.privacy import consents, optin
from backgroundmusic.privacy.models import ConsentPurpose
from backgroundmusic.privacy.optin import LinkOutcome

# What each outcome answers: the page is the same, its text and status differ.
STATUS = {
    LinkOutcome.READY: 200,
    LinkOutcome.CONFIRMED: 200,
    LinkOutcome.ALREADY_GIVEN: 200,
    LinkOutcome.USED: 410,
    LinkOutcome.EXPIRED: 410,
    LinkOutcome.ADDRESS_CHANGED: 410,
    LinkOutcome.INVALID: 400,
    LinkOutcome.RESTRICTED: 409,
}


def _message(outcome: LinkOutcome) -> str:
    return {
        LinkOutcome.READY: _(
            "Press the button to confirm that you want our newsletter at the address this link "
            "was sent to."
        ),
        LinkOutcome.CONFIRMED: _(
            "Thank you: you will receive our newsletter. You can withdraw this consent at any "
            "time in the privacy center or with the link in every newsletter."
        ),
        LinkOutcome.ALREADY_GIVEN: _(
            "You already receive our newsletter: nothing needed confirming, and nothing changed."
        ),
        LinkOutcome.USED: _(
            "This link was already used: each link works once. Nothing was changed. Ask for the "
            "newsletter again in the privacy center if you need to."
        ),
        LinkOutcome.EXPIRED: _(
            "This link has expired: links work for 7 days. Nothing was changed. Ask for the "
            "newsletter again in the privacy center."
        ),
        LinkOutcome.ADDRESS_CHANGED: _(
            "This link was sent to an address that is no longer the verified address of the "
            "account. Nothing was changed. Ask for the newsletter again in the privacy center: "
            "the new link goes to the current address."
        ),
        LinkOutcome.INVALID: _(
            "This link is not valid: it may be incomplete or altered. Nothing was changed. Copy "
            "the whole link from the message, or ask for a new one in the privacy center."
        ),
        LinkOutcome.RESTRICTED: _(
            "Processing of the account's data is restricted, which pauses newsletters, so the "
            "newsletter cannot be confirmed. Nothing was changed. Lift the restriction in the "
            "privacy center first, then ask for the newsletter again."
        ),
    }[outcome]


@require_http_methods(["GET", "POST"])
def optin_confirm(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        check = optin.newsletter_optin_confirm(
            token=token,
            request_evidence=consents.consent_evidence(
                request=request,
                wording=consents.consent_wording(purpose=ConsentPurpose.NEWSLETTER),
            ),
        )
    else:
        check = optin.confirmation_check(token=token)
    user = request.user
    other_account = (
        user.is_authenticated and check.subject_id is not None and user.pk != check.subject_id
    )
    response = render(
        request,
        "privacy/optin_confirm.html",
        {
            "outcome": str(check.outcome),
            "ready": check.outcome == LinkOutcome.READY,
            "message": _message(check.outcome),
            "other_account": other_account,
        },
        status=STATUS[check.outcome],
    )
    response["Referrer-Policy"] = "no-referrer"
    return response
