"""Staff roles, what staff may see, and the logged read of a person's data.

Selectors answer each permission question once; pages, the API and the admin all ask here.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allauth.mfa.models import Authenticator
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from backgroundmusic.accounts.models import Profile, User
from backgroundmusic.accounts.roles import (
    EXPORT_RESEARCH,
    HANDLE_REQUESTS,
    MANAGE_CATALOGUE,
    PERSON_FIELDS,
    PUBLISH_POLICY,
    RECORD_DISCLOSURES,
    ROLE_VISIBLE_FIELDS,
    VIEW_ACCESS_LOG,
    VIEW_ANALYTICS,
    VIEW_AUDIT_LOG,
    VIEW_PERSON_DATA,
    StaffRole,
)
from backgroundmusic.accounts.selectors import remember_profile_values
from backgroundmusic.audit.models import AuditAction, AuditEvent
from backgroundmusic.audit.selectors import audit_events
from backgroundmusic.audit.services import audit_record
from backgroundmusic.core.errors import DomainError, PermissionDenied
from backgroundmusic.privacy.access_log import access_log_record

Actor = User | AnonymousUser

# ---------------------------------------------------------------------------------------------
# Selectors


def staff_roles(*, user: Actor) -> set[StaffRole]:
    """The staff roles a user holds: their role groups. Superuser status adds none."""
    if not user.is_authenticated or not user.is_active:
        return set()
    # Kept on the user object for the request, as Django's ModelBackend keeps _perm_cache.
    cached: set[StaffRole] | None = getattr(user, "_staff_roles_cache", None)
    if cached is None:
        names = set(Group.objects.filter(user=user.pk).values_list("name", flat=True))
        cached = {role for role in StaffRole if role.value in names}
        setattr(user, "_staff_roles_cache", cached)  # noqa: B010 (mypy knows no such field)
    return cached


def staff_permissions(*, user: Actor) -> set[str]:
    """The permissions of the user's role groups, as "app_label.codename".

    Not user.has_perm(): Django's backend gives a superuser every permission, which would let a
    break-glass grant for the Django admin (accounts/break_glass.py) open every staff page too.
    """
    if not user.is_authenticated or not user.is_active:
        return set()
    cached: set[str] | None = getattr(user, "_staff_permissions_cache", None)
    if cached is None:
        rows = Permission.objects.filter(group__user=user.pk).values_list(
            "content_type__app_label", "codename"
        )
        cached = {f"{app_label}.{codename}" for app_label, codename in rows}
        setattr(user, "_staff_permissions_cache", cached)  # noqa: B010 (mypy knows no such field)
    return cached


def staff_is_member(*, user: Actor) -> bool:
    """Staff of any role, or allowed into the Django admin (is_staff, given by a break-glass
    grant): must use two-factor sign-in."""
    if not user.is_authenticated:
        return False
    return bool(getattr(user, "is_staff", False)) or bool(staff_roles(user=user))


def staff_has_two_factor(*, user: Actor) -> bool:
    """The user has an active TOTP authenticator."""
    if not user.is_authenticated:
        return False
    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()


def _staff_may(actor: Actor, permission: str) -> bool:
    # Two-factor sign-in is part of every staff permission, not only of the /staff/ pages
    # (StaffTwoFactorMiddleware sends staff without it to set it up).
    return permission in staff_permissions(user=actor) and staff_has_two_factor(user=actor)


def staff_may_view_people(*, actor: Actor) -> bool:
    """May find people and open their data (each opening is logged)."""
    return _staff_may(actor, VIEW_PERSON_DATA)


def staff_may_view_access_log(*, actor: Actor) -> bool:
    return _staff_may(actor, VIEW_ACCESS_LOG)


def staff_may_view_audit_log(*, actor: Actor) -> bool:
    """May read the audit trail of staff actions (administrator, privacy officer)."""
    return _staff_may(actor, VIEW_AUDIT_LOG)


def staff_may_open_staff_pages(*, user: Actor) -> bool:
    """Whether to show the "Staff" link: some staff page is open to the user once they have
    two-factor sign-in (without it, the link leads to setting it up)."""
    return user.is_authenticated and user.is_active and staff_is_member(user=user)


@dataclass(frozen=True)
class StaffSection:
    label: str
    url_name: str


def staff_sections(*, actor: Actor) -> list[StaffSection]:
    """The staff pages the actor may open, in the staff navigation's order; the "Staff" link
    leads to the first. Empty for staff without two-factor sign-in."""
    offered: list[tuple[Promise, str, Callable[..., bool]]] = [
        (_("People"), "staff:people", staff_may_view_people),
        (_("Access log"), "staff:access_log", staff_may_view_access_log),
        (_("Audit trail"), "staff:audit_log", staff_may_view_audit_log),
        (_("Requests"), "privacy:staff_requests", staff_may_handle_requests),
        (_("Disclosures"), "privacy:staff_disclosures", staff_may_record_disclosures),
        (_("Policies"), "privacy:staff_policies", staff_may_publish_policy),
        (_("Catalogue"), "catalog_staff:tracks", staff_may_manage_catalogue),
        (_("Masters"), "media_staff:masters", staff_may_manage_catalogue),
        (_("Statistics"), "analytics_staff:dashboard", staff_may_view_analytics),
        (_("Research exports"), "analytics_staff:research", staff_may_export_research),
    ]
    return [
        StaffSection(label=str(label), url_name=url_name)
        for label, url_name, may_open in offered
        if may_open(actor=actor)
    ]


def staff_visible_fields(*, actor: Actor) -> list[str]:
    """The person fields this staff member may be shown, in display order; [] for non-staff."""
    if not staff_may_view_people(actor=actor):
        return []
    allowed: set[str] = set()
    for role in staff_roles(user=actor):
        allowed.update(ROLE_VISIBLE_FIELDS[role])
    return [name for name in PERSON_FIELDS if name in allowed]


def staff_people_search(*, actor: Actor, query: str = "") -> QuerySet[User]:
    """People by username (contains) or exact user id; only id and username are loaded."""
    if not staff_may_view_people(actor=actor):
        raise PermissionDenied(str(_("You may not look up people.")))
    people = User.objects.only("id", "username").order_by("username", "pk")
    query = query.strip()
    if not query:
        return people
    condition = Q(username__icontains=query)
    if query.isdecimal():
        condition |= Q(pk=int(query))
    return people.filter(condition)


def staff_person_summary(*, actor: Actor, subject_id: int) -> User | None:
    """The person's id and username only (to ask for a reason); None when there is no such user."""
    if not staff_may_view_people(actor=actor):
        raise PermissionDenied(str(_("You may not look up people.")))
    return User.objects.only("id", "username").filter(pk=subject_id).first()


