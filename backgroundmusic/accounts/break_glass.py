"""Break glass: superuser status for a stated reason and a bounded time, recorded.

No staff role makes anyone a superuser, and the staff pages ignore superuser status (staff.py):
it only opens the Django admin to every change it offers, e.g. giving roles. An operator with a
shell on the server gives it with `manage.py break_glass grant` and takes it back with `revoke`;
the every-minute job `end_break_glass` (recurring.py) ends grants at their expiry and takes
superuser status from anyone who holds it without an open grant (e.g. made by createsuperuser).
Every grant and its end are append-only rows (BreakGlassGrant, BreakGlassEnd). docs/operations.md
"Break glass" is the procedure.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet

from backgroundmusic.accounts.models import BreakGlassEnd, BreakGlassGrant, User
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError
from backgroundmusic.core.text import check_text

logger = logging.getLogger(__name__)

MAX_MINUTES = 8 * 60


def open_grants() -> QuerySet[BreakGlassGrant]:
    return BreakGlassGrant.objects.filter(end__isnull=True)


def _locked_user(username: str) -> User:
    user = User.objects.select_for_update().filter(username=username).first()
    if user is None:
        raise DomainError(f"There is no account with the username {username!r}.", code="no_user")
    return user


def _end(grant: BreakGlassGrant, *, how: str, reason: str = "", operator: str = "") -> None:
    BreakGlassEnd.objects.create(
        grant=grant, how=how, reason=reason, operator=operator, at=clock.now()
    )
    user = grant.user
    user.is_superuser = False
    user.is_staff = grant.was_staff
    user.save(update_fields=["is_superuser", "is_staff"])
    logger.warning("break glass: grant %s for user %s %s", grant.pk, user.pk, how)


@transaction.atomic
def break_glass_grant(
    *, username: str, reason: str, minutes: int, operator: str
) -> BreakGlassGrant:
    """Makes the account a superuser (and lets it into the Django admin) for `minutes`."""
    # argv decodes bytes that are not UTF-8 into lone surrogates, which no database can store.
    reason = check_text(reason.strip())
    if not reason:
        raise DomainError("Give the reason for breaking the glass.", code="no_reason")
    if not 1 <= minutes <= MAX_MINUTES:
        raise DomainError(
            f"The grant lasts from 1 to {MAX_MINUTES} minutes, not {minutes}.",
            code="minutes_out_of_range",
        )
    user = _locked_user(username)
    if not user.is_active:
        raise DomainError(f"The account {username!r} is not active.", code="inactive_user")
    current = open_grants().filter(user=user).first()
    if current is not None:
        raise DomainError(
            f"{username!r} already holds grant #{current.pk} until "
            f"{current.expires_at:%Y-%m-%d %H:%M} UTC; revoke it first.",
            code="already_granted",
        )
    now = clock.now()
    grant = BreakGlassGrant.objects.create(
        user=user,
        reason=reason,
        operator=operator,
        was_staff=user.is_staff,
        granted_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    user.is_superuser = True
    user.is_staff = True
    user.save(update_fields=["is_superuser", "is_staff"])
    logger.warning("break glass: grant %s for user %s for %s minutes", grant.pk, user.pk, minutes)
    return grant


@transaction.atomic
def break_glass_revoke(*, username: str, reason: str, operator: str) -> BreakGlassGrant:
    """Ends the account's open grant now."""
    user = _locked_user(username)
    grant = open_grants().filter(user=user).first()
    if grant is None:
        raise DomainError(f"{username!r} holds no open grant.", code="no_grant")
    reason = check_text(reason.strip())
    _end(grant, how=BreakGlassEnd.How.REVOKED, reason=reason, operator=operator)
    return grant


@transaction.atomic
def break_glass_end_due() -> int:
    """Ends every grant past its expiry and takes superuser status from anyone who holds it
    without an open grant; returns how many accounts lost it."""
    now = clock.now()
    due = list(
        open_grants()
        .filter(expires_at__lte=now)
        .select_related("user")
        .select_for_update(of=("self",))
    )
    for grant in due:
        _end(grant, how=BreakGlassEnd.How.EXPIRED)
    unheld = list(
        User.objects.select_for_update()
        .filter(is_superuser=True)
        .exclude(pk__in=open_grants().values("user"))
    )
    for user in unheld:
        user.is_superuser = False
        user.save(update_fields=["is_superuser"])
        logger.warning("break glass: user %s was a superuser without a grant; no longer", user.pk)
    return len(due) + len(unheld)
