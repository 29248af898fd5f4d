"""Issue 11 in a real browser, through the real pages and forms: a private person buys a creator
subscription by card on the YooKassa test double's page, hears the full track, downloads MP3 320
and FLAC, and the QR code of the certificate opens the public check in a fresh browser; a company
orders a venue plan, opens its invoice, staff confirm the transfer and the licence appears;
without a licence only the preview plays and full renditions are refused; when the subscription
has ended downloads stop and the published works stay on the claim-clearing letter."""

import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from backgroundmusic.core import clock
from backgroundmusic.core.tests.pdf import pdf_text
from backgroundmusic.licensing.models import Agreement, Order, PaymentNotification
from backgroundmusic.licensing.tasks import lapse_agreements
from backgroundmusic.media.models import Download, Rendition
from backgroundmusic.media.streaming import playable_url, signed_url
from tests.browser.conftest import ContextFactory
from tests.browser.licensing_scene import (
    TRACK_SECONDS,
    at,
    creator_subscription,
    full_track,
    licensing_manager,
    messages,
    person,
    plans_on_sale,
    rendition_of,
    sha256,
    sign_in,
    wait_idle,
)
from tests.yookassa_double import YooKassaDouble

pytestmark = [
    pytest.mark.browser,
    # Every page sends analytics beacons, which reach the analytics database.
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

WORK_URL = "https://www.youtube.com/watch?v=harbour-dawn-1"
VENUES = "Cafe Aroma: 1 Tverskaya St, 5 Arbat St and 12 Nevsky Ave"
# An MPEG-1 Layer III frame header (the Info frame LAME writes first), and FLAC's stream marker.
MAGIC = {Rendition.Kind.MP3_320: b"\xff\xfb", Rendition.Kind.FLAC: b"fLaC"}


def player_duration(page: Page) -> float:
    """The length of what the page's audio element loaded, once it knows it."""
    page.wait_for_function(
        "() => { const a = document.getElementById('player-audio');"
        " return a.readyState >= 1 && Number.isFinite(a.duration); }"
    )
    return float(page.evaluate("document.getElementById('player-audio').duration"))


def play(page: Page, name: str) -> tuple[int, str, int]:
    """Clicks the track page's play button; the status, type and full size (from
    Content-Range or Content-Length) of the first audio response the browser received."""
    with page.expect_response(lambda response: "/stream/" in response.url) as answer:
        page.get_by_role("button", name=name).click()
    response = answer.value
    headers = response.all_headers()
    size = (
        int(headers["content-range"].rsplit("/", 1)[1])
        if "content-range" in headers
        else int(headers["content-length"])
    )
    return response.status, headers["content-type"], size


def download_through_page(page: Page, url: str) -> tuple[str, bytes]:
    """Follows a download link as the page's own would be followed: the suggested file name and
    the bytes the browser saved."""
    with page.expect_download() as started:
        page.evaluate(
            "url => { const link = document.createElement('a'); link.href = url;"
            " document.body.append(link); link.click(); link.remove(); }",
            url,
        )
    download = started.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def day(moment: date) -> str:
    """A date as the English documents write it: "4 December 2026"."""
    return f"{moment.day} {moment:%B %Y}"


def qr_text(page: Page, selector: str) -> str:
    """What the QR code drawn on the page says, read from the pixels the browser shows."""
    image = Image.open(io.BytesIO(page.locator(selector).screenshot()))
    [code] = zxingcpp.read_barcodes(image)
    return str(code.text)


def test_a_private_person_buys_a_creator_subscription_by_card_and_the_qr_opens_the_check(
    live_server, new_context: ContextFactory, settings, yookassa_double: YooKassaDouble
) -> None:
    base = live_server.url
    settings.SITE_URL = base
    yookassa_double.set_webhook(f"{base}/payments/yookassa/notifications")
    plans_on_sale()
    track = full_track(title="Quiet Harbour", composer="Mira Holm")
    buyer = person("mira_holm")
    page = new_context().new_page()

    # Signed in, the person gives the full name a licence agreement names its licensee by.
    sign_in(page, base, buyer.username)
    page.locator("#id_full_name").fill("Mira Holm")
    page.get_by_role("button", name="Save profile").click()
    assert messages(page) == ["Your profile is saved."]

    # The plan into the cart, then checkout: a private person paying by card, terms accepted.
    page.goto(f"{base}/pricing/creator/")
    page.get_by_role("button", name="Add to cart").click()
    at(page, base, "/cart/")
    assert messages(page) == ["The licence is in your cart."]
    expect(page.locator(".cart-totals dd")).to_have_text(
        ["990.00\u00a0RUB", "217.80\u00a0RUB", "1,207.80\u00a0RUB"]
    )
    page.get_by_role("link", name="Check out").click()
    expect(page.get_by_label("Private person")).to_be_checked()
    expect(page.get_by_label("Bank card")).to_be_checked()
    page.get_by_label("I have read the licence terms above and accept them").check()
    page.get_by_role("button", name="Place the order").click()

    # YooKassa's page (the test double): the amount, then Pay; back to the order, paid.
    page.wait_for_url(
        re.compile(f"^{re.escape(yookassa_double.base_url)}/_double/confirm/"), timeout=20_000
    )
    order = Order.objects.get()
    assert page.url == order.payments.get().confirmation_url
    expect(page.locator("#amount")).to_have_text("1207.80 RUB")
    page.get_by_role("button", name="Pay").click()
    at(page, base, f"/orders/{order.public_id}/")
    expect(page.locator("#order-status")).to_have_text("Paid")
    # The double told the site, which read the payment back, captured it and concluded.
    first = yookassa_double.notifications()[0]
    assert (first["event"], first["delivery"]) == ("payment.waiting_for_capture", 200)
    # Its handling captured the payment, so the double's "succeeded" may be recorded before it.
    assert PaymentNotification.objects.get(event="payment.waiting_for_capture").outcome == "paid"
    [agreement] = Agreement.objects.all()
    assert (agreement.user_id, agreement.status, agreement.licensee_name) == (
        buyer.pk,
        Agreement.Status.ACTIVE,
        "Mira Holm",
    )

    # The track page now plays the whole track, not the 30-second preview.
    page.goto(f"{base}/catalog/{track.slug}/")
    expect(page.locator(".track-play span")).to_have_text("Play the full track")
    opus = rendition_of(track, Rendition.Kind.OPUS)
    status, content_type, size = play(page, "Play Quiet Harbour in full")
    assert (status, content_type, size) == (206, "audio/webm; codecs=opus", opus.size_bytes)
    assert player_duration(page) == pytest.approx(TRACK_SECONDS, abs=0.1)

    # Downloads: MP3 320 and FLAC, each recorded once.
    for kind, extension in ((Rendition.Kind.MP3_320, "mp3"), (Rendition.Kind.FLAC, "flac")):
        url = playable_url(user=buyer, track=track, kind=kind)
        assert url is not None
        name, data = download_through_page(page, base + url)
        assert name == f"Mira Holm - Quiet Harbour.{extension}"
        assert data.startswith(MAGIC[kind])
        assert sha256(data) == rendition_of(track, kind).sha256
    assert sorted(Download.objects.filter(user=buyer).values_list("kind", flat=True)) == [
        "flac",
        "mp3_320",
    ]

    # The licensee chooses to be named on the certificate; its QR code leads to the check.
    page.get_by_role("link", name="My licences").click()
    card = page.locator(f".licence-card[data-number='{agreement.number}']")
    expect(card.locator(".status")).to_have_text("Active")
    card.get_by_role("link", name="Creator subscription").click()
    page.get_by_label("My full name").check()
    page.get_by_role("button", name="Save").click()
    assert messages(page) == ["The certificate now shows your choice."]
    page.get_by_role("link", name="Certificate", exact=True).click()
    expect(page.locator(".certificate-licensee")).to_have_text("Mira Holm")

    fresh = new_context()
    assert fresh.cookies() == []
    visitor = fresh.new_page()
    visitor.goto(qr_text(page, ".certificate-qr svg"))
    at(visitor, base, f"/verify/{agreement.certificate.public_id}/")
    expect(visitor.locator(".certificate-status")).to_contain_text(
        "Valid — this licence is in force."
    )
    expect(visitor.locator(".certificate-licensee")).to_have_text("Mira Holm")


def test_a_company_orders_a_venue_plan_staff_confirm_the_transfer_and_the_licence_appears(
    live_server, new_context: ContextFactory
) -> None:
    base = live_server.url
    plans_on_sale()
    company = person("cafe_aroma")
    manager, secret = licensing_manager("lena_manager")
    page = new_context().new_page()

    # The company's requisites go into the profile.
    sign_in(page, base, company.username)
    page.get_by_label("Legal person (company)").check()
    page.locator("#id_full_name").fill("Anna Petrova")
    page.locator("#id_company_name").fill("Cafe Aroma LLC")
    page.locator("#id_tax_id").fill("7707083893")
    page.locator("#id_address_country").fill("Russia")
    page.locator("#id_address_city").fill("Moscow")
    page.locator("#id_address_street").fill("1 Tverskaya St")
    page.locator("#id_address_postcode").fill("125009")
    page.get_by_role("button", name="Save profile").click()
    assert messages(page) == ["Your profile is saved."]

    # Three locations of the venue plan, each named.
    page.goto(f"{base}/pricing/venue/")
    page.get_by_label("Number of locations").fill("3")
    page.get_by_label("Venue, channel or project").fill(VENUES)
    page.get_by_role("button", name="Add to cart").click()
    at(page, base, "/cart/")
    assert messages(page) == ["The licence is in your cart."]
    expect(page.locator(".cart-totals dd")).to_have_text(
        ["4,500.00\u00a0RUB", "990.00\u00a0RUB", "5,490.00\u00a0RUB"]
    )
    page.get_by_role("link", name="Check out").click()
    expect(page.get_by_label("Company or sole proprietor")).to_be_checked()
    expect(page.get_by_label("Bank transfer")).to_be_checked()
    page.get_by_label("KPP (companies only, if you have one)").fill("770101001")
    page.get_by_label("I have read the licence terms above and accept them").check()
    page.get_by_role("button", name="Place the order").click()
    order = Order.objects.get()
    at(page, base, f"/orders/{order.public_id}/")
    assert messages(page) == [
        "Your order is placed. Pay it by bank transfer with the details below."
    ]
    expect(page.locator("#order-status")).to_have_text("Awaiting payment")
    reference = page.locator("#payment-reference").inner_text()
    assert reference == f"BM {order.public_id}"

    # The invoice opens as a PDF naming the company, its number and the total.
    link = page.get_by_role("link", name=re.compile(r"^Invoice No\. "))
    number = f"{order.invoice.year}-{order.invoice.number:06d}"
    expect(link).to_have_text(f"Invoice No. {number} (PDF)")
    href = link.get_attribute("href")
    invoice = page.request.get(base + str(href))
    assert (invoice.status, invoice.headers["content-type"]) == (200, "application/pdf")
    [text] = pdf_text(invoice.body())
    # Amounts keep their currency with a no-break space; compared with plain ones.
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert lines[0].startswith(f"Invoice No. {number} of ")
    for line in (
        "Buyer Cafe Aroma LLC",
        "INN: 7707083893, KPP: 770101001",
        "Total without VAT 4,500.00 RUB",
        "VAT 990.00 RUB",
        "Total to pay 5,490.00 RUB",
        f"Payment reference {reference}",
    ):
        assert line in lines, text
    page.goto(f"{base}/licences/")
    expect(page.locator(".licence-card")).to_have_count(0)

    # The money arrives: a licensing manager signs in with the authenticator's code, finds the
    # order by the reference on the bank statement and confirms the transfer.
    staff = new_context().new_page()
    sign_in(staff, base, manager.username, totp_secret=secret)
    staff.goto(f"{base}/staff/licensing/orders/")
    staff.get_by_label("Order number or payment reference").fill(reference)
    staff.get_by_role("button", name="Search").click()
    wait_idle(staff)
    expect(staff.locator("table.staff-orders tbody tr")).to_have_count(1)
    staff.get_by_role("link", name=order.public_id).click()
    at(staff, base, f"/staff/licensing/orders/{order.public_id}/")
    staff.get_by_label("Reference of the transfer on the bank statement").fill("PP 4711 of 4 Dec")
    staff.get_by_role("button", name="Confirm: the money arrived").click()
    assert messages(staff) == ["The transfer is confirmed; the order is paid."]
    expect(staff.locator("#order-status")).to_have_text("Paid")

    # The company's licence and its certificate.
    [agreement] = Agreement.objects.all()
    page.goto(f"{base}/licences/")
    card = page.locator(f".licence-card[data-number='{agreement.number}']")
    expect(card.get_by_role("heading")).to_have_text("Venue plan")
    expect(card.locator(".status")).to_have_text("Active")
    expect(card.locator(".licence-terms")).to_contain_text(VENUES)
    card.get_by_role("link", name="Certificate", exact=True).click()
    expect(page.locator(".certificate-status")).to_contain_text("Valid — this licence is in force.")
    expect(page.locator(".certificate-licensee")).to_have_text("Cafe Aroma LLC")
    expect(page.locator(".certificate-uses li")).to_have_text(["Public performance at a venue"])


def test_without_a_licence_only_the_preview_plays_and_full_renditions_are_refused(
    live_server, new_context: ContextFactory
) -> None:
    base = live_server.url
    plans_on_sale()
    track = full_track(title="Quiet Harbour", composer="Mira Holm")
    licensee = person("mira_holm")
    creator_subscription(licensee, full_name="Mira Holm")
    opus, mp3 = (
        rendition_of(track, kind) for kind in (Rendition.Kind.OPUS, Rendition.Kind.MP3_320)
    )
    preview = rendition_of(track, Rendition.Kind.PREVIEW)
    # The licensee's own links, as the pages give them to the licensee.
    copied = [playable_url(user=licensee, track=track, kind=r.kind) for r in (opus, mp3)]
    licensed = new_context().new_page()
    sign_in(licensed, base, licensee.username)
    assert [licensed.request.get(base + str(url)).status for url in copied] == [200, 200]

    visitor = new_context().new_page()
    member = new_context().new_page()
    stranger = person("tom_visitor")
    sign_in(member, base, stranger.username)
    for page in (visitor, member):
        page.goto(f"{base}/catalog/{track.slug}/")
        expect(page.locator(".track-play span")).to_have_text("Play the preview")
        expect(page.locator("a[href*='/download/']")).to_have_count(0)
        assert play(page, "Play the preview of Quiet Harbour") == (
            206,
            "audio/mpeg",
            preview.size_bytes,
        )
        assert player_duration(page) == pytest.approx(30.0, abs=0.1)
        # A licensee's links are theirs alone.
        for url in copied:
            refused = page.goto(base + str(url))
            assert refused is not None
            assert refused.status == 403
            expect(page.locator("body")).to_have_text("This link was issued to someone else.")

    # Links signed for the member themselves: the signature is good, the licence is missing.
    for rendition in (opus, mp3):
        refused = member.goto(base + signed_url(user=stranger, rendition=rendition))
        assert refused is not None
        assert refused.status == 403
        expect(member.locator("body")).to_have_text("You may not play this recording.")
    assert list(Download.objects.values_list("user__username", "kind")) == [
        ("mira_holm", "mp3_320")
    ]


def test_when_the_subscription_ends_downloads_stop_and_the_published_works_stay_on_the_letter(
    live_server, new_context: ContextFactory
) -> None:
    base = live_server.url
    plans_on_sale()
    track = full_track(title="Quiet Harbour", composer="Mira Holm")
    licensee = person("mira_holm")
    agreement = creator_subscription(licensee, full_name="Mira Holm")
    page = new_context().new_page()
    sign_in(page, base, licensee.username)

    # While subscribed: a download, a published work registered, and renewal cancelled.
    downloaded = playable_url(user=licensee, track=track, kind=Rendition.Kind.MP3_320)
    assert downloaded is not None
    name, data = download_through_page(page, base + downloaded)
    assert name == "Mira Holm - Quiet Harbour.mp3"
    assert data.startswith(MAGIC[Rendition.Kind.MP3_320])
    page.goto(f"{base}/licences/{agreement.number}/coverage/")
    published = clock.now().date()
    page.get_by_label("Link to the published work").fill(WORK_URL)
    page.get_by_label("Published on").fill(published.isoformat())
    page.get_by_label("Title").fill("Harbour at dawn, episode 1")
    page.get_by_role("button", name="Register the work").click()
    assert messages(page) == ["The published work is registered."]
    page.goto(f"{base}/licences/{agreement.number}/")
    page.get_by_role("button", name="Cancel renewal").click()
    assert messages(page) == [
        "Renewal is cancelled: the licence stays in force until the paid month ends."
    ]

    # The paid month is over and the hourly job has run.
    assert agreement.paid_until is not None
    with clock.frozen_at(agreement.paid_until + timedelta(hours=1)):
        assert lapse_agreements.call() == {"expired": 1}

        page.goto(f"{base}/licences/")
        card = page.locator(f".licence-card[data-number='{agreement.number}']")
        expect(card.locator(".status")).to_have_text("Expired")
        page.goto(f"{base}/catalog/{track.slug}/")
        expect(page.locator(".track-play span")).to_have_text("Play the preview")
        expect(page.locator("a[href*='/download/']")).to_have_count(0)
        assert playable_url(user=licensee, track=track, kind=Rendition.Kind.MP3_320) is None
        # The link downloaded before, and one signed now: neither gives a byte.
        for url, reason in (
            (downloaded, "This link has expired. Reload the page for a new one."),
            (
                signed_url(user=licensee, rendition=rendition_of(track, Rendition.Kind.MP3_320)),
                "You may not play this recording.",
            ),
        ):
            refused = page.goto(base + url)
            assert refused is not None
            assert refused.status == 403
            expect(page.locator("body")).to_have_text(reason)
        assert Download.objects.count() == 1

        # The work published while subscribed is still on the claim-clearing letter.
        page.goto(f"{base}/licences/{agreement.number}/coverage/")
        letter_link = page.locator(".coverage-letter a[lang='en']")
        letter = page.request.get(base + str(letter_link.get_attribute("href")))
        assert (letter.status, letter.headers["content-type"]) == (200, "application/pdf")
        text = " ".join(" ".join(pdf_text(letter.body())).split())
        assert (
            f"Status Ended: in force until {day(agreement.paid_until)}. Works published while "
            "it was in force stay covered." in text
        ), text
        assert (
            f"Covered works Published Platform Work {day(published)} YouTube "
            f"Harbour at dawn, episode 1 {WORK_URL}" in text
        ), text

        # And anyone checking the certificate is told the licence has ended.
        page.goto(f"{base}/verify/{agreement.certificate.public_id}/")
        expect(page.locator(".certificate-status")).to_contain_text(
            "Expired — this licence ended on"
        )
