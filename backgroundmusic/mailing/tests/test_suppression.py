"""Hard bounces and complaints suppress an address, through the service and through a
provider's tracking webhook (django-anymail); only a keyed digest is kept."""

import json
from base64 import b64encode

import pytest
from django.test import Client

from backgroundmusic.mailing import services
from backgroundmusic.mailing.models import Suppression, SuppressionReason
from backgroundmusic.mailing.selectors import address_is_suppressed
from backgroundmusic.privacy.kernel.pseudonyms import address_digest

pytestmark = pytest.mark.django_db

WEBHOOK = "/mail/anymail/postmark/tracking/"
# The basic-auth user and password of the webhook (ANYMAIL["WEBHOOK_SECRET"]).
WEBHOOK_AUTH = "postmark:hook-secret"


def test_a_suppression_keeps_the_first_reason_and_no_address():
    first = services.suppression_record(
        address="Anna@Example.com", reason=SuppressionReason.HARD_BOUNCE
    )
    again = services.suppression_record(
        address="anna@example.com ", reason=SuppressionReason.COMPLAINT
    )
    assert again.pk == first.pk
    assert list(Suppression.objects.values_list("address_digest", "reason")) == [
        (address_digest(address="anna@example.com"), "hard_bounce")
    ]
    assert address_is_suppressed(address="ANNA@example.com")
    assert not address_is_suppressed(address="boris@example.com")
    with pytest.raises(ValueError, match="hard bounces and complaints only"):
        services.suppression_record(address="boris@example.com", reason="manual")


@pytest.fixture
def webhook(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": WEBHOOK_AUTH}
    client = Client()

    def post(event: dict[str, object], auth: str = WEBHOOK_AUTH) -> int:
        response = client.post(
            WEBHOOK,
            data=json.dumps(event),
            content_type="application/json",
            HTTP_AUTHORIZATION="Basic " + b64encode(auth.encode()).decode(),
        )
        return response.status_code

    return post


def bounce(kind: str, address: str) -> dict[str, object]:
    return {
        "RecordType": "Bounce",
        "Type": kind,
        "TypeCode": 1,
        "MessageID": "00000000-0000-0000-0000-000000000001",
        "Email": address,
        "BouncedAt": "2026-03-02T09:00:00Z",
        "Description": "The server was unable to deliver your message.",
        "Details": "smtp;550 5.1.1 unknown user",
    }


def test_a_providers_hard_bounce_and_complaint_suppress_their_addresses(webhook):
    assert webhook(bounce("HardBounce", "anna@example.com")) == 200
    assert (
        webhook(
            {
                "RecordType": "SpamComplaint",
                "Type": "SpamComplaint",
                "MessageID": "00000000-0000-0000-0000-000000000002",
                "Email": "boris@example.com",
                "BouncedAt": "2026-03-02T09:05:00Z",
            }
        )
        == 200
    )
    assert webhook(bounce("Transient", "vera@example.com")) == 200
    # The provider refuses to send to an address it knows does not exist.
    assert webhook(bounce("BadEmailAddress", "gleb@example")) == 200
    assert sorted(Suppression.objects.values_list("address_digest", "reason")) == sorted(
        [
            (address_digest(address="anna@example.com"), "hard_bounce"),
            (address_digest(address="boris@example.com"), "complaint"),
            (address_digest(address="gleb@example"), "hard_bounce"),
        ]
    )


def test_a_webhook_without_the_secret_changes_nothing(webhook):
    assert webhook(bounce("HardBounce", "anna@example.com"), auth="postmark:guess") == 400
    assert Suppression.objects.count() == 0
