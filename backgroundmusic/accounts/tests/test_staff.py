import re

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.test import Client
from django.urls import reverse

from backgroundmusic.accounts import services, staff
from backgroundmusic.accounts.break_glass import break_glass_grant
from backgroundmusic.accounts.models import Profile, SocialLink, User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.audit.models import AuditEvent
from backgroundmusic.audit.tests.refusals import service_denial, service_denials
from backgroundmusic.core.clock import CONTROLLER_TIME_ZONE
from backgroundmusic.core.errors import ActionRefused
from backgroundmusic.privacy.kernel.access_log import access_log_record
from backgroundmusic.privacy.kernel.models import StaffAccessLogEntry
from backgroundmusic.staffroles.roles import PERSON_FIELDS, StaffRole
from backgroundmusic.staffroles.selectors import staff_permissions, staff_roles
from tests.callers import CALLERS, expected_by_caller

pytestmark = pytest.mark.django_db

# What each caller kind gets from the people pages, and from the access log.
PEOPLE_PAGES = expected_by_caller(
    {"support", "privacy_officer", "administrator"},
    allowed_outcome=200,
    refused_outcome=403,
    kinds=CALLERS,
    anonymous=302,
)
ACCESS_LOG_PAGE = expected_by_caller(
    {"privacy_officer", "administrator"},
    allowed_outcome=200,
    refused_outcome=403,
    kinds=CALLERS,
    anonymous=302,
)
SUPPORT_FIELDS = [
    "username",
    "email",
    "phone",
    "date_joined",
    "last_login",
    "account_type",
    "full_name",
    "company_name",
]
ALL_FIELDS = [*SUPPORT_FIELDS, *PERSON_FIELDS[len(SUPPORT_FIELDS) :]]
TOTP_ACTIVATE = "/accounts/2fa/totp/activate/"
REASON = "Ticket 4211: the person asked why sign-in fails"
# Values only a reading of the owner's data may put on a page.
OWNER_SECRETS = {
    "email": "owner@example.com",
    # Stored in E.164, shown in the international format.
    "phone": "+7 423 222-33-44",
    "full_name": "Ivan Petrov",
    "tax_id": "7707083893",
    "address_city": "Vladivostok",
    "address_street": "Svetlanskaya 12",
    "social_links": "https://vk.com/ivan-petrov",
}


@pytest.fixture
def owner() -> User:
    user = UserFactory.create(username="owner")
    profile = Profile.objects.get(user=user)
    profile.full_name = OWNER_SECRETS["full_name"]
    profile.phone = "+74232223344"
    profile.tax_id = OWNER_SECRETS["tax_id"]
    profile.address_country = "Russia"
    profile.address_city = OWNER_SECRETS["address_city"]
    profile.address_street = OWNER_SECRETS["address_street"]
    profile.save()
    SocialLink.objects.create(profile=profile, url=OWNER_SECRETS["social_links"])
    return user


def shown_fields(html: str) -> list[str]:
    return re.findall(r'data-field="([a-z_]+)"', html)


def shown_sections(html: str) -> list[str]:
    return re.findall(r'data-section="([a-z_]+)"', html)


def listed_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-user-id="(\d+)"', html)]


def assert_no_personal_data(html: str) -> None:
    for value in OWNER_SECRETS.values():
        assert value not in html


def test_the_migration_creates_each_role_with_least_privilege():
    grants = {
        group.name: sorted(
            f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()
        )
        for group in Group.objects.prefetch_related("permissions__content_type")
    }
    assert grants == {
        "support": ["accounts.view_person_data"],
        "content_manager": ["catalog.manage_catalogue"],
        "privacy_officer": [
            "accounts.view_person_data",
            "analytics.export_research",
            "analytics.view_statistics",
            "audit.view_audit_trail",
            "incidents.manage_incident",
            "privacy.handle_datasubjectrequest",
            "privacy.manage_transfers",
            "privacy.place_legalhold",
            "privacy.publish_policyedition",
            "privacy.record_disclosure",
            "privacy.view_access_log",
        ],
        "administrator": [
            "accounts.view_person_data",
            "analytics.view_statistics",
            "audit.view_audit_trail",
            "catalog.manage_catalogue",
            "privacy.view_access_log",
        ],
        "analyst": ["analytics.view_statistics"],
        "licensing_manager": [
            "licensing.manage_order",
            "licensing.publish_planedition",
            "licensing.revoke_agreement",
        ],
        "newsletter_editor": ["mailing.manage_campaign"],
    }


