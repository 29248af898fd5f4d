"""/verify/<public_id>/: the public check of a certificate shows its status with its dates, what
it covers and the licensee exactly as chosen, nothing more; an unknown id is a 404 page; lookups
are rate-limited per address; search engines are told to stay away."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.licensing import agreements
from backgroundmusic.licensing.models import (
    Agreement,
    BuyerKind,
    Certificate,
    PlanKind,
    Territory,
    Use,
)
from backgroundmusic.licensing.tests.factories import plan_edition
from backgroundmusic.licensing.tests.paid_orders import paid_order

pytestmark = pytest.mark.django_db

PAID = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
PAID_UNTIL = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)
HOME = "203.0.113.77"
ELSEWHERE = "198.51.100.20"


@pytest.fixture
def owner() -> User:
    return UserFactory.create(username="owner", email="owner@example.com")


def conclude(owner: User, *, kind: str = BuyerKind.NATURAL, track=None) -> Agreement:
    if track is None:
        edition = plan_edition(title_en="Creator", title_ru="Автор")
    else:
        edition = plan_edition(
            kind=PlanKind.SINGLE_TRACK,
            uses=[Use.PROJECT],
            territory=Territory.RUSSIA,
            title_en="Single track",
            title_ru="Один трек",
        )
    [agreement] = agreements.agreements_conclude(
        order=paid_order(
            user=owner,
            lines=[{"edition": edition, "track": track, "use_description": "My channel"}],
            paid_at=PAID,
            buyer_kind=kind,
            buyer_name="Anna Petrova",
            buyer_address="12 Secret Lane",
        ),
        now=PAID,
    )
    return agreement


def words(html: str) -> str:
    main = html.split('<main id="content">', 1)[1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)).strip()


def verify(client: Client, public_id: str, *, language: str = "en", address: str = HOME):
    return client.get(f"/verify/{public_id}/", HTTP_ACCEPT_LANGUAGE=language, REMOTE_ADDR=address)


def test_an_active_subscription_of_a_private_person(client, owner):
    agreement = conclude(owner)
    with time_machine.travel(PAID + timedelta(days=2), tick=False):
        response = verify(client, agreement.certificate.public_id)

    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    html = response.content.decode()
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert 'data-status="active"' in html
    assert words(html) == (
        "Licence certificate check "
        "This page is the check of a BACKGROUND MUSIC licence certificate: it shows what the "
        "licence covers and whether it is in force now. "
        "Valid — this licence is in force. "
        f"Licence agreement {agreement.number} "
        "Licensee A private person "
        "Plan Creator "
        "Music The whole catalogue "
        "Uses Online videos on the licensee&#x27;s own channels "
        "Podcasts on the licensee&#x27;s own channels "
        "Territory Worldwide "
        "Term Monthly subscription, renewed by paying each month "
        "In force from 10 March 2026, 12:00 UTC "
        "Paid until 10 April 2026, 12:00 UTC "
        "Status as of 12 March 2026, 12:00 UTC."
    )
    for private in ("Anna", "Petrova", "Secret Lane", "My channel", "owner"):
        assert private not in html


def test_a_single_track_licence_in_russian(client, owner):
    agreement = conclude(owner, track=ready_track(title="Dawn", catalogue_code="MW-00007"))
    with time_machine.travel(PAID + timedelta(days=2), tick=False):
        html = verify(client, agreement.certificate.public_id, language="ru").content.decode()
    assert (
        "Действует — эта лицензия действует. "
        f"Лицензионный договор {agreement.number} "
        "Лицензиат Частное лицо "
        "Тариф Один трек "
        "Музыка Трек «Dawn», код в каталоге MW-00007 "
        "Использование Один названный проект в любом формате "
        "Территория Российская Федерация "
        "Срок Бессрочно "
        "Действует с 10 марта 2026, 12:00 UTC "
        "Статус на 12 марта 2026, 12:00 UTC."
    ) in words(html)


def test_a_suspended_subscription_says_so_before_the_job_has_run(client, owner):
    agreement = conclude(owner)
    with time_machine.travel(PAID_UNTIL + timedelta(minutes=5), tick=False):
        html = verify(client, agreement.certificate.public_id).content.decode()
    assert 'data-status="suspended"' in html
    assert (
        "Suspended — the renewal due on 10 April 2026, 12:00 UTC is unpaid: this licence is not "
        "in force."
    ) in words(html)


def test_an_expired_subscription_says_when_it_ended(client, owner):
    agreement = conclude(owner)
    agreements.agreements_lapse(now=PAID_UNTIL)
    agreements.agreements_lapse(now=PAID_UNTIL + timedelta(days=31))
    with time_machine.travel(PAID_UNTIL + timedelta(days=40), tick=False):
        html = verify(client, agreement.certificate.public_id).content.decode()
    assert 'data-status="expired"' in html
    text = words(html)
    assert (
        "Expired — this licence ended on 10 May 2026, 12:00 UTC and is no longer in force."
    ) in text
    assert "Ended 10 May 2026, 12:00 UTC" in text


def test_a_revoked_licence_says_when_and_not_why(client, owner):
    agreement = conclude(owner)
    agreements.agreement_revoke(
        actor=None,
        agreement=agreement,
        reason="Refund to Anna",
        now=datetime(2026, 3, 20, 8, 15, tzinfo=UTC),
    )
    html = verify(client, agreement.certificate.public_id).content.decode()
    assert 'data-status="revoked"' in html
    assert (
        "Revoked — this licence was revoked on 20 March 2026, 08:15 UTC and is no longer in force."
    ) in words(html)
    assert "Refund" not in html


@pytest.mark.parametrize(
    ("kind", "display", "shown"),
    [
        (BuyerKind.NATURAL, Certificate.Display.PRIVATE_PERSON, "A private person"),
        (BuyerKind.NATURAL, Certificate.Display.FULL_NAME, "Anna Petrova"),
        (BuyerKind.LEGAL, Certificate.Display.COMPANY, "Cafe Aroma LLC"),
        # Rows that say what no licensee can choose show the default of the licensee's kind.
        (BuyerKind.NATURAL, Certificate.Display.COMPANY, "A private person"),
        (BuyerKind.LEGAL, Certificate.Display.FULL_NAME, "Cafe Aroma LLC"),
    ],
)
def test_the_licensee_is_shown_exactly_as_chosen(client, owner, kind, display, shown):
    agreement = conclude(owner, kind=kind)
    Certificate.objects.filter(agreement=agreement).update(licensee_display=display)
    html = verify(client, agreement.certificate.public_id).content.decode()
    assert f'<td class="certificate-licensee">{shown}</td>' in html
    hidden = {"Anna Petrova", "Cafe Aroma LLC", "A private person"} - {shown}
    for name in hidden:
        assert name not in words(html)


def test_a_full_name_is_no_longer_shown_once_the_account_is_gone(client, owner):
    agreement = conclude(owner)
    Certificate.objects.filter(agreement=agreement).update(
        licensee_display=Certificate.Display.FULL_NAME
    )
    Agreement.objects.filter(pk=agreement.pk).update(user=None, licensee_name="pseudonym-1")
    html = verify(client, agreement.certificate.public_id).content.decode()
    assert '<td class="certificate-licensee">A private person</td>' in html
    assert "pseudonym" not in html


@pytest.mark.parametrize("public_id", ["unknown-id", "A" * 22, "%E2%80%AE"])
def test_an_unknown_id_is_a_404_page(client, public_id):
    response = client.get(f"/verify/{public_id}/")
    assert response.status_code == 404
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "<h1>No such certificate</h1>" in response.content.decode()


def test_only_get(client, owner):
    agreement = conclude(owner)
    assert client.post(f"/verify/{agreement.certificate.public_id}/").status_code == 405


def limit(kind: str) -> int:
    return int(settings.RATE_LIMITS["certificate_verify"][kind].split("/")[0])


def test_lookups_over_the_address_limit_get_429_until_the_window_ends(client, owner):
    public_id = conclude(owner).certificate.public_id
    start = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller:
        # Guessing ids counts too: that is how ids would be tried.
        answers = [
            verify(client, public_id if n % 2 else f"guess{n}").status_code
            for n in range(limit("address"))
        ]
        assert answers == [404, 200] * (limit("address") // 2)

        refused = verify(client, public_id)

        assert refused.status_code == 429
        retry_after = int(refused["Retry-After"])
        assert 1 <= retry_after <= 600
        assert "<h1>Too many requests</h1>" in refused.content.decode()
        assert verify(client, public_id, address=ELSEWHERE).status_code == 200

        traveller.shift(timedelta(seconds=retry_after))
        assert verify(client, public_id).status_code == 200
