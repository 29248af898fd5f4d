"""The public request form, /privacy/request/ (privacy/requests_public.py, views/
requests_public.py): a request filed without signing in, proven by a one-time code e-mailed
through a real SMTP server; wrong, exhausted, expired and replaced codes; the rate limits; and
that nothing tells whether the address has an account."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client

from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.audit.models import AuditAction, AuditEvent
from backgroundmusic.core import clock
from backgroundmusic.mailing.tests.jobs import run_queued
from backgroundmusic.privacy import requests as dsr
from backgroundmusic.privacy import requests_public as public
from backgroundmusic.privacy.kernel.pseudonyms import address_digest
from backgroundmusic.privacy.models import DataSubjectRequest, PendingRequest
from backgroundmusic.staffroles.roles import StaffRole
from tests.smtp_server import ReceivedMail, SmtpServer

pytestmark = pytest.mark.django_db

Identity = DataSubjectRequest.Identity
# 10:00 in Moscow on Monday 12 January 2026: 152-FZ due 2026-01-26, GDPR due 2026-02-12.
NOW = datetime(2026, 1, 12, 7, 0, tzinfo=UTC)
FORM = "/privacy/request/"
CODE = "/privacy/request/code/"
DONE = "/privacy/request/done/"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def file(client: Client, address: str = "lost@example.org", **fields: str):
    data = {"email": address, "kind": "erasure", "details": "My old account, anna1990", **fields}
    with clock.frozen_at(NOW):
        return client.post(FORM, data)


def mailed_code(smtp_server: SmtpServer, count: int = 1) -> tuple[str, ReceivedMail]:
    """Runs the queued code letters and returns the code of the latest one."""
    with clock.frozen_at(NOW):
        run_queued("send_request_code")
    received = smtp_server.wait_for(count)[-1]
    found = re.search(r"\b(\d{6})\b", received.text)
    assert found is not None, received.text
    return found.group(1), received


def type_code(client: Client, code: str, *, at: datetime = NOW):
    with clock.frozen_at(at):
        return client.post(CODE, {"op": "verify", "code": code})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_the_form_in_both_languages_and_the_links_to_it(client):
    english = client.get(FORM).content.decode()
    russian = client.get(FORM, headers={"Accept-Language": "ru"}).content.decode()
    assert "<h1>Ask about your data</h1>" in english
    assert "<h1>Запрос о ваших данных</h1>" in russian
    assert 'id="public-request-form"' in english and 'id="public-request-form"' in russian
    assert 'href="/privacy/request/"' in client.get("/cookies/").content.decode()


def test_a_request_proven_by_the_code_is_logged_with_its_deadlines(client, smtp_server: SmtpServer):
    response = file(client)
    assert (response.status_code, response["Location"]) == (302, CODE)
    page = client.get(CODE).content.decode()
    assert "We sent a code of 6 digits to lost@example.org." in page
    code, received = mailed_code(smtp_server)
    assert received.rcpt_tos == ["lost@example.org"]
    assert received.subject == f"Your code for a request about your data: {code}"
    assert "The code works for 15 minutes and 3 tries." in received.text
    html_part = received.message.get_body(preferencelist=("html",))
    assert html_part is not None and code in str(html_part.get_content())  # type: ignore[attr-defined]
    pending = PendingRequest.objects.get()
    assert code not in pending.code_hash and "lost@example.org" not in pending.sealed
    assert pending.address_digest == address_digest(address="lost@example.org")
    assert DataSubjectRequest.objects.count() == 0

    response = type_code(client, code, at=NOW + timedelta(minutes=14))
    assert (response.status_code, response["Location"]) == (302, DONE)
    request = DataSubjectRequest.objects.get()
    assert (
        request.kind,
        request.channel,
        request.requester_contact,
        request.details,
        request.language,
        request.subject_id,
        request.identity,
        request.handled_by_id,
        request.due_ru,
        request.due_gdpr,
    ) == (
        "erasure",
        DataSubjectRequest.Channel.WEB_FORM,
        "lost@example.org",
        "My old account, anna1990",
        "en",
        None,
        Identity.UNVERIFIED,
        None,
        date(2026, 1, 26),
        date(2026, 2, 12),
    )
    [logged] = AuditEvent.objects.filter(target_id=str(request.pk))
    assert (logged.action, logged.actor_id, logged.reason) == (
        AuditAction.REQUEST_LOGGED,
        None,
        "identity: e-mail address verified by a one-time code",
    )
    with clock.frozen_at(NOW):
        done = client.get(DONE).content.decode()
    assert f"<dd>#{request.pk}</dd>" in done
    assert '<time datetime="2026-01-26">2026-01-26</time>' in done
    assert '<time datetime="2026-02-12">2026-02-12</time>' in done
    # The code is spent: typing it again logs nothing more.
    type_code(client, code)
    assert DataSubjectRequest.objects.count() == 1


def test_an_account_s_verified_primary_address_links_the_account(client, smtp_server: SmtpServer):
    anna = UserFactory.create(username="anna", email="Anna@Example.org")
    file(client, address="anna@example.org")
    code, _mail = mailed_code(smtp_server)
    type_code(client, code)
    request = DataSubjectRequest.objects.get()
    assert (request.subject_id, request.identity) == (anna.pk, Identity.VERIFIED)
    assert list(
        AuditEvent.objects.filter(target_id=str(request.pk))
        .order_by("pk")
        .values_list("action", "actor_id", "reason")
    ) == [
        (action, None, dsr.CODE_VERIFIED_REASON)
        for action in (
            AuditAction.REQUEST_LOGGED,
            AuditAction.REQUEST_SUBJECT_LINKED,
            AuditAction.REQUEST_IDENTITY_VERIFIED,
        )
    ]


def test_an_unverified_address_links_no_account(client, smtp_server: SmtpServer):
    UserFactory.create(username="bob", email="bob@example.org", email_verified=False)
    file(client, address="bob@example.org")
    code, _mail = mailed_code(smtp_server)
    type_code(client, code)
    request = DataSubjectRequest.objects.get()
    assert (request.subject_id, request.identity) == (None, Identity.UNVERIFIED)


def test_a_wrong_code_logs_nothing_and_says_how_many_tries_are_left(
    client, smtp_server: SmtpServer
):
    file(client)
    code, _mail = mailed_code(smtp_server)
    response = type_code(client, wrong(code))
    assert response.status_code == 400
    html = response.content.decode()
    assert "This code is not right. You have 2 more tries." in html
    assert f'value="{wrong(code)}"' in html
    response = type_code(client, wrong(code))
    assert "This code is not right. You have 1 more try." in response.content.decode()
    response = type_code(client, wrong(code))
    assert "no tries are left: ask for a new code" in response.content.decode()
    # The right code now comes too late.
    response = type_code(client, code)
    assert response.status_code == 400
    assert "no tries are left: ask for a new code" in response.content.decode()
    assert DataSubjectRequest.objects.count() == 0
    assert AuditEvent.objects.count() == 0
    assert PendingRequest.objects.get().attempts == 3


def test_a_malformed_code_is_a_form_error_and_costs_no_try(client, smtp_server: SmtpServer):
    file(client)
    mailed_code(smtp_server)
    response = type_code(client, "12ab")
    assert response.status_code == 400
    assert "The code is the 6 digits from the e-mail." in response.content.decode()
    assert PendingRequest.objects.get().attempts == 0


def test_an_expired_code_says_so(client, smtp_server: SmtpServer):
    file(client)
    code, _mail = mailed_code(smtp_server)
    response = type_code(client, code, at=NOW + timedelta(minutes=15))
    assert response.status_code == 400
    assert (
        "This code has expired: codes work for 15 minutes. Ask for a new code."
        in response.content.decode()
    )
    assert DataSubjectRequest.objects.count() == 0


def test_a_new_code_replaces_the_old_one(client, smtp_server: SmtpServer):
    file(client)
    old_code, _mail = mailed_code(smtp_server)
    with clock.frozen_at(NOW + timedelta(minutes=20)):
        response = client.post(CODE, {"op": "renew"})
    assert (response.status_code, response["Location"]) == (302, CODE)
    with clock.frozen_at(NOW + timedelta(minutes=20)):
        run_queued("send_request_code")
    received = smtp_server.wait_for(2)[-1]
    new_code = re.search(r"\b(\d{6})\b", received.text).group(1)  # type: ignore[union-attr]
    assert received.rcpt_tos == ["lost@example.org"]
    old = PendingRequest.objects.order_by("pk").first()
    assert old is not None
    check = public.pending_request_verify(pending_id=old.pk, code=old_code)
    assert check.outcome == public.CodeOutcome.SUPERSEDED
    response = type_code(client, new_code, at=NOW + timedelta(minutes=21))
    assert (response.status_code, response["Location"]) == (302, DONE)
    request = DataSubjectRequest.objects.get()
    assert (request.kind, request.details) == ("erasure", "My old account, anna1990")


def test_the_form_keeps_what_was_typed_on_an_error(client):
    response = file(client, address="not an address", details="Please erase me")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="not an address"' in html
    assert "Please erase me</textarea>" in html
    assert '<option value="erasure" selected>' in html
    assert PendingRequest.objects.count() == 0


def test_the_code_page_without_a_request_goes_back_to_the_form(client):
    assert client.get(CODE)["Location"] == FORM
    assert client.get(DONE)["Location"] == FORM


def test_nothing_tells_whether_the_address_has_an_account(smtp_server: SmtpServer):
    UserFactory.create(username="anna", email="anna@example.org")
    pages, letters = [], []
    for count, address in enumerate(["anna@example.org", "nobody@example.org"], start=1):
        visitor = Client()
        response = file(visitor, address=address)
        assert (response.status_code, response["Location"]) == (302, CODE)
        page = visitor.get(CODE).content.decode().replace(address, "ADDRESS")
        pages.append(CSRF.sub("", page))
        code, received = mailed_code(smtp_server, count)
        letters.append((received.subject.replace(code, "CODE"), received.text.replace(code, "C")))
    assert pages[0] == pages[1]
    assert letters[0] == letters[1]


def test_the_rate_limit_per_typed_address(client, smtp_server: SmtpServer):
    for _ in range(3):
        assert file(client, address="victim@example.org").status_code == 302
    response = file(client, address="Victim@example.org")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert PendingRequest.objects.count() == 3
    # Another address from the same network is still served.
    assert file(client, address="other@example.org").status_code == 302


def test_the_rate_limit_per_network_address(client, smtp_server: SmtpServer):
    for number in range(10):
        assert file(client, address=f"person{number}@example.org").status_code == 302
    response = file(client, address="one-more@example.org")
    assert response.status_code == 429
    assert PendingRequest.objects.count() == 10
    # "Send a new code" counts too.
    with clock.frozen_at(NOW):
        assert client.post(CODE, {"op": "renew"}).status_code == 429


def test_the_code_letter_goes_in_the_form_s_language(smtp_server: SmtpServer):
    visitor = Client(headers={"Accept-Language": "ru"})
    file(visitor)
    code, received = mailed_code(smtp_server)
    assert received.subject.strip() == f"Ваш код для обращения о ваших данных: {code}"
    assert "Код действует 15 минут, попыток — 3." in received.text
    type_code(visitor, code)
    assert DataSubjectRequest.objects.get().language == "ru"


def test_rotating_the_master_key_reseals_a_pending_request(settings):
    from backgroundmusic.privacy.tests.test_rotate_data_master_key import NEW, OLD

    settings.DATA_MASTER_KEYS = f"k1:{OLD}"
    pending = public.pending_request_start(
        address="lost@example.org", kind="access", details="Mine", language="en"
    )
    settings.DATA_MASTER_KEYS = f"k2:{NEW},k1:{OLD}"
    assert public.pending_requests_reseal() == 1
    assert public.pending_requests_reseal() == 0
    settings.DATA_MASTER_KEYS = f"k2:{NEW}"
    assert public.pending_request_typed(pending_id=pending.pk) == public.Typed(
        address="lost@example.org", details="Mine"
    )


def filed_and_proven(client: Client, smtp_server: SmtpServer) -> DataSubjectRequest:
    file(client)
    code, _mail = mailed_code(smtp_server)
    type_code(client, code)
    return DataSubjectRequest.objects.get()


def test_the_done_page_shows_an_extended_deadline_with_its_reason(client, smtp_server: SmtpServer):
    request = filed_and_proven(client, smtp_server)
    officer = StaffFactory.create(role=StaffRole.PRIVACY_OFFICER)
    with clock.frozen_at(NOW + timedelta(days=2)):
        dsr.request_extend(actor=officer, request=request, reason="We look in the backups too.")
        done = client.get(DONE).content.decode()
    assert "<h1>Your request is logged</h1>" in done
    assert '<time datetime="2026-02-02">2026-02-02</time> (extended)' in done
    assert '<time datetime="2026-02-12">2026-02-12</time></dd>' in done
    assert "<dt>Why we need more time</dt><dd>We look in the backups too.</dd>" in done
    assert "Our answer" not in done


def test_the_done_page_shows_the_answer_once_the_request_is_closed(client, smtp_server: SmtpServer):
    request = filed_and_proven(client, smtp_server)
    officer = StaffFactory.create(role=StaffRole.PRIVACY_OFFICER)
    with clock.frozen_at(NOW + timedelta(days=20)):  # past the 152-FZ deadline of 2026-01-26
        dsr.request_close(
            actor=officer,
            request=request,
            status=DataSubjectRequest.Status.REFUSED,
            outcome="We hold no data about this address.\nNothing to erase.",
            delay_explanation="The backups took longer to search.",
        )
        done = client.get(DONE, headers={"Accept-Language": "en"}).content.decode()
    assert "<h1>Your request is answered</h1>" in done
    assert "<dt>State</dt><dd>Refused</dd>" in done
    assert '<time datetime="2026-02-01">2026-02-01</time>' in done
    assert (
        "<dt>Our answer</dt><dd>We hold no data about this address.<br>Nothing to erase.</dd>"
    ) in done
    assert (
        "<dt>Why we answered after the deadline</dt><dd>The backups took longer to search.</dd>"
    ) in done
    assert "Answer due" not in done
    assert "2026-01-26" not in done
    russian = client.get(DONE, headers={"Accept-Language": "ru"}).content.decode()
    assert "<h1>Ответ на ваш запрос готов</h1>" in russian
