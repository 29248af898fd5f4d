"""My licences (/licences/): each caller kind gets exactly its answer on every page; the owner
sees their agreements, the document in their language (HTML and PDF), the certificate (HTML and
a PDF whose QR code opens the /verify/ page), chooses how the certificate names them and cancels
renewal."""

import re
from datetime import UTC, datetime, timedelta

import pypdfium2
import pytest
import time_machine
import zxingcpp
from django.test import Client

from backgroundmusic.accounts.models import User
from backgroundmusic.core.tests.pdf import pdf_text
from backgroundmusic.licensing import agreements
from backgroundmusic.licensing.models import Agreement, AgreementEvent, BuyerKind, Certificate
from backgroundmusic.licensing.tests.factories import plan_edition
from backgroundmusic.licensing.tests.paid_orders import paid_order
from tests.callers import CALLERS

pytestmark = pytest.mark.django_db

PAID = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
NOW = PAID + timedelta(days=2)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def conclude(owner: User, *, kind: str = BuyerKind.NATURAL) -> Agreement:
    edition = plan_edition(title_en="Creator", title_ru="Автор")
    [agreement] = agreements.agreements_conclude(
        order=paid_order(
            user=owner,
            lines=[{"edition": edition, "use_description": "youtube.com/@anna"}],
            paid_at=PAID,
            buyer_kind=kind,
        ),
        now=PAID,
    )
    return agreement


@pytest.fixture
def agreement(owner) -> Agreement:
    return conclude(owner)


def pages(agreement: Agreement) -> dict[str, str]:
    base = f"/licences/{agreement.number}/"
    return {
        "licence": base,
        "agreement": f"{base}agreement/",
        "agreement_pdf": f"{base}agreement.pdf",
        "certificate": f"{base}certificate/",
        "certificate_pdf": f"{base}certificate.pdf",
    }


def main_words(html: str) -> str:
    main = html.split('<main id="content">', 1)[1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)).strip()


@pytest.mark.parametrize("kind", CALLERS)
def test_my_licences_lists_only_the_callers_own(caller_for, kind, agreement):
    caller = caller_for(kind)
    response = caller.client.get("/licences/")
    if kind == "anonymous":
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=/licences/"
        return
    assert response.status_code == 200
    html = response.content.decode()
    if kind == "owner":
        assert f'data-number="{agreement.number}"' in html
    else:
        assert agreement.number not in html
        assert "You have no licences yet." in html


@pytest.mark.parametrize("kind", CALLERS)
@pytest.mark.parametrize(
    "page", ["licence", "agreement", "agreement_pdf", "certificate", "certificate_pdf"]
)
def test_each_licence_page_opens_for_its_owner_only(caller_for, kind, page, agreement):
    caller = caller_for(kind)
    path = pages(agreement)[page]
    response = caller.client.get(path)
    if kind == "anonymous":
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={path}"
    elif kind == "owner":
        assert response.status_code == 200
    else:
        # Another person's licence does not exist for them, whatever their role.
        assert response.status_code == 404


@pytest.mark.parametrize("kind", CALLERS)
def test_only_the_owner_changes_the_certificate_or_cancels_renewal(caller_for, kind, agreement):
    caller = caller_for(kind)
    base = pages(agreement)["licence"]
    chosen = caller.client.post(base, {"licensee_display": "full_name"})
    cancelled = caller.client.post(f"{base}cancel-renewal/")
    agreement.refresh_from_db()
    agreement.certificate.refresh_from_db()
    if kind == "owner":
        assert (chosen.status_code, chosen["Location"]) == (302, base)
        assert (cancelled.status_code, cancelled["Location"]) == (302, base)
        assert agreement.certificate.licensee_display == Certificate.Display.FULL_NAME
        assert agreement.renewal_cancelled_at == NOW
        return
    expected = 302 if kind == "anonymous" else 404
    assert (chosen.status_code, cancelled.status_code) == (expected, expected)
    assert agreement.certificate.licensee_display == Certificate.Display.PRIVATE_PERSON
    assert agreement.renewal_cancelled_at is None
    assert AgreementEvent.objects.filter(agreement=agreement).count() == 1


def test_the_list_says_status_term_and_links(client, owner, agreement):
    client.force_login(owner)
    html = client.get("/licences/").content.decode()
    assert main_words(html) == (
        "My licences "
        "Creator "
        f"Active · Agreement {agreement.number} "
        "Music The whole catalogue "
        "Venue, channel or project youtube.com/@anna "
        "In force from 10 March 2026 "
        "Paid until 10 April 2026, 12:00 UTC "
        "Agreement Agreement (PDF) Certificate Certificate (PDF) Files and downloads"
    )
    for page in ("agreement", "agreement_pdf", "certificate", "certificate_pdf"):
        assert f'href="{pages(agreement)[page]}"' in html
    assert f'href="{pages(agreement)["licence"]}#downloads"' in html


def test_the_list_in_russian_with_a_suspended_subscription(client, owner, agreement):
    # The paid month ended an hour ago; the hourly job has not run yet.
    Agreement.objects.filter(pk=agreement.pk).update(paid_until=NOW - timedelta(hours=1))
    client.force_login(owner)
    html = client.get("/licences/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert f"Приостановлена (продление не оплачено) · Договор {agreement.number}" in main_words(
        html
    )
    assert "Автор" in html


