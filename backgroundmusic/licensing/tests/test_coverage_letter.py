"""The claim-clearing letter (licensing/coverage.py letter_pdf), read back from the PDF: exactly
what it says in each language, after the subscription ended too, how it names the licensee,
where the agreement stands, and its QR code."""

from datetime import UTC, date, datetime

import pypdfium2
import pytest
import time_machine
import zxingcpp

from backgroundmusic.accounts.tests.factories import UserFactory
from backgroundmusic.catalog.tests.fixtures import ready_track
from backgroundmusic.core.tests.pdf import pdf_reader, pdf_text
from backgroundmusic.licensing import coverage
from backgroundmusic.licensing.models import (
    Agreement,
    BuyerKind,
    Certificate,
    CoveredUse,
    PlanKind,
    Platform,
    Use,
)
from backgroundmusic.licensing.tests.coverage_scenes import PAID_UNTIL, licence, moved

pytestmark = pytest.mark.django_db

SITE = "https://backgroundmusic.example"
VERIFY_URL = f"{SITE}/verify/cert-BM-2026-000042/"
LATER = datetime(2026, 9, 15, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def owner():
    return UserFactory.create(username="owner")


@pytest.fixture
def ended(owner) -> Agreement:
    """A company's creator subscription of March 2026, ended on 1 April, with two channels, a
    work published in March and one published on its last day but registered in September."""
    with time_machine.travel(datetime(2026, 3, 20, 9, tzinfo=UTC), tick=False):
        made = licence(
            user=owner, display=Certificate.Display.COMPANY, licensee_name="Café Zürich GmbH"
        )
        Agreement.objects.filter(pk=made.pk).update(licensee_kind=BuyerKind.LEGAL)
        made.refresh_from_db()
        track = ready_track(title="Morning Light", catalogue_code="BM-0007")
        for url in ("https://www.youtube.com/@cafe-zurich", "https://t.me/cafe_zurich"):
            coverage.channel_add(user=owner, agreement=made, platform="", url=url)
        coverage.use_add(
            user=owner,
            agreement=made,
            platform="",
            url="https://youtu.be/spring-menu",
            published_on=date(2026, 3, 14),
            title="Our spring menu — «весна»",
            track=track,
        )
    with time_machine.travel(PAID_UNTIL, tick=False):
        moved(made, to=Agreement.Status.EXPIRED, at=PAID_UNTIL)
    with time_machine.travel(LATER, tick=False):
        coverage.use_add(
            user=owner,
            agreement=made,
            platform="",
            url="https://rutube.ru/video/abc/",
            published_on=date(2026, 4, 1),
            title="",
            track=None,
        )
    return made


def letter(agreement: Agreement, language: str, at: datetime = LATER) -> bytes:
    with time_machine.travel(at, tick=False):
        return coverage.letter_pdf(agreement=agreement, language=language)


ENDED_EN = [
    "15 September 2026\n"
    "To whom it may concern, and to the content identification teams of video, audio and podcast\n"
    "platforms\n"
    "Licence coverage letter BM-2026-000042\n"
    "MUSWAY STUDIO Limited Liability Company, the holder of the rights in the music of the\n"
    "BACKGROUND MUSIC catalogue, confirms that the licensee named below holds the licence set\n"
    "out here. The works listed in this letter were published while the licence was in force "
    "and are\n"
    "covered by it: please release any claim made on them for our music.\n"
    "Licensor MUSWAY STUDIO Limited Liability Company, office 12, 7 Muzykalny proezd,\n"
    "Moscow 125009, Russia\n"
    "Licensee Café Zürich GmbH\n"
    "Agreement BM-2026-000042, concluded on 1 March 2026\n"
    "Plan {plan}\n"
    "Music The whole catalogue\n"
    "Uses Online videos on the licensee's own channels; Podcasts on the licensee's\n"
    "own channels\n"
    "Territory Worldwide\n"
    "In force 1 March 2026 – 1 April 2026\n"
    "Status Ended: in force until 1 April 2026. Works published while it was in force stay\n"
    "covered.\n"
    "Anyone can check this licence, and whether it is in force now, at https://\n"
    "backgroundmusic.example/verify/cert-BM-2026-000042/\n"
    "Channels\n"
    "The licensee publishes the works this licence covers on these channels.\n"
    "Platform Link\n"
    "YouTube https://www.youtube.com/@cafe-zurich\n"
    "Telegram https://t.me/cafe_zurich\n"
    "BACKGROUND MUSIC\n"
    "Page 1 of 2",
    "Covered works\n"
    "Published Platform Work\n"
    "14 March 2026 YouTube Our spring menu — «весна»\n"
    "Track: Morning Light (BM-0007)\n"
    "https://youtu.be/spring-menu\n"
    "1 April 2026 RUTUBE https://rutube.ru/video/abc/\n"
    "BACKGROUND MUSIC\n"
    "Page 2 of 2",
]
ENDED_RU = [
    "15 сентября 2026\n"
    "Заинтересованным лицам и службам идентификации контента видео-, аудио- и подкаст-\n"
    "платформ\n"
    "Письмо-подтверждение лицензии BM-2026-000042\n"
    "Общество с ограниченной ответственностью «Мьюзвей Студио», правообладатель музыки\n"
    "каталога BACKGROUND MUSIC, подтверждает, что названный ниже лицензиат владеет\n"
    "описанной здесь лицензией. Перечисленные в письме произведения опубликованы, когда\n"
    "лицензия действовала, и охвачены ею: просим снять с них любые претензии в отношении\n"
    "нашей музыки.\n"
    "Лицензиар Общество с ограниченной ответственностью «Мьюзвей Студио»,\n"
    "125009, Россия, Москва, Музыкальный проезд, д. 7, офис 12\n"
    "Лицензиат Café Zürich GmbH\n"
    "Договор BM-2026-000042, заключён 1 марта 2026\n"
    "Тариф {plan}\n"
    "Музыка Весь каталог\n"
    "Использование Видео в интернете на собственных каналах лицензиата; Подкасты на\n"
    "собственных каналах лицензиата\n"
    "Территория Весь мир\n"
    "Период\n"
    "действия\n"
    "1 марта 2026 – 1 апреля 2026\n"
    "Статус Срок истёк: лицензия действовала по 1 апреля 2026. Произведения,\n"
    "опубликованные в период её действия, по-прежнему ею охвачены.\n"
    "Любой может проверить эту лицензию и то, действует ли она сейчас, по\n"
    "адресу https://backgroundmusic.example/verify/cert-BM-2026-000042/\n"
    "Каналы\n"
    "На этих каналах лицензиат публикует произведения, охваченные лицензией.\n"
    "Платформа Ссылка\n"
    "YouTube https://www.youtube.com/@cafe-zurich\n"
    "Telegram https://t.me/cafe_zurich\n"
    "BACKGROUND MUSIC\n"
    "Страница 1 из 2",
    "Произведения, охваченные лицензией\n"
    "Опубликовано Платформа Произведение\n"
    "14 марта 2026 YouTube Our spring menu — «весна»\n"
    "Трек: Morning Light (BM-0007)\n"
    "https://youtu.be/spring-menu\n"
    "1 апреля 2026 RUTUBE https://rutube.ru/video/abc/\n"
    "BACKGROUND MUSIC\n"
    "Страница 2 из 2",
]


@pytest.mark.parametrize(("language", "text"), [("en", ENDED_EN), ("ru", ENDED_RU)])
def test_after_the_subscription_ended_the_letter_lists_what_stays_covered(ended, language, text):
    pdf = letter(ended, language)
    edition = ended.plan_edition
    plan = edition.title_ru if language == "ru" else edition.title_en
    assert pdf_text(pdf) == [text[0].replace("{plan}", plan), text[1]]
    reader = pdf_reader(pdf)
    assert reader.metadata is not None
    assert reader.metadata["/Title"] == text[0].split("\n")[3]
    assert reader.root_object["/Lang"] == language


def test_the_qr_code_in_the_letter_leads_to_the_certificates_check(ended):
    page = pypdfium2.PdfDocument(letter(ended, "en"))[0]
    found = zxingcpp.read_barcodes(page.render(scale=2).to_pil())
    assert [(code.format, code.text) for code in found] == [
        (zxingcpp.BarcodeFormat.QRCode, VERIFY_URL)
    ]


def status_line(pdf: bytes) -> str:
    text = pdf_text(pdf)[0].replace("\n", " ")
    return text[text.index("Status ") : text.index(" Anyone can check")]


def test_the_letter_says_where_the_agreement_stands(owner):
    at = datetime(2026, 3, 10, 12, tzinfo=UTC)
    with time_machine.travel(at, tick=False):
        subscription = licence(user=owner)
    assert status_line(letter(subscription, "en", at)) == (
        "Status In force, paid through 1 April 2026."
    )
    # Paid time has run out, and the renewal job has not run yet: no longer in force.
    assert status_line(letter(subscription, "en", datetime(2026, 4, 2, tzinfo=UTC))) == (
        "Status Ended: in force until 1 April 2026. Works published while it was in force stay "
        "covered."
    )
    moved(subscription, to=Agreement.Status.SUSPENDED, at=datetime(2026, 4, 1, 11, tzinfo=UTC))
    assert status_line(letter(subscription, "en", datetime(2026, 4, 5, tzinfo=UTC))) == (
        "Status Suspended, as its renewal is unpaid: in force until 1 April 2026. Works "
        "published while it was in force stay covered."
    )


def test_a_single_track_licence_names_its_track_and_is_perpetual(owner):
    at = datetime(2026, 3, 10, 12, tzinfo=UTC)
    with time_machine.travel(at, tick=False):
        single = licence(
            user=owner,
            kind=PlanKind.SINGLE_TRACK,
            uses=[Use.PROJECT],
            track=ready_track(title="Dawn", catalogue_code="BM-0001"),
        )
        text = pdf_text(letter(single, "en", at))[0]
    assert "\nMusic Dawn (BM-0001)\nUses One named project in any medium\n" in text
    assert "\nIn force from 1 March 2026\nStatus In force; the licence is perpetual.\n" in text
    assert "\nChannels\nNone registered.\nCovered works\nNone registered.\n" in text


@pytest.mark.parametrize(
    ("kind", "display", "with_account", "shown"),
    [
        (BuyerKind.NATURAL, Certificate.Display.PRIVATE_PERSON, True, "A private person"),
        (BuyerKind.NATURAL, Certificate.Display.FULL_NAME, True, "Anna Petrova"),
        # After erasure the account link is gone and the name is a pseudonym.
        (BuyerKind.NATURAL, Certificate.Display.FULL_NAME, False, "A private person"),
        # A private person cannot be shown as a company.
        (BuyerKind.NATURAL, Certificate.Display.COMPANY, True, "A private person"),
        (BuyerKind.LEGAL, Certificate.Display.COMPANY, True, "Anna Petrova"),
    ],
)
def test_the_licensee_is_named_as_on_the_certificate(owner, kind, display, with_account, shown):
    at = datetime(2026, 3, 10, 12, tzinfo=UTC)
    with time_machine.travel(at, tick=False):
        made = licence(user=owner, display=display, licensee_name="Anna Petrova")
    Agreement.objects.filter(pk=made.pk).update(
        licensee_kind=kind, user=owner if with_account else None
    )
    made = Agreement.objects.select_related("certificate", "plan_edition").get(pk=made.pk)
    assert f"\nLicensee {shown}\n" in pdf_text(letter(made, "en", at))[0]


def test_a_work_outside_the_days_in_force_is_not_in_the_letter(owner):
    at = datetime(2026, 3, 10, 12, tzinfo=UTC)
    with time_machine.travel(at, tick=False):
        subscription = licence(user=owner)
    # Written past the rules (say by hand): the letter still claims only what is covered.
    CoveredUse.objects.create(
        agreement=subscription,
        platform=Platform.OTHER,
        url="https://example.com/before",
        published_on=date(2026, 2, 1),
        added_at=at,
    )
    text = pdf_text(letter(subscription, "en", at))[0]
    assert "example.com" not in text
    assert "\nCovered works\nNone registered.\n" in text


def test_a_revoked_licence_has_no_letter(ended):
    moved(ended, to=Agreement.Status.REVOKED, at=LATER)
    with pytest.raises(coverage.CoverageRefused) as refused:
        letter(ended, "en")
    assert (refused.value.code, refused.value.message) == (
        "revoked",
        "A revoked licence has no coverage letter.",
    )
