"""The identified mode: the bm_aid cookie's pseudonym and its link to an account.

With analytics consent (privacy/consents.py `visitor_allows`), a page response makes sure the
browser holds a random pseudonym in bm_aid; for a signed-in person, AnalyticsIdentity links it
to the account (the only link: no analytics row names a user). Without consent, under Do Not
Track or while processing is restricted, the cookie is deleted on the next page.
"""

import re
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponseBase

from backgroundmusic.analytics.models import AnalyticsIdentity
from backgroundmusic.core import clock
from backgroundmusic.privacy import consents, cookies
from backgroundmusic.privacy.models import ConsentPurpose

# secrets.token_urlsafe(16): 22 characters of the URL-safe alphabet.
PSEUDONYM = re.compile(r"^[A-Za-z0-9_-]{22}$")
SESSION_KEY = "analytics_linked_pseudonym"


def pseudonym_in(request: HttpRequest) -> str:
    """The well-formed pseudonym of the request's bm_aid cookie, or ""."""
    value = request.COOKIES.get(cookies.ANALYTICS_COOKIE, "")
    return value if PSEUDONYM.match(value) else ""


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
    if pseudonym != present:
        response.set_cookie(
            cookies.ANALYTICS_COOKIE,
            pseudonym,
            max_age=cookies.ANALYTICS_COOKIE_AGE,
            secure=settings.HTTPS,
            httponly=True,
            samesite="Lax",
        )