def test_the_licence_page_shows_the_certificate_the_choice_and_the_history(
    client, owner, agreement
):
    agreements.agreement_revoke(
        actor=None, agreement=agreement, reason="The order was refunded.", now=NOW
    )
    client.force_login(owner)
    html = client.get(pages(agreement)["licence"]).content.decode()
    text = main_words(html)
    assert 'data-status="revoked"' in html
    assert "Licensee A private person" in text
    assert re.search(r'<input [^>]*value="private_person"[^>]*checked>', html)
    assert not re.search(r'<input [^>]*value="full_name"[^>]*checked>', html)
    assert 'value="company"' not in html
    assert "Cancel renewal" not in text
    assert (
        "History 10 March 2026, 12:00 UTC — Concluded (paid until 10 April 2026, 12:00 UTC) "
        "12 March 2026, 12:00 UTC — Revoked: The order was refunded."
    ) in text


def test_a_private_person_cannot_be_shown_as_a_company_and_the_form_keeps_the_page(
    client, owner, agreement
):
    client.force_login(owner)
    response = client.post(pages(agreement)["licence"], {"licensee_display": "company"})
    assert response.status_code == 400
    assert "Choose one of the options shown." in response.content.decode()
    agreement.certificate.refresh_from_db()
    assert agreement.certificate.licensee_display == Certificate.Display.PRIVATE_PERSON


def test_a_company_has_only_its_name_to_show(client, owner):
    agreement = conclude(owner, kind=BuyerKind.LEGAL)
    client.force_login(owner)
    html = client.get(pages(agreement)["licence"]).content.decode()
    assert 'value="company"' in html
    assert 'value="private_person"' not in html
    assert 'value="full_name"' not in html
    response = client.post(pages(agreement)["licence"], {"licensee_display": "private_person"})
    assert response.status_code == 400
    agreement.certificate.refresh_from_db()
    assert agreement.certificate.licensee_display == Certificate.Display.COMPANY


def test_choosing_the_full_name_shows_it_on_the_verify_page(client, owner, agreement):
    client.force_login(owner)
    client.post(pages(agreement)["licence"], {"licensee_display": "full_name"})
    html = Client().get(f"/verify/{agreement.certificate.public_id}/").content.decode()
    assert '<td class="certificate-licensee">Anna Petrova</td>' in html


def test_cancelling_renewal_from_the_page(client, owner, agreement):
    client.force_login(owner)
    response = client.post(f"/licences/{agreement.number}/cancel-renewal/", follow=True)
    text = main_words(response.content.decode())
    assert "Renewal is cancelled: the licence stays in force until the paid month ends." in text
    assert "You cancelled renewal on 12 March 2026." in text
    assert "Renewal cancelled by the licensee: ends when the paid month ends" in text


@pytest.mark.parametrize(
    ("language", "heading"), [("en", "Licence agreement No."), ("ru", "Лицензионный договор №")]
)
def test_the_agreement_page_is_the_frozen_text_in_the_readers_language(
    client, owner, agreement, language, heading
):
    client.force_login(owner)
    html = client.get(pages(agreement)["agreement"], HTTP_ACCEPT_LANGUAGE=language).content.decode()
    frozen = agreement.document_ru if language == "ru" else agreement.document_en
    assert frozen in html
    assert f"<h1>{heading} {agreement.number}</h1>" in html
    assert agreement.document_hash in html
    assert "no longer matches" not in html


def test_the_agreement_page_warns_when_the_text_was_changed_behind_our_back(
    client, owner, agreement
):
    Agreement.objects.filter(pk=agreement.pk).update(document_en="<p>Other</p>")
    client.force_login(owner)
    html = client.get(pages(agreement)["agreement"]).content.decode()
    assert "The stored text no longer matches the hash recorded at conclusion." in html


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_agreement_pdf_is_the_frozen_text(client, owner, agreement, language):
    client.force_login(owner)
    response = client.get(pages(agreement)["agreement_pdf"], HTTP_ACCEPT_LANGUAGE=language)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'inline; filename="{agreement.number}-{language}.pdf"'
    )
    text = " ".join(pdf_text(response.content)).replace("\n", " ")
    if language == "ru":
        assert f"Лицензионный договор № {agreement.number}" in text
        assert "Лицензиат: Anna Petrova, частное лицо." in text
    else:
        assert f"Licence agreement No. {agreement.number}" in text
        assert "Licensee: Anna Petrova, a private person." in text
    assert agreement.document_hash in text.replace(" ", "")


def test_the_certificate_pdf_says_what_the_page_says_and_its_qr_code_opens_the_check(
    client, owner, agreement, settings
):
    settings.SITE_URL = "https://backgroundmusic.example/"
    client.force_login(owner)
    response = client.get(pages(agreement)["certificate_pdf"])
    assert response["Content-Disposition"] == (
        f'inline; filename="{agreement.number}-certificate-en.pdf"'
    )
    verify_url = f"https://backgroundmusic.example/verify/{agreement.certificate.public_id}/"
    text = " ".join(pdf_text(response.content)).replace("\n", " ")
    assert f"Licence certificate {agreement.number}" in text
    assert "Valid — this licence is in force." in text
    assert "Licensee A private person" in text
    assert "Anna" not in text
    page = pypdfium2.PdfDocument(response.content)[0]
    found = zxingcpp.read_barcodes(page.render(scale=2).to_pil())
    assert [(code.format, code.text) for code in found] == [
        (zxingcpp.BarcodeFormat.QRCode, verify_url)
    ]
    html = client.get(pages(agreement)["certificate"]).content.decode()
    assert f"Anyone can check this licence at {verify_url}" in html
    assert 'aria-label="QR code of the certificate\'s check page"' in html
