from django import template

from backgroundmusic.accounts import staff

register = template.Library()


@register.filter
def may_open_staff_pages(user: object) -> bool:
    """{% if user|may_open_staff_pages %}: whether to show the "Staff" link."""
    return staff.staff_may_open_staff_pages(user=user)  # type: ignore[arg-type]


# --- data-subject requests and disclosures (privacy/views/requests.py, disclosures.py) ---


@register.filter
def may_handle_requests(user: object) -> bool:
    """{% if user|may_handle_requests %}: whether to show the "Requests" staff link."""
    return staff.staff_may_handle_requests(actor=user)  # type: ignore[arg-type]


@register.filter
def may_record_disclosures(user: object) -> bool:
    """{% if user|may_record_disclosures %}: whether to show the "Disclosures" staff link."""
    return staff.staff_may_record_disclosures(actor=user)  # type: ignore[arg-type]


# --- end data-subject requests and disclosures ---


# --- policy editions (privacy/views/policies.py) ---


@register.filter
def may_publish_policy(user: object) -> bool:
    """{% if user|may_publish_policy %}: whether to show the "Policies" staff link."""
    return staff.staff_may_publish_policy(actor=user)  # type: ignore[arg-type]


# --- end policy editions ---
