"""The audit trail of staff actions (issue 10, section 4): one exact row per action, refused
attempts recorded, the page and its own reading, erasure of a staff member."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from backgroundmusic.accounts import staff
from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.audit.models import AuditEvent
from backgroundmusic.audit.services import audit_record
from backgroundmusic.catalog import services as catalogue
from backgroundmusic.catalog.models import Collection, Genre, Track
from backgroundmusic.catalog.tests.fixtures import make_facets
from backgroundmusic.core import clock
from backgroundmusic.core.errors import DomainError, PermissionDenied
from backgroundmusic.privacy import disclosures, policies
from backgroundmusic.privacy import requests as dsr
from backgroundmusic.privacy.models import (
    DataSubjectRequest,
    DestructionRecord,
    DocumentKind,
    RequestKind,
)
from backgroundmusic.privacy.retention import retention_run
from backgroundmusic.privacy.tests.test_erasure import erase
from backgroundmusic.staffroles.roles import StaffRole
from backgroundmusic.staffroles.selectors import staff_roles

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday, 12:00 in Moscow


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


def rows(*actions: str) -> list[tuple]:
    """The rows of these actions, oldest first, as (actor, action, target, before, after)."""
    return [
        (e.actor_id, e.action, f"{e.target_type}:{e.target_id}", e.before, e.after)
        for e in AuditEvent.objects.filter(action__in=actions).order_by("pk")
    ]


REQUEST_ACTIONS = (
    "request.logged",
    "request.subject_linked",
    "request.identity_verified",
    "request.identity_failed",
    "request.extended",
    "request.acted",
    "request.closed",
)


def test_each_handler_of_a_request_keeps_their_step():
    first = StaffFactory.create(role=StaffRole.PRIVACY_OFFICER)
    second = StaffFactory.create(role=StaffRole.PRIVACY_OFFICER)
    person = UserFactory.create()
    request = dsr.request_log(
        actor=first,
        kind=RequestKind.RESTRICTION,
        channel=DataSubjectRequest.Channel.EMAIL,
        received_at=NOW - timedelta(days=1),
        requester_contact="person@example.org",
    )
    dsr.request_link_subject(actor=first, request=request, subject=person)
    dsr.request_verify_identity(actor=first, request=request, verified=False)
    dsr.request_verify_identity(actor=first, request=request, verified=True)
    dsr.request_extend(actor=second, request=request, reason="Archive documents are needed")
    dsr.request_act(actor=second, request=request, action="restrict")
    dsr.request_close(actor=second, request=request, outcome="Processing restricted", status="done")
    target = f"privacy.DataSubjectRequest:{request.pk}"
    assert rows(*REQUEST_ACTIONS) == [
        (
            first.pk,
            "request.logged",
            target,
            {},
            {"kind": "restriction", "channel": "email", "subject_linked": False},
        ),
        (
            first.pk,
            "request.subject_linked",
            target,
            {"identity": "unverified"},
            {"identity": "unverified", "subject_changed": True},
        ),
        (
            first.pk,
            "request.identity_failed",
            target,
            {"identity": "unverified"},
            {"identity": "failed"},
        ),
        (
            first.pk,
            "request.identity_verified",
            target,
            {"identity": "failed"},
            {"identity": "verified"},
        ),
        (
            second.pk,
            "request.extended",
            target,
            {"due_ru": "2026-03-16"},
            {"extended_due_ru": "2026-03-23"},
        ),
        (second.pk, "request.acted", target, {}, {"action": "restrict", "purpose": ""}),
        (
            second.pk,
            "request.closed",
            target,
            {"status": "open"},
            {"status": "done", "late": False},
        ),
    ]


def test_a_refused_request_step_writes_no_row():
    officer = StaffFactory.create(role=StaffRole.PRIVACY_OFFICER)
    request = dsr.request_log(
        actor=officer,
        kind=RequestKind.ACCESS,
        channel=DataSubjectRequest.Channel.EMAIL,
        received_at=NOW,
        requester_contact="person@example.org",
    )
    with pytest.raises(DomainError):
        dsr.request_close(actor=officer, request=request, outcome="Sent", status="done")
    assert [row[1] for row in rows(*REQUEST_ACTIONS)] == ["request.logged"]


def test_an_administrator_assigns_and_revokes_a_role():
    administrator = StaffFactory.create(role=StaffRole.ADMINISTRATOR)
    person = UserFactory.create()
    staff.staff_role_assign(actor=administrator, user=person, role=StaffRole.SUPPORT)
    staff.staff_role_assign(actor=administrator, user=person, role=StaffRole.SUPPORT)
    staff.staff_role_revoke(actor=administrator, user=person, role=StaffRole.SUPPORT)
    staff.staff_role_revoke(actor=administrator, user=person, role=StaffRole.SUPPORT)
    target = f"accounts.User:{person.pk}"
    # Assigning a held role or revoking one not held changes nothing and writes nothing.
    assert rows("role.assigned", "role.revoked")[-2:] == [
        (administrator.pk, "role.assigned", target, {}, {"role": "support"}),
        (administrator.pk, "role.revoked", target, {"role": "support"}, {}),
    ]
    assert rows("role.assigned", "role.revoked")[:-2] == [
        (None, "role.assigned", f"accounts.User:{administrator.pk}", {}, {"role": "administrator"})
    ]


@pytest.mark.parametrize("role", [StaffRole.SUPPORT, StaffRole.PRIVACY_OFFICER])
def test_only_an_administrator_changes_roles(role):
    actor = StaffFactory.create(role=role)
    person = UserFactory.create()
    before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        staff.staff_role_assign(actor=actor, user=person, role=StaffRole.ADMINISTRATOR)
    staff.staff_role_assign(actor=None, user=person, role=StaffRole.SUPPORT)
    with pytest.raises(PermissionDenied):
        staff.staff_role_revoke(actor=actor, user=person, role=StaffRole.SUPPORT)
    assert staff_roles(user=User.objects.get(pk=person.pk)) == {StaffRole.SUPPORT}
    assert rows("role.assigned", "role.revoked")[-1] == (
        None,
        "role.assigned",
        f"accounts.User:{person.pk}",
        {},
        {"role": "support"},
    )
    assert AuditEvent.objects.count() == before + 1


def test_publishing_an_edition():
    officer = StaffFactory.create(role=StaffRole.PRIVACY_OFFICER)
    edition = policies.edition_publish(
        actor=officer,
        kind=DocumentKind.PRIVACY_POLICY,
        version="2026-03-02",
        title_en="Privacy policy",
        title_ru="Политика конфиденциальности",
        body_en="## 1. Who we are",
        body_ru="## 1. Кто мы",
        change_summary_en="",
        change_summary_ru="",
        effective_at=None,
        material_purposes=[],
    )
    assert rows("policy.edition_published") == [
        (
            officer.pk,
            "policy.edition_published",
            f"privacy.PolicyEdition:{edition.pk}",
            {},
            {
                "kind": "privacy_policy",
                "version": "2026-03-02",
                "effective_at": "2026-03-02T09:00:00+00:00",
                "material_purposes": [],
            },
        )
    ]


def test_recording_a_disclosure_keeps_no_personal_value():
    officer = StaffFactory.create(role=StaffRole.PRIVACY_OFFICER)
    person = UserFactory.create()
    disclosure = disclosures.disclosure_record(
        actor=officer,
        subject=person,
        recipient_name="Court of Vladivostok",
        country="RU",
        legal_basis="court_decision",
        categories=["user.contact.email"],
        reference_document="Decision 2-117/2026",
        disclosed_on=date(2026, 2, 5),
    )
    assert rows("disclosure.recorded") == [
        (
            officer.pk,
            "disclosure.recorded",
            f"privacy.Disclosure:{disclosure.pk}",
            {},
            {
                "country": "RU",
                "legal_basis": "court_decision",
                "categories": ["user.contact.email"],
                "legal_hold": False,
            },
        )
    ]


CATALOGUE_ACTIONS = (
    "catalogue.track_created",
    "catalogue.track_updated",
    "catalogue.facet_created",
    "catalogue.facet_renamed",
    "catalogue.collection_created",
    "catalogue.collection_updated",
)


def test_catalogue_edits():
    make_facets()
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    track = catalogue.track_create(actor=manager, title="Slow Tide", catalogue_code="BM-0001")
    catalogue.track_update(actor=manager, track=track, title="Slow Tide", genres=["ambient"])
    catalogue.track_update(actor=manager, track=track, title="Slow Tide")
    genre = catalogue.facet_create(actor=manager, kind="genre", name_en="Drone", name_ru="Дроун")
    catalogue.facet_rename(actor=manager, facet=genre, name_en="Drones", name_ru="Дроун")
    collection = catalogue.collection_create(
        actor=manager, kind=Collection.Kind.ALBUM, title="Tides", track_ids=[track.pk]
    )
    catalogue.collection_update(
        actor=manager,
        collection=collection,
        kind=Collection.Kind.ALBUM,
        title="Tides",
        slug="tides",
        description="",
        is_published=True,
        track_ids=[track.pk],
    )
    track_target, genre_target = f"catalog.Track:{track.pk}", f"catalog.Genre:{genre.pk}"
    collection_target = f"catalog.Collection:{collection.pk}"
    # The second update changed nothing, so it wrote nothing.
    assert [row[1:] for row in rows(*CATALOGUE_ACTIONS)] == [
        (
            "catalogue.track_created",
            track_target,
            {},
            {
                "catalogue_code": "BM-0001",
                "is_published": False,
                "slug": "slow-tide",
                "title": "Slow Tide",
            },
        ),
        ("catalogue.track_updated", track_target, {"genres": []}, {"genres": ["ambient"]}),
        (
            "catalogue.facet_created",
            genre_target,
            {},
            {"slug": "drone", "name_en": "Drone", "name_ru": "Дроун"},
        ),
        (
            "catalogue.facet_renamed",
            genre_target,
            {"name_en": "Drone", "name_ru": "Дроун"},
            {"name_en": "Drones", "name_ru": "Дроун"},
        ),
        (
            "catalogue.collection_created",
            collection_target,
            {},
            {
                "kind": "album",
                "title": "Tides",
                "slug": "tides",
                "is_published": False,
                "track_ids": [track.pk],
            },
        ),
        (
            "catalogue.collection_updated",
            collection_target,
            {"is_published": False},
            {"is_published": True},
        ),
    ]
    assert {row[0] for row in rows(*CATALOGUE_ACTIONS)} == {manager.pk}


def test_a_refused_catalogue_edit_writes_no_row():
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    support = StaffFactory.create(role=StaffRole.SUPPORT)
    track = catalogue.track_create(actor=manager, title="Slow Tide", catalogue_code="BM-0001")
    with pytest.raises(PermissionDenied):
        catalogue.track_update(actor=support, track=track, title="Fast Tide")
    with pytest.raises(DomainError):
        catalogue.track_update(actor=manager, track=track, energy=99)
    assert Track.objects.get().title == "Slow Tide"
    assert [row[1] for row in rows("catalogue.track_created", "catalogue.track_updated")] == [
        "catalogue.track_created"
    ]
    assert not Genre.objects.exists()


def test_support_opening_a_privacy_officer_page_is_recorded(client, caller_for):
    support = caller_for(StaffRole.SUPPORT).user
    assert client.get("/staff/requests/").status_code == 403
    assert client.post("/staff/disclosures/new/", {}).status_code == 403
    assert rows("staff.denied") == [
        (support.pk, "staff.denied", ":", {}, {"path": "/staff/requests/", "method": "GET"}),
        (
            support.pk,
            "staff.denied",
            ":",
            {},
            {"path": "/staff/disclosures/new/", "method": "POST"},
        ),
    ]


def test_a_plain_user_opening_a_staff_page_is_recorded(client):
    person = UserFactory.create()
    client.force_login(person)
    assert client.get("/staff/").status_code == 403
    assert rows("staff.denied") == [
        (person.pk, "staff.denied", ":", {}, {"path": "/staff/", "method": "GET"})
    ]


def test_anonymous_callers_and_allowed_pages_write_no_row(client, caller_for):
    assert client.get("/staff/").status_code == 302
    caller_for(StaffRole.SUPPORT)
    assert client.get("/staff/").status_code == 200
    assert client.get("/catalog/").status_code == 200
    assert rows("staff.denied") == []


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("anonymous", 302),
        ("other_user", 403),
        (StaffRole.SUPPORT, 403),
        (StaffRole.CONTENT_MANAGER, 403),
        (StaffRole.ANALYST, 403),
        (StaffRole.PRIVACY_OFFICER, 200),
        (StaffRole.ADMINISTRATOR, 200),
        (StaffRole.LICENSING_MANAGER, 403),
    ],
)
def test_audit_page_access(caller, expected, client, caller_for):
    catalogue.facet_create(actor=None, kind="mood", name_en="Calm", name_ru="Спокойное")
    reader = caller_for(caller).user
    reader_id = None if reader is None else reader.pk
    response = client.get("/staff/audit/")
    assert response.status_code == expected
    html = response.content.decode()
    assert ("Facet created" in html) == (expected == 200)
    if expected == 302:
        assert response["Location"] == "/accounts/login/?next=/staff/audit/"
        assert rows("audit.viewed", "staff.denied") == []
    elif expected == 403:
        assert rows("audit.viewed", "staff.denied") == [
            (reader_id, "staff.denied", ":", {}, {"path": "/staff/audit/", "method": "GET"})
        ]
    else:
        assert rows("audit.viewed", "staff.denied") == [
            (reader_id, "audit.viewed", ":", {}, {"action": ""})
        ]
        assert '<a href="/staff/audit/" aria-current="page">Audit trail</a>' in html


def listed_actions(html: str) -> list[str]:
    return re.findall(r'data-action="([a-z_.]+)"', html)


def test_audit_page_filters_by_action_and_actor_and_pages(client, caller_for):
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    for number in range(55):
        catalogue.facet_create(
            actor=manager, kind="genre", name_en=f"Genre {number}", name_ru=f"Жанр {number}"
        )
    catalogue.facet_create(actor=None, kind="mood", name_en="Calm", name_ru="Спокойное")
    officer = caller_for(StaffRole.PRIVACY_OFFICER).user
    query = {"action": "catalogue.facet_created", "actor": manager.pk}
    first = client.get("/staff/audit/", query).content.decode()
    assert listed_actions(first) == ["catalogue.facet_created"] * 50
    assert "Page 1 of 2" in first
    link = f"?action=catalogue.facet_created&amp;actor={manager.pk}&amp;page=2"
    assert link in first
    second = client.get("/staff/audit/", {**query, "page": 2}).content.decode()
    assert listed_actions(second) == ["catalogue.facet_created"] * 5
    assert "name_en: Genre 54;" in first
    assert "name_en: Genre 0;" in second
    assert (
        rows("audit.viewed")
        == [
            (
                officer.pk,
                "audit.viewed",
                f"accounts.User:{manager.pk}",
                {},
                {"action": "catalogue.facet_created"},
            ),
        ]
        * 2
    )
    by_system = client.get("/staff/audit/", {"action": "role.assigned"}).content.decode()
    assert listed_actions(by_system) == ["role.assigned"] * 2  # the manager's and the officer's


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"action": "role.invented"}, "Select a valid choice."),
        ({"actor": "me"}, "Enter a whole number."),
        ({"actor": "0"}, "Ensure this value is greater than or equal to 1."),
    ],
)
def test_audit_page_refuses_a_bad_filter_and_reads_nothing(query, error, client, caller_for):
    caller_for(StaffRole.ADMINISTRATOR)
    response = client.get("/staff/audit/", query)
    assert response.status_code == 200
    html = response.content.decode()
    assert error in html
    assert listed_actions(html) == []
    assert rows("audit.viewed") == []


def test_audit_page_in_russian(client, caller_for):
    catalogue.facet_create(actor=None, kind="mood", name_en="Calm", name_ru="Спокойное")
    caller_for(StaffRole.ADMINISTRATOR)
    html = client.get("/staff/audit/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    for text in ("Журнал действий", "Фасет создан", "система", "Любое действие"):
        assert text in html


def test_erasing_a_staff_member_keeps_their_rows_for_the_law():
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    catalogue.facet_create(actor=manager, kind="genre", name_en="Drone", name_ru="Дроун")
    kept = list(AuditEvent.objects.filter(actor_id=manager.pk).values())
    job = erase(manager)
    # The id now leads to the erased account, which holds only the person's pseudonym.
    erased = User.objects.get(pk=manager.pk)
    assert (erased.username, erased.email, erased.is_active) == (job.subject_pseudonym, "", False)
    assert list(AuditEvent.objects.filter(actor_id=manager.pk).values()) == kept


@pytest.mark.django_db(databases="__all__")  # the retention run prunes analytics too
def test_retention_deletes_rows_a_year_after_the_action_and_records_it():
    with clock.frozen_at(NOW - timedelta(days=366)):
        audit_record(actor=5, action="staff.denied", after={"path": "/staff/"})
    with clock.frozen_at(NOW - timedelta(days=364)):
        kept = audit_record(actor=5, action="staff.denied", after={"path": "/staff/audit/"})
    report = retention_run()
    assert report.destroyed["audit.AuditEvent"] == 1
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    assert list(
        DestructionRecord.objects.filter(reason="retention: audit.AuditEvent").values_list(
            "counts", "method", "subject_pseudonym"
        )
    ) == [({"audit.AuditEvent": 1}, "delete", "")]
