from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from backgroundmusic.core.logging import forget_personal_values
from backgroundmusic.privacy.kernel.keys import data_key_cache_scope


class DataKeyCacheMiddleware:
    """Opens each data key at most once per request, and forgets keys and masked values after."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with data_key_cache_scope():
            try:
                return self.get_response(request)
            finally:
                forget_personal_values()
