"""What sign-in and the profile add to the privacy services: rows no subject path finds.

Registered in accounts/privacy.py. The privacy app erases, exports and expires every declared
model with a subject path by itself (privacy/rights/); these handlers cover the rest:
sessions (found through allauth's UserSession rows), django-axes records (found by the account's
key, accounts/lockout.py), admin log entries that name the person's objects, and the
accounts that retention must erase.
"""

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import SESSION_KEY
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Q, QuerySet

from backgroundmusic.accounts.lockout import account_key
from backgroundmusic.accounts.models import Profile, SocialLink, User
from backgroundmusic.privacy.kernel.holds import held_left, held_persons, held_record_ids
from backgroundmusic.privacy.kernel.pseudonyms import subject_pseudonym
from backgroundmusic.privacy.kernel.registry import ErasureSubject, Retentions

AXES_MODELS: dict[str, type[AccessAttempt | AccessLog | AccessFailureLog]] = {
    "axes.AccessAttempt": AccessAttempt,
    "axes.AccessLog": AccessLog,
    "axes.AccessFailureLog": AccessFailureLog,
}


def _sign_in_rows(model: type[Model], subject_id: int) -> QuerySet[Model]:
    """The account's rows: axes files them under the account's key when what was typed named it
    at that moment (accounts/lockout.py). Rows under typed text name no account, or predate the
    key (decision 0013): they are nobody's here and leave under retention."""
    return model._default_manager.filter(username=account_key(user_id=subject_id))


def export_sign_in_records(*, subject_id: int) -> dict[str, list[Model]]:
    """The person's failed and successful sign-ins that django-axes keeps."""
    return {
        label: list(_sign_in_rows(model, subject_id).order_by("pk"))
        for label, model in AXES_MODELS.items()
    }


def erase_deactivate(*, subject: ErasureSubject) -> dict[str, int]:
    """First step: no sign-in, no staff rights, nothing done as the person from now on."""
    User.objects.filter(pk=subject.subject_id).update(
        is_active=False, is_staff=False, is_superuser=False
    )
    User.groups.through.objects.filter(user_id=subject.subject_id).delete()
    User.user_permissions.through.objects.filter(user_id=subject.subject_id).delete()
    return {}


def erase_sessions(*, subject: ErasureSubject) -> dict[str, int]:
    """Ends every session of the person: the session store's entry (which holds their id) and
    allauth's UserSession row that maps it."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    ended = stored = 0
    for session in UserSession.objects.filter(user_id=subject.subject_id):
        stored += int(store_class().exists(session.session_key))
        session.end()
        ended += 1
    counts = {"usersessions.UserSession": ended, "sessions.Session": stored}
    return {label: n for label, n in counts.items() if n}


def erase_sign_in_records(*, subject: ErasureSubject) -> dict[str, int]:
    """django-axes rows of the person's sign-ins, found by the account's key."""
    counts: Counter[str] = Counter()
    for model in AXES_MODELS.values():
        counts.update(_sign_in_rows(model, subject.subject_id).delete()[1])
    return {label: n for label, n in counts.items() if n}


def erase_admin_log_names(*, subject: ErasureSubject) -> dict[str, int]:
    """Admin log entries about the person's objects keep what was done, not their name."""
    objects: list[tuple[type[Model], Iterable[object]]] = [
        (User, [subject.subject_id]),
        (Profile, Profile.objects.filter(user_id=subject.subject_id).values_list("pk", flat=True)),
        (
            SocialLink,
            SocialLink.objects.filter(profile__user_id=subject.subject_id).values_list(
                "pk", flat=True
            ),
        ),
        (
            EmailAddress,
            EmailAddress.objects.filter(user_id=subject.subject_id).values_list("pk", flat=True),
        ),
    ]
    condition = Q(pk__in=[])
    for model, ids in objects:
        condition |= Q(
            content_type=ContentType.objects.get_for_model(model),
            object_id__in=[str(pk) for pk in ids],
        )
    changed = LogEntry.objects.filter(condition).exclude(object_repr="").update(object_repr="")
    return {"admin.LogEntry": changed} if changed else {}


