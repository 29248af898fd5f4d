"""The identified mode: the bm_aid cookie's pseudonym and its link to an account.

With analytics consent (privacy/consents.py `visitor_allows`), a page response makes sure the
browser holds a random pseudonym in bm_aid; for a signed-in person, AnalyticsIdentity links it
to the account (the only link: no analytics row names a user). Without consent, under Do Not
Track or while processing is restricted, the cookie is deleted on the next page.

The cookie holds the pseudonym with the server's signature ("pseudonym:signature", Django's
Signer under its own salt), so only pseudonyms this server issued count: a beacon whose cookie
is made up or altered is a cookieless visit, and the next page replaces that cookie. Without
the signature one client could send any number of made-up pseudonyms and appear as that many
visitors, lifting a chosen row over the statistics' hiding threshold. Checking a signature
needs no database query on the beacon path. Rows store the bare pseudonym, never the signature.
"""

import re
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponseBase

from backgroundmusic.analytics.models import AnalyticsIdentity
from backgroundmusic.core import clock
from backgroundmusic.privacy import consents, cookies
from backgroundmusic.privacy.models import ConsentPurpose

# secrets.token_urlsafe(16): 22 characters of the URL-safe alphabet.
PSEUDONYM = re.compile(r"^[A-Za-z0-9_-]{22}$")
# The pseudonym, Signer's separator and its HMAC-SHA256 signature (43 URL-safe characters). The
# shape is checked before the signature, so no other text reaches the HMAC.
COOKIE_VALUE = re.compile(r"^[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{43}$")
SIGNING_SALT = "analytics.identity.pseudonym"
SESSION_KEY = "analytics_linked_pseudonym"


def cookie_value_for(pseudonym: str) -> str:
    """The bm_aid value that proves the server issued this pseudonym."""
    return signing.Signer(salt=SIGNING_SALT).sign(pseudonym)


def pseudonym_from_cookie(value: str) -> str:
    """The pseudonym of a bm_aid value whose signature holds, or ""."""
    if not COOKIE_VALUE.match(value):
        return ""
    try:
        return signing.Signer(salt=SIGNING_SALT).unsign(value)
    except signing.BadSignature:
        return ""


def pseudonym_in(request: HttpRequest) -> str:
    """The server-issued pseudonym of the request's bm_aid cookie, or ""."""
    return pseudonym_from_cookie(request.COOKIES.get(cookies.ANALYTICS_COOKIE, ""))


def identified_pseudonym(request: HttpRequest) -> str:
    """The pseudonym a beacon's events may carry: the cookie's, when this browser's consent
    cookie allows analytics and Do Not Track is off; else "". The account behind it is checked
    when the events are written (buffer.py), so a beacon needs no session."""
    pseudonym = pseudonym_in(request)
    if not pseudonym or request.headers.get("DNT") == "1":
        return ""
    choice = cookies.cookie_choice(request)
    return pseudonym if choice is not None and choice.analytics else ""


def identity_link(*, user_id: int, pseudonym: str) -> bool:
    """Links the pseudonym to the account; False when it already belongs to someone else."""
    try:
        with transaction.atomic():
            link, _created = AnalyticsIdentity.objects.get_or_create(
                pseudonym=pseudonym, defaults={"user_id": user_id, "linked_at": clock.now()}
            )
    except IntegrityError:
        link = AnalyticsIdentity.objects.get(pseudonym=pseudonym)
    return link.user_id == user_id


def pseudonyms_not_allowed(pseudonyms: set[str]) -> set[str]:
    """Among these pseudonyms, those linked to an account that may not be identified now
    (analytics consent withdrawn or suspended, processing restricted, account gone)."""
    links = dict(
        AnalyticsIdentity.objects.filter(pseudonym__in=pseudonyms).values_list(
            "pseudonym", "user_id"
        )
    )
    users = {
        user.pk: user
        for user in get_user_model()._default_manager.filter(pk__in=set(links.values()))
    }
    allowed_users = {
        pk
        for pk, user in users.items()
        if user.is_active
        and consents.consent_allows(subject=user, purpose=ConsentPurpose.ANALYTICS)
    }
    return {pseudonym for pseudonym, user_id in links.items() if user_id not in allowed_users}


def identity_cookie_apply(request: HttpRequest, response: HttpResponseBase) -> None:
    """Sets, keeps or deletes bm_aid on a page response, as the visitor's consent says."""
    present = pseudonym_in(request)
    allowed = consents.visitor_allows(request=request, purpose=ConsentPurpose.ANALYTICS)
    if not allowed:
        if cookies.ANALYTICS_COOKIE in request.COOKIES:
            response.delete_cookie(cookies.ANALYTICS_COOKIE, samesite="Lax")
        return
    pseudonym = present or secrets.token_urlsafe(16)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        session = getattr(request, "session", None)
        if session is None or session.get(SESSION_KEY) != pseudonym:
            if not identity_link(user_id=user.pk, pseudonym=pseudonym):
                # This browser's pseudonym belongs to another account: start a new one.
                pseudonym = secrets.token_urlsafe(16)
                identity_link(user_id=user.pk, pseudonym=pseudonym)
            if session is not None:
                session[SESSION_KEY] = pseudonym
    # Also replaces a cookie that is not the server's (present is then "").
    if pseudonym != present:
        response.set_cookie(
            cookies.ANALYTICS_COOKIE,
            cookie_value_for(pseudonym),
            max_age=cookies.ANALYTICS_COOKIE_AGE,
            secure=settings.HTTPS,
            httponly=True,
            samesite="Lax",
        )
