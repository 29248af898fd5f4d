"""Staff screens (issue 14): who acted, by name and role; times saying their zone; verifying
the access log's chain from its page."""

import re
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.template import Context, Template
from django.utils import translation

from backgroundmusic.accounts import staff
from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.audit.models import AuditEvent
from backgroundmusic.audit.tests.refusals import service_denial
from backgroundmusic.core import clock
from backgroundmusic.core.errors import ActionRefused
from backgroundmusic.privacy import requests as dsr
from backgroundmusic.privacy.consents import consent_give
from backgroundmusic.privacy.kernel.access_log import access_log_record
from backgroundmusic.privacy.kernel.models import StaffAccessLogEntry
from backgroundmusic.privacy.models import DataExport
from backgroundmusic.staffroles.roles import StaffRole
from tests.callers import CALLERS, expected_by_caller

pytestmark = pytest.mark.django_db
# Raw SQL on purpose: tampering the way someone with database access would.
UPDATE_REASON = "UPDATE privacy_staffaccesslogentry SET reason = %s WHERE id = %s"

VERIFY = expected_by_caller(
    {"privacy_officer"},
    allowed_outcome=200,
    refused_outcome=403,
    kinds=CALLERS,
    anonymous=302,
)


def render(source: str, **context: object) -> str:
    return Template("{% load staff_tags times %}" + source).render(Context(context))


def test_an_actor_is_named_by_username_and_roles():
    officer = StaffFactory.create(username="anna", role=StaffRole.PRIVACY_OFFICER)
    staff.staff_role_assign(actor=None, user=officer, role=StaffRole.ADMINISTRATOR)
    former = StaffFactory.create(username="boris", role=StaffRole.SUPPORT)
    staff.staff_role_revoke(actor=None, user=former, role=StaffRole.SUPPORT)
    customer = UserFactory.create(username="carol")

    assert render("{% staff_actor id %}", id=officer.pk) == (
        f'<span class="staff-actor" data-actor-id="{officer.pk}">'
        "anna (Administrator, Privacy officer)</span>"
    )
    assert "boris (no staff role)" in render("{% staff_actor id %}", id=former.pk)
    assert "carol (no staff role)" in render("{% staff_actor id %}", id=customer.pk)
    assert render("{% staff_actor None %}") == '<span class="staff-actor">system</span>'
    missing = User.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1
    assert f"deleted account #{missing}" in render("{% staff_actor id %}", id=missing)
    with translation.override("ru"):
        assert "anna (Администратор, Ответственный за обработку персональных данных)" in render(
            "{% staff_actor id %}", id=officer.pk
        )
        assert "система" in render("{% staff_actor None %}")


def test_times_say_their_zone_in_both_languages():
    moment = datetime(2026, 12, 4, 18, 5, tzinfo=UTC)
    assert render("{{ at|zoned_time }}", at=moment) == (
        '<time datetime="2026-12-04T21:05:00+03:00">4 December 2026, 21:05 UTC+3</time>'
    )
    with translation.override("ru"):
        assert render("{{ at|zoned_time }}", at=moment) == (
            '<time datetime="2026-12-04T21:05:00+03:00">4 декабря 2026, 21:05 UTC+3</time>'
        )
    assert render("{{ day|zoned_time }}", day=date(2026, 12, 4)) == (
        '<time datetime="2026-12-04">4 December 2026</time>'
    )
    assert render("{{ nothing|zoned_time }}", nothing=None) == ""


def test_the_access_log_names_the_reader_and_the_time_with_its_zone(caller_for):
    reader = StaffFactory.create(username="dmitry", role=StaffRole.SUPPORT)
    person = UserFactory.create()
    access_log_record(actor=reader, subject_id=person.pk, fields=["email"], reason="Ticket 9")
    html = caller_for("privacy_officer").client.get("/staff/access-log/").content.decode()
    assert f'<span class="staff-actor" data-actor-id="{reader.pk}">dmitry (Support)</span>' in html
    assert "Staff member id" not in html
    assert " UTC+3</time>" in html


def test_the_people_list_shows_staff_roles(caller_for):
    StaffFactory.create(username="elena", role=StaffRole.CONTENT_MANAGER)
    UserFactory.create(username="fyodor")
    client = caller_for("support").client
    html = client.get("/staff/", {"q": "e"}).content.decode()
    assert '<td>elena <span class="staff-roles">(Content manager)</span></td>' in html
    html = client.get("/staff/", {"q": "fyodor"}).content.decode()
    assert "<td>fyodor</td>" in html


@pytest.mark.parametrize(("caller", "expected"), VERIFY.items())
def test_verify_chain_access(caller, expected, caller_for):
    client = caller_for(caller).client
    assert client.post("/staff/access-log/verify/").status_code == expected


def test_only_the_privacy_officer_is_offered_the_verify_button(caller_for):
    officer_page = caller_for("privacy_officer").client.get("/staff/access-log/")
    assert 'id="verify-chain"' in officer_page.content.decode()
    admin_page = caller_for("administrator").client.get("/staff/access-log/")
    assert 'id="verify-chain"' not in admin_page.content.decode()