def test_role_assign_and_revoke():
    user = UserFactory.create()
    staff.staff_role_assign(actor=None, user=user, role=StaffRole.SUPPORT)
    staff.staff_role_assign(actor=None, user=user, role=StaffRole.PRIVACY_OFFICER)
    assert staff_roles(user=user) == {StaffRole.SUPPORT, StaffRole.PRIVACY_OFFICER}
    staff.staff_role_revoke(actor=None, user=user, role=StaffRole.SUPPORT)
    assert list(user.groups.values_list("name", flat=True)) == ["privacy_officer"]
    assert staff_roles(user=user) == {StaffRole.PRIVACY_OFFICER}


def test_roles_and_permissions_are_read_once_per_user_object_and_again_after_a_change(
    django_assert_num_queries,
):
    user = UserFactory.create()
    with django_assert_num_queries(2):
        assert staff_roles(user=user) == set()
        assert staff_permissions(user=user) == set()
    with django_assert_num_queries(0):
        assert staff_roles(user=user) == set()
        assert staff_permissions(user=user) == set()
    staff.staff_role_assign(actor=None, user=user, role=StaffRole.SUPPORT)
    assert staff_roles(user=user) == {StaffRole.SUPPORT}
    assert "accounts.view_person_data" in staff_permissions(user=user)
    staff.staff_role_revoke(actor=None, user=user, role=StaffRole.SUPPORT)
    assert (staff_roles(user=user), staff_permissions(user=user)) == (set(), set())


def test_the_demo_administrator_holds_the_administrator_role():
    admin = services.staff_administrator_create(
        username="demo-admin", email="admin@example.com", password="a-long-password-1"
    )
    assert list(admin.groups.values_list("name", flat=True)) == ["administrator"]
    assert (admin.is_staff, admin.is_superuser) == (False, False)


@pytest.mark.parametrize(
    "role, expected",
    [
        (StaffRole.SUPPORT, SUPPORT_FIELDS),
        (StaffRole.CONTENT_MANAGER, []),
        (StaffRole.PRIVACY_OFFICER, ALL_FIELDS),
        (StaffRole.ADMINISTRATOR, SUPPORT_FIELDS),
        (StaffRole.ANALYST, []),
        (StaffRole.LICENSING_MANAGER, []),
    ],
)
def test_visible_fields_per_role(role, expected):
    assert staff.staff_visible_fields(actor=StaffFactory.create(role=role)) == expected


def test_visible_fields_of_several_roles_are_their_union_in_display_order():
    actor = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    staff.staff_role_assign(actor=None, user=actor, role=StaffRole.SUPPORT)
    assert staff.staff_visible_fields(actor=actor) == SUPPORT_FIELDS


def test_visible_fields_of_non_staff_are_none(owner):
    assert staff.staff_visible_fields(actor=owner) == []
    assert staff.staff_visible_fields(actor=StaffFactory.create(role="support", totp=False)) == []
    inactive = StaffFactory.create(role=StaffRole.PRIVACY_OFFICER)
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    assert staff.staff_visible_fields(actor=inactive) == []


@pytest.mark.parametrize(("caller", "expected"), PEOPLE_PAGES.items())
def test_people_list_access(caller, expected, caller_for, owner):
    response = caller_for(caller).client.get("/staff/")
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"] == "/accounts/login/?next=/staff/"
    if expected == 200:
        assert owner.pk in listed_ids(response.content.decode())
    assert_no_personal_data(response.content.decode())
    assert StaffAccessLogEntry.objects.count() == 0


