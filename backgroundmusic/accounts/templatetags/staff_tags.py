from django import template
from django.urls import reverse

from backgroundmusic.accounts import staff
from backgroundmusic.staffroles.selectors import (
    staff_may_handle_requests,
    staff_may_open_staff_pages,
    staff_may_publish_policy,
    staff_may_record_disclosures,
)

register = template.Library()


@register.filter
def may_open_staff_pages(user: object) -> bool:
    """{% if user|may_open_staff_pages %}: whether to show the "Staff" link."""
    return staff_may_open_staff_pages(user=user)  # type: ignore[arg-type]


@register.simple_tag
def staff_sections(user: object) -> list[staff.StaffSection]:
    """{% staff_sections user as sections %}: the staff pages the user may open."""
    return staff.staff_sections(actor=user)  # type: ignore[arg-type]


@register.simple_tag
def staff_nav_groups(user: object) -> list[staff.StaffNavGroup]:
    """{% staff_nav_groups user as groups %}: the staff pages the user may open, by group."""
    return staff.staff_nav_groups(actor=user)  # type: ignore[arg-type]


@register.simple_tag
def staff_start_url(user: object) -> str:
    """{% staff_start_url user %}: where the "Staff" link leads: the first staff page the user
    may open, or setting up two-factor sign-in, which every staff page needs first."""
    sections = staff.staff_sections(actor=user)  # type: ignore[arg-type]
    return reverse(sections[0].url_name) if sections else reverse("mfa_activate_totp")


# Data-subject requests and disclosures (privacy/views/requests.py, disclosures.py)


@register.filter
def may_handle_requests(user: object) -> bool:
    """{% if user|may_handle_requests %}: whether to show the "Requests" staff link."""
    return staff_may_handle_requests(actor=user)  # type: ignore[arg-type]


@register.filter
def may_record_disclosures(user: object) -> bool:
    """{% if user|may_record_disclosures %}: whether to show the "Disclosures" staff link."""
    return staff_may_record_disclosures(actor=user)  # type: ignore[arg-type]


# Policy editions (privacy/views/policies.py)


@register.filter
def may_publish_policy(user: object) -> bool:
    """{% if user|may_publish_policy %}: whether to show the "Policies" staff link."""
    return staff_may_publish_policy(actor=user)  # type: ignore[arg-type]
