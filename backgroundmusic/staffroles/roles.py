"""Staff roles: the one place that names them, their permissions and the fields each may see.

A role is a Django Group of the same name. Least privilege: a role holds only the permissions
its work needs. Content managers get catalogue permissions later and see no personal data.

Changing ROLE_PERMISSIONS or the permissions here needs a data migration that calls
`role_groups_sync(apps)` again (see accounts/migrations/0002_staff_roles.py).
"""

from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _


class StaffRole(StrEnum):
    SUPPORT = "support"
    CONTENT_MANAGER = "content_manager"
    PRIVACY_OFFICER = "privacy_officer"
    ADMINISTRATOR = "administrator"
    ANALYST = "analyst"
    LICENSING_MANAGER = "licensing_manager"
    NEWSLETTER_EDITOR = "newsletter_editor"


ROLE_LABELS = {
    StaffRole.SUPPORT: _("Support"),
    StaffRole.CONTENT_MANAGER: _("Content manager"),
    StaffRole.PRIVACY_OFFICER: _("Privacy officer"),
    StaffRole.ADMINISTRATOR: _("Administrator"),
    StaffRole.ANALYST: _("Analyst"),
    StaffRole.LICENSING_MANAGER: _("Licensing manager"),
    StaffRole.NEWSLETTER_EDITOR: _("Newsletter editor"),
}

VIEW_PERSON_DATA = "accounts.view_person_data"
VIEW_ACCESS_LOG = "privacy.view_access_log"
PUBLISH_POLICY = "privacy.publish_policyedition"
HANDLE_REQUESTS = "privacy.handle_datasubjectrequest"
RECORD_DISCLOSURES = "privacy.record_disclosure"
MANAGE_TRANSFERS = "privacy.manage_transfers"
PLACE_LEGAL_HOLDS = "privacy.place_legalhold"
MANAGE_CATALOGUE = "catalog.manage_catalogue"
VIEW_ANALYTICS = "analytics.view_statistics"
EXPORT_RESEARCH = "analytics.export_research"
VIEW_AUDIT_LOG = "audit.view_audit_trail"
MANAGE_PLANS = "licensing.publish_planedition"
MANAGE_ORDERS = "licensing.manage_order"
MANAGE_AGREEMENTS = "licensing.revoke_agreement"
MANAGE_CAMPAIGNS = "mailing.manage_campaign"
MANAGE_INCIDENTS = "incidents.manage_incident"

# "app_label.codename" → (model the permission hangs on, its name). Both are created by the data
# migration; view_access_log is also declared in StaffAccessLogEntry.Meta with the same name.
PERMISSIONS: dict[str, tuple[str, str]] = {
    VIEW_PERSON_DATA: ("user", "Can see a person's profile data (every read is logged)"),
    VIEW_ACCESS_LOG: ("staffaccesslogentry", "Can view the staff access log"),
    PUBLISH_POLICY: ("policyedition", "Can publish policy editions"),
    HANDLE_REQUESTS: ("datasubjectrequest", "Can handle data-subject requests"),
    RECORD_DISCLOSURES: ("disclosure", "Can record disclosures"),
    MANAGE_TRANSFERS: ("transferrecord", "Can record and end transfers abroad"),
    PLACE_LEGAL_HOLDS: ("legalhold", "Can place and lift legal holds"),
    MANAGE_CATALOGUE: ("track", "Can edit the catalogue and upload masters"),
    VIEW_ANALYTICS: ("dailypagestat", "Can see the site's aggregate statistics"),
    EXPORT_RESEARCH: ("researchexport", "Can release depersonalized research datasets"),
    VIEW_AUDIT_LOG: ("auditevent", "Can view the audit trail of staff actions"),
    MANAGE_PLANS: ("planedition", "Can publish plan editions"),
    MANAGE_ORDERS: ("order", "Can confirm bank transfers and refund or cancel orders"),
    MANAGE_AGREEMENTS: ("agreement", "Can revoke licence agreements"),
    MANAGE_CAMPAIGNS: ("campaign", "Can write, schedule and cancel newsletter campaigns"),
    MANAGE_INCIDENTS: ("incident", "Can open incidents, draft and record their notices"),
}

