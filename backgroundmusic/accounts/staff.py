"""The staff pages' questions that need accounts' models: the staff navigation, which person
fields a staff member may see, finding people, the logged read of a person's data, and giving
and taking staff roles.

Who holds which role and what each role may do are asked of backgroundmusic.staffroles.
"""

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from backgroundmusic.accounts.models import Profile, User
from backgroundmusic.accounts.phones import phone_display
from backgroundmusic.accounts.selectors import remember_profile_values
from backgroundmusic.audit.models import AuditAction, AuditEvent
from backgroundmusic.audit.refusals import refusals_audited
from backgroundmusic.audit.selectors import audit_events
from backgroundmusic.audit.services import audit_record
from backgroundmusic.core.errors import DomainError
from backgroundmusic.privacy.kernel.access_log import (
    ChainReport,
    access_log_record,
    access_log_verify,
)
from backgroundmusic.privacy.kernel.registry import PersonSection, data_map
from backgroundmusic.staffroles.roles import (
    PERSON_FIELDS,
    ROLE_LABELS,
    ROLE_VISIBLE_FIELDS,
    StaffRole,
)
from backgroundmusic.staffroles.selectors import (
    PERMISSIONS_CACHE,
    ROLES_CACHE,
    Actor,
    staff_may_assign_roles,
    staff_may_export_research,
    staff_may_handle_requests,
    staff_may_manage_agreements,
    staff_may_manage_campaigns,
    staff_may_manage_catalogue,
    staff_may_manage_incidents,
    staff_may_manage_orders,
    staff_may_manage_plans,
    staff_may_manage_transfers,
    staff_may_place_legal_holds,
    staff_may_publish_policy,
    staff_may_record_disclosures,
    staff_may_verify_access_log,
    staff_may_view_access_log,
    staff_may_view_analytics,
    staff_may_view_audit_log,
    staff_may_view_people,
    staff_require,
    staff_roles,
)


@dataclass(frozen=True)
class StaffSection:
    label: str
    url_name: str
    group: str


@dataclass(frozen=True)
class StaffNavGroup:
    label: str
    sections: list[StaffSection]


# The staff pages in the navigation's order, each in the group of work it belongs to.
_PEOPLE = _("People and records")
_PRIVACY = _("Privacy")
_CATALOGUE = _("Catalogue")
_SALES = _("Sales")
_AUDIENCE = _("Audience")
_OFFERED: list[tuple[Promise, Promise, str, Callable[..., bool]]] = [
    (_PEOPLE, _("People"), "staff:people", staff_may_view_people),
    (_PEOPLE, _("Access log"), "staff:access_log", staff_may_view_access_log),
    (_PEOPLE, _("Audit trail"), "staff:audit_log", staff_may_view_audit_log),
    (_PRIVACY, _("Requests"), "privacy:staff_requests", staff_may_handle_requests),
    (_PRIVACY, _("Disclosures"), "privacy:staff_disclosures", staff_may_record_disclosures),
    (_PRIVACY, _("Recipients"), "privacy:staff_recipients", staff_may_manage_transfers),
    (_PRIVACY, _("Transfers abroad"), "privacy:staff_transfers", staff_may_manage_transfers),
    (_PRIVACY, _("Legal holds"), "privacy:staff_legal_holds", staff_may_place_legal_holds),
    (_PRIVACY, _("Policies"), "privacy:staff_policies", staff_may_publish_policy),
    (_PRIVACY, _("Incidents"), "incidents_staff:incidents", staff_may_manage_incidents),
    (_CATALOGUE, _("Catalogue"), "catalog_staff:tracks", staff_may_manage_catalogue),
    (_CATALOGUE, _("Masters"), "media_staff:masters", staff_may_manage_catalogue),
    (_SALES, _("Plans"), "licensing_staff:plans", staff_may_manage_plans),
    (_SALES, _("Licence agreements"), "licensing_staff:agreements", staff_may_manage_agreements),
    (_SALES, _("Orders"), "licensing_staff:orders", staff_may_manage_orders),
    (_AUDIENCE, _("Statistics"), "analytics_staff:dashboard", staff_may_view_analytics),
    (_AUDIENCE, _("Research exports"), "analytics_staff:research", staff_may_export_research),
    (_AUDIENCE, _("Newsletters"), "mailing_staff:campaigns", staff_may_manage_campaigns),
]


