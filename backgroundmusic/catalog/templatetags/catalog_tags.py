from django import template
from django.utils.translation import gettext as _

from backgroundmusic.catalog.models import Facet
from backgroundmusic.catalog.selectors import facet_name as _facet_name
from backgroundmusic.staffroles.selectors import staff_may_manage_catalogue

register = template.Library()


@register.filter
def facet_name(facet: Facet) -> str:
    """{{ genre|facet_name }}: the name in the active language."""
    return _facet_name(facet)


@register.filter
def duration(seconds: float | None) -> str:
    """{{ 185.2|duration }} → "3:05"."""
    if seconds is None:
        return ""
    total = round(float(seconds))
    return f"{total // 60}:{total % 60:02d}"


@register.filter
def decibels(value: float | None) -> str:
    """One decimal with a real minus sign; "—" when not measured."""
    if value is None:
        return _("—")
    return f"{value:.1f}".replace("-", "−")


@register.filter
def may_manage_catalogue(user: object) -> bool:
    """{% if user|may_manage_catalogue %}: whether to show the catalogue staff links."""
    return staff_may_manage_catalogue(actor=user)  # type: ignore[arg-type]