ROLE_PERMISSIONS: dict[StaffRole, tuple[str, ...]] = {
    StaffRole.SUPPORT: (VIEW_PERSON_DATA,),
    StaffRole.CONTENT_MANAGER: (MANAGE_CATALOGUE,),
    StaffRole.PRIVACY_OFFICER: (
        VIEW_PERSON_DATA,
        VIEW_ACCESS_LOG,
        PUBLISH_POLICY,
        HANDLE_REQUESTS,
        RECORD_DISCLOSURES,
        MANAGE_TRANSFERS,
        VIEW_ANALYTICS,
        EXPORT_RESEARCH,
        VIEW_AUDIT_LOG,
        MANAGE_INCIDENTS,
        PLACE_LEGAL_HOLDS,
    ),
    StaffRole.ADMINISTRATOR: (
        VIEW_PERSON_DATA,
        VIEW_ACCESS_LOG,
        MANAGE_CATALOGUE,
        VIEW_ANALYTICS,
        VIEW_AUDIT_LOG,
    ),
    StaffRole.ANALYST: (VIEW_ANALYTICS,),
    # Plans, terms, orders and agreements; no person's profile data (an order carries the
    # buyer's details as they were at checkout).
    StaffRole.LICENSING_MANAGER: (MANAGE_PLANS, MANAGE_ORDERS, MANAGE_AGREEMENTS),
    # Writes and sends newsletters; the audience is computed by the service, so the role sees
    # no one's address or profile.
    StaffRole.NEWSLETTER_EDITOR: (MANAGE_CAMPAIGNS,),
}

# Every field a staff member can ever be shown about a person, in display order: User attributes
# and Profile attributes by name, and "social_links" for the person's links.
PERSON_FIELDS: tuple[str, ...] = (
    "username",
    "email",
    "phone",
    "date_joined",
    "last_login",
    "account_type",
    "full_name",
    "company_name",
    "tax_id",
    "address_country",
    "address_region",
    "address_city",
    "address_street",
    "address_postcode",
    "social_links",
)

_CONTACT_FIELDS = (
    "username",
    "email",
    "phone",
    "date_joined",
    "last_login",
    "account_type",
    "full_name",
    "company_name",
)

# Support and administrators help people with their accounts: who they are and how to reach them.
# Only the privacy officer, who answers data-subject requests, sees addresses, tax ids and links.
ROLE_VISIBLE_FIELDS: dict[StaffRole, tuple[str, ...]] = {
    StaffRole.SUPPORT: _CONTACT_FIELDS,
    StaffRole.CONTENT_MANAGER: (),
    StaffRole.PRIVACY_OFFICER: PERSON_FIELDS,
    StaffRole.ADMINISTRATOR: _CONTACT_FIELDS,
    StaffRole.ANALYST: (),
    StaffRole.LICENSING_MANAGER: (),
    StaffRole.NEWSLETTER_EDITOR: (),
}


def role_groups_sync(apps: Any) -> None:
    """Creates the role groups and permissions and sets each group's permissions to exactly
    ROLE_PERMISSIONS. Idempotent; takes an app registry so data migrations can call it."""
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permissions = {}
    for key, (model, name) in PERMISSIONS.items():
        app_label, codename = key.split(".")
        content_type, _created = content_type_model.objects.get_or_create(
            app_label=app_label, model=model
        )
        permissions[key], _created = permission_model.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
    for role in StaffRole:
        group, _created = group_model.objects.get_or_create(name=role.value)
        group.permissions.set([permissions[key] for key in ROLE_PERMISSIONS[role]])