def staff_sections(*, actor: Actor) -> list[StaffSection]:
    """The staff pages the actor may open, in the staff navigation's order; the "Staff" link
    leads to the first. Empty for staff without two-factor sign-in."""
    return [
        StaffSection(label=str(label), url_name=url_name, group=str(group))
        for group, label, url_name, may_open in _OFFERED
        if may_open(actor=actor)
    ]


def staff_nav_groups(*, actor: Actor) -> list[StaffNavGroup]:
    """The actor's staff pages by group, in order; groups with no page for them are left out."""
    groups: list[StaffNavGroup] = []
    for section in staff_sections(actor=actor):
        if not groups or groups[-1].label != section.group:
            groups.append(StaffNavGroup(label=section.group, sections=[]))
        groups[-1].sections.append(section)
    return groups


@dataclass(frozen=True)
class StaffActorLabel:
    """Who did something, as the staff pages name them: username and staff roles."""

    user_id: int
    username: str | None
    roles: tuple[StaffRole, ...]

    def __str__(self) -> str:
        if self.username is None:
            return gettext("deleted account #%(id)s") % {"id": self.user_id}
        if not self.roles:
            return gettext("%(username)s (no staff role)") % {"username": self.username}
        roles = ", ".join(str(ROLE_LABELS[role]) for role in self.roles)
        return f"{self.username} ({roles})"


def staff_actor_labels(*, user_ids: Collection[int] | None = None) -> dict[int, StaffActorLabel]:
    """Labels by user id of every staff member (user_ids None: staff are few, so a page loads
    them once whatever it lists), or of exactly the users in user_ids, holding a role or not;
    an id with no user left gets a deleted account's label."""
    role_names = [role.value for role in StaffRole]
    role_groups = Group.objects.filter(name__in=role_names)
    users = User.objects.only("id", "username").prefetch_related(
        Prefetch("groups", queryset=role_groups.only("name").order_by("name"))
    )
    if user_ids is None:
        users = users.filter(Q(pk__in=role_groups.values("user")) | Q(is_staff=True))
    else:
        users = users.filter(pk__in=list(user_ids))
    labels = {
        user.pk: StaffActorLabel(
            user_id=user.pk,
            username=user.username,
            roles=tuple(StaffRole(group.name) for group in user.groups.all()),
        )
        for user in users
    }
    for user_id in user_ids or ():
        labels.setdefault(user_id, StaffActorLabel(user_id=user_id, username=None, roles=()))
    return labels


def staff_visible_fields(*, actor: Actor) -> list[str]:
    """The person fields this staff member may be shown, in display order; [] for non-staff."""
    if not staff_may_view_people(actor=actor):
        return []
    allowed: set[str] = set()
    for role in staff_roles(user=actor):
        allowed.update(ROLE_VISIBLE_FIELDS[role])
    return [name for name in PERSON_FIELDS if name in allowed]


@refusals_audited("accounts.staff_people_search")
def staff_people_search(*, actor: Actor, query: str = "") -> QuerySet[User]:
    """People by username (contains) or exact user id; only id and username are loaded."""
    staff_require(actor=actor, may=staff_may_view_people)
    people = User.objects.only("id", "username").order_by("username", "pk")
    query = query.strip()
    if not query:
        return people
    condition = Q(username__icontains=query)
    if query.isdecimal():
        condition |= Q(pk=int(query))
    return people.filter(condition)


@refusals_audited("accounts.staff_person_summary")
def staff_person_summary(*, actor: Actor, subject_id: int) -> User | None:
    """The person's id and username only (to ask for a reason); None when there is no such user."""
    staff_require(actor=actor, may=staff_may_view_people)
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
    if name == "phone":
        return phone_display(profile.phone)
    return getattr(profile, name)


