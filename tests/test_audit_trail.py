"""The audit trail of staff actions (issue 10, section 4): one exact row per action, refused
attempts recorded (a staff page's 403 as `staff.denied`, a service's refusal as `service.denied`,
one row per refusal), the page and its own reading, erasure of a staff member."""

import ast
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import router
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

import backgroundmusic
from backgroundmusic.accounts import staff
from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.analytics import research
from backgroundmusic.audit.models import AuditEvent
from backgroundmusic.audit.services import audit_record
from backgroundmusic.audit.tests.refusals import service_denial, service_denials
from backgroundmusic.catalog import services as catalogue
from backgroundmusic.catalog.models import Collection, Facet, Genre, Mood, Track
from backgroundmusic.catalog.tests.fixtures import make_facets
from backgroundmusic.core import clock
from backgroundmusic.core.errors import ActionRefused, DomainError
from backgroundmusic.incidents import selectors as incident_selectors
from backgroundmusic.incidents import services as incidents
from backgroundmusic.incidents.models import Incident, Notice, NoticeKind
from backgroundmusic.incidents.tests.scene import FACTS as INCIDENT_FACTS
from backgroundmusic.licensing import agreements, billing, editions, orders
from backgroundmusic.licensing.models import (
    Agreement,
    Order,
    Payment,
    Plan,
    PlanKind,
    QuantityUnit,
    Scope,
    Term,
    Territory,
    Use,
)
from backgroundmusic.licensing.tests import factories as licensing_factories
from backgroundmusic.licensing.tests.factories import plan_edition
from backgroundmusic.mailing import services as mailing
from backgroundmusic.mailing import staff_selectors as mailing_staff
from backgroundmusic.mailing.models import Campaign
from backgroundmusic.media import selectors as media_selectors
from backgroundmusic.media import services as media
from backgroundmusic.media.models import Master
from backgroundmusic.media.tests.audio import sine, write_wav
from backgroundmusic.privacy import disclosures, holds, policies, recipients, transfers
from backgroundmusic.privacy import requests as dsr
from backgroundmusic.privacy.models import (
    DataSubjectRequest,
    DestructionRecord,
    DocumentKind,
    LegalHold,
    Recipient,
    RequestKind,
    TransferRecord,
)
from backgroundmusic.privacy.retention import retention_run
from backgroundmusic.privacy.tests.test_erasure import erase
from backgroundmusic.staffroles.roles import StaffRole
from backgroundmusic.staffroles.selectors import staff_roles
from tests.callers import CALLERS, STAFF_WITHOUT_TWO_FACTOR, expected_by_caller

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
    notice = request.extension_notices.get()
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
            {"due_ru": "2026-03-16", "due_gdpr": "2026-04-01"},
            {"due_ru": "2026-03-23", "due_gdpr": "2026-04-01", "notice": notice.pk},
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


def test_a_request_step_refused_by_its_rules_writes_no_row():
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
    with pytest.raises(ActionRefused):
        staff.staff_role_assign(actor=actor, user=person, role=StaffRole.ADMINISTRATOR)
    staff.staff_role_assign(actor=None, user=person, role=StaffRole.SUPPORT)
    with pytest.raises(ActionRefused):
        staff.staff_role_revoke(actor=actor, user=person, role=StaffRole.SUPPORT)
    assert staff_roles(user=User.objects.get(pk=person.pk)) == {StaffRole.SUPPORT}
    assert rows("role.assigned", "role.revoked")[-1] == (
        None,
        "role.assigned",
        f"accounts.User:{person.pk}",
        {},
        {"role": "support"},
    )
    assert service_denials() == [
        service_denial(actor, service=service, permission="staff_may_assign_roles")
        for service in ("accounts.staff_role_assign", "accounts.staff_role_revoke")
    ]
    assert AuditEvent.objects.count() == before + 3


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
                "title_ru": "",
                "slug": "tides",
                "is_published": False,
                "is_featured": False,
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