@dataclass(frozen=True)
class ShownField:
    name: str
    label: str
    value: Any


_USER_FIELDS = frozenset({"username", "email", "date_joined", "last_login"})


def _field_label(name: str) -> str:
    if name == "social_links":
        return str(_("Social-network profiles"))
    model = User if name in _USER_FIELDS else Profile
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        raise ValueError(f"unknown person field {name!r}") from None
    return str(getattr(field, "verbose_name", name))


def _field_value(user: User, profile: Profile, name: str) -> Any:
    if name in _USER_FIELDS:
        return getattr(user, name)
    if name == "social_links":
        return [link.url for link in profile.social_links.all()] if profile.pk else []
    if name == "account_type":
        return profile.get_account_type_display()
    return getattr(profile, name)


# --- data-subject requests and the disclosure register (privacy/requests.py, disclosures.py) ---


def staff_may_handle_requests(*, actor: Actor) -> bool:
    """May log, verify, extend, act on and close data-subject requests (privacy officer)."""
    return _staff_may(actor, HANDLE_REQUESTS)


def staff_may_record_disclosures(*, actor: Actor) -> bool:
    """May see the disclosure register and record disclosures (privacy officer)."""
    return _staff_may(actor, RECORD_DISCLOSURES)


# --- end data-subject requests and disclosures ---


def staff_may_view_analytics(*, actor: Actor) -> bool:
    """May see the site's aggregate statistics (analyst, administrator, privacy officer)."""
    return _staff_may(actor, VIEW_ANALYTICS)


