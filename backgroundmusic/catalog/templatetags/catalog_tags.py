from collections.abc import Sequence

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from backgroundmusic.catalog import selectors
from backgroundmusic.catalog.models import Facet, Tag, Track
from backgroundmusic.catalog.selectors import FacetCount
from backgroundmusic.catalog.selectors import facet_name as _facet_name
from backgroundmusic.staffroles.selectors import staff_may_manage_catalogue

register = template.Library()


@register.filter
def facet_name(facet: Facet) -> str:
    """{{ genre|facet_name }}: the name in the active language."""
    return _facet_name(facet)


@register.filter
def track_title(track: Track) -> str:
    """{{ track|track_title }}: the title in the active language."""
    return selectors.track_title(track)


@register.filter
def track_description(track: Track) -> str:
    """{{ track|track_description }}: the description in the active language."""
    return selectors.track_description(track)


@register.filter
def tag_name(tag: Tag) -> str:
    """{{ tag|tag_name }}: the name in the active language."""
    return selectors.tag_name(tag)


@register.simple_tag
def facet_checkboxes(facets: Sequence[FacetCount], name: str) -> SafeString:
    """{% facet_checkboxes result.facets.genres "genre" %}: a labelled checkbox with its count for
    every value of one facet. Built here: a catalogue page has about fifty of them, and a template
    loop over them took a millisecond of every page. Each has an id, so htmx gives the focus
    back to the box just ticked when the listing is swapped."""
    checked = mark_safe(" checked")
    return format_html_join(
        "",
        '<label><input type="checkbox" name="{}" value="{}" id="facet-{}-{}"{}> {} '
        '<span class="count">({})</span></label>',
        (
            (name, f.slug, name, f.slug, checked if f.selected else "", f.name, f.count)
            for f in facets
        ),
    )


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