def test_a_refused_catalogue_edit_writes_only_its_refusal():
    manager = StaffFactory.create(role=StaffRole.CONTENT_MANAGER)
    support = StaffFactory.create(role=StaffRole.SUPPORT)
    track = catalogue.track_create(actor=manager, title="Slow Tide", catalogue_code="BM-0001")
    with pytest.raises(ActionRefused):
        catalogue.track_update(actor=support, track=track, title="Fast Tide")
    with pytest.raises(DomainError):
        catalogue.track_update(actor=manager, track=track, energy=99)
    assert Track.objects.get().title == "Slow Tide"
    assert [row[1] for row in rows("catalogue.track_created", "catalogue.track_updated")] == [
        "catalogue.track_created"
    ]
    assert not Genre.objects.exists()
    # A refusal by the rules of the work (energy 99) is no denied attempt.
    assert rows("service.denied") == [
        (
            support.pk,
            "service.denied",
            ":",
            {},
            {"service": "catalog.track_update", "permission": "staff_may_manage_catalogue"},
        )
    ]


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
    # The pages refused before calling a service, so no service recorded a refusal.
    assert rows("service.denied") == []


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
    expected_by_caller(
        {"privacy_officer", "administrator"},
        allowed_outcome=200,
        refused_outcome=403,
        kinds=CALLERS,
        anonymous=302,
    ).items(),
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
        ({"actor": "me"}, "Select a valid choice. me is not one of the available choices."),
        ({"actor": "0"}, "Select a valid choice. 0 is not one of the available choices."),
        (
            {"actor": "99999999999999999999"},
            "Select a valid choice. 99999999999999999999 is not one of the available choices.",
        ),
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


def test_the_staff_filter_names_staff_by_username_and_role_and_keeps_old_links(client, caller_for):
    manager = StaffFactory.create(username="mila", role=StaffRole.CONTENT_MANAGER)
    catalogue.facet_create(actor=manager, kind="mood", name_en="Calm", name_ru="Спокойное")
    caller_for(StaffRole.ADMINISTRATOR)
    html = client.get("/staff/audit/").content.decode()
    select = re.search(r'<select name="actor".*?</select>', html, re.S)
    assert select is not None
    options = re.findall(r'<option value="(\d*)"[^>]*>([^<]*)</option>', select.group(0))
    assert options[0] == ("", "Any staff member")
    assert (str(manager.pk), "mila (Content manager)") in options
    staff.staff_role_revoke(actor=None, user=manager, role=StaffRole.CONTENT_MANAGER)
    former = client.get("/staff/audit/", {"actor": manager.pk}).content.decode()
    assert f'<option value="{manager.pk}" selected>mila (no staff role)</option>' in former
    assert listed_actions(former) == ["catalogue.facet_created"]


