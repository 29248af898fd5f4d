"""Borders (core/destinations.py, decision 0031): every outbound client refuses a destination
that is not declared, before it connects; the deploy check refuses a primary store abroad.

Each refusal is shown against a real listening socket on this machine: after the refusal it has
no connection waiting, so not a byte was sent."""

import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from django.core.files.storage import storages
from django.core.mail import send_mail
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from backgroundmusic.accounts.tests.factories import StaffFactory
from backgroundmusic.core import clock
from backgroundmusic.core.destinations import (
    DestinationRefused,
    borders_check,
    destination_require,
)
from backgroundmusic.inbox.readers import ImapReader
from backgroundmusic.licensing.payments.base import ProviderUnavailable
from backgroundmusic.licensing.payments.yookassa import YooKassaProvider
from backgroundmusic.privacy import transfers
from backgroundmusic.privacy.models import Recipient
from backgroundmusic.staffroles.roles import StaffRole
from config.storage import s3_storage
from tests.destinations import declare_destination, use_smtp

TODAY = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)


class Listener:
    """A TCP socket listening on 127.0.0.1 that never accepts on its own."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(8)
        self.socket.setblocking(False)
        self.port = int(self.socket.getsockname()[1])

    def connections_waiting(self) -> int:
        count = 0
        while True:
            try:
                connection, _ = self.socket.accept()
            except BlockingIOError:
                return count
            connection.close()
            count += 1


@pytest.fixture
def listener() -> Iterator[Listener]:
    opened = Listener()
    yield opened
    opened.socket.close()


def test_mail_to_an_undeclared_smtp_server_is_refused_before_connecting(settings, listener):
    use_smtp(settings, host="127.0.0.1", port=listener.port, declare=False)
    with pytest.raises(DestinationRefused) as refused:
        send_mail("Hello", "Body", "from@example.com", ["to@example.com"])
    assert (refused.value.host, refused.value.port, refused.value.code) == (
        "127.0.0.1",
        listener.port,
        "undeclared",
    )
    assert f"127.0.0.1:{listener.port} (mail)" in str(refused.value)
    assert listener.connections_waiting() == 0


def test_mail_to_a_declared_smtp_server_is_delivered(smtp_server):
    send_mail("Hello", "Body", "from@example.com", ["to@example.com"])
    assert [mail.subject for mail in smtp_server.wait_for(1)] == ["Hello"]


def test_a_host_declared_for_another_purpose_is_refused(settings, listener):
    use_smtp(settings, host="127.0.0.1", port=listener.port, declare=False)
    declare_destination(settings, host="127.0.0.1", port=listener.port, purpose="storage")
    with pytest.raises(DestinationRefused, match=r"\(mail\) refused"):
        send_mail("Hello", "Body", "from@example.com", ["to@example.com"])
    assert listener.connections_waiting() == 0


def test_a_mail_providers_api_not_declared_is_refused(settings, listener):
    settings.EMAIL_BACKEND = "backgroundmusic.core.mail.GuardedEmailBackend"
    settings.EMAIL_DELIVERY_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {
        "POSTMARK_SERVER_TOKEN": "test-token",
        "POSTMARK_API_URL": f"http://127.0.0.1:{listener.port}/",
    }
    with pytest.raises(DestinationRefused) as refused:
        send_mail("Hello", "Body", "from@example.com", ["to@example.com"])
    assert (refused.value.host, refused.value.port) == ("127.0.0.1", listener.port)
    assert listener.connections_waiting() == 0


def test_an_undeclared_imap_server_is_refused_before_connecting(settings, listener):
    reader = ImapReader.from_url(f"imap://inbox:secret@127.0.0.1:{listener.port}/INBOX")
    with pytest.raises(DestinationRefused, match=rf"127\.0\.0\.1:{listener.port} \(mailbox\)"):
        reader.read(lambda raw, arrived: None)
    assert listener.connections_waiting() == 0


def test_an_undeclared_s3_endpoint_is_refused_before_connecting(settings, listener):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage(
            bucket="bm-undeclared",
            endpoint_url=f"http://127.0.0.1:{listener.port}",
            region="us-east-1",
            access_key="test",
            secret_key="test",
        ),
    }
    with pytest.raises(DestinationRefused, match=rf"127\.0\.0\.1:{listener.port} \(storage\)"):
        storages["default"].exists("anything")
    assert listener.connections_waiting() == 0


def test_an_undeclared_payment_api_is_unavailable_naming_the_host(listener):
    provider = YooKassaProvider(
        shop_id="shop",
        secret_key="key",
        api_url=f"http://127.0.0.1:{listener.port}/v3",
        timeout=5.0,
    )
    with pytest.raises(ProviderUnavailable, match=rf"127\.0\.0\.1:{listener.port} \(payments\)"):
        provider.get_payment("2f6e4c4e-000f-5000-9000-1b2c3d4e5f60")
    assert listener.connections_waiting() == 0


def test_yookassas_own_api_is_declared_by_default(settings):
    declared = destination_require(host="api.yookassa.ru", port=443, purpose="payments")
    assert (declared.recipient, declared.country, declared.basis) == (
        "YooKassa (YooMoney)",
        "RU",
        "contract",
    )


@pytest.mark.django_db
def test_a_destination_abroad_needs_a_transfer_record_in_force(settings, listener):
    recipient = Recipient.objects.create(
        name="Mail Provider GmbH", country="DE", purpose_en="Mail", purpose_ru="Почта"
    )
    use_smtp(settings, host="127.0.0.1", port=listener.port, declare=False)
    declare_destination(
        settings,
        host="127.0.0.1",
        port=listener.port,
        purpose="mail",
        recipient="Mail Provider GmbH",
        country="DE",
    )
    with clock.frozen_at(TODAY):
        with pytest.raises(DestinationRefused) as refused:
            send_mail("Hello", "Body", "from@example.com", ["to@example.com"])
        assert refused.value.code == "no_transfer_record"
        assert "Mail Provider GmbH in DE" in str(refused.value)
        assert listener.connections_waiting() == 0
        record = transfers.transfer_record_add(
            actor=StaffFactory.create(role=StaffRole.PRIVACY_OFFICER),
            recipient=recipient,
            country="DE",
            basis="contract",
            safeguards="Standard contract clauses",
            authority_notified_on=date(2026, 2, 2),
        )
        assert (
            destination_require(host="127.0.0.1", port=listener.port, purpose="mail").recipient
            == "Mail Provider GmbH"
        )
        transfers.transfer_record_end(
            actor=StaffFactory.create(role=StaffRole.PRIVACY_OFFICER, username="second"),
            record=record,
        )
        with pytest.raises(DestinationRefused, match="no transfer record"):
            destination_require(host="127.0.0.1", port=listener.port, purpose="mail")


def stores(settings, **countries: str) -> None:
    settings.DATA_STORES = {
        "default database": {"country": countries.get("default", "RU"), "primary": True},
        "media storage": {"country": countries.get("media", "RU"), "primary": True},
        "cache": {"country": countries.get("cache", "RU"), "primary": False},
    }


def test_the_deploy_check_passes_with_every_primary_store_in_russia(settings):
    stores(settings, cache="DE")  # a cache holds copies: it may be abroad
    assert borders_check() == []
    call_command("check", "--deploy", "--fail-level", "ERROR")


def test_the_deploy_check_refuses_a_primary_store_abroad_naming_it(settings):
    stores(settings, default="DE")
    problems = borders_check()
    assert [(p.id, p.obj) for p in problems] == [("core.E032", "default database")]
    assert "'default database' is a primary store of personal data in DE" in problems[0].msg
    with pytest.raises(SystemCheckError, match="default database"):
        call_command("check", "--deploy")


def test_the_deploy_check_refuses_a_store_without_a_country(settings):
    stores(settings, media="")
    assert [(p.id, p.obj) for p in borders_check()] == [("core.E031", "media storage")]


def test_a_declaration_without_a_country_is_refused(settings):
    settings.OUTBOUND_DESTINATIONS = [
        {"host": "smtp.example.ru", "purpose": "mail", "recipient": "X", "basis": "contract"}
    ]
    assert [p.id for p in borders_check()] == ["core.E033"]
    assert "lacks country" in borders_check()[0].msg


@pytest.mark.django_db
def test_the_register_check_needs_each_destination_on_the_register(settings):
    stores(settings)
    settings.OUTBOUND_DESTINATIONS = [
        {
            "host": "smtp.example.ru",
            "port": 587,
            "purpose": "mail",
            "recipient": "Mail Provider",
            "country": "RU",
            "basis": "contract",
        }
    ]
    with pytest.raises(SystemCheckError, match="'Mail Provider', which is not on the privacy"):
        call_command("check", "--deploy", "--database", "default")
    Recipient.objects.create(name="Mail Provider", country="RU", purpose_en="x", purpose_ru="x")
    call_command("check", "--deploy", "--database", "default", "--fail-level", "ERROR")
