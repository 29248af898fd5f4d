"""Who is staff and what each staff member may do: one answer per permission question, asked by
pages, the API, services and the admin alike.

Below every app: it reads only Django's groups and permissions and allauth's two-factor state,
so catalog, media, privacy and analytics ask here without importing accounts.
"""

from typing import Protocol

from allauth.mfa.models import Authenticator
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from backgroundmusic.core.errors import ActionRefused
from backgroundmusic.staffroles.roles import (
    EXPORT_RESEARCH,
    HANDLE_REQUESTS,
    MANAGE_AGREEMENTS,
    MANAGE_CAMPAIGNS,
    MANAGE_CATALOGUE,
    MANAGE_INCIDENTS,
    MANAGE_ORDERS,
    MANAGE_PLANS,
    MANAGE_TRANSFERS,
    PLACE_LEGAL_HOLDS,
    PUBLISH_POLICY,
    RECORD_DISCLOSURES,
    VIEW_ACCESS_LOG,
    VIEW_ANALYTICS,
    VIEW_AUDIT_LOG,
    VIEW_PERSON_DATA,
    StaffRole,
)

Actor = AbstractBaseUser | AnonymousUser


class StaffPredicate(Protocol):
    """A permission question: one of the staff_may_* functions below."""

    __name__: str

    def __call__(self, *, actor: Actor) -> bool: ...


# The roles and permissions are kept on the user object for the request under these attributes,
# as Django's ModelBackend keeps _perm_cache; accounts.staff forgets them when a role changes.
ROLES_CACHE = "_staff_roles_cache"
PERMISSIONS_CACHE = "_staff_permissions_cache"


def staff_roles(*, user: Actor) -> set[StaffRole]:
    """The staff roles a user holds: their role groups. Superuser status adds none."""
    if not user.is_authenticated or not user.is_active:
        return set()
    cached: set[StaffRole] | None = getattr(user, ROLES_CACHE, None)
    if cached is None:
        names = set(Group.objects.filter(user=user.pk).values_list("name", flat=True))
        cached = {role for role in StaffRole if role.value in names}
        setattr(user, ROLES_CACHE, cached)
    return cached


def staff_permissions(*, user: Actor) -> set[str]:
    """The permissions of the user's role groups, as "app_label.codename".

    Not user.has_perm(): Django's backend gives a superuser every permission, which would let a
    break-glass grant for the Django admin (accounts/break_glass.py) open every staff page too.
    """
    if not user.is_authenticated or not user.is_active:
        return set()
    cached: set[str] | None = getattr(user, PERMISSIONS_CACHE, None)
    if cached is None:
        rows = Permission.objects.filter(group__user=user.pk).values_list(
            "content_type__app_label", "codename"
        )
        cached = {f"{app_label}.{codename}" for app_label, codename in rows}
        setattr(user, PERMISSIONS_CACHE, cached)
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


def staff_may_verify_access_log(*, actor: Actor) -> bool:
    """May check the access log's hash chain from its page (privacy officer, who answers for the
    log). A role, as for staff_may_assign_roles."""
    return StaffRole.PRIVACY_OFFICER in staff_roles(user=actor) and staff_has_two_factor(user=actor)


def staff_may_view_audit_log(*, actor: Actor) -> bool:
    """May read the audit trail of staff actions (administrator, privacy officer)."""
    return _staff_may(actor, VIEW_AUDIT_LOG)


def staff_may_open_staff_pages(*, user: Actor) -> bool:
    """Whether to show the "Staff" link: some staff page is open to the user once they have
    two-factor sign-in (without it, the link leads to setting it up)."""
    return user.is_authenticated and user.is_active and staff_is_member(user=user)


def staff_may_handle_requests(*, actor: Actor) -> bool:
    """May log, verify, extend, act on and close data-subject requests (privacy officer)."""
    return _staff_may(actor, HANDLE_REQUESTS)


def staff_may_record_disclosures(*, actor: Actor) -> bool:
    """May see the disclosure register and record disclosures (privacy officer)."""
    return _staff_may(actor, RECORD_DISCLOSURES)


def staff_may_manage_transfers(*, actor: Actor) -> bool:
    """May keep the register of recipients and see the transfer records and record or end
    transfers abroad (privacy officer): whoever records transfers keeps the register they name."""
    return _staff_may(actor, MANAGE_TRANSFERS)


