"""What deleting an account does to the licences it holds, as the delete page says: they stay in
force and their certificates still answer at /verify/, but nobody uses them any more, and a
subscription stops when its paid month ends."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from backgroundmusic.accounts.models import User
from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.licensing import agreements, entitlements
from backgroundmusic.licensing.models import Agreement, Certificate, PlanKind, Use
from backgroundmusic.licensing.tests.factories import plan_edition
from backgroundmusic.licensing.tests.paid_orders import paid_order
from backgroundmusic.privacy.kernel.pseudonyms import subject_pseudonym
from backgroundmusic.privacy.tests.test_erasure import erase
from backgroundmusic.privacy.tests.test_export import make_owner, reauthenticate

pytestmark = pytest.mark.django_db

PAID = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
ERASED = PAID + timedelta(days=5)
PAID_UNTIL = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)


def words(html: str) -> str:
    main = html.split('<main id="content">', 1)[1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)).strip()


def licences_of(owner: User) -> tuple[Agreement, Agreement]:
    """A creator subscription paid for a month, shown under the full name, and a perpetual
    single-track licence."""
    subscription = plan_edition(title_en="Creator", title_ru="Автор")
    single = plan_edition(kind=PlanKind.SINGLE_TRACK, uses=[Use.PROJECT])
    track = ready_track(title="Dawn", catalogue_code="MW-00007")
    monthly, perpetual = agreements.agreements_conclude(
        order=paid_order(
            user=owner,
            lines=[
                {"edition": subscription},
                {"edition": single, "track": track, "use_description": "Film"},
            ],
            paid_at=PAID,
            buyer_name="Anna Petrova",
        ),
        now=PAID,
    )
    Certificate.objects.filter(agreement=monthly).update(
        licensee_display=Certificate.Display.FULL_NAME
    )
    return monthly, perpetual


def verify(public_id: str) -> str:
    response = Client().get(f"/verify/{public_id}/")
    assert response.status_code == 200
    return words(response.content.decode())


def test_licences_stay_in_force_checkable_and_unused_after_the_account_is_erased():
    owner = make_owner()
    monthly, perpetual = licences_of(owner)
    assert monthly.paid_until == PAID_UNTIL and perpetual.paid_until is None
    with time_machine.travel(ERASED, tick=False):
        assert "Licensee Anna Petrova" in verify(monthly.certificate.public_id)
        assert entitlements.agreements_in_force(user_id=owner.pk, now=ERASED).count() == 2
        erase(owner)
        assert not User.objects.get(pk=owner.pk).is_active

        for agreement in (monthly, perpetual):
            agreement.refresh_from_db()
            assert (agreement.status, agreement.user_id, agreement.licensee_name) == (
                Agreement.Status.ACTIVE,
                None,
                subject_pseudonym(subject_id=owner.pk),
            )
            text = verify(agreement.certificate.public_id)
            assert "Valid — this licence is in force." in text
            assert "Licensee A private person" in text
            assert "Anna" not in text and agreement.licensee_name not in text
        # No account holds them, so no one hears or downloads under them.
        assert entitlements.agreements_in_force(user_id=owner.pk, now=ERASED).count() == 0

    # Nobody can renew the subscription: the hourly job stops it when its paid month ends.
    assert agreements.agreements_lapse(now=PAID_UNTIL + timedelta(minutes=1)) == {"suspended": 1}
    monthly.refresh_from_db()
    perpetual.refresh_from_db()
    assert (monthly.status, perpetual.status) == (
        Agreement.Status.SUSPENDED,
        Agreement.Status.ACTIVE,
    )


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        (
            "en",
            "Licences you hold stay in force on their own terms, and anyone with a "
            "certificate's code can still check it. Using them here needs the account, "
            "though: once it is deleted, nobody can hear their full tracks, download, renew a "
            "subscription (it stops when its paid month ends), register works or get a "
            "claim-clearing letter. Save the agreements, certificates and letters you need before "
            "you delete the account.",
        ),
        (
            "ru",
            "Ваши лицензии остаются в силе на своих условиях, и любой, у кого есть код "
            "сертификата, по-прежнему может его проверить. Но пользоваться ими здесь можно только "
            "через аккаунт: после его удаления никто не сможет слушать треки целиком, скачивать "
            "их, продлевать подписку (она останавливается, когда кончается оплаченный месяц), "
            "регистрировать работы и получать письмо для снятия претензий. Сохраните нужные "
            "договоры, сертификаты и письма до удаления аккаунта.",
        ),
    ],
)
def test_the_delete_page_says_so_in_both_languages(client, language, sentence):
    owner = make_owner()
    reauthenticate(client, owner)
    response = client.get("/privacy/delete/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert sentence in words(response.content.decode())
