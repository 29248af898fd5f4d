"""Times on staff pages: in the controller's time zone, always saying which."""

from datetime import date, datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString

from backgroundmusic.core.clock import CONTROLLER_TIME_ZONE

register = template.Library()


def utc_offset_label(moment: datetime) -> str:
    """ "UTC+3", "UTC+5:30", "UTC-2", "UTC" for an aware moment."""
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02}" if rest else "")


@register.filter
def zoned_time(moment: datetime | date | None) -> SafeString | str:
    """{{ event.at|zoned_time }}: "4 December 2026, 21:05 UTC+3" ("4 декабря 2026, 21:05 UTC+3")
    in a <time> element; a date alone as "4 December 2026"; "" for none."""
    if moment is None:
        return ""
    if not isinstance(moment, datetime):
        return format_html(
            '<time datetime="{}">{}</time>', moment.isoformat(), date_format(moment, "j E Y")
        )
    local = timezone.localtime(moment, CONTROLLER_TIME_ZONE)
    return format_html(
        '<time datetime="{}">{} {}</time>',
        local.isoformat(timespec="seconds"),
        date_format(local, "j E Y, H:i"),
        utc_offset_label(local),
    )
