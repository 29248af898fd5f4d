"""Issue 13, requests: the extension notice sent to the requester with its reason and the new
dates (152-FZ +5 working days; GDPR up to two more months, told within the first month), the
received date between the service's start and now, and a closed request showing its outcome
instead of a countdown (privacy/requests.py, the staff request pages)."""

from datetime import UTC, date, datetime

import pytest
from django_tasks_db.models import DBTaskResult

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.audit.models import AuditAction, AuditEvent
from backgroundmusic.core import clock
from backgroundmusic.core.errors import ActionRefused, DomainError
from backgroundmusic.inbox.services import inbound_record
from backgroundmusic.inbox.tests.letters import letter
from backgroundmusic.mailing.tests.jobs import run_queued
from backgroundmusic.privacy import requests as dsr
from backgroundmusic.privacy.models import DataSubjectRequest, ExtensionNotice, RequestKind
from backgroundmusic.staffroles.roles import StaffRole
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.django_db

Channel = DataSubjectRequest.Channel
Delivery = ExtensionNotice.Delivery
# 10:00 in Moscow on Monday 29 December 2025: 152-FZ due 2026-01-22, GDPR due 2026-01-29.
RECEIVED = datetime(2025, 12, 29, 7, 0, tzinfo=UTC)


def moscow_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


@pytest.fixture
def officer() -> User:
    return StaffFactory.create(role=StaffRole.PRIVACY_OFFICER, username="the-officer")


@pytest.fixture
def known_callers(officer: User) -> dict[str, User]:
    return {"privacy_officer": officer}


@pytest.fixture
def russian_person() -> User:
    user = UserFactory.create(username="ivan", email="ivan@example.org")
    user.profile.language = "ru"
    user.profile.save(update_fields=["language"])
    return user


def log(officer, *, subject=None, channel=Channel.LETTER, contact="Svetlanskaya 12", **extra):
    received_at = extra.pop("received_at", RECEIVED)
    with clock.frozen_at(received_at):
        return dsr.request_log(
            actor=officer,
            kind=extra.pop("kind", RequestKind.ACCESS),
            channel=channel,
            received_at=received_at,
            subject=subject,
            requester_contact=contact,
        )


def extend(officer, request, *, on: date, **kwargs):
    with clock.frozen_at(moscow_noon(on)):
        return dsr.request_extend(actor=officer, request=request, **kwargs)


def queued_notices() -> int:
    return DBTaskResult.objects.filter(
        status="READY", task_path__endswith=".send_extension_notice"
    ).count()


def state(request: DataSubjectRequest) -> tuple:
    request.refresh_from_db()
    return (
        request.extended_due_ru,
        request.extended_due_gdpr,
        request.extension_reason,
        ExtensionNotice.objects.count(),
        queued_notices(),
        AuditEvent.objects.filter(action=AuditAction.REQUEST_EXTENDED).count(),
    )


def test_both_deadlines_extended_and_the_notice_queued_with_the_audit_row(officer):
    request = log(officer)
    extended = extend(
        officer,
        request,
        on=date(2026, 1, 20),
        reason="The archive of letters is being searched",
        ru_working_days=5,
        gdpr_months=2,
    )
    assert (extended.extended_due_ru, extended.extended_due_gdpr) == (
        date(2026, 1, 29),
        date(2026, 3, 29),
    )
    [notice] = ExtensionNotice.objects.all()
    assert (
        notice.reason,
        notice.extended_due_ru,
        notice.extended_due_gdpr,
        notice.delivery,
        notice.sent_at,
    ) == (
        "The archive of letters is being searched",
        date(2026, 1, 29),
        date(2026, 3, 29),
        Delivery.QUEUED,
        None,
    )
    assert queued_notices() == 1
    event = AuditEvent.objects.get(action=AuditAction.REQUEST_EXTENDED)
    assert (event.actor_id, event.before, event.after) == (
        officer.pk,
        {"due_ru": "2026-01-22", "due_gdpr": "2026-01-29"},
        {"due_ru": "2026-01-29", "due_gdpr": "2026-03-29", "notice": notice.pk},
    )
    deadlines = dsr.request_deadlines(request=extended)
    assert (deadlines.ru.due, deadlines.gdpr.due) == (date(2026, 1, 29), date(2026, 3, 29))