def _before(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def destroy_old_sessions(*, now: datetime) -> dict[str, int]:
    """Sessions past Retentions.SESSION: allauth's UserSession rows not seen for that long are
    ended (with their session), those whose session is gone are dropped, and expired sessions
    leave the store (what `manage.py clearsessions` does, at the service's clock).

    A legal hold keeps a held person's sessions (their UserSession rows and the store's entries
    those name or whose data holds the person's id) and a session it names (with the UserSession
    row naming it); they are reported as held. A cache-backed store expires its entries itself:
    only their UserSession rows stay."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    cutoff = _before(now, Retentions.SESSION.days)
    held_rows = held_record_ids(UserSession._meta.label)
    held_keys = held_record_ids("sessions.Session")
    user_sessions = stored = held_user_sessions = 0
    for session in UserSession.objects.all():
        if str(session.pk) in held_rows:
            held_keys.add(session.session_key)
        exists = store_class().exists(session.session_key)
        if session.last_seen_at >= cutoff and exists:
            continue
        if str(session.pk) in held_rows or session.session_key in held_keys:
            held_user_sessions += 1
        elif session.last_seen_at < cutoff:
            stored += int(exists)
            session.end()
            user_sessions += 1
        else:
            session.delete()
            user_sessions += 1
    held_left(UserSession._meta.label, held_user_sessions)
    if hasattr(store_class, "get_model_class"):
        expired = store_class.get_model_class().objects.filter(expire_date__lt=now)
        kept = _held_session_keys(expired, store_class, held_keys)
        deleted, _by_model = expired.exclude(session_key__in=kept).delete()
        stored += deleted
        held_left("sessions.Session", len(kept))
    else:
        store_class.clear_expired()
    counts = {"usersessions.UserSession": user_sessions, "sessions.Session": stored}
    return {label: n for label, n in counts.items() if n}


def _held_session_keys(expired: QuerySet[Any], store_class: Any, held_keys: set[str]) -> set[str]:
    """The keys of expired stored sessions a hold keeps: those named, and those signed in as a
    held person (their data is decoded only while someone is held, so a quiet day reads none)."""
    kept = set(expired.filter(session_key__in=held_keys).values_list("session_key", flat=True))
    persons = {str(pk) for pk in held_persons()}
    if persons:
        for key, data in expired.exclude(session_key__in=kept).values_list(
            "session_key", "session_data"
        ):
            if str(store_class().decode(data).get(SESSION_KEY, "")) in persons:
                kept.add(key)
    return kept


def _not_erased(rows: Iterable[tuple[int, str]]) -> list[int]:
    # An erased account stays as a row named by its pseudonym (docs/decisions/0005-erasure.md).
    return [pk for pk, username in rows if username != subject_pseudonym(subject_id=pk)]


def unverified_signups(*, now: datetime) -> list[int]:
    """Sign-ups that never confirmed an e-mail address within Retentions.UNVERIFIED_SIGNUP."""
    verified = EmailAddress.objects.filter(verified=True).values("user_id")
    rows = (
        User.objects.filter(
            is_active=True,
            is_staff=False,
            is_superuser=False,
            groups__isnull=True,
            date_joined__lt=_before(now, Retentions.UNVERIFIED_SIGNUP.days),
        )
        .exclude(pk__in=verified)
        .values_list("pk", "username")
    )
    return _not_erased(rows)


def closed_accounts(*, now: datetime) -> list[int]:
    """Accounts closed (deactivated) for longer than Retentions.ACCOUNT.

    The user row records no closing date yet, so the last sign-in (or the sign-up, for an
    account never used) stands for it: an account is due once it has been inactive and unused
    for the whole period. Orders and licence agreements do not hold it back: erasure keeps them
    under the pseudonym until their own keep_until (licensing/privacy.py).
    """
    cutoff = _before(now, Retentions.ACCOUNT.days)
    rows = (
        User.objects.filter(is_active=False, date_joined__lt=cutoff)
        .filter(Q(last_login__isnull=True) | Q(last_login__lt=cutoff))
        .values_list("pk", "username")
    )
    return _not_erased(rows)
