"""The unsubscribe page /mail/unsubscribe/<token>/ (RFC 8058): a mail client POSTs
"List-Unsubscribe=One-Click" to it with no cookie; a person who opens the link gets a page with
one button that makes the same POST (link scanners only GET, so a GET changes nothing)."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from backgroundmusic.mailing import services
from backgroundmusic.privacy.consents import consent_evidence


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        # The page's button and a mail client send the same POST: the evidence is the request's.
        if not services.unsubscribe_one_click(
            token=token, evidence=consent_evidence(request=request)
        ):
            raise Http404
        return render(request, "mailing/unsubscribe.html", {"done": True, "token": token})
    if services.unsubscribe_owner(token=token) is None:
        raise Http404
    return render(request, "mailing/unsubscribe.html", {"done": False, "token": token})