def test_the_gdpr_months_count_from_the_day_of_receipt(officer):
    # Received on 31 January: one month ends on 28 February, three on 30 April.
    request = log(officer, received_at=moscow_noon(date(2026, 1, 31)))
    assert request.due_gdpr == date(2026, 2, 28)
    extended = extend(
        officer,
        request,
        on=date(2026, 2, 2),
        reason="Many sources",
        ru_working_days=0,
        gdpr_months=2,
    )
    assert (extended.extended_due_ru, extended.extended_due_gdpr) == (None, date(2026, 4, 30))
    one_more = log(officer, received_at=moscow_noon(date(2026, 1, 31)))
    extended = extend(
        officer,
        one_more,
        on=date(2026, 2, 2),
        reason="Many sources",
        ru_working_days=0,
        gdpr_months=1,
    )
    assert extended.extended_due_gdpr == date(2026, 3, 31)


def test_each_law_is_extended_once_and_separately(officer):
    request = log(officer)
    extend(officer, request, on=date(2026, 1, 12), reason="Documents awaited")
    extended = extend(
        officer,
        request,
        on=date(2026, 1, 26),
        reason="Still searching",
        ru_working_days=0,
        gdpr_months=1,
    )
    assert (extended.extended_due_ru, extended.extended_due_gdpr) == (
        date(2026, 1, 29),
        date(2026, 2, 28),
    )
    assert list(
        ExtensionNotice.objects.order_by("pk").values_list(
            "reason", "extended_due_ru", "extended_due_gdpr"
        )
    ) == [
        ("Documents awaited", date(2026, 1, 29), None),
        ("Still searching", None, date(2026, 2, 28)),
    ]
    with pytest.raises(DomainError) as refused:
        extend(
            officer, request, on=date(2026, 1, 27), reason="Again", ru_working_days=0, gdpr_months=1
        )
    assert refused.value.code == "already_extended_gdpr"


@pytest.mark.parametrize(
    "on, kwargs, code, message",
    [
        (
            date(2026, 1, 30),
            {"ru_working_days": 0, "gdpr_months": 1},
            "first_month_passed",
            "The first month ended on 2026-01-29: the GDPR lets the requester be told of an "
            "extension only within it.",
        ),
        (
            date(2026, 1, 12),
            {"ru_working_days": 0, "gdpr_months": 3},
            "extension_too_long_gdpr",
            "The GDPR allows at most 2 more months.",
        ),
        (
            date(2026, 1, 12),
            {"ru_working_days": 6},
            "extension_too_long_ru",
            "152-FZ allows at most 5 more working days.",
        ),
        (
            date(2026, 1, 12),
            {"ru_working_days": 0, "gdpr_months": 0},
            "nothing_to_extend",
            "Choose which deadline to extend, and by how much.",
        ),
        (
            date(2026, 1, 23),
            {"ru_working_days": 5, "gdpr_months": 1},
            "deadline_passed",
            "The 10-working-day deadline passed on 2026-01-22; it can be extended only before "
            "it runs out.",
        ),
    ],
)
def test_extensions_the_law_does_not_allow_are_refused_and_change_nothing(
    officer, on, kwargs, code, message
):
    request = log(officer)
    before = state(request)
    with pytest.raises(DomainError) as refused:
        extend(officer, request, on=on, reason="Busy", **kwargs)
    assert (refused.value.code, refused.value.message) == (code, message)
    assert state(request) == before


def test_the_page_refuses_a_late_gdpr_extension_with_the_reason(caller_for, officer):
    request = log(officer)
    path = f"/staff/requests/{request.pk}/"
    client = caller_for("privacy_officer").client
    with clock.frozen_at(moscow_noon(date(2026, 1, 20))):
        html = client.get(path).content.decode()
        assert 'name="extend-ru_working_days"' in html and 'name="extend-gdpr_months"' in html
        response = client.post(
            path,
            {
                "op": "extend",
                "extend-ru_working_days": "0",
                "extend-gdpr_months": "3",
                "extend-reason": "We are busy",
            },
        )
    assert response.status_code == 200
    html = response.content.decode()
    assert "The GDPR allows at most 2 more months." in html
    assert "We are busy" in html
    request.refresh_from_db()
    assert (request.extended_due_gdpr, ExtensionNotice.objects.count()) == (None, 0)