def test_audit_page_in_russian(client, caller_for):
    catalogue.facet_create(actor=None, kind="mood", name_en="Calm", name_ru="Спокойное")
    caller_for(StaffRole.ADMINISTRATOR)
    html = client.get("/staff/audit/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    for text in ("Журнал действий", "Фасет создан", "система", "Любое действие", "Любой сотрудник"):
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


class Scene:
    """What the staff services act on, each made (by the system or a privacy officer) when a
    service first asks for it."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path

    @cached_property
    def officer(self) -> User:
        return StaffFactory.create(role=StaffRole.PRIVACY_OFFICER, username="scene-officer")

    @cached_property
    def person(self) -> User:
        return UserFactory.create(username="scene-person")

    @cached_property
    def track(self) -> Track:
        return catalogue.track_create(actor=None, title="Dawn", catalogue_code="BM-0001")

    @cached_property
    def genre(self) -> Facet:
        return catalogue.facet_create(actor=None, kind="genre", name_en="Drone", name_ru="Дроун")

    @cached_property
    def collection(self) -> Collection:
        return catalogue.collection_create(actor=None, kind="album", title="Tides")

    @cached_property
    def wav(self) -> Path:
        return write_wav(self.tmp_path / "Dusk.wav", sine(1.0))

    @cached_property
    def master(self) -> Master:
        return Master.objects.create(
            track=self.track,
            sha256="f" * 64,
            storage_key="masters/ff/failed",
            uploaded_at=NOW,
            status=Master.Status.FAILED,
            failure_reason="The file is not audio.",
        )

    @cached_property
    def request(self) -> DataSubjectRequest:
        return dsr.request_log(
            actor=self.officer,
            kind=RequestKind.RESTRICTION,
            channel=DataSubjectRequest.Channel.EMAIL,
            received_at=NOW,
            subject=self.person,
            requester_contact="person@example.org",
        )

    @cached_property
    def verified_request(self) -> DataSubjectRequest:
        return dsr.request_verify_identity(actor=self.officer, request=self.request, verified=True)

    @cached_property
    def recipient(self) -> Recipient:
        return Recipient.objects.create(
            name="Sound Research Lab", country="DE", purpose_en="Research", purpose_ru="Research"
        )

    @cached_property
    def transfer(self) -> TransferRecord:
        return TransferRecord.objects.create(
            recipient=self.recipient,
            country="DE",
            adequacy="convention_108",
            basis="contract",
            safeguards="Standard contract clauses",
            authority_notified_on=date(2026, 1, 5),
            starts_on=date(2026, 1, 5),
            recorded_at=NOW,
            recorded_by_id=self.officer.pk,
        )

    @cached_property
    def hold(self) -> LegalHold:
        return holds.legal_hold_place(
            actor=self.officer,
            reason="Claim 2-117/2026",
            ends_on=date(2026, 9, 1),
            subject=self.person,
        )

    @cached_property
    def plan(self) -> Plan:
        return editions.plan_create(actor=None, code="creator", kind=PlanKind.CREATOR)

    @cached_property
    def agreement(self) -> Agreement:
        return licensing_factories.agreement(user=self.person, edition=plan_edition())

    @cached_property
    def order(self) -> Order:
        return self.agreement.order_line.order

    @cached_property
    def campaign(self) -> Campaign:
        editor = StaffFactory.create(role=StaffRole.NEWSLETTER_EDITOR, username="scene-editor")
        return mailing.campaign_create(actor=editor, text=CAMPAIGN_TEXT)

    @cached_property
    def incident(self) -> Incident:
        return incidents.incident_open(actor=self.officer, facts=INCIDENT_FACTS)

    def notice(self, kind: NoticeKind) -> Notice:
        return Notice.objects.get(incident=self.incident, kind=kind)

    @cached_property
    def payment(self) -> Payment:
        return Payment.objects.create(
            order=self.order,
            provider="bank_transfer",
            idempotency_key="scene-payment",
            status=Payment.Status.SUCCEEDED,
            amount=self.order.gross_total,
            currency=self.order.currency,
            created_at=NOW,
            updated_at=NOW,
        )


CAMPAIGN_TEXT = mailing.CampaignText(
    subject_en="News", subject_ru="Новости", body_en="Hello.", body_ru="Привет."
)

# Every service that acts for staff, as "<app>.<function>" (the name its refusals are recorded
# under): the call, with arguments it would accept from an allowed actor, made ready on the scene
# (which makes what the call needs), and the permission question it asks.
STAFF_SERVICES: dict[str, tuple[Callable[[Any, Scene], Callable[[], object]], str]] = {
    "catalog.track_create": (
        lambda actor, scene: partial(
            catalogue.track_create, actor=actor, title="Dusk", catalogue_code="BM-0002"
        ),
        "staff_may_manage_catalogue",
    ),
    "catalog.track_update": (
        lambda actor, scene: partial(
            catalogue.track_update, actor=actor, track=scene.track, title="Dusk"
        ),
        "staff_may_manage_catalogue",
    ),
    "catalog.facet_create": (
        lambda actor, scene: partial(
            catalogue.facet_create, actor=actor, kind="mood", name_en="Calm", name_ru="Спокойное"
        ),
        "staff_may_manage_catalogue",
    ),
    "catalog.facet_rename": (
        lambda actor, scene: partial(
            catalogue.facet_rename,
            actor=actor,
            facet=scene.genre,
            name_en="Drones",
            name_ru="Дроун",
        ),
        "staff_may_manage_catalogue",
    ),
    "catalog.collection_create": (
        lambda actor, scene: partial(
            catalogue.collection_create, actor=actor, kind="album", title="Ebb"
        ),
        "staff_may_manage_catalogue",
    ),
    "catalog.collection_update": (
        lambda actor, scene: partial(
            catalogue.collection_update,
            actor=actor,
            collection=scene.collection,
            kind="album",
            title="Tides",
            slug="tides",
            description="",
            is_published=True,
            track_ids=[scene.track.pk],
        ),
        "staff_may_manage_catalogue",
    ),
    "media.master_upload": (
        lambda actor, scene: partial(media.master_upload, source=scene.wav, actor=actor),
        "staff_may_manage_catalogue",
    ),
    "media.master_retry": (
        lambda actor, scene: partial(media.master_retry, actor=actor, master_id=scene.master.pk),
        "staff_may_manage_catalogue",
    ),
    "media.masters_for_staff": (
        lambda actor, scene: partial(media_selectors.masters_for_staff, actor=actor),
        "staff_may_manage_catalogue",
    ),
    "privacy.request_log": (
        lambda actor, scene: partial(
            dsr.request_log,
            actor=actor,
            kind=RequestKind.ACCESS,
            channel=DataSubjectRequest.Channel.LETTER,
            received_at=NOW,
            requester_contact="Svetlanskaya 12",
        ),
        "staff_may_handle_requests",
    ),
    "privacy.request_link_subject": (
        lambda actor, scene: partial(
            dsr.request_link_subject, actor=actor, request=scene.request, subject=scene.officer
        ),
        "staff_may_handle_requests",
    ),
    "privacy.request_verify_identity": (
        lambda actor, scene: partial(
            dsr.request_verify_identity, actor=actor, request=scene.request, verified=True
        ),
        "staff_may_handle_requests",
    ),
    "privacy.request_extend": (
        lambda actor, scene: partial(
            dsr.request_extend, actor=actor, request=scene.request, reason="Documents awaited."
        ),
        "staff_may_handle_requests",
    ),
    "privacy.request_close": (
        lambda actor, scene: partial(
            dsr.request_close,
            actor=actor,
            request=scene.verified_request,
            outcome="Restricted.",
            status="done",
        ),
        "staff_may_handle_requests",
    ),
    "privacy.request_act": (
        lambda actor, scene: partial(
            dsr.request_act,
            actor=actor,
            request=scene.verified_request,
            action=dsr.RequestAction.RESTRICT,
        ),
        "staff_may_handle_requests",
    ),
    "privacy.edition_publish": (
        lambda actor, scene: partial(
            policies.edition_publish,
            actor=actor,
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
        ),
        "staff_may_publish_policy",
    ),
    "privacy.disclosure_record": (
        lambda actor, scene: partial(
            disclosures.disclosure_record,
            actor=actor,
            subject=scene.person,
            recipient_name="Court of Vladivostok",
            country="RU",
            legal_basis="court_decision",
            categories=["user.contact.email"],
            reference_document="Decision 2-117/2026",
            disclosed_on=date(2026, 2, 5),
        ),
        "staff_may_record_disclosures",
    ),
    "privacy.transfer_record_add": (
        lambda actor, scene: partial(
            transfers.transfer_record_add,
            actor=actor,
            recipient=scene.recipient,
            country="DE",
            basis="contract",
            safeguards="Standard contract clauses",
            authority_notified_on=date(2026, 1, 5),
        ),
        "staff_may_manage_transfers",
    ),
    "privacy.recipient_add": (
        lambda actor, scene: partial(
            recipients.recipient_add,
            actor=actor,
            name="Mail Relay LLC",
            country="RU",
            purpose_en="Delivers the site's e-mail",
            purpose_ru="Доставляет письма сайта",
            categories=["user.contact.email"],
        ),
        "staff_may_manage_transfers",
    ),
    "privacy.recipient_update": (
        lambda actor, scene: partial(
            recipients.recipient_update,
            actor=actor,
            recipient=scene.recipient,
            name="Sound Research Lab",
            country="DE",
            purpose_en="Research on listening",
            purpose_ru="Исследования прослушивания",
            categories=["user.behavior.browsing_history"],
            shared_with_consent=True,
        ),
        "staff_may_manage_transfers",
    ),
    "privacy.recipient_deactivate": (
        lambda actor, scene: partial(
            recipients.recipient_deactivate, actor=actor, recipient=scene.recipient
        ),
        "staff_may_manage_transfers",
    ),
    "privacy.recipient_reactivate": (
        lambda actor, scene: partial(
            recipients.recipient_reactivate, actor=actor, recipient=scene.recipient
        ),
        "staff_may_manage_transfers",
    ),
    "privacy.transfer_record_end": (
        lambda actor, scene: partial(
            transfers.transfer_record_end, actor=actor, record=scene.transfer
        ),
        "staff_may_manage_transfers",
    ),
    "privacy.legal_hold_place": (
        lambda actor, scene: partial(
            holds.legal_hold_place,
            actor=actor,
            reason="Claim 2-117/2026",
            ends_on=date(2026, 9, 1),
            subject=scene.person,
        ),
        "staff_may_place_legal_holds",
    ),
    "privacy.legal_hold_lift": (
        lambda actor, scene: partial(
            holds.legal_hold_lift, actor=actor, hold=scene.hold, reason="Claim settled"
        ),
        "staff_may_place_legal_holds",
    ),
    "privacy.legal_holds_for_staff": (
        lambda actor, scene: partial(holds.legal_holds_for_staff, actor=actor),
        "staff_may_place_legal_holds",
    ),
    "accounts.staff_people_search": (
        lambda actor, scene: partial(staff.staff_people_search, actor=actor, query="scene"),
        "staff_may_view_people",
    ),
    "accounts.staff_person_summary": (
        lambda actor, scene: partial(
            staff.staff_person_summary, actor=actor, subject_id=scene.person.pk
        ),
        "staff_may_view_people",
    ),
    "accounts.staff_person_read": (
        lambda actor, scene: partial(
            staff.staff_person_read, actor=actor, subject_id=scene.person.pk, reason="Ticket 7"
        ),
        "staff_may_view_people",
    ),
    "accounts.staff_audit_log_read": (
        lambda actor, scene: partial(staff.staff_audit_log_read, actor=actor),
        "staff_may_view_audit_log",
    ),
    "accounts.staff_access_log_verify": (
        lambda actor, scene: partial(staff.staff_access_log_verify, actor=actor),
        "staff_may_verify_access_log",
    ),
    "accounts.staff_role_assign": (
        lambda actor, scene: partial(
            staff.staff_role_assign, actor=actor, user=scene.person, role=StaffRole.SUPPORT
        ),
        "staff_may_assign_roles",
    ),
    "accounts.staff_role_revoke": (
        lambda actor, scene: partial(
            staff.staff_role_revoke, actor=actor, user=scene.officer, role=StaffRole.PRIVACY_OFFICER
        ),
        "staff_may_assign_roles",
    ),
    "analytics.research_export_create": (
        lambda actor, scene: partial(
            research.research_export_create,
            actor=actor,
            recipient=scene.recipient,
            start=date(2026, 2, 1),
            end=date(2026, 2, 28),
        ),
        "staff_may_export_research",
    ),
    "licensing.plan_create": (
        lambda actor, scene: partial(
            editions.plan_create, actor=actor, code="venue", kind=PlanKind.VENUE
        ),
        "staff_may_manage_plans",
    ),
    "licensing.plan_edition_publish": (
        lambda actor, scene: partial(
            editions.plan_edition_publish,
            actor=actor,
            plan=scene.plan,
            version="1",
            title_en="Creator subscription",
            title_ru="Подписка для авторов",
            description_en="Videos and podcasts.",
            description_ru="Видео и подкасты.",
            uses=[Use.ONLINE_VIDEO, Use.PODCAST],
            territory=Territory.WORLDWIDE,
            scope=Scope.CATALOGUE,
            term=Term.MONTHLY,
            quantity_unit=QuantityUnit.LICENCE,
            min_quantity=1,
            max_quantity=1,
            price_rub=Decimal("990.00"),
            price_eur=Decimal("10.00"),
            vat_rate=Decimal("20.00"),
            effective_at=None,
        ),
        "staff_may_manage_plans",
    ),
    "licensing.terms_edition_publish": (
        lambda actor, scene: partial(
            editions.terms_edition_publish,
            actor=actor,
            version="1",
            title_en="Licence terms",
            title_ru="Условия лицензии",
            body_en="Terms.",
            body_ru="Условия.",
            effective_at=None,
        ),
        "staff_may_manage_plans",
    ),
    "licensing.plan_withdraw": (
        lambda actor, scene: partial(editions.plan_withdraw, actor=actor, plan=scene.plan),
        "staff_may_manage_plans",
    ),
    "licensing.plan_offer": (
        lambda actor, scene: partial(editions.plan_offer, actor=actor, plan=scene.plan),
        "staff_may_manage_plans",
    ),
    "licensing.orders_for_staff": (
        lambda actor, scene: partial(orders.orders_for_staff, actor=actor),
        "staff_may_manage_orders",
    ),
    "licensing.order_for_staff": (
        lambda actor, scene: partial(
            orders.order_for_staff, actor=actor, public_id=scene.order.public_id
        ),
        "staff_may_manage_orders",
    ),
    "licensing.bank_transfer_confirm": (
        lambda actor, scene: partial(
            billing.bank_transfer_confirm,
            actor=actor,
            order=scene.order,
            reference="Statement line 4",
            now=NOW,
        ),
        "staff_may_manage_orders",
    ),
    "licensing.payment_refund": (
        lambda actor, scene: partial(
            billing.payment_refund,
            actor=actor,
            payment=scene.payment,
            amount="10.00",
            reason="Goodwill",
        ),
        "staff_may_manage_orders",
    ),
    "licensing.order_cancel": (
        lambda actor, scene: partial(
            billing.order_cancel, actor=actor, order=scene.order, reason="Asked by phone"
        ),
        "staff_may_manage_orders",
    ),
    "licensing.agreement_revoke": (
        lambda actor, scene: partial(
            agreements.agreement_revoke,
            actor=actor,
            agreement=scene.agreement,
            reason="Chargeback",
            now=NOW,
        ),
        "staff_may_manage_agreements",
    ),
    "licensing.agreements_for_staff": (
        lambda actor, scene: partial(agreements.agreements_for_staff, actor=actor),
        "staff_may_manage_agreements",
    ),
    "licensing.agreement_for_staff": (
        lambda actor, scene: partial(
            agreements.agreement_for_staff, actor=actor, number=scene.agreement.number
        ),
        "staff_may_manage_agreements",
    ),
    "licensing.agreement_staff_read": (
        lambda actor, scene: partial(
            agreements.agreement_staff_read, actor=actor, agreement=scene.agreement, reason="Claim"
        ),
        "staff_may_manage_agreements",
    ),
    "mailing.campaign_create": (
        lambda actor, scene: partial(mailing.campaign_create, actor=actor, text=CAMPAIGN_TEXT),
        "staff_may_manage_campaigns",
    ),
    "mailing.campaign_update": (
        lambda actor, scene: partial(
            mailing.campaign_update,
            actor=actor,
            campaign=scene.campaign,
            text=mailing.CampaignText(
                subject_en="More news", subject_ru="Ещё новости", body_en="Hi.", body_ru="Привет."
            ),
        ),
        "staff_may_manage_campaigns",
    ),
    "mailing.campaign_schedule": (
        lambda actor, scene: partial(
            mailing.campaign_schedule, actor=actor, campaign=scene.campaign
        ),
        "staff_may_manage_campaigns",
    ),
    "mailing.campaign_cancel": (
        lambda actor, scene: partial(mailing.campaign_cancel, actor=actor, campaign=scene.campaign),
        "staff_may_manage_campaigns",
    ),
    "mailing.campaign_test_send": (
        lambda actor, scene: partial(
            mailing.campaign_test_send, actor=actor, campaign=scene.campaign, language="ru"
        ),
        "staff_may_manage_campaigns",
    ),
    "mailing.campaign_preview": (
        lambda actor, scene: partial(
            mailing.campaign_preview, actor=actor, campaign=scene.campaign, language="en"
        ),
        "staff_may_manage_campaigns",
    ),
    "mailing.campaigns_for_staff": (
        lambda actor, scene: partial(mailing_staff.campaigns_for_staff, actor=actor),
        "staff_may_manage_campaigns",
    ),
    "mailing.campaign_for_staff": (
        lambda actor, scene: partial(
            mailing_staff.campaign_for_staff, actor=actor, campaign_id=scene.campaign.pk
        ),
        "staff_may_manage_campaigns",
    ),
    "mailing.audience_count": (
        lambda actor, scene: partial(mailing_staff.audience_count, actor=actor),
        "staff_may_manage_campaigns",
    ),
    "incidents.incident_open": (
        lambda actor, scene: partial(incidents.incident_open, actor=actor, facts=INCIDENT_FACTS),
        "staff_may_manage_incidents",
    ),
    "incidents.incident_people_compute": (
        lambda actor, scene: partial(
            incidents.incident_people_compute, actor=actor, incident=scene.incident
        ),
        "staff_may_manage_incidents",
    ),
    "incidents.notice_draft_update": (
        lambda actor, scene: partial(
            incidents.notice_draft_update,
            actor=actor,
            notice=scene.notice(NoticeKind.AUTHORITY_RU),
            text=incidents.NoticeText("S", "С", "T", "Т"),
        ),
        "staff_may_manage_incidents",
    ),
    "incidents.notice_record_sent": (
        lambda actor, scene: partial(
            incidents.notice_record_sent,
            actor=actor,
            notice=scene.notice(NoticeKind.AUTHORITY_RU),
            sent_at=NOW,
            reference="RKN-1",
        ),
        "staff_may_manage_incidents",
    ),
    "incidents.letters_send": (
        lambda actor, scene: partial(incidents.letters_send, actor=actor, incident=scene.incident),
        "staff_may_manage_incidents",
    ),
    "incidents.incidents_for_staff": (
        lambda actor, scene: partial(incident_selectors.incidents_for_staff, actor=actor),
        "staff_may_manage_incidents",
    ),
    "incidents.incident_for_staff": (
        lambda actor, scene: partial(
            incident_selectors.incident_for_staff, actor=actor, incident_id=scene.incident.pk
        ),
        "staff_may_manage_incidents",
    ),
    "mailing.campaign_previews": (
        lambda actor, scene: partial(
            mailing_staff.campaign_previews, actor=actor, campaign=scene.campaign
        ),
        "staff_may_manage_campaigns",
    ),
}


def every_row() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table but the audit trail's, in each model's own database."""
    return {
        model._meta.label: list(
            model._default_manager.using(router.db_for_read(model)).order_by("pk").values()
        )
        for model in apps.get_models(include_auto_created=True)
        if model is not AuditEvent
    }


@pytest.mark.django_db(databases="__all__")
@pytest.mark.parametrize("kind", ["other_user", STAFF_WITHOUT_TWO_FACTOR])
@pytest.mark.parametrize("service", STAFF_SERVICES)
def test_every_staff_service_records_its_refusal_once(service, kind, caller_for, tmp_path):
    """A signed-in person without the role, and a holder of every role without two-factor
    sign-in, are refused by each service: one `service.denied` row naming them, the service and
    the question, and nothing else written or changed."""
    prepare, permission = STAFF_SERVICES[service]
    actor = caller_for(kind).user
    call = prepare(actor, Scene(tmp_path))
    before_rows, before_audit = every_row(), list(AuditEvent.objects.values_list("pk", flat=True))
    with pytest.raises(ActionRefused) as refused:
        call()
    assert (refused.value.permission, refused.value.actor) == (permission, actor)
    assert every_row() == before_rows
    new = AuditEvent.objects.exclude(pk__in=before_audit)
    assert [
        (e.actor_id, e.action, e.target_type, e.target_id, e.before, e.after, e.reason) for e in new
    ] == [
        (
            actor.pk,
            "service.denied",
            "",
            "",
            {},
            {"service": service, "permission": permission},
            "",
        )
    ]


SOURCE = Path(backgroundmusic.__file__).parent


def _called_names(function: ast.FunctionDef) -> set[str]:
    return {
        node.func.id
        for node in ast.walk(function)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }


def _audited_as(function: ast.FunctionDef) -> str | None:
    for decorator in function.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Name)
            and decorator.func.id == "refusals_audited"
        ):
            argument = decorator.args[0]
            assert isinstance(argument, ast.Constant)
            return str(argument.value)
    return None


