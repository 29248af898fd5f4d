"""What django-axes counts failed logins against.

allauth hands Django's authenticate() either `username` or `email`, depending on what was typed
into its single "login" field; both must land on the same counter, case-insensitively.
"""

from typing import Any

from django.http import HttpRequest


def lockout_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    credentials = credentials or {}
    login = credentials.get("username") or credentials.get("email") or request.POST.get("login")
    return str(login).strip().lower() if login else None