def test_people_list_shows_only_id_and_username(caller_for, owner):
    response = caller_for("support").client.get("/staff/", {"q": "owner"})
    html = response.content.decode()
    assert listed_ids(html) == [owner.pk]
    row = re.search(rf'<tr data-user-id="{owner.pk}">(.*?)</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    assert cells[:2] == [str(owner.pk), "owner"]
    assert_no_personal_data(html)


def test_people_search_by_username_or_id(caller_for, owner):
    other = UserFactory.create(username="someone-else")
    client = caller_for("support").client
    assert listed_ids(client.get("/staff/", {"q": "OWN"}).content.decode()) == [owner.pk]
    assert listed_ids(client.get("/staff/", {"q": str(other.pk)}).content.decode()) == [other.pk]
    assert listed_ids(client.get("/staff/", {"q": "nobody-has-this"}).content.decode()) == []


@pytest.mark.parametrize(("caller", "expected"), PEOPLE_PAGES.items())
def test_person_detail_get_asks_for_a_reason_and_shows_nothing(caller, expected, caller_for, owner):
    url = f"/staff/people/{owner.pk}/"
    response = caller_for(caller).client.get(url)
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"] == f"/accounts/login/?next={url}"
    if expected == 200:
        html = response.content.decode()
        assert 'id="access-reason-form"' in html
        assert shown_fields(html) == []
    assert_no_personal_data(response.content.decode())
    assert StaffAccessLogEntry.objects.count() == 0


@pytest.mark.parametrize(
    "caller, expected, fields",
    [
        ("anonymous", 302, None),
        ("other_user", 403, None),
        ("owner", 403, None),
        ("support", 200, [*SUPPORT_FIELDS, "consents"]),
        ("content_manager", 403, None),
        ("privacy_officer", 200, [*ALL_FIELDS, "consents", "requests", "exports"]),
        ("administrator", 200, [*SUPPORT_FIELDS, "consents"]),
        ("analyst", 403, None),
        ("licensing_manager", 403, None),
        ("newsletter_editor", 403, None),
    ],
)
def test_person_detail_with_a_reason_shows_the_role_fields_and_logs_them(
    caller, expected, fields, caller_for, owner
):
    client = caller_for(caller).client
    response = client.post(f"/staff/people/{owner.pk}/", {"reason": REASON})
    assert response.status_code == expected
    html = response.content.decode()
    if expected != 200:
        assert StaffAccessLogEntry.objects.count() == 0
        assert_no_personal_data(html)
        return
    entry = StaffAccessLogEntry.objects.get()
    actor_id = int(client.session["_auth_user_id"])
    assert (entry.actor_id, entry.subject_id, entry.fields, entry.reason) == (
        actor_id,
        owner.pk,
        fields,
        REASON,
    )
    assert shown_fields(html) + shown_sections(html) == entry.fields
    for name, value in OWNER_SECRETS.items():
        assert (value in html) == (name in fields)
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


def test_the_log_entry_names_exactly_the_fields_the_page_showed(caller_for, owner):
    response = caller_for("privacy_officer").client.post(
        f"/staff/people/{owner.pk}/", {"reason": REASON}
    )
    html = response.content.decode()
    entry = StaffAccessLogEntry.objects.get()
    assert shown_fields(html) == ALL_FIELDS
    assert shown_sections(html) == ["consents", "requests", "exports"]
    assert entry.fields == [*ALL_FIELDS, "consents", "requests", "exports"]
    assert "Svetlanskaya 12" in html
    assert "https://vk.com/ivan-petrov" in html


def test_each_reading_is_one_entry(caller_for, owner):
    client = caller_for("support").client
    client.post(f"/staff/people/{owner.pk}/", {"reason": REASON})
    client.post(f"/staff/people/{owner.pk}/", {"reason": "Ticket 4212: follow-up"})
    assert list(StaffAccessLogEntry.objects.values_list("reason", flat=True)) == [
        REASON,
        "Ticket 4212: follow-up",
    ]


@pytest.mark.parametrize("reason", ["", "   ", "why"])
def test_no_reason_no_data_no_entry(reason, caller_for, owner):
    response = caller_for("privacy_officer").client.post(
        f"/staff/people/{owner.pk}/", {"reason": reason}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert shown_fields(html) == []
    assert 'id="access-reason-form"' in html
    assert_no_personal_data(html)
    assert StaffAccessLogEntry.objects.count() == 0


def test_a_reason_over_500_characters_is_refused_and_kept_in_the_form(caller_for, owner):
    typed = "Ticket 4212: " + "x" * 488
    response = caller_for("privacy_officer").client.post(
        f"/staff/people/{owner.pk}/", {"reason": typed}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ensure this value has at most 500 characters (it has 501)." in html
    assert f">\n{typed}</textarea>" in html
    assert shown_fields(html) == []
    assert StaffAccessLogEntry.objects.count() == 0


def test_unknown_person_is_404_and_logs_nothing(caller_for):
    client = caller_for("privacy_officer").client
    assert client.get("/staff/people/999999/").status_code == 404
    assert client.post("/staff/people/999999/", {"reason": REASON}).status_code == 404
    assert StaffAccessLogEntry.objects.count() == 0


@pytest.mark.parametrize(("caller", "expected"), ACCESS_LOG_PAGE.items())
def test_access_log_page_access(caller, expected, caller_for, owner):
    reader = StaffFactory.create(role=StaffRole.SUPPORT, username="reader")
    entry = access_log_record(
        actor=reader, subject_id=owner.pk, fields=["email"], reason="Ticket 77: bounced e-mail"
    )
    response = caller_for(caller).client.get("/staff/access-log/")
    assert response.status_code == expected
    html = response.content.decode()
    if expected == 302:
        assert response["Location"] == "/accounts/login/?next=/staff/access-log/"
    assert ("Ticket 77: bounced e-mail" in html) == (expected == 200)
    if expected == 200:
        row = re.search(rf'<tr data-entry-id="{entry.pk}">(.*?)</tr>', html, re.S)
        assert row is not None
        cells = [
            re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row[1])
        ]
        moscow = entry.at.astimezone(CONTROLLER_TIME_ZONE)
        assert cells == [
            f"{moscow.day} {moscow:%B %Y, %H:%M} UTC+3",
            "reader (Support)",
            str(owner.pk),
            "email",
            "Ticket 77: bounced e-mail",
        ]
    assert StaffAccessLogEntry.objects.count() == 1


@pytest.mark.parametrize("role", list(StaffRole))
@pytest.mark.parametrize("path", ["/staff/", "/staff/access-log/", "/admin/"])
def test_staff_without_totp_are_sent_to_activate_it(role, path, client):
    client.force_login(StaffFactory.create(role=role, totp=False))
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == TOTP_ACTIVATE == reverse("mfa_activate_totp")


def test_staff_without_totp_cannot_read_a_person(client, owner):
    client.force_login(StaffFactory.create(role=StaffRole.PRIVACY_OFFICER, totp=False))
    response = client.post(f"/staff/people/{owner.pk}/", {"reason": REASON})
    assert response.status_code == 302
    assert response["Location"] == TOTP_ACTIVATE
    assert StaffAccessLogEntry.objects.count() == 0


def test_django_staff_flag_without_totp_is_sent_to_activate_it(client):
    user = UserFactory.create()
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client.force_login(user)
    assert client.get("/admin/")["Location"] == TOTP_ACTIVATE


def test_plain_user_is_not_asked_for_totp(client, owner):
    client.force_login(owner)
    assert client.get("/staff/").status_code == 403
    assert client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"
    assert client.get("/admin/login/?next=/admin/").status_code == 403
    assert client.get("/account/profile/").status_code == 200


def test_admin_sign_in_goes_through_allauth(client):
    assert client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"


# The statistics pages read the analytics database.
@pytest.mark.django_db(databases="__all__")
@pytest.mark.parametrize(
    "caller, link",
    [
        ("other_user", None),
        ("owner", None),
        ("support", "/staff/"),
        ("content_manager", "/staff/catalogue/"),
        ("privacy_officer", "/staff/"),
        ("administrator", "/staff/"),
        ("analyst", "/staff/analytics/"),
        ("licensing_manager", "/staff/licensing/plans/"),
    ],
)
def test_staff_link_leads_to_the_first_page_the_caller_may_open(caller, link, caller_for):
    caller_client = caller_for(caller).client
    html = caller_client.get("/").content.decode()
    links = re.findall(r'<a href="([^"]+)">Staff</a>', html)
    assert links == ([link] if link else [])
    if link:
        assert caller_client.get(link).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("caller", ["anonymous", "other_user", "support", "administrator"])
def test_everyone_signed_in_finds_the_privacy_center_in_the_main_navigation(caller, caller_for):
    html = (
        (caller_for(caller).client if caller != "anonymous" else Client()).get("/").content.decode()
    )
    links = re.findall(r'<a href="([^"]+)">Privacy center</a>', html)
    assert links == ([] if caller == "anonymous" else ["/privacy/"])


# The statistics pages read the analytics database.
@pytest.mark.django_db(databases="__all__")
@pytest.mark.parametrize(
    "role, sections",
    [
        (StaffRole.SUPPORT, ["staff:people"]),
        (StaffRole.CONTENT_MANAGER, ["catalog_staff:tracks", "media_staff:masters"]),
        (
            StaffRole.PRIVACY_OFFICER,
            [
                "staff:people",
                "staff:access_log",
                "staff:audit_log",
                "privacy:staff_requests",
                "privacy:staff_disclosures",
                "privacy:staff_recipients",
                "privacy:staff_transfers",
                "privacy:staff_legal_holds",
                "privacy:staff_policies",
                "incidents_staff:incidents",
                "analytics_staff:dashboard",
                "analytics_staff:research",
            ],
        ),
        (
            StaffRole.ADMINISTRATOR,
            [
                "staff:people",
                "staff:access_log",
                "staff:audit_log",
                "catalog_staff:tracks",
                "media_staff:masters",
                "analytics_staff:dashboard",
            ],
        ),
        (StaffRole.ANALYST, ["analytics_staff:dashboard"]),
        (
            StaffRole.LICENSING_MANAGER,
            ["licensing_staff:plans", "licensing_staff:agreements", "licensing_staff:orders"],
        ),
        (StaffRole.NEWSLETTER_EDITOR, ["mailing_staff:campaigns"]),
    ],
)
def test_staff_sections_are_the_pages_each_role_may_open(role, sections, client):
    member = StaffFactory.create(role=role)
    assert [section.url_name for section in staff.staff_sections(actor=member)] == sections
    client.force_login(member)
    for url_name in sections:
        assert client.get(reverse(url_name)).status_code == 200


@pytest.mark.django_db(databases="__all__")
def test_the_staff_navigation_groups_the_pages_by_the_work_they_are_for(client):
    officer = StaffFactory.create(role=StaffRole.PRIVACY_OFFICER)
    groups = staff.staff_nav_groups(actor=officer)
    assert [(group.label, [s.label for s in group.sections]) for group in groups] == [
        ("People and records", ["People", "Access log", "Audit trail"]),
        (
            "Privacy",
            [
                "Requests",
                "Disclosures",
                "Recipients",
                "Transfers abroad",
                "Legal holds",
                "Policies",
                "Incidents",
            ],
        ),
        ("Audience", ["Statistics", "Research exports"]),
    ]
    client.force_login(officer)
    html = client.get(reverse("privacy:staff_legal_holds"), HTTP_ACCEPT_LANGUAGE="ru")
    nav = html.content.decode().split('<nav class="staff-nav"', 1)[1].split("</nav>", 1)[0]
    headings = re.findall(r'<span class="staff-nav-heading" id="staff-nav-\d">([^<]+)</span>', nav)
    assert headings == ["Люди и записи", "Персональные данные", "Аудитория"]
    assert '<a href="/staff/legal-holds/" aria-current="page">' in nav


def test_staff_without_totp_have_no_sections_and_the_link_leads_to_setting_it_up(client):
    member = StaffFactory.create(role=StaffRole.CONTENT_MANAGER, totp=False)
    assert staff.staff_sections(actor=member) == []
    client.force_login(member)
    html = client.get("/").content.decode()
    assert f'<a href="{reverse("mfa_activate_totp")}">Staff</a>' in html


@pytest.fixture
def admin_client_2fa(client: Client) -> Client:
    """An administrator in the Django admin, which takes a break-glass grant."""
    admin = services.staff_administrator_create(
        username="demo-admin", email="admin@example.com", password="a-long-password-1"
    )
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(admin, generate_totp_secret())
    break_glass_grant(username="demo-admin", reason="Test", minutes=30, operator="ops")
    admin.refresh_from_db()
    client.force_login(admin)
    return client


def test_admin_shows_users_without_email_or_profile(admin_client_2fa, owner):
    changelist = admin_client_2fa.get("/admin/accounts/user/")
    change = admin_client_2fa.get(f"/admin/accounts/user/{owner.pk}/change/")
    assert (changelist.status_code, change.status_code) == (200, 200)
    for response in (changelist, change):
        html = response.content.decode()
        assert "owner" in html
        assert "admin@example.com" not in html
        assert_no_personal_data(html)
    assert list(change.context["adminform"].form.fields) == ["username", "is_active", "groups"]
    assert admin_client_2fa.get("/admin/accounts/user/add/").status_code == 403
    assert admin_client_2fa.get(f"/admin/accounts/user/{owner.pk}/delete/").status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/admin/accounts/profile/",
        "/admin/accounts/sociallink/",
        "/admin/accounts/publicprofilechoice/",
        "/admin/privacy/datakey/",
        "/admin/privacy/staffaccesslogentry/",
        "/admin/account/emailaddress/",
        "/admin/mfa/authenticator/",
        "/admin/usersessions/usersession/",
        "/admin/axes/accessattempt/",
        "/admin/axes/accesslog/",
        "/admin/axes/accessfailurelog/",
    ],
)
def test_admin_registers_no_personal_data_models(path, admin_client_2fa):
    assert admin_client_2fa.get(path).status_code == 404


