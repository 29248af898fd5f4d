"""Labels for the names Django makes up when a model field or model names none ("updated at"
from updated_at): untranslated, and sometimes an abbreviation nobody should have to read ("due
ru"). The access package shows these instead (package.py); a name written in the model wins."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

AUTOMATIC_NAMES: dict[str, Any] = {
    "action": _("action"),
    "at": _("time"),
    "campaign": _("newsletter"),
    "categories": _("kinds of data"),
    "channel": _("received by"),
    "claimed at": _("sending started at"),
    "closed at": _("closed at"),
    "confirmation mailed at": _("confirmation e-mailed at"),
    "confirmed at": _("confirmed at"),
    "country": _("country"),
    "created at": _("created at"),
    "data": _("extra data"),
    "disclosed on": _("disclosed on"),
    "due gdpr": _("deadline under the GDPR"),
    "due ru": _("deadline under Russian law"),
    "edition": _("edition"),
    "edition hash": _("policy edition"),
    "evidence": _("evidence"),
    "expires at": _("expires at"),
    "extended due ru": _("extended deadline under Russian law"),
    "extension reason": _("reason for the extension"),
    "fields": _("data shown"),
    "grant": _("grant"),
    "granted at": _("granted at"),
    "handled by id": _("handled by staff member no."),
    "how": _("how it ended"),
    "identity": _("identity check"),
    "incident": _("incident"),
    "ip": _("IP address"),
    "ip truncated": _("shortened IP address"),
    "kind": _("kind"),
    "last seen at": _("last seen at"),
    "last used at": _("last used at"),
    "legal basis": _("legal basis"),
    "legal hold reason": _("reason for the legal hold"),
    "legal hold until": _("legal hold until"),
    "lifted at": _("lifted at"),
    "lifted method": _("lifted by"),
    "linked at": _("linked at"),
    "method": _("how it was given"),
    "operator": _("server account"),
    "outcome": _("outcome"),
    "position": _("position"),
    "profile": _("profile"),
    "pseudonym": _("pseudonym"),
    "public fields": _("data shown publicly"),
    "purpose": _("purpose"),
    "reason": _("reason"),
    "received at": _("received at"),
    "recipient": _("recipient"),
    "recipient name": _("recipient's name"),
    "recorded at": _("recorded at"),
    "recorded by id": _("recorded by staff member no."),
    "reference document": _("reference document"),
    "rejection": _("reason for rejection"),
    "rendition": _("file"),
    "request": _("request"),
    "requested at": _("requested at"),
    "requested via": _("requested through"),
    "requester contact": _("contact of the requester"),
    "sent at": _("sent at"),
    "started at": _("started at"),
    "started method": _("started by"),
    "status": _("status"),
    "subject": _("account"),
    "subject id": _("account number"),
    "subject pseudonym": _("pseudonym"),
    "track": _("track"),
    "type": _("type"),
    "updated at": _("updated at"),
    "user": _("account"),
    "user agent": _("browser"),
    "user agent family": _("browser family"),
    "view id": _("page view number"),
    "visitor key": _("visitor key"),
    "was staff": _("was a staff member"),
    # Models without a verbose name of their own.
    "profiles": _("profiles"),
    "social links": _("social-network links"),
    "public profile choices": _("public profile choices"),
    "break glass grants": _("emergency administrator access"),
    "break glass ends": _("ends of emergency administrator access"),
    "policy acceptances": _("acceptances of the terms and policy"),
    "consent records": _("consents"),
    "consent confirmations": _("consents waiting for confirmation"),
    "processing restrictions": _("restrictions of processing"),
    "data subject requests": _("requests about your data"),
    "disclosures": _("disclosures"),
    "staff access log entries": _("staff reads of your data"),
    "analytics identitys": _("analytics identifiers"),
    "authenticators": _("two-factor sign-in methods"),
    "user sessions": _("sessions"),
    "log entries": _("administration log entries"),
}


def translated(name: Any) -> str:
    """A verbose name in the current language. Looked up by its English text: a made-up plural
    ("analytics identitys") is lazy too, built from the translated singular."""
    with override("en"):
        english = str(name)
    if english in AUTOMATIC_NAMES:
        return str(AUTOMATIC_NAMES[english])
    return str(name)
