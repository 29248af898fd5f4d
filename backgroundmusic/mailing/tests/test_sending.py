"""Sending campaigns through a real SMTP server (aiosmtpd): the audience, the headers, both
languages, one-click unsubscribe taken from a received message, batches that die midway."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.test import Client

from backgroundmusic.core import clock
from backgroundmusic.mailing import sending, services
from backgroundmusic.mailing.models import (
    Campaign,
    CampaignMessage,
    CampaignStatus,
    MessageStatus,
    SuppressionReason,
)
from backgroundmusic.mailing.selectors import campaign_counts
from backgroundmusic.mailing.tests.jobs import queued, run_queued
from backgroundmusic.mailing.tests.scene import audience, editor, scheduled_campaign
from backgroundmusic.privacy import consents
from backgroundmusic.privacy.kernel.pseudonyms import delivery_tag
from backgroundmusic.privacy.models import (
    ConsentAction,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
)
from tests.destinations import use_smtp
from tests.smtp_server import ReceivedMail, free_port

pytestmark = pytest.mark.django_db

UNSUBSCRIBE = re.compile(
    r"<(?P<url>http://testserver/mail/unsubscribe/(?P<token>[0-9a-f]{64})/)>, "
    r"<mailto:unsubscribe@backgroundmusic\.local\?subject=unsubscribe>"
)


@pytest.fixture(autouse=True)
def _mail_settings(settings):
    settings.SITE_URL = "http://testserver"
    settings.MARKETING_FROM_EMAIL = "BACKGROUND MUSIC <news@backgroundmusic.local>"
    settings.BOUNCE_ADDRESS = "bounces@backgroundmusic.local"
    settings.UNSUBSCRIBE_ADDRESS = "unsubscribe@backgroundmusic.local"
    settings.MAILING_BATCH_SIZE = 1


def unsubscribe_header(mail: ReceivedMail) -> re.Match[str]:
    """The List-Unsubscribe header, which a long value makes folded onto its own line."""
    found = UNSUBSCRIBE.fullmatch(str(mail.message["List-Unsubscribe"]).strip())
    assert found is not None, mail.message["List-Unsubscribe"]
    return found


def start_due() -> dict[str, int]:
    return services.campaigns_start_due()


def statuses(campaign: Campaign) -> dict[str, str]:
    return dict(
        CampaignMessage.objects.filter(campaign=campaign).values_list(
            "recipient__username", "status"
        )
    )


def test_a_campaign_reaches_exactly_the_consenting_set_in_their_languages(smtp_server):
    audience()
    campaign = scheduled_campaign(actor=editor())

    assert start_due() == {"started": 1, "queued": 2, "resumed": 0}
    assert len(queued("send_campaign_batch")) == 2  # one batch per message at batch size 1
    run_queued("send_campaign_batch")

    received = {mail.rcpt_tos[0]: mail for mail in smtp_server.wait_for(2)}
    assert sorted(received) == ["anna@example.com", "boris@example.com"]
    anna, boris = received["anna@example.com"], received["boris@example.com"]
    for mail in (anna, boris):
        assert mail.mail_from == "bounces@backgroundmusic.local"
        assert mail.message["From"] == "BACKGROUND MUSIC <news@backgroundmusic.local>"
        assert unsubscribe_header(mail)
        assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        # What a delivery report must return for the address to be suppressed (inbox/bounces.py).
        assert mail.message["X-BM-Delivery"] == delivery_tag(address=mail.rcpt_tos[0])
        html = mail.message.get_body(preferencelist=("html",)).get_content()
        # The staff's link as written, no tracking pixel, no image at all.
        assert '<a href="https://example.org/new" rel="noopener noreferrer">' in html
        assert "<img" not in html
    tokens = {unsubscribe_header(m)["token"] for m in (anna, boris)}
    assert len(tokens) == 2

    anna_url = unsubscribe_header(anna)["url"]
    assert anna.subject == "Spring releases"
    assert anna.text.replace("\r\n", "\n") == (
        "# New music\n\nTen **calm** tracks for [your videos](https://example.org/new).\n\n-- \n"
        "You receive this because you subscribed to the BACKGROUND MUSIC newsletter.\n"
        f"Unsubscribe: {anna_url}\n"
    )
    anna_html = anna.message.get_body(preferencelist=("html",)).get_content()
    assert "<strong>calm</strong>" in anna_html
    assert f'<a href="{anna_url}"' in anna_html

    boris_url = unsubscribe_header(boris)["url"]
    assert boris.subject == "Весенние релизы"
    assert boris.text.replace("\r\n", "\n").endswith(
        "Вы получили это письмо, потому что подписались на рассылку BACKGROUND MUSIC.\n"
        f"Отписаться: {boris_url}\n"
    )
    assert 'lang="ru"' in boris.message.get_body(preferencelist=("html",)).get_content()

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    assert statuses(campaign) == {"anna": MessageStatus.SENT, "boris": MessageStatus.SENT}
    assert campaign_counts(campaign=campaign) == {
        "queued": 0,
        "sent": 2,
        "failed": 0,
        "cancelled": 0,
    }
    # Nobody outside the consenting set has even a cancelled row.
    assert set(statuses(campaign)) == {"anna", "boris"}


def test_the_one_click_post_from_a_received_header_stops_the_rest_of_that_persons_queue(
    smtp_server,
):
    scene = audience()
    staff = editor()
    first = scheduled_campaign(actor=staff)
    second = scheduled_campaign(actor=staff)
    start_due()
    run_queued("send_campaign_batch", campaign_id=first.pk)
    received = {mail.rcpt_tos[0]: mail for mail in smtp_server.wait_for(2)}
    url = unsubscribe_header(received["anna@example.com"])["url"]

    # A mail client's POST: no cookie, no CSRF token, the RFC 8058 body.
    response = Client(enforce_csrf_checks=True).post(
        urlsplit(url).path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    latest = ConsentRecord.objects.filter(
        subject=scene.anna, purpose=ConsentPurpose.NEWSLETTER
    ).first()
    assert latest is not None
    assert (latest.action, latest.method) == (ConsentAction.WITHDRAWN, ConsentMethod.ONE_CLICK)
    assert statuses(second) == {"anna": MessageStatus.CANCELLED, "boris": MessageStatus.QUEUED}

    run_queued("send_campaign_batch", campaign_id=second.pk)
    assert [mail.rcpt_tos for mail in smtp_server.wait_for(3)][2:] == [["boris@example.com"]]
    second.refresh_from_db()
    assert second.status == CampaignStatus.SENT


def test_consent_is_asked_again_when_a_message_is_taken_to_be_sent(smtp_server):
    scene = audience()
    campaign = scheduled_campaign(actor=editor())
    start_due()
    # After the audience was taken: Anna's address bounces elsewhere; Boris restricts
    # processing, which cancels his queued message at once (the consent listener).
    services.suppression_record(address="anna@example.com", reason=SuppressionReason.COMPLAINT)
    consents.restriction_start(subject=scene.boris, method=ConsentMethod.FORM)
    assert statuses(campaign) == {"anna": MessageStatus.QUEUED, "boris": MessageStatus.CANCELLED}

    run_queued("send_campaign_batch")

    assert smtp_server.messages == []
    assert statuses(campaign) == {"anna": MessageStatus.CANCELLED, "boris": MessageStatus.CANCELLED}
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT


def test_a_killed_batch_is_resent_only_for_the_rows_still_queued(smtp_server, settings):
    settings.MAILING_BATCH_SIZE = 10
    audience()
    campaign = scheduled_campaign(actor=editor())
    start_due()
    # A batch takes both messages, sends Anna's, and its worker is killed.
    claimed, cancelled = sending.batch_claim(campaign_id=campaign.pk, limit=10)
    assert ([c.recipient.address for c in claimed], cancelled) == (
        ["anna@example.com", "boris@example.com"],
        0,
    )
    sending._send_one(campaign, claimed[0], None, sending.BatchOutcome())
    smtp_server.wait_for(1)

    # The queued batch job finds both rows claimed, so sends nothing twice.
    run_queued("send_campaign_batch")
    assert len(smtp_server.messages) == 1
    assert start_due()["resumed"] == 0

    with clock.frozen_at(clock.now() + sending.claim_timeout() + timedelta(seconds=1)):
        assert start_due()["resumed"] == 1
        run_queued("send_campaign_batch")

    assert [mail.rcpt_tos for mail in smtp_server.wait_for(2)] == [
        ["anna@example.com"],
        ["boris@example.com"],
    ]
    rows = CampaignMessage.objects.filter(campaign=campaign).order_by("recipient__username")
    assert list(rows.values_list("recipient__username", "status", "attempts")) == [
        ("anna", MessageStatus.SENT, 1),
        ("boris", MessageStatus.SENT, 2),
    ]


class RefusingAnna:
    """An SMTP server that has no mailbox for Anna."""

    def __init__(self) -> None:
        self.accepted: list[list[str]] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if address == "anna@example.com":
            return "550 5.1.1 <anna@example.com>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.accepted.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def test_a_refused_recipient_fails_alone_and_the_row_keeps_no_address(settings):
    handler = RefusingAnna()
    controller = Controller(
        handler, hostname="127.0.0.1", port=free_port("127.0.0.1"), ready_timeout=10
    )
    controller.start()
    try:
        use_smtp(settings, host="127.0.0.1", port=controller.port)
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.MAILING_BATCH_SIZE = 10
        audience()
        campaign = scheduled_campaign(actor=editor())
        start_due()
        assert run_queued("send_campaign_batch") == [{"sent": 1, "failed": 1, "cancelled": 0}]
    finally:
        controller.stop()
    assert handler.accepted == [["boris@example.com"]]
    rows = CampaignMessage.objects.filter(campaign=campaign).order_by("recipient__username")
    assert list(rows.values_list("recipient__username", "status", "error")) == [
        ("anna", MessageStatus.FAILED, "SMTPRecipientsRefused 550"),
        ("boris", MessageStatus.SENT, ""),
    ]


def test_a_server_that_does_not_answer_leaves_the_batch_queued_then_failed(settings):
    use_smtp(settings, host="127.0.0.1", port=9)  # discard: nothing listens there
    settings.EMAIL_TIMEOUT = 2
    settings.MAILING_BATCH_SIZE = 10
    audience()
    campaign = scheduled_campaign(actor=editor())
    start_due()
    moment = clock.now()
    for attempt in range(sending.MAX_ATTEMPTS):
        with clock.frozen_at(moment + attempt * (sending.claim_timeout() + timedelta(seconds=1))):
            if attempt:
                assert start_due()["resumed"] == 1
            with pytest.raises(ConnectionRefusedError):
                run_queued("send_campaign_batch")
    assert statuses(campaign) == {"anna": MessageStatus.QUEUED, "boris": MessageStatus.QUEUED}
    with clock.frozen_at(moment + 3 * (sending.claim_timeout() + timedelta(seconds=1))):
        start_due()
        run_queued("send_campaign_batch")
    assert statuses(campaign) == {"anna": MessageStatus.FAILED, "boris": MessageStatus.FAILED}
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT


def test_a_test_send_goes_to_the_editor_alone_marked_as_a_test(smtp_server):
    audience()
    staff = editor()
    campaign = services.campaign_create(actor=staff, text=scheduled_text())
    services.campaign_test_send(actor=staff, campaign=campaign, language="ru")
    services.campaign_test_send(actor=staff, campaign=campaign, language="en")
    run_queued("send_campaign_test")
    received = smtp_server.wait_for(2)
    assert [(m.rcpt_tos, m.subject) for m in received] == [
        (["editor@example.com"], "[Тест] Весенние релизы"),
        (["editor@example.com"], "[Test] Spring releases"),
    ]
    assert unsubscribe_header(received[0])
    assert CampaignMessage.objects.count() == 0
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def scheduled_text() -> services.CampaignText:
    from backgroundmusic.mailing.tests.scene import TEXT

    return TEXT


def test_a_message_cancelled_after_its_claim_is_not_sent(smtp_server, settings):
    settings.MAILING_BATCH_SIZE = 10
    scene = audience()
    campaign = scheduled_campaign(actor=editor())
    start_due()
    claimed, _cancelled = sending.batch_claim(campaign_id=campaign.pk, limit=10)
    # Between the claim and Anna's turn, she unsubscribes.
    consents.consent_withdraw(
        subject=scene.anna, purpose=ConsentPurpose.NEWSLETTER, method=ConsentMethod.ONE_CLICK
    )
    outcome = sending.BatchOutcome()
    for item in claimed:
        sending._send_one(campaign, item, None, outcome)
    assert (outcome.sent, outcome.cancelled) == (1, 1)
    assert [mail.rcpt_tos for mail in smtp_server.wait_for(1)] == [["boris@example.com"]]
    assert statuses(campaign) == {"anna": MessageStatus.CANCELLED, "boris": MessageStatus.SENT}


def test_a_message_sent_again_after_a_kill_has_its_first_message_id(smtp_server, settings):
    """The window no claim closes: the server accepted the message, the worker died before the
    row was marked sent. The copy is the same message to the mailbox (core.mail.job_message_id)."""
    settings.MAILING_BATCH_SIZE = 10
    audience()
    campaign = scheduled_campaign(actor=editor())
    start_due()
    claimed, _cancelled = sending.batch_claim(campaign_id=campaign.pk, limit=10)
    anna = claimed[0]
    sending._send_one(campaign, anna, None, sending.BatchOutcome())
    CampaignMessage.objects.filter(pk=anna.message_id).update(
        status=MessageStatus.QUEUED, sent_at=None
    )
    with clock.frozen_at(clock.now() + sending.claim_timeout() + timedelta(seconds=1)):
        assert start_due()["resumed"] == 1
        run_queued("send_campaign_batch")

    def ids_to(address: str) -> list[str]:
        mails = smtp_server.wait_for(3)
        return [str(mail.message["Message-ID"]) for mail in mails if mail.rcpt_tos == [address]]

    to_anna, to_boris = ids_to(anna.recipient.address), ids_to("boris@example.com")
    assert len(to_anna) == 2 and to_anna[0] == to_anna[1]
    assert len(to_boris) == 1 and to_boris[0] != to_anna[0]
    assert re.fullmatch(r"<[0-9a-f]{32}@backgroundmusic\.local>", to_anna[0])
