"""Context processor: the notice of a new policy edition, on every page (base.html)."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import get_language

from backgroundmusic.privacy.policies import PolicyNotice, policy_notice_for


class _LazyNotice:
    """Looked up only when a template uses it, at most once per request: templates call a
    callable context value when they resolve it."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request
        self._resolved = False
        self._notice: PolicyNotice | None = None

    def __call__(self) -> PolicyNotice | None:
        if not self._resolved:
            user = getattr(self._request, "user", None)
            if user is not None and user.is_authenticated:
                self._notice = policy_notice_for(user=user, language=get_language())
            self._resolved = True
        return self._notice


def policy_notice(request: HttpRequest) -> dict[str, Any]:
    """`policy_notice`: the edition a signed-in user has yet to acknowledge or accept, with its
    change summary and the consents it paused; None for everyone else. One query for a signed-in
    user, none for a visitor."""
    return {"policy_notice": _LazyNotice(request)}
