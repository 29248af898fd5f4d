"""Research exports: consenting people only, cells of 20 or more, every release a disclosure."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.analytics import research
from backgroundmusic.analytics.models import AnalyticsIdentity, ResearchExport
from backgroundmusic.analytics.tests.factories import visits
from backgroundmusic.audit.models import AuditEvent
from backgroundmusic.audit.tests.refusals import service_denial, service_denials
from backgroundmusic.core.errors import ActionRefused, DomainError
from backgroundmusic.privacy import consents, transfers
from backgroundmusic.privacy.models import ConsentPurpose, Disclosure, Recipient, TransferRecord
from backgroundmusic.staffroles.roles import StaffRole
from tests.callers import CALLERS, expected_by_caller

pytestmark = pytest.mark.django_db(databases="__all__")

AT = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)
OCTOBER = {"start": date(2026, 10, 1), "end": date(2026, 10, 31)}


@pytest.fixture
def officer():
    return StaffFactory.create(role=StaffRole.PRIVACY_OFFICER)


def transfer_recorded(recipient: Recipient, officer) -> TransferRecord:
    return TransferRecord.objects.create(
        recipient=recipient,
        country=recipient.country,
        adequacy="convention_108",
        basis="contract",
        safeguards="Standard contract clauses",
        authority_notified_on=date(2026, 1, 5),
        starts_on=date(2026, 1, 5),
        recorded_at=AT,
        recorded_by_id=officer.pk,
    )


@pytest.fixture
def partner(officer) -> Recipient:
    """A partner abroad, with the transfer record in force that a release to it needs."""
    recipient = Recipient.objects.create(
        name="Sound Research Lab", country="DE", purpose_en="Research", purpose_ru="Исследования"
    )
    transfer_recorded(recipient, officer)
    return recipient


def people(count: int, *, prefix: str, research_consent: bool = True) -> list:
    made = []
    for number in range(count):
        person = UserFactory.create(username=f"{prefix}{number}")
        pseudonym = f"{prefix}{number:03d}".ljust(22, "x")
        AnalyticsIdentity.objects.create(user=person, pseudonym=pseudonym, linked_at=AT)
        if research_consent:
            consents.consent_give(subject=person, purpose=ConsentPurpose.RESEARCH, method="banner")
        made.append((person, pseudonym))
    return made


def browse(group: list, path: str, *, views_each: int = 1) -> None:
    visits(
        at=AT,
        path=path,
        visitors=len(group),
        views_each=views_each,
        engaged_ms=2000,
        pseudonyms=[pseudonym for _person, pseudonym in group],
    )


def test_only_cells_of_20_consenting_people_are_released_and_each_is_disclosed(partner, officer):
    consenting = people(20, prefix="c")
    refused = people(5, prefix="r", research_consent=False)
    restricted = people(1, prefix="s")
    consents.restriction_start(subject=restricted[0][0], method="preference_center")
    gpc = people(1, prefix="g")
    consents.consent_record_gpc(subject=gpc[0][0])
    browse(consenting + refused + restricted + gpc, "/catalog/", views_each=2)
    browse(consenting[:19] + refused, "/about/")  # 19 consenting: withheld

    export = research.research_export_create(actor=officer, recipient=partner, **OCTOBER)

    rows = list(csv.reader(io.StringIO(export.dataset_csv)))
    assert rows == [
        ["month", "section", "people", "page_views", "engaged_seconds"],
        ["2026-10", "/catalog/", "20", "40", "80"],
    ]
    assert (export.subjects, export.cells_released, export.cells_suppressed) == (20, 1, 1)
    disclosed = set(Disclosure.objects.values_list("subject_id", flat=True))
    assert disclosed == {person.pk for person, _ in consenting}
    one = Disclosure.objects.get(subject=consenting[0][0])
    assert (one.recipient, one.legal_basis, one.categories, one.country.code) == (
        partner,
        "user_consent",
        ["user.behavior.browsing_history"],
        "DE",
    )
    assert one.reference_document.startswith(f"Research export #{export.pk}:")


def test_with_fewer_than_20_consenting_people_nothing_is_released_or_recorded(partner, officer):
    consenting = people(19, prefix="c")
    browse(consenting + people(30, prefix="n", research_consent=False), "/catalog/")
    with pytest.raises(DomainError) as refused:
        research.research_export_create(actor=officer, recipient=partner, **OCTOBER)
    assert refused.value.code == "too_few_subjects"
    assert (ResearchExport.objects.count(), Disclosure.objects.count()) == (0, 0)


def test_a_withdrawn_research_consent_leaves_the_person_out(partner, officer):
    consenting = people(21, prefix="c")
    consents.consent_withdraw(
        subject=consenting[0][0], purpose=ConsentPurpose.RESEARCH, method="preference_center"
    )
    browse(consenting, "/catalog/")
    export = research.research_export_create(actor=officer, recipient=partner, **OCTOBER)
    assert export.subjects == 20
    assert not Disclosure.objects.filter(subject=consenting[0][0]).exists()


@pytest.mark.parametrize(
    ("kind", "allowed"),
    expected_by_caller({"privacy_officer"}, allowed_outcome=True, refused_outcome=False).items(),
)
def test_only_privacy_officers_may_release(kind, allowed, caller_for, partner):
    """Allowed, the release is refused only for having too few people; refused, the refusal is
    recorded and nothing else is."""
    user = caller_for(kind).user
    actor = AnonymousUser() if user is None else user
    if allowed:
        with pytest.raises(DomainError) as too_few:
            research.research_export_create(actor=actor, recipient=partner, **OCTOBER)
        assert too_few.value.code == "too_few_subjects"
        assert service_denials() == []
    else:
        with pytest.raises(ActionRefused):
            research.research_export_create(actor=actor, recipient=partner, **OCTOBER)
        assert service_denials() == [
            service_denial(
                actor,
                service="analytics.research_export_create",
                permission="staff_may_export_research",
            )
        ]
    assert not ResearchExport.objects.exists()
    assert not Disclosure.objects.exists()


@pytest.mark.parametrize(
    ("kind", "status"),
    expected_by_caller(
        {"privacy_officer"}, allowed_outcome=200, refused_outcome=403, kinds=CALLERS, anonymous=302
    ).items(),
)
def test_who_may_open_the_research_page(client: Client, kind, status, caller_for):
    caller_for(kind)
    assert client.get("/staff/analytics/research/").status_code == status


def test_the_page_explains_a_refusal_and_keeps_the_choice(client: Client, partner, officer):
    client.force_login(officer)
    response = client.post(
        "/staff/analytics/research/",
        {"recipient": partner.pk, "start": "2026-10-01", "end": "2026-10-31"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "No cell of this period covers 20 or more people who consent to research" in html
    assert 'value="2026-10-01"' in html
    assert f'<option value="{partner.pk}" selected>' in html


def test_a_release_from_the_page_is_listed_and_downloadable(client: Client, partner, officer):
    browse(people(20, prefix="c"), "/catalog/")
    client.force_login(officer)
    response = client.post(
        "/staff/analytics/research/",
        {"recipient": partner.pk, "start": "2026-10-01", "end": "2026-10-31"},
        follow=True,
    )
    assert "Released 1 cell about 20 people to Sound Research Lab" in response.content.decode()
    export = ResearchExport.objects.get()
    download = client.get(f"/staff/analytics/research/{export.pk}.csv")
    assert download.content.decode() == export.dataset_csv
    assert client.get("/staff/analytics/research/999.csv").status_code == 404


def test_a_release_abroad_without_a_transfer_record_in_force_is_refused(partner, officer):
    browse(people(20, prefix="c"), "/catalog/")
    abroad = Recipient.objects.create(
        name="Listening Lab", country="US", purpose_en="Research", purpose_ru="Исследования"
    )
    ended = Recipient.objects.create(
        name="Old Lab", country="FR", purpose_en="Research", purpose_ru="Исследования"
    )
    transfers.transfer_record_end(actor=officer, record=transfer_recorded(ended, officer))
    audit_before = AuditEvent.objects.count()
    for recipient in (abroad, ended):
        with pytest.raises(DomainError) as refused:
            research.research_export_create(actor=officer, recipient=recipient, **OCTOBER)
        assert refused.value.code == "transfer_record_required"
    assert (ResearchExport.objects.count(), Disclosure.objects.count()) == (0, 0)
    assert AuditEvent.objects.count() == audit_before

    at_home = Recipient.objects.create(
        name="Moscow Lab", country="RU", purpose_en="Research", purpose_ru="Исследования"
    )
    export = research.research_export_create(actor=officer, recipient=at_home, **OCTOBER)
    assert (export.recipient, export.subjects) == (at_home, 20)