@dataclass(frozen=True)
class ShownSection:
    name: str
    label: str
    columns: list[str]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True)
class PersonReading:
    fields: list[ShownField]
    sections: list[ShownSection]


def _shown_section(section: PersonSection, subject_id: int) -> ShownSection:
    return ShownSection(
        name=section.name,
        label=str(section.label),
        columns=[str(column) for column in section.columns],
        rows=section.rows(subject_id=subject_id),
    )


@refusals_audited("accounts.staff_person_read")
@transaction.atomic
def staff_person_read(*, actor: User, subject_id: int, reason: str) -> PersonReading | None:
    """The fields of the person the actor's role may see and the sections of their records it is
    shown (consents, requests, exports: data_map.person_sections_for), after writing one
    access-log entry naming exactly those fields, then those sections. None (and nothing logged)
    when there is no such person."""
    staff_require(actor=actor, may=staff_may_view_people)
    fields = staff_visible_fields(actor=actor)
    subject = User.objects.filter(pk=subject_id).first()
    if subject is None:
        return None
    profile = Profile.objects.filter(user=subject).first() or Profile(user=subject)
    remember_profile_values(profile)
    shown = [
        ShownField(name=name, label=_field_label(name), value=_field_value(subject, profile, name))
        for name in fields
    ]
    sections = [
        _shown_section(section, subject.pk) for section in data_map.person_sections_for(actor=actor)
    ]
    access_log_record(
        actor=actor,
        subject_id=subject.pk,
        fields=[*fields, *(section.name for section in sections)],
        reason=reason,
    )
    return PersonReading(fields=shown, sections=sections)


@refusals_audited("accounts.staff_audit_log_read")
@transaction.atomic
def staff_audit_log_read(
    *, actor: Actor, action: str = "", actor_id: int | None = None
) -> QuerySet[AuditEvent]:
    """The audit trail newest first, narrowed to one action and one staff member when given,
    after recording this reading in the trail itself (the staff member whose actions were read
    is its target)."""
    staff_require(actor=actor, may=staff_may_view_audit_log)
    if action and action not in AuditAction.values:
        raise DomainError(str(_("There is no such action.")), code="unknown_action")
    audit_record(
        actor=actor,
        action=AuditAction.AUDIT_VIEWED,
        target=None if actor_id is None else (User._meta.label, actor_id),
        after={"action": action},
    )
    return audit_events(action=action, actor_id=actor_id)


@refusals_audited("accounts.staff_access_log_verify")
@transaction.atomic
def staff_access_log_verify(*, actor: Actor) -> ChainReport:
    """Walks the access log's hash chain (privacy.kernel.access_log) and records the check and
    its outcome in the audit trail."""
    staff_require(actor=actor, may=staff_may_verify_access_log)
    report = access_log_verify()
    audit_record(
        actor=actor,
        action=AuditAction.ACCESS_LOG_VERIFIED,
        target=None,
        after={
            "entries": report.entries,
            "intact": report.intact,
            "broken_entry_id": report.broken_entry_id,
            "head": report.head,
        },
    )
    return report


def _forget_cached_roles(user: User) -> None:
    for attribute in (ROLES_CACHE, PERMISSIONS_CACHE):
        if hasattr(user, attribute):
            delattr(user, attribute)


def _require_role_manager(actor: Actor | None) -> None:
    # None: the system (a migration, createsuperuser, seeding); a person must be an administrator.
    if actor is not None:
        staff_require(actor=actor, may=staff_may_assign_roles)


@refusals_audited("accounts.staff_role_assign")
@transaction.atomic
def staff_role_assign(*, actor: Actor | None, user: User, role: StaffRole) -> User:
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


@refusals_audited("accounts.staff_role_revoke")
@transaction.atomic
def staff_role_revoke(*, actor: Actor | None, user: User, role: StaffRole) -> User:
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
