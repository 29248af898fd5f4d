from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from backgroundmusic.core.request_info import privacy_signals
from backgroundmusic.privacy import consents

# Session key holding the id of the user whose GPC signal this session has already recorded.
GPC_SEEN_SESSION_KEY = "privacy_gpc_recorded_for"


class PrivacySignalsMiddleware:
    """Records `Sec-GPC: 1` from a signed-in person as an opt-out of research (method gpc).

    At most once per session: after the first recording the session remembers it, so other
    requests cost nothing (the service itself writes only when the latest research record is not
    already a withdrawal). `DNT: 1` needs no recording: consent_allows reads it per request.
    Must come after AuthenticationMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if privacy_signals(request).gpc:
            user = request.user
            if user.is_authenticated and request.session.get(GPC_SEEN_SESSION_KEY) != user.pk:
                consents.consent_record_gpc(subject=user, request=request)
                request.session[GPC_SEEN_SESSION_KEY] = user.pk
        return self.get_response(request)