def test_people_list_pages_by_fifty(caller_for, owner):
    client = caller_for("support").client  # username "support", listed after "owner"
    for n in range(49):
        User.objects.create(username=f"bulk{n:02}")
    first = client.get("/staff/").content.decode()
    second = client.get("/staff/", {"page": "2"}).content.decode()
    assert listed_ids(first)[-1] == owner.pk
    assert len(listed_ids(first)) == 50
    assert "Page 1 of 2" in first
    assert listed_ids(second) == [int(client.session["_auth_user_id"])]
    assert "Page 2 of 2" in second


def role_rows() -> list[tuple]:
    return list(
        AuditEvent.objects.filter(action__in=["role.assigned", "role.revoked"])
        .order_by("pk")
        .values_list("actor_id", "action", "target_id", "before", "after")
    )


@pytest.mark.parametrize(
    ("kind", "allowed"),
    expected_by_caller({"administrator"}, allowed_outcome=True, refused_outcome=False).items(),
)
def test_only_an_administrator_with_two_factor_assigns_and_revokes_roles(kind, allowed, caller_for):
    user = caller_for(kind).user
    actor = AnonymousUser() if user is None else user
    person = UserFactory.create(username="promoted")
    before = role_rows()
    if allowed:
        staff.staff_role_assign(actor=actor, user=person, role=StaffRole.SUPPORT)
        assert staff_roles(user=User.objects.get(pk=person.pk)) == {StaffRole.SUPPORT}
        staff.staff_role_revoke(actor=actor, user=person, role=StaffRole.SUPPORT)
        assert staff_roles(user=User.objects.get(pk=person.pk)) == set()
        assert role_rows()[len(before) :] == [
            (actor.pk, "role.assigned", str(person.pk), {}, {"role": "support"}),
            (actor.pk, "role.revoked", str(person.pk), {"role": "support"}, {}),
        ]
        assert service_denials() == []
        return
    with pytest.raises(ActionRefused):
        staff.staff_role_assign(actor=actor, user=person, role=StaffRole.SUPPORT)
    assert (staff_roles(user=User.objects.get(pk=person.pk)), role_rows()) == (set(), before)
    staff.staff_role_assign(actor=None, user=person, role=StaffRole.SUPPORT)
    with_role = role_rows()
    with pytest.raises(ActionRefused):
        staff.staff_role_revoke(actor=actor, user=person, role=StaffRole.SUPPORT)
    assert staff_roles(user=User.objects.get(pk=person.pk)) == {StaffRole.SUPPORT}
    assert role_rows() == with_role
    assert service_denials() == [
        service_denial(actor, service=service, permission="staff_may_assign_roles")
        for service in ("accounts.staff_role_assign", "accounts.staff_role_revoke")
    ]