def test_verifying_an_intact_chain_says_so_and_is_audited(caller_for):
    reader = StaffFactory.create(role=StaffRole.SUPPORT)
    person = UserFactory.create()
    for reason in ("Ticket 1", "Ticket 2"):
        access_log_record(actor=reader, subject_id=person.pk, fields=["email"], reason=reason)
    caller = caller_for("privacy_officer")
    html = caller.client.post("/staff/access-log/verify/").content.decode()
    assert 'data-intact="true"' in html
    assert "The chain is intact: 2 entries checked." in html
    head = StaffAccessLogEntry.objects.order_by("-pk")[0].entry_hash
    event = AuditEvent.objects.get(action="access_log.verified")
    assert event.actor_id == caller.user.pk
    assert event.after == {"entries": 2, "intact": True, "broken_entry_id": None, "head": head}


def test_verifying_a_changed_chain_names_the_first_broken_entry(caller_for):
    reader = StaffFactory.create(role=StaffRole.SUPPORT)
    person = UserFactory.create()
    first = access_log_record(actor=reader, subject_id=person.pk, fields=["email"], reason="T 1")
    access_log_record(actor=reader, subject_id=person.pk, fields=["email"], reason="T 2")
    with connection.cursor() as cursor:
        cursor.execute(UPDATE_REASON, ["Changed", first.pk])
    caller = caller_for("privacy_officer")
    html = caller.client.post("/staff/access-log/verify/").content.decode()
    assert 'data-intact="false"' in html
    assert (
        f"The chain is broken at entry #{first.pk}: its content does not match its hash: "
        "the entry was changed." in html
    )
    event = AuditEvent.objects.get(action="access_log.verified")
    assert event.after["intact"] is False
    assert event.after["broken_entry_id"] == first.pk
    russian = caller.client.post(
        "/staff/access-log/verify/", headers={"accept-language": "ru"}
    ).content.decode()
    assert (
        f"Цепочка нарушена на записи #{first.pk}: её содержимое не совпадает с её хешем: "
        "запись изменена." in russian
    )


def test_verifying_is_refused_to_others_and_the_refusal_audited():
    administrator = StaffFactory.create(role=StaffRole.ADMINISTRATOR)
    with pytest.raises(ActionRefused):
        staff.staff_access_log_verify(actor=administrator)
    assert service_denial(
        administrator,
        service="accounts.staff_access_log_verify",
        permission="staff_may_verify_access_log",
    )
    assert not AuditEvent.objects.filter(action="access_log.verified").exists()


def section_rows(html: str, name: str) -> list[list[str]]:
    part = html.split(f'data-section="{name}"')[1].split("</section>")[0]
    return (
        [
            [
                re.sub(r"<[^>]+>", "", cell).strip()
                for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)
            ]
            for row in re.findall(r"<tr>(.*?)</tr>", part.split("<tbody>")[1])
        ]
        if "<tbody>" in part
        else []
    )


def test_the_person_page_shows_consents_requests_and_exports_to_the_privacy_officer(caller_for):
    person = UserFactory.create(username="galina")
    officer = StaffFactory.create(role=StaffRole.PRIVACY_OFFICER)
    with clock.frozen_at(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)):
        consent_give(subject=person, purpose="newsletter", method="form")
        logged = dsr.request_log(
            actor=officer,
            kind="access",
            channel="email",
            received_at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
            subject=person,
            requester_contact="galina@example.com",
        )
        DataExport.objects.create(subject=person, requested_at=clock.now())

    html = (
        caller_for("privacy_officer")
        .client.post(f"/staff/people/{person.pk}/", {"reason": "Request #1: access"})
        .content.decode()
    )

    newsletter = [
        row
        for row in section_rows(html, "consents")
        if row[0] == "Newsletters and promotional e-mail"
    ]
    assert newsletter == [
        ["Newsletters and promotional e-mail", "—", "Given", "2 March 2026, 12:00 UTC+3", "Form"]
    ]
    assert section_rows(html, "requests") == [
        [f"#{logged.pk}", "Access", "Open", "2 March 2026, 11:00 UTC+3", "—"]
    ]
    assert section_rows(html, "exports") == [["Queued", "2 March 2026, 12:00 UTC+3", "—", "—", "—"]]
    entry = StaffAccessLogEntry.objects.get()
    assert entry.fields[-3:] == ["consents", "requests", "exports"]


def test_support_is_shown_consents_but_not_requests_or_exports(caller_for):
    person = UserFactory.create(username="gleb")
    html = (
        caller_for("support")
        .client.post(f"/staff/people/{person.pk}/", {"reason": "Ticket 12: sign-in"})
        .content.decode()
    )
    assert re.findall(r'data-section="([a-z]+)"', html) == ["consents"]
    assert StaffAccessLogEntry.objects.get().fields[-1] == "consents"


def test_the_people_list_keeps_the_search_across_pages(caller_for):
    client = caller_for("support").client
    User.objects.bulk_create([User(username=f"bulk{n:02}") for n in range(55)])
    first = client.get("/staff/", {"q": "bulk"}).content.decode()
    assert '<a href="?q=bulk&amp;page=2">Next</a>' in first
    assert "Page 1 of 2" in first
    second = client.get("/staff/", {"q": "bulk", "page": "2"}).content.decode()
    assert re.findall(r"<td>(bulk\d\d)</td>", second) == [f"bulk{n}" for n in range(50, 55)]
    assert '<a href="?q=bulk&amp;page=1">Previous</a>' in second
