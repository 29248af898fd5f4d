"""The cookie banner's one question (has this visitor still to choose?) and its wording."""

from typing import Any

from django import template
from django.urls import reverse

from backgroundmusic.core.request_info import privacy_signals
from backgroundmusic.privacy import consents, cookies

register = template.Library()


@register.simple_tag(takes_context=True)
def cookie_banner_wanted(context: Any) -> bool:
    """True until the visitor has chosen (consents.visitor_has_chosen). Not on /cookies/ itself
    (the full choice is there), and not when the browser sends Do Not Track: that already is the
    answer (analytics refused)."""
    request = context.get("request")
    if request is None:
        return False
    if request.path == reverse("privacy:cookies") or privacy_signals(request).dnt:
        return False
    return not consents.visitor_has_chosen(request=request)


@register.simple_tag
def cookie_banner_wording() -> str:
    """The banner's text, the same the evidence of a choice made on it quotes."""
    return str(cookies.BANNER_WORDING)
