"""Tags for printable documents and the pages that show them."""

from django import template
from django.utils.safestring import SafeString

from backgroundmusic.core.documents import qr_svg

register = template.Library()


@register.simple_tag
def qr_code(data: str, label: str | None = None) -> SafeString:
    """`{% qr_code url label=_("…") %}`: the QR code of `data` as inline SVG (core.documents)."""
    return qr_svg(data, label=label)