def test_the_notice_goes_to_the_linked_account_in_its_language_through_smtp(
    officer, russian_person, smtp_server: SmtpServer, caller_for
):
    request = log(officer, subject=russian_person)
    extend(
        officer,
        request,
        on=date(2026, 1, 20),
        reason="Ищем письма в архиве",
        ru_working_days=5,
        gdpr_months=2,
    )
    with clock.frozen_at(datetime(2026, 1, 20, 10, 30, tzinfo=UTC)):
        assert run_queued("send_extension_notice") == ["sent"]
    [received] = smtp_server.wait_for(1)
    assert received.rcpt_tos == ["ivan@example.org"]
    assert (
        received.subject.strip() == f"Ваш запрос №{request.pk}: нам нужно больше времени для ответа"
    )
    text = received.text
    assert "Ищем письма в архиве" in text
    assert "ответим до 2026-01-29" in text
    assert "ответим до 2026-03-29" in text
    html_part = received.message.get_body(preferencelist=("html",))
    assert html_part is not None
    html = str(html_part.get_content())  # type: ignore[attr-defined]
    assert '<html lang="ru">' in html and "Ищем письма в архиве" in html
    notice = ExtensionNotice.objects.get()
    assert (notice.delivery, notice.sent_at) == (
        Delivery.SENT,
        datetime(2026, 1, 20, 10, 30, tzinfo=UTC),
    )
    assert dsr.extension_notice_send(notice_id=notice.pk) == "sent"
    assert len(smtp_server.messages) == 1
    with clock.frozen_at(moscow_noon(date(2026, 1, 21))):
        page = caller_for("privacy_officer").client.get(f"/staff/requests/{request.pk}/")
    assert (
        'Sent by e-mail on <time datetime="2026-01-20T13:30:00+03:00">20 January 2026, 13:30 UTC+3'
        "</time>" in page.content.decode()
    )


def test_the_notice_of_a_request_by_e_mail_goes_to_the_address_it_came_from(
    officer, smtp_server: SmtpServer
):
    with clock.frozen_at(RECEIVED):
        inbound_record(
            raw=letter(sender="stranger@example.net", subject="Delete my data"),
            received_at=RECEIVED,
        )
    request = DataSubjectRequest.objects.get()
    extend(officer, request, on=date(2026, 1, 12), reason="Looking for your letters")
    with clock.frozen_at(moscow_noon(date(2026, 1, 12))):
        assert run_queued("send_extension_notice") == ["sent"]
    [received] = smtp_server.wait_for(1)
    assert received.rcpt_tos == ["stranger@example.net"]
    assert received.subject == f"Your request #{request.pk}: we need more time to answer"
    assert "Why: Looking for your letters" in received.text
    assert (
        "Under Russian law (152-FZ), which allows five more working days, we will answer by "
        "2026-01-29." in received.text
    )
    assert "Under the GDPR" not in received.text.split("Your request's deadlines")[0]


def test_a_request_by_post_has_no_address_to_mail_and_the_page_says_so(
    officer, caller_for, smtp_server: SmtpServer
):
    request = log(officer, contact="Ivan Petrov, Svetlanskaya 12, Vladivostok")
    extend(officer, request, on=date(2026, 1, 12), reason="Documents awaited")
    with clock.frozen_at(moscow_noon(date(2026, 1, 12))):
        assert run_queued("send_extension_notice") == ["no_address"]
        page = caller_for("privacy_officer").client.get(f"/staff/requests/{request.pk}/")
    assert smtp_server.messages == []
    assert (ExtensionNotice.objects.get().delivery, ExtensionNotice.objects.get().sent_at) == (
        Delivery.NO_ADDRESS,
        None,
    )
    assert "No e-mail address: send it by post" in page.content.decode()


def test_a_refused_actor_extends_nothing(officer):
    request = log(officer)
    before = state(request)
    with pytest.raises(ActionRefused):
        extend(UserFactory.create(), request, on=date(2026, 1, 12), reason="x")
    assert state(request) == before


# The received date


