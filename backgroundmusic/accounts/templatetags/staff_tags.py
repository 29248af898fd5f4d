from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from backgroundmusic.accounts import staff
from backgroundmusic.staffroles.roles import ROLE_LABELS
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


# The labels of the page's actors, kept on the request: every staff member at the first actor
# shown, anyone else as they come.
ACTOR_LABELS_CACHE = "_staff_actor_labels"


@register.simple_tag(takes_context=True)
def staff_actor(context: template.Context, user_id: int | None) -> SafeString:
    """{% staff_actor event.actor_id %}: who acted, by username and staff roles ("anna (Privacy
    officer)"); "system" for no one."""
    if user_id is None:
        return format_html('<span class="staff-actor">{}</span>', gettext("system"))
    labels = _staff_labels(context)
    if user_id not in labels:
        labels.update(staff.staff_actor_labels(user_ids=[user_id]))
    return format_html(
        '<span class="staff-actor" data-actor-id="{}">{}</span>', user_id, labels[user_id]
    )


def _staff_labels(context: template.Context) -> dict[int, staff.StaffActorLabel]:
    holder: Any = context.get("request")
    labels: dict[int, staff.StaffActorLabel] | None = getattr(holder, ACTOR_LABELS_CACHE, None)
    if labels is None:
        # A view that loaded them already (the audit trail's filter) passes them on.
        labels = context.get("staff_actor_labels") or staff.staff_actor_labels()
        if holder is not None:
            setattr(holder, ACTOR_LABELS_CACHE, labels)
    return labels


@register.simple_tag(takes_context=True)
def staff_role_names(context: template.Context, user_id: int) -> str:
    """{% staff_role_names person.pk %}: the staff roles a person in a list holds, "" for none."""
    label = _staff_labels(context).get(user_id)
    return ", ".join(str(ROLE_LABELS[role]) for role in label.roles) if label else ""


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
