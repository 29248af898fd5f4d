"""POST /payments/<provider>/notifications: the providers' webhooks.

No session, no CSRF token (the provider is not a browser), a rate limit per address and a size
limit. The body is trusted for nothing but the event and the object id, which licensing.billing
reads back from the provider. Every notification it could read is answered 200, also when it
changed nothing (a replay, an unknown payment), so that the provider stops sending it; 503 when
the provider could not be asked (it sends the notification again later); 400 for a body that is
no notification; 413 for a body too large; 404 for a provider that is not enabled."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from backgroundmusic.core.ratelimits import rate_limit_hit
from backgroundmusic.licensing import billing
from backgroundmusic.licensing.payments import ProviderNotEnabled
from backgroundmusic.licensing.payments.base import NotificationRejected

MAX_BODY_BYTES = 64 * 1024


def _answer(status: int, outcome: str) -> JsonResponse:
    return JsonResponse({"outcome": outcome}, status=status)


@csrf_exempt
@require_POST
def notification(request: HttpRequest, provider: str) -> HttpResponse:
    refusal = rate_limit_hit(request, scope="payment_notifications")
    if refusal is not None:
        response = _answer(429, "rate_limited")
        response["Retry-After"] = str(refusal.retry_after)
        return response
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _answer(400, "bad_length")
    if declared > MAX_BODY_BYTES:
        return _answer(413, "too_large")
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return _answer(413, "too_large")
    try:
        received = billing.notification_receive(
            provider_name=provider, body=body, headers=dict(request.headers)
        )
    except ProviderNotEnabled:
        return _answer(404, "unknown_provider")
    except NotificationRejected as refused:
        return _answer(400, refused.code)
    outcome = received.notification.outcome
    return _answer(503 if received.retry_later else 200, outcome)