@pytest.mark.parametrize(
    "received_at, code",
    [
        (datetime(2025, 5, 31, 20, 59, tzinfo=UTC), "received_before_service"),  # 23:59 Moscow
        (datetime(2026, 1, 12, 9, 1, tzinfo=UTC), "received_in_future"),
    ],
)
def test_the_service_refuses_a_received_date_out_of_bounds(officer, received_at, code):
    with clock.frozen_at(moscow_noon(date(2026, 1, 12))), pytest.raises(DomainError) as refused:
        dsr.request_log(
            actor=officer,
            kind=RequestKind.ACCESS,
            channel=Channel.LETTER,
            received_at=received_at,
            requester_contact="Svetlanskaya 12",
        )
    assert refused.value.code == code
    assert DataSubjectRequest.objects.count() == 0


def test_the_first_day_of_the_service_is_a_valid_received_date(officer):
    request = log(officer, received_at=datetime(2025, 5, 31, 21, 0, tzinfo=UTC))  # 00:00 Moscow
    assert (request.due_ru, request.due_gdpr) == (date(2025, 6, 17), date(2025, 7, 1))


@pytest.mark.parametrize(
    "typed, message",
    [
        (
            "2025-05-31T23:59",
            "The request cannot have been received before 2025-06-01, when the service started.",
        ),
        ("2026-01-12T12:01", "The request cannot have been received in the future."),
    ],
)
def test_the_staff_form_shows_an_out_of_bounds_received_date_as_an_error(
    caller_for, typed, message
):
    with clock.frozen_at(moscow_noon(date(2026, 1, 12))):
        response = caller_for("privacy_officer").client.post(
            "/staff/requests/new/",
            {
                "kind": "access",
                "channel": "letter",
                "received_at": typed,
                "requester_contact": "Svetlanskaya 12",
            },
        )
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert f'value="{typed}"' in html
    assert DataSubjectRequest.objects.count() == 0


# A closed request shows its outcome


def test_a_closed_request_shows_its_outcome_not_a_countdown(officer, caller_for):
    request = log(officer)
    with clock.frozen_at(moscow_noon(date(2026, 1, 14))):
        dsr.request_close(
            actor=officer,
            request=request,
            status=DataSubjectRequest.Status.REFUSED,
            outcome="We hold no data about this person.",
        )
    open_one = log(officer, received_at=moscow_noon(date(2026, 1, 12)))
    client = caller_for("privacy_officer").client
    with clock.frozen_at(moscow_noon(date(2026, 1, 20))):
        inbox = client.get("/staff/requests/?closed=1").content.decode()
        detail = client.get(f"/staff/requests/{request.pk}/").content.decode()
    closed_row = inbox.split(f'data-request-id="{request.pk}"')[1].split("</tr>")[0]
    assert "<strong>Refused</strong>" in closed_row
    assert "14 January 2026, 12:00 UTC+3" in closed_row
    assert (
        f'by <span class="staff-actor" data-actor-id="{officer.pk}">the-officer (Privacy officer)'
        "</span>" in closed_row
    )
    assert "answered in time" in closed_row
    assert "We hold no data about this person." in closed_row
    assert "left" not in closed_row and "overdue" not in closed_row
    open_row = inbox.split(f'data-request-id="{open_one.pk}"')[1].split("</tr>")[0]
    assert "working days left" in open_row
    outcome = detail.split('<section id="outcome">')[1].split("</section>")[0]
    assert "<strong>Refused</strong>" in outcome
    assert f'by <span class="staff-actor" data-actor-id="{officer.pk}">the-officer' in outcome
    assert "We hold no data about this person." in outcome
    assert "days left" not in detail and "due today" not in detail
    assert 'id="close-form"' not in detail and 'id="extend-form"' not in detail


def test_a_request_closed_late_says_so(officer, caller_for):
    request = log(officer)
    with clock.frozen_at(moscow_noon(date(2026, 1, 26))):
        dsr.request_close(
            actor=officer,
            request=request,
            status=DataSubjectRequest.Status.REFUSED,
            outcome="Not ours.",
            delay_explanation="The letter was misfiled.",
        )
        detail = caller_for("privacy_officer").client.get(f"/staff/requests/{request.pk}/")
    outcome = detail.content.decode().split('<section id="outcome">')[1].split("</section>")[0]
    assert "answered late" in outcome
    assert "The letter was misfiled." in outcome