def staff_guards_in_code() -> tuple[dict[str, str], list[str]]:
    """The names given to refusals_audited, by "<app>.<function>" of the function they wrap; and
    the public functions that reach staff_require (themselves or through a function of their
    module) without it."""
    audited: dict[str, str] = {}
    unaudited: list[str] = []
    for module in sorted(SOURCE.rglob("*.py")):
        if {"tests", "migrations"} & set(module.relative_to(SOURCE).parts):
            continue
        tree = ast.parse(module.read_text(encoding="utf-8"))
        functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
        calls = {name: _called_names(function) for name, function in functions.items()}
        refusing = {name for name, called in calls.items() if "staff_require" in called}
        while grown := {n for n, called in calls.items() if called & refusing} - refusing:
            refusing |= grown
        app = module.relative_to(SOURCE).parts[0]
        for name in sorted(refusing):
            service = _audited_as(functions[name])
            if service is not None:
                audited[f"{app}.{name}"] = service
            elif not name.startswith("_"):
                unaudited.append(f"{module.relative_to(SOURCE)}:{name}")
    return audited, unaudited


def test_every_service_that_asks_a_staff_question_records_its_refusals():
    """A new service that calls staff_require fails here until it is wrapped in
    refusals_audited under its own name, and is added to STAFF_SERVICES (so to the test above)."""
    audited, unaudited = staff_guards_in_code()
    assert unaudited == []
    assert {name: name for name in audited} == audited
    assert sorted(audited) == sorted(STAFF_SERVICES)


