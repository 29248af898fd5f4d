from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from backgroundmusic.analytics.identity import identity_cookie_apply
from backgroundmusic.analytics.views import BEACON_PATH, beacon
from backgroundmusic.core.metrics import label_route


class AnalyticsBeaconMiddleware:
    """Answers /a/e itself, without the rest of the middleware chain (see views.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == BEACON_PATH:
            label_route(request, "analytics:beacon")
            return beacon(request)
        return self.get_response(request)


class AnalyticsIdentityMiddleware:
    """Keeps the bm_aid cookie in step with the visitor's analytics consent on every page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if (
            request.method == "GET"
            and response.status_code == 200
            and content_type.startswith("text/html")
        ):
            identity_cookie_apply(request, response)
        return response