def staff_may_place_legal_holds(*, actor: Actor) -> bool:
    """May see, place and lift legal holds, which keep records from retention and erasure
    (privacy officer)."""
    return _staff_may(actor, PLACE_LEGAL_HOLDS)


def staff_may_view_analytics(*, actor: Actor) -> bool:
    """May see the site's aggregate statistics (analyst, administrator, privacy officer)."""
    return _staff_may(actor, VIEW_ANALYTICS)


def staff_may_export_research(*, actor: Actor) -> bool:
    """May release depersonalized research datasets, each recorded as disclosures (privacy
    officer)."""
    return _staff_may(actor, EXPORT_RESEARCH)


def staff_may_publish_policy(*, actor: Actor) -> bool:
    """May publish new editions of the privacy policy and the user agreement (privacy officer)."""
    return _staff_may(actor, PUBLISH_POLICY)


def staff_may_assign_roles(*, actor: Actor) -> bool:
    """May give and take away staff roles (administrator). A role, not a permission: no
    permission a group could be given opens it."""
    return StaffRole.ADMINISTRATOR in staff_roles(user=actor) and staff_has_two_factor(user=actor)


def staff_may_manage_catalogue(*, actor: Actor) -> bool:
    """May create and edit tracks, facets and collections and upload masters (content manager,
    administrator)."""
    return _staff_may(actor, MANAGE_CATALOGUE)


def staff_may_manage_plans(*, actor: Actor) -> bool:
    """May create plans, publish plan editions and licence terms editions, and withdraw or offer
    plans again (licensing manager)."""
    return _staff_may(actor, MANAGE_PLANS)


def staff_may_manage_orders(*, actor: Actor) -> bool:
    """May see orders, confirm bank transfers, and refund or cancel orders (licensing manager)."""
    return _staff_may(actor, MANAGE_ORDERS)


def staff_may_manage_agreements(*, actor: Actor) -> bool:
    """May see licence agreements and revoke them (licensing manager)."""
    return _staff_may(actor, MANAGE_AGREEMENTS)


def staff_may_manage_campaigns(*, actor: Actor) -> bool:
    """May write, preview, test-send, schedule and cancel newsletter campaigns (newsletter
    editor)."""
    return _staff_may(actor, MANAGE_CAMPAIGNS)


def staff_may_manage_incidents(*, actor: Actor) -> bool:
    """May open personal-data breach incidents, compute who is affected, draft and record the
    notices to the authorities and send the letters to the people (privacy officer)."""
    return _staff_may(actor, MANAGE_INCIDENTS)


# What a refused person is told, one sentence per permission question.
REFUSALS: dict[StaffPredicate, Promise] = {
    staff_may_view_people: _("You may not look up people."),
    staff_may_view_access_log: _("You may not read the staff access log."),
    staff_may_verify_access_log: _("Only the privacy officer may verify the access log."),
    staff_may_view_audit_log: _("You may not read the audit trail."),
    staff_may_handle_requests: _("You may not handle data-subject requests."),
    staff_may_record_disclosures: _("You may not record disclosures."),
    staff_may_manage_transfers: _(
        "You may not manage the register of recipients and transfers abroad."
    ),
    staff_may_place_legal_holds: _("You may not place or lift legal holds."),
    staff_may_view_analytics: _("You may not see the site's statistics."),
    staff_may_export_research: _("You may not release research datasets."),
    staff_may_publish_policy: _("You may not publish policy editions."),
    staff_may_assign_roles: _("Only an administrator may change staff roles."),
    staff_may_manage_catalogue: _("You may not manage the catalogue."),
    staff_may_manage_plans: _("You may not manage plans and licence terms."),
    staff_may_manage_orders: _("You may not manage orders."),
    staff_may_manage_agreements: _("You may not manage licence agreements."),
    staff_may_manage_campaigns: _("You may not manage newsletter campaigns."),
    staff_may_manage_incidents: _("You may not manage personal-data breach incidents."),
}


def staff_require(*, actor: Actor | None, may: StaffPredicate) -> AbstractBaseUser:
    """The guard of a service that acts for staff: returns the actor when the permission
    question `may` answers yes for them, else raises ActionRefused naming the question. None
    (the system) is refused: a service the system may call asks only for a person actor.
    Wrap the service in audit.refusals.refusals_audited so the refusal is recorded."""
    if not isinstance(actor, AbstractBaseUser) or not may(actor=actor):
        raise ActionRefused(str(REFUSALS[may]), permission=may.__name__, actor=actor)
    return actor
