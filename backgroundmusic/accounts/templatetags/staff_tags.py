from django import template

from backgroundmusic.accounts import staff

register = template.Library()


@register.filter
def may_open_staff_pages(user: object) -> bool:
    """{% if user|may_open_staff_pages %}: whether to show the "Staff" link."""
    return staff.staff_may_open_staff_pages(user=user)  # type: ignore[arg-type]