def staff_may_export_research(*, actor: Actor) -> bool:
    """May release depersonalized research datasets, each recorded as disclosures (privacy
    officer)."""
    return _staff_may(actor, EXPORT_RESEARCH)


# --- policy editions (privacy/policies.py, privacy/views/policies.py) ---


def staff_may_publish_policy(*, actor: Actor) -> bool:
    """May publish new editions of the privacy policy and the user agreement (privacy officer)."""
    return _staff_may(actor, PUBLISH_POLICY)


# --- end policy editions ---

# --- catalogue (catalog/services.py, catalog/views.py, media ingest) ---


def staff_may_manage_catalogue(*, actor: Actor) -> bool:
    """May create and edit tracks, facets and collections and upload masters (content manager,
    administrator)."""
    return _staff_may(actor, MANAGE_CATALOGUE)


# --- end catalogue ---


# ---------------------------------------------------------------------------------------------
# Services


@transaction.atomic
def staff_person_read(*, actor: User, subject_id: int, reason: str) -> list[ShownField] | None:
    """The fields of the person the actor's role may see, after writing one access-log entry
    naming exactly those fields. None (and nothing logged) when there is no such person."""
    fields = staff_visible_fields(actor=actor)
    if not fields:
        raise PermissionDenied(str(_("You may not see this person's data.")))
    subject = User.objects.filter(pk=subject_id).first()
    if subject is None:
        return None
    profile = Profile.objects.filter(user=subject).first() or Profile(user=subject)
    remember_profile_values(profile)
    shown = [
        ShownField(name=name, label=_field_label(name), value=_field_value(subject, profile, name))
        for name in fields
    ]
    access_log_record(actor=actor, subject_id=subject.pk, fields=fields, reason=reason)
    return shown


@transaction.atomic
def staff_audit_log_read(
    *, actor: Actor, action: str = "", actor_id: int | None = None
) -> QuerySet[AuditEvent]:
    """The audit trail newest first, narrowed to one action and one staff member when given,
    after recording this reading in the trail itself (the staff member whose actions were read
    is its target)."""
    if not staff_may_view_audit_log(actor=actor):
        raise PermissionDenied(str(_("You may not read the audit trail.")))
    if action and action not in AuditAction.values:
        raise DomainError(str(_("There is no such action.")), code="unknown_action")
    audit_record(
        actor=actor,
        action=AuditAction.AUDIT_VIEWED,
        target=None if actor_id is None else (User._meta.label, actor_id),
        after={"action": action},
    )
    return audit_events(action=action, actor_id=actor_id)


def _forget_cached_roles(user: User) -> None:
    for attribute in ("_staff_roles_cache", "_staff_permissions_cache"):
        if hasattr(user, attribute):
            delattr(user, attribute)


def _require_role_manager(actor: User | None) -> None:
    # None: the system (a migration, createsuperuser, seeding); a person must be an administrator.
    if actor is not None and StaffRole.ADMINISTRATOR not in staff_roles(user=actor):
        raise PermissionDenied(str(_("Only an administrator may change staff roles.")))


@transaction.atomic
def staff_role_assign(*, actor: User | None, user: User, role: StaffRole) -> User:
    _require_role_manager(actor)
    role = StaffRole(role)
    group = Group.objects.get(name=role.value)
    if not user.groups.filter(pk=group.pk).exists():
        user.groups.add(group)
        audit_record(
            actor=actor, action=AuditAction.ROLE_ASSIGNED, target=user, after={"role": role.value}
        )
    _forget_cached_roles(user)
    return user


@transaction.atomic
def staff_role_revoke(*, actor: User | None, user: User, role: StaffRole) -> User:
    _require_role_manager(actor)
    role = StaffRole(role)
    group = Group.objects.filter(name=role.value, user=user).first()
    if group is not None:
        user.groups.remove(group)
        audit_record(
            actor=actor, action=AuditAction.ROLE_REVOKED, target=user, before={"role": role.value}
        )
    _forget_cached_roles(user)
    return user
