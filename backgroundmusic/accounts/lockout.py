"""What django-axes counts failed logins against and files sign-in records under.

allauth hands Django's authenticate() either `username` or `email`, depending on what was typed
into its single "login" field. When the typed text names an account at that moment, axes stores
and counts the account's key ("account:<id>") instead of the text: every identifier of the
account (username, any e-mail address, any case) lands on one lockout counter, and the records
stay with the account that held the identifier when it was typed, whatever it is renamed to
later (docs/decisions/0013-sign-in-records-keyed-to-the-account.md). Text that names no account
is counted and stored as typed, lowercased (cut to the column's 255 characters).
"""

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.http import HttpRequest

from backgroundmusic.accounts.selectors import account_for_login

ACCOUNT_KEY_PREFIX = "account:"


def account_key(*, user_id: int) -> str:
    """The value axes stores as "username" for the account's attempts and sign-ins."""
    return f"{ACCOUNT_KEY_PREFIX}{user_id}"


def lockout_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    credentials = credentials or {}
    if credentials.get("email"):
        login, by_email = str(credentials["email"]), True
    elif credentials.get("username"):
        login, by_email = str(credentials["username"]), False
    else:
        posted = request.POST.get("login")
        if not posted:
            return None
        login, by_email = str(posted), "@" in str(posted)
    login = login.strip().lower()
    if not login:
        return None
    user_id = account_for_login(login=login, by_email=by_email)
    if user_id is not None:
        return account_key(user_id=user_id)
    # Nothing limits what is typed; the column does (PostgreSQL refuses longer text).
    return login[: AccessAttempt._meta.get_field("username").max_length]


class _SignedInAccount:
    """What axes' sign-in and sign-out handlers ask of the user: the name to file it under."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id

    def get_username(self) -> str:
        return account_key(user_id=self.user_id)


class AccountKeyedAxesHandler(AxesDatabaseHandler):
    """axes' database handler, with sign-ins and sign-outs (AccessLog) filed under the account
    key rather than the username the account has at that moment; failures already go through
    lockout_username (AXES_USERNAME_CALLABLE)."""

    def user_logged_in(self, sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
        super().user_logged_in(sender, request, _SignedInAccount(user.pk), **kwargs)

    def user_logged_out(self, sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
        signed_in = _SignedInAccount(user.pk) if user is not None else None
        super().user_logged_out(sender, request, signed_in, **kwargs)
