from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from backgroundmusic.staffroles.selectors import staff_has_two_factor, staff_is_member


class StaffTwoFactorMiddleware:
    """Staff open /staff/ and /admin/ only with an active TOTP authenticator.

    A staff member (any staff role, or is_staff) without one is sent to allauth's TOTP activation
    page. The staff permission selectors ask the same question, so an API or page outside these
    prefixes cannot skip it either.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(self._protected_prefixes()):
            user = request.user
            if (
                user.is_authenticated
                and staff_is_member(user=user)
                and not staff_has_two_factor(user=user)
            ):
                return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

    @staticmethod
    def _protected_prefixes() -> tuple[str, ...]:
        return (reverse("staff:people"), reverse("admin:index"))
