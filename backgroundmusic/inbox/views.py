"""The page of the link that confirms a request sent by e-mail: GET shows what will be confirmed
and a button (mail scanners follow links, so a GET changes nothing); POST confirms."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from backgroundmusic.core.errors import DomainError
from backgroundmusic.inbox import services


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "POST":
            message = services.inbound_confirm(token=token)
            return render(request, "inbox/confirm_done.html", {"request_id": message.request_id})
        message = services.confirmation_pending(token=token)
    except DomainError as refused:
        return render(
            request, "inbox/confirm_refused.html", {"reason": refused.message}, status=410
        )
    return render(
        request,
        "inbox/confirm.html",
        {
            "request_id": message.request_id,
            "kind": message.request.get_kind_display() if message.request else "",
        },
    )