def refusal_left_to_django(request: HttpRequest) -> HttpResponse:
    """A staff page that leaves the guard to its service and catches nothing."""
    catalogue.facet_create(actor=request.user, kind="mood", name_en="Calm", name_ru="Спокойное")
    return HttpResponse("made")


def refusal_shown_on_the_page(request: HttpRequest) -> HttpResponse:
    """A staff page that shows what the service said, as the staff forms do."""
    try:
        catalogue.facet_create(actor=request.user, kind="mood", name_en="Calm", name_ru="Спокойное")
    except DomainError as error:
        return HttpResponse(error.message, status=400)
    return HttpResponse("made")


urlpatterns = [
    path("staff/refusal-left-to-django/", refusal_left_to_django),
    path("staff/refusal-shown/", refusal_shown_on_the_page),
    path("", include("config.urls")),
]

LEFT_TO_DJANGO = {"service": "catalog.facet_create", "permission": "staff_may_manage_catalogue"}


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("kind", ["other_user", StaffRole.SUPPORT])
def test_a_services_refusal_on_a_staff_page_is_recorded_once(kind, client, caller_for):
    """The service records the refusal; the audit middleware, seeing the 403 come from a
    recorded ActionRefused, adds no `staff.denied` row for the same refusal."""
    person = caller_for(kind).user
    assert client.post("/staff/refusal-left-to-django/").status_code == 403
    shown = client.post("/staff/refusal-shown/")
    assert (shown.status_code, shown.content.decode()) == (400, "You may not manage the catalogue.")
    assert rows("staff.denied", "service.denied") == [
        (person.pk, "service.denied", ":", {}, LEFT_TO_DJANGO),
        (person.pk, "service.denied", ":", {}, LEFT_TO_DJANGO),
    ]
    assert not Mood.objects.exists()


@pytest.mark.urls(__name__)
def test_a_staff_page_that_lets_the_service_work_writes_no_refusal(client, caller_for):
    manager = caller_for(StaffRole.CONTENT_MANAGER).user
    assert client.post("/staff/refusal-left-to-django/").content == b"made"
    assert rows("staff.denied", "service.denied") == []
    assert [row[:2] for row in rows("catalogue.facet_created")] == [
        (manager.pk, "catalogue.facet_created")
    ]


def test_the_audit_page_lists_a_refusal_in_both_languages(client, caller_for):
    person = UserFactory.create()
    with pytest.raises(ActionRefused):
        staff.staff_role_assign(actor=person, user=person, role=StaffRole.ADMINISTRATOR)
    caller_for(StaffRole.ADMINISTRATOR)
    english = client.get("/staff/audit/", {"action": "service.denied"}).content.decode()
    assert listed_actions(english) == ["service.denied"]
    assert "Staff action refused" in english
    assert "service: accounts.staff_role_assign;" in english
    russian = client.get(
        "/staff/audit/", {"action": "service.denied"}, HTTP_ACCEPT_LANGUAGE="ru"
    ).content.decode()
    assert "Действие сотрудника отклонено" in russian
