"""The public check of a certificate, /verify/<public_id>/: anyone holding the id (a platform,
an inspector, a client) sees whether the licence is in force and what it covers. Rate-limited per
address, so ids cannot be tried by the thousand; never indexed."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from backgroundmusic.core import clock
from backgroundmusic.core.ratelimits import rate_limited
from backgroundmusic.licensing.certificates import certificate_by_public_id, certificate_facts


def _noindex(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_GET
@rate_limited("certificate_verify")
def verify(request: HttpRequest, public_id: str) -> HttpResponse:
    certificate = certificate_by_public_id(public_id=public_id)
    if certificate is None:
        return _noindex(render(request, "licensing/verify_unknown.html", status=404))
    now = clock.now()
    facts = certificate_facts(certificate=certificate, now=now, language=get_language() or "en")
    return _noindex(render(request, "licensing/verify.html", {"facts": facts, "checked_at": now}))
